package brain2img.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The simulated subject behind {@link Synth}: voxels in a small 3-D volume, each either early-visual (a Gaussian
 * population receptive field over a grid of luminance, red–green, blue–yellow and local-contrast features) or
 * higher-visual (a linear tuning to a few of the scene's semantic attributes). A trial's response is
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
    private final int[][] prfCells;     // early voxel: feature indices (cell*CHANNELS + channel) ...
    private final float[][] prfWeights; // ... and their weights
    private final double[][] tuning;    // semantic voxel: weights over SynthScene.ATTRIBUTES
    private final double[] mean, std;   // standardisation of the noise-free response
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
        prfCells = new int[voxels][];
        prfWeights = new float[voxels][];
        tuning = new double[voxels][];
        ncsnr = new float[voxels];
        for (int v = 0; v < voxels; v++) {
            // per-voxel SNR: log-normal around the stated SNR (median = snr)
            ncsnr[v] = (float) Math.sqrt(snr * Math.exp(0.4 * rng.nextGaussian()));
            if (early[v]) makePrf(v, rng);
            else makeTuning(v, rng);
        }
        mean = new double[voxels];
        std = new double[voxels];
    }

    private int yOf(int linear) {
        return (linear / volume[2]) % volume[1];
    }

    private void makePrf(int v, SplittableRandom rng) {
        double cx = rng.nextDouble() * GRID, cy = rng.nextDouble() * GRID;
        double sigma = 0.7 + 1.8 * rng.nextDouble();
        // area by size (V1 small, V3 large), ventral (v) = upper visual field, dorsal (d) = lower
        int area = sigma < 1.3 ? 0 : sigma < 1.9 ? 1 : 2;
        visualArea[v] = 1 + 2 * area + (cy < GRID / 2.0 ? 0 : 1);
        double[] w = {1 + 0.3 * rng.nextGaussian(), 0.6 * rng.nextGaussian(), 0.6 * rng.nextGaussian(), 0.5 * rng.nextGaussian()};
        List<int[]> cells = new ArrayList<>();
        List<Double> gw = new ArrayList<>();
        double sum = 0;
        int reach = (int) Math.ceil(2.5 * sigma);
        for (int gy = Math.max(0, (int) cy - reach); gy <= Math.min(GRID - 1, (int) cy + reach); gy++) {
            for (int gx = Math.max(0, (int) cx - reach); gx <= Math.min(GRID - 1, (int) cx + reach); gx++) {
                double dx = gx + 0.5 - cx, dy = gy + 0.5 - cy;
                double g = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
                if (g < 1e-3) continue;
                cells.add(new int[]{gy * GRID + gx});
                gw.add(g);
                sum += g;
            }
        }
        int n = cells.size();
        prfCells[v] = new int[n * CHANNELS];
        prfWeights[v] = new float[n * CHANNELS];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < CHANNELS; c++) {
                prfCells[v][i * CHANNELS + c] = cells.get(i)[0] * CHANNELS + c;
                prfWeights[v][i * CHANNELS + c] = (float) (gw.get(i) / sum * w[c]);
            }
        }
    }

    private void makeTuning(int v, SplittableRandom rng) {
        double[] t = new double[SynthScene.ATTRIBUTES];
        for (int i = 0; i < t.length; i++) t[i] = 0.1 * rng.nextGaussian();
        for (int k = 0; k < 3; k++) t[rng.nextInt(t.length)] += rng.nextGaussian() + (rng.nextBoolean() ? 1 : -1);
        tuning[v] = t;
    }

    static SynthBrain create(int voxels, double snr, long seed, List<float[]> features, List<double[]> attributes) {
        SynthBrain b = new SynthBrain(voxels, snr, seed);
        b.standardise(features, attributes);
        return b;
    }

    /** Mean and std of each voxel's noise-free response over (up to 500 of) the images. */
    private void standardise(List<float[]> features, List<double[]> attributes) {
        int n = Math.min(500, features.size());
        double[] sum = new double[mean.length], sq = new double[mean.length];
        for (int i = 0; i < n; i++) {
            for (int v = 0; v < mean.length; v++) {
                double r = raw(v, features.get(i), attributes.get(i));
                sum[v] += r;
                sq[v] += r * r;
            }
        }
        for (int v = 0; v < mean.length; v++) {
            mean[v] = sum[v] / n;
            double var = sq[v] / n - mean[v] * mean[v];
            std[v] = var > 1e-12 ? Math.sqrt(var) : 1;
        }
    }

    private double raw(int v, float[] feat, double[] attr) {
        double r = 0;
        if (early[v]) {
            int[] c = prfCells[v];
            float[] w = prfWeights[v];
            for (int i = 0; i < c.length; i++) r += w[i] * feat[c[i]];
        } else {
            double[] t = tuning[v];
            for (int i = 0; i < t.length; i++) r += t[i] * attr[i];
        }
        return r;
    }

    /** Block-averaged features of an RGB image (interleaved u8, size × size): [cell*CHANNELS + channel]. */
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
        return f;
    }

    /** One trial's response in int16 beta units (percent signal change × 300). Deterministic in (seed, trial). */
    short[] response(int trial, int session, float[] feat, double[] attr) {
        int voxels = mean.length;
        SplittableRandom noise = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + trial);
        SplittableRandom drift = new SplittableRandom(seed * 0xC2B2AE3D27D4EB4FL + session);
        short[] out = new short[voxels];
        for (int v = 0; v < voxels; v++) {
            double z = (raw(v, feat, attr) - mean[v]) / std[v];
            double psc = 2 * (ncsnr[v] * z + noise.nextGaussian() + 0.2 * drift.nextGaussian());
            out[v] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, Math.round(psc * BETA_SCALE)));
        }
        return out;
    }
}
