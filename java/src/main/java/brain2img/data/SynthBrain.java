package brain2img.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The simulated subject behind {@link Synth}: voxels in a small 3-D volume, each either early-visual (a Gaussian
 * population receptive field over a grid of luminance, red–green, blue–yellow and local-contrast features) or
 * higher-visual (a linear tuning to a few of the scene's semantic attributes). The luminance channel is light-adapted:
 * local luminance minus the image's mean luminance, since early visual cortex follows local contrast and barely the
 * overall light level (without it, the background's shade — which the captions name — drove every early voxel, and
 * any space that knew the background predicted them). pRFs sit on a lattice (centres
 * at the 16×16 cell centres, 4 sizes), so each image's 1024 pRF outputs per channel are computed once and a
 * voxel mixes the 4 channels of its pRF; the noise-free responses of all images are kept (images × voxels
 * floats). A trial's response is
 * {@code 2 · (√snr_v · z_v(image) + noise + drift_v(session))} in "percent signal change", where z is the
 * voxel's noise-free response standardised over the images, noise ~ N(0,1) and drift ~ N(0, 0.2²); it is
 * quantised like NSD's betas to int16 units of 1/300 so that both on-disk layouts hold exactly the same values.
 */
final class SynthBrain {
    /** Feature grid side: the image is block-averaged to GRID × GRID cells of 4 channels. */
    static final int GRID = 16;
    static final int CHANNELS = 4;
    static final float BETA_SCALE = 300f;

    final int[] volume;         // {X, Y, Z}
    final int[] linearIndex;    // voxel j → C-order index (x*Y + y)*Z + z into the volume, increasing in j
    final boolean[] early;      // early-visual (pRF) or higher-visual (semantic)
    final int[] visualArea;     // 1..6 = V1v V1d V2v V2d V3v V3d for early voxels, 0 otherwise
    final float[] ncsnr;        // √snr_v: signal std / noise std
    /** pRF sizes (σ in cells); pRF p has size p / GRID², centre cell p % GRID² (row-major). */
    static final double[] PRF_SIGMA = {0.8, 1.2, 1.7, 2.4};
    private static final int PRFS = PRF_SIGMA.length * GRID * GRID;
    private static final int[][] PRF_CELLS = new int[PRFS][];      // cells within 2.5σ of pRF p ...
    private static final float[][] PRF_GAINS = new float[PRFS][];  // ... and their Gaussian weights, summing to 1

    static {
        for (int p = 0; p < PRFS; p++) {
            double sigma = PRF_SIGMA[p / (GRID * GRID)];
            int cy = (p % (GRID * GRID)) / GRID, cx = p % GRID, reach = (int) Math.ceil(2.5 * sigma);
            List<Integer> cells = new ArrayList<>();
            List<Double> gains = new ArrayList<>();
            double sum = 0;
            for (int gy = Math.max(0, cy - reach); gy <= Math.min(GRID - 1, cy + reach); gy++) {
                for (int gx = Math.max(0, cx - reach); gx <= Math.min(GRID - 1, cx + reach); gx++) {
                    double g = Math.exp(-((gx - cx) * (gx - cx) + (gy - cy) * (gy - cy)) / (2 * sigma * sigma));
                    if (g < 0.01) continue;
                    cells.add(gy * GRID + gx);
                    gains.add(g);
                    sum += g;
                }
            }
            PRF_CELLS[p] = cells.stream().mapToInt(Integer::intValue).toArray();
            PRF_GAINS[p] = new float[cells.size()];
            for (int i = 0; i < cells.size(); i++) PRF_GAINS[p][i] = (float) (gains.get(i) / sum);
        }
    }

    private final int[] prf;                 // early voxel: its pRF on the lattice
    private final float[][] channelWeights;  // early voxel: weights of luminance, R−G, B−Y, contrast
    private final double[][] tuning;    // semantic voxel: weights over SynthScene.ATTRIBUTES
    private float[] z;                  // images × voxels: noise-free responses, standardised per voxel
    private final long seed;

    private SynthBrain(int voxels, double snr, long seed) {
        this.seed = seed;
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5EEDB4A1L);
        int side = (int) Math.ceil(Math.cbrt(voxels * 1.6));
        volume = new int[]{side, side, side};
        int total = side * side * side;
        // choose the voxels' positions: a random subset of the volume, listed in C order over (X, Y, Z)
        int[] perm = new int[total];
        for (int i = 0; i < total; i++) perm[i] = i;
        for (int i = 0; i < voxels; i++) {
            int j = i + rng.nextInt(total - i);
            int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
        }
        linearIndex = Arrays.copyOf(perm, voxels);
        Arrays.sort(linearIndex);
        // posterior voxels (small y) are early visual: 60 % of them
        Integer[] byY = new Integer[voxels];
        for (int i = 0; i < voxels; i++) byY[i] = i;
        Arrays.sort(byY, (a, b) -> Integer.compare(yOf(linearIndex[a]), yOf(linearIndex[b])));
        early = new boolean[voxels];
        int nEarly = Math.max(1, (int) Math.round(voxels * 0.6));
        for (int i = 0; i < nEarly; i++) early[byY[i]] = true;

        visualArea = new int[voxels];
        prf = new int[voxels];
        channelWeights = new float[voxels][];
        tuning = new double[voxels][];
        ncsnr = new float[voxels];
        for (int v = 0; v < voxels; v++) {
            // per-voxel SNR: log-normal around the stated SNR (median = snr)
            ncsnr[v] = (float) Math.sqrt(snr * Math.exp(0.4 * rng.nextGaussian()));
            if (early[v]) makePrf(v, rng);
            else makeTuning(v, rng);
        }
    }

    private int yOf(int linear) {
        return (linear / volume[2]) % volume[1];
    }

    private void makePrf(int v, SplittableRandom rng) {
        int size = rng.nextInt(PRF_SIGMA.length), cell = rng.nextInt(GRID * GRID);
        prf[v] = size * GRID * GRID + cell;
        // area by size (V1 smallest, V3 the two largest), ventral (v) = upper visual field, dorsal (d) = lower
        int area = Math.min(size, 2);
        visualArea[v] = 1 + 2 * area + (cell / GRID < GRID / 2 ? 0 : 1);
        channelWeights[v] = new float[]{(float) (1 + 0.3 * rng.nextGaussian()), (float) (0.6 * rng.nextGaussian()),
                (float) (0.6 * rng.nextGaussian()), (float) (0.5 * rng.nextGaussian())};
    }

    private void makeTuning(int v, SplittableRandom rng) {
        double[] t = new double[SynthScene.ATTRIBUTES];
        for (int i = 0; i < t.length; i++) t[i] = 0.1 * rng.nextGaussian();
        for (int k = 0; k < 3; k++) t[rng.nextInt(t.length)] += rng.nextGaussian() + (rng.nextBoolean() ? 1 : -1);
        tuning[v] = t;
    }

    static SynthBrain create(int voxels, double snr, long seed, List<float[]> features, List<double[]> attributes) {
        SynthBrain b = new SynthBrain(voxels, snr, seed);
        b.z = b.standardised(b.noiseFree(features, attributes), features.size());
        return b;
    }

    /** Every image's noise-free response (images × voxels): pRF outputs per image, then each voxel's mix. */
    private float[] noiseFree(List<float[]> features, List<double[]> attributes) {
        int n = features.size(), voxels = early.length;
        if ((long) n * voxels > Integer.MAX_VALUE) throw new IllegalArgumentException(n + " images × " + voxels + " voxels is too large for the synthetic brain");
        float[] r = new float[n * voxels];
        brain2img.util.Parallel.forRange(n, 8, (from, to) -> {
            float[] out = new float[PRFS * CHANNELS];
            for (int i = from; i < to; i++) {
                float[] f = features.get(i);
                double[] a = attributes.get(i);
                for (int p = 0; p < PRFS; p++) {
                    int[] cells = PRF_CELLS[p];
                    float[] g = PRF_GAINS[p];
                    for (int c = 0; c < CHANNELS; c++) {
                        float acc = 0;
                        for (int k = 0; k < cells.length; k++) acc += g[k] * f[cells[k] * CHANNELS + c];
                        out[p * CHANNELS + c] = acc;
                    }
                }
                for (int v = 0; v < voxels; v++) {
                    double x = 0;
                    if (early[v]) {
                        float[] w = channelWeights[v];
                        for (int c = 0; c < CHANNELS; c++) x += w[c] * out[prf[v] * CHANNELS + c];
                    } else {
                        double[] t = tuning[v];
                        for (int k = 0; k < t.length; k++) x += t[k] * a[k];
                    }
                    r[i * voxels + v] = (float) x;
                }
            }
        });
        return r;
    }

    /** Each voxel's column to mean 0, standard deviation 1 over the images (a constant column stays 0). */
    private float[] standardised(float[] r, int n) {
        int voxels = early.length;
        double[] sum = new double[voxels], sq = new double[voxels];
        for (int i = 0; i < n; i++) for (int v = 0; v < voxels; v++) sum[v] += r[i * voxels + v];
        for (int v = 0; v < voxels; v++) sum[v] /= n;
        for (int i = 0; i < n; i++) for (int v = 0; v < voxels; v++) {
            double d = r[i * voxels + v] - sum[v];
            sq[v] += d * d;
        }
        float[] inv = new float[voxels];
        for (int v = 0; v < voxels; v++) {
            double sd = Math.sqrt(sq[v] / n);
            inv[v] = sd > 1e-6 ? (float) (1 / sd) : 0f;
        }
        for (int i = 0; i < n; i++) for (int v = 0; v < voxels; v++) r[i * voxels + v] = (float) ((r[i * voxels + v] - sum[v]) * inv[v]);
        return r;
    }

    /**
     * Block-averaged features of an RGB image (interleaved u8, size × size): [cell*CHANNELS + channel], channel 0 the
     * light-adapted luminance (cell mean minus the image mean), 1 red−green, 2 blue−yellow, 3 local contrast.
     */
    static float[] features(byte[] rgb, int size) {
        float[] f = new float[GRID * GRID * CHANNELS];
        for (int gy = 0; gy < GRID; gy++) {
            for (int gx = 0; gx < GRID; gx++) {
                int y0 = gy * size / GRID, y1 = Math.max(y0 + 1, (gy + 1) * size / GRID);
                int x0 = gx * size / GRID, x1 = Math.max(x0 + 1, (gx + 1) * size / GRID);
                double l = 0, l2 = 0, rg = 0, by = 0;
                int n = 0;
                for (int y = y0; y < y1; y++) {
                    for (int x = x0; x < x1; x++) {
                        int o = (y * size + x) * 3;
                        double r = (rgb[o] & 0xff) / 255.0, g = (rgb[o + 1] & 0xff) / 255.0, b = (rgb[o + 2] & 0xff) / 255.0;
                        double lum = (r + g + b) / 3;
                        l += lum;
                        l2 += lum * lum;
                        rg += r - g;
                        by += b - (r + g) / 2;
                        n++;
                    }
                }
                int o = (gy * GRID + gx) * CHANNELS;
                double ml = l / n;
                f[o] = (float) ml;
                f[o + 1] = (float) (rg / n);
                f[o + 2] = (float) (by / n);
                f[o + 3] = (float) Math.sqrt(Math.max(0, l2 / n - ml * ml)); // local contrast
            }
        }
        // light adaptation: the luminance channel is relative to the image's mean luminance (subtractive, first order),
        // so a brighter background does not raise every pRF; the colour-opponent channels stay absolute
        double mean = 0;
        for (int cell = 0; cell < GRID * GRID; cell++) mean += f[cell * CHANNELS];
        mean /= GRID * GRID;
        for (int cell = 0; cell < GRID * GRID; cell++) f[cell * CHANNELS] -= (float) mean;
        return f;
    }

    /** Per-voxel offsets of a session (slow drift between sessions), N(0, 0.2²). */
    float[] drift(int session) {
        SplittableRandom r = new SplittableRandom(seed * 0xC2B2AE3D27D4EB4FL + session);
        float[] d = new float[early.length];
        for (int v = 0; v < d.length; v++) d[v] = (float) (0.2 * r.nextGaussian());
        return d;
    }

    /** One trial's response to image {@code image} in int16 beta units (PSC × 300); deterministic in (seed, trial). */
    short[] response(int trial, int image, float[] drift) {
        int voxels = early.length;
        SplittableRandom noise = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + trial);
        short[] out = new short[voxels];
        int row = image * voxels;
        for (int v = 0; v < voxels; v++) {
            double psc = 2 * (ncsnr[v] * z[row + v] + noise.nextGaussian() + drift[v]);
            out[v] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, Math.round(psc * BETA_SCALE)));
        }
        return out;
    }
}
