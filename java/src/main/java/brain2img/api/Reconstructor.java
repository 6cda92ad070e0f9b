package brain2img.api;

import brain2img.backend.Backend;
import brain2img.backend.Backends;
import brain2img.data.Dataset;
import brain2img.eval.Picture;
import brain2img.io.Images;
import brain2img.pipeline.Pipeline;
import brain2img.pipeline.RunConfig;
import brain2img.pipeline.SdModels;
import brain2img.ridge.RidgeModel;
import brain2img.tensor.DType;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A fitted run loaded once for reconstructing one volume at a time, the way an acquisition setup embeds brain2img.
 *
 * <p>{@link #open} reads {@code RUN/run.json}, the run's data set (for the ROI voxel indices and image size) and
 * the decoders ({@code models/pixels.safetensors}, or {@code models/z} and {@code models/c} for a z,c run). A volume
 * is the data set's voxel vector (one row of its {@code responses.npy}); {@link #reconstruct} masks it to each
 * decoder's ROI, predicts the targets (the decoder's own z-scoring from its training data applies, exactly as in
 * the offline {@code decode} stage) and renders:
 * <ul>
 *   <li>{@link Renderer#PIXELS}: the decoded pixels clamped to [0,1] — bit for bit what {@code render} writes;</li>
 *   <li>{@link Renderer#XZ}: the VAE decoding of decoded z (X_z);</li>
 *   <li>{@link Renderer#XZC}: img2img from X_z conditioned on decoded c (X_zc) at the run's strength and guidance,
 *       sample 0's seed, with the run's DDIM step count or {@link Options#steps()}.</li>
 * </ul>
 * Thread-safe: the pixel path runs concurrently; SD rendering is serialised on the models. {@link #close()} frees
 * the backend and the SD weights.
 */
public final class Reconstructor implements AutoCloseable {

    /** What a volume is turned into. */
    public enum Renderer {
        PIXELS, XZ, XZC;

        /** The CLI name: pixels, xz, xzc. */
        public String cliName() { return name().toLowerCase(Locale.ROOT); }

        public static Renderer parse(String s) {
            for (Renderer r : values()) if (r.cliName().equals(s)) return r;
            throw new IllegalArgumentException("unknown renderer '" + s + "' (expected pixels, xz or xzc)");
        }
    }

    /**
     * @param renderer null = the run's natural one (pixels for a pixel run, xzc for a z,c run)
     * @param device   cpu, cuda or auto (null: the brain2img.device property, else auto)
     * @param steps    DDIM steps for X_zc; 0 = the run's sd_steps
     */
    public record Options(Renderer renderer, String device, int steps) {
        public Options {
            if (steps < 0) throw new IllegalArgumentException("steps must be ≥ 0, got " + steps);
        }

        public static Options defaults() { return new Options(null, "cpu", 0); }

        public Options withRenderer(Renderer r) { return new Options(r, device, steps); }

        public Options withDevice(String d) { return new Options(renderer, d, steps); }

        public Options withSteps(int s) { return new Options(renderer, device, s); }
    }

    /**
     * One reconstruction: the image as (C,H,W) in [-1,1] (what {@link Images#write} takes) and the milliseconds of
     * each stage: {@code preprocess} (ROI masking), {@code decode} (ridge), {@code render}.
     */
    public record Result(Tensor image, Map<String, Double> latencyMs) {
        public Result {
            latencyMs = Collections.unmodifiableMap(new LinkedHashMap<>(latencyMs));
        }

        /** The PNG bytes of the image, identical to the file the offline pipeline writes for the same values. */
        public byte[] png() {
            try {
                return Images.png(image);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final RunConfig cfg;
    private final Dataset dataset;
    private final Renderer renderer;
    private final Backend backend;
    private final int steps;
    private final Decoder pixels, z, c;
    private final int[] pixelSize;
    private final SdModels sd;

    /** A decoder and the voxels of the data set it reads. */
    private record Decoder(RidgeModel model, int[] voxels) {}

    private Reconstructor(Path run, Options opt) {
        Path json = run.resolve("run.json");
        if (!Files.isRegularFile(json)) throw new IllegalArgumentException(run + ": not a run folder (no run.json)");
        this.cfg = RunConfig.read(json, RunConfig.defaults(null, run));
        if (cfg.data() == null) throw new IllegalArgumentException(json + ": no 'data' (the data set the run was fitted on)");
        this.dataset = Dataset.open(cfg.data());
        boolean pixelRun = cfg.targets().equals("pixels");
        this.renderer = opt.renderer() != null ? opt.renderer() : pixelRun ? Renderer.PIXELS : Renderer.XZC;
        if (pixelRun != (renderer == Renderer.PIXELS)) {
            throw new IllegalArgumentException(run + ": renderer " + renderer.cliName() + " needs a "
                    + (pixelRun ? "z,c run (--targets z,c)" : "pixel run") + "; this run's targets are " + cfg.targets());
        }
        this.steps = opt.steps() > 0 ? opt.steps() : cfg.sdSteps();
        if (pixelRun) {
            pixels = decoder(run, "pixels");
            pixelSize = Pipeline.pixelTargetSize(dataset, cfg);
            z = c = null;
            sd = null;
            backend = null;
        } else {
            pixels = null;
            pixelSize = null;
            z = decoder(run, "z");
            c = renderer == Renderer.XZC ? decoder(run, "c") : null;
            backend = Backends.create(opt.device(), System.err);
            sd = new SdModels(cfg.weights(), backend, cfg.sdSize());
        }
    }

    /** Loads a fitted run (see the class comment); errors name the missing file or mismatch. */
    public static Reconstructor open(Path run, Options options) {
        return new Reconstructor(run, options);
    }

    private Decoder decoder(Path run, String target) {
        Path file = run.resolve("models/" + target + ".safetensors");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(run + ": no fitted decoder " + file.getFileName() + " (run the fit stage first)");
        RidgeModel m = RidgeModel.load(file);
        String roi = m.metadata().getOrDefault("roi", "all voxels");
        int[] vox = roi.equals("all voxels") ? identity(dataset.voxels()) : dataset.roi(roi);
        if (vox.length != m.features()) {
            throw new IllegalArgumentException(file + ": decoder reads " + m.features() + " voxels but ROI '" + roi + "' of " + dataset.dir() + " has " + vox.length);
        }
        return new Decoder(m, vox);
    }

    /** The length of a volume: the data set's voxel count. */
    public int voxels() { return dataset.voxels(); }

    public Renderer renderer() { return renderer; }

    /** The run's data set (test responses, image ids, geometry). */
    public Dataset dataset() { return dataset; }

    /**
     * Per data-set voxel, the training mean and scale the decoders standardise with ({0, 1} for voxels no decoder
     * reads): {mean, scale}. Online z-scoring maps a session's z-scores back into this scale.
     */
    public float[][] trainingVoxelStats() {
        float[] mean = new float[voxels()], scale = new float[voxels()];
        java.util.Arrays.fill(scale, 1f);
        for (Decoder d : new Decoder[]{pixels, z, c}) {
            if (d == null) continue;
            float[] m = d.model().xMean().toFloatArray(), s = d.model().xScale().toFloatArray();
            for (int i = 0; i < d.voxels().length; i++) {
                mean[d.voxels()[i]] = m[i];
                scale[d.voxels()[i]] = s[i];
            }
        }
        return new float[][]{mean, scale};
    }

    /** Runs one reconstruction on an all-zero volume so that weights are loaded and code paths compiled. */
    public void warmUp() {
        reconstruct(new float[voxels()]);
    }

    /** Reconstructs one volume: {@code voxels} is the data set's voxel vector (length {@link #voxels()}). */
    public Result reconstruct(float[] voxels) {
        if (voxels.length != dataset.voxels()) {
            throw new IllegalArgumentException("volume has " + voxels.length + " values; the run's data set " + dataset.name() + " has " + dataset.voxels() + " voxels");
        }
        for (int i = 0; i < voxels.length; i++) {
            if (!Float.isFinite(voxels[i])) throw new IllegalArgumentException("volume value " + i + " is " + voxels[i] + " (not finite)");
        }
        Map<String, Double> ms = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        if (renderer == Renderer.PIXELS) {
            Tensor x = gather(voxels, pixels.voxels());
            long t1 = System.nanoTime();
            float[] v = pixels.model().predict(x).to(DType.F32).toFloatArray();
            long t2 = System.nanoTime();
            float[] img = new float[v.length];
            for (int j = 0; j < v.length; j++) img[j] = 2 * Math.max(0f, Math.min(1f, v[j])) - 1; // as the render stage: clamp, then [-1,1]
            Tensor image = Tensor.of(img, pixelSize[0], pixelSize[1], pixelSize[2]);
            long t3 = System.nanoTime();
            put(ms, t0, t1, t2, t3);
            return new Result(image, ms);
        }
        Tensor xz = gather(voxels, z.voxels()), xc = c == null ? null : gather(voxels, c.voxels());
        long t1 = System.nanoTime();
        float[][] zRow = {z.model().predict(xz).to(DType.F32).toFloatArray()};
        float[][] cRow = c == null ? null : new float[][]{c.model().predict(xc).to(DType.F32).toFloatArray()};
        long t2 = System.nanoTime();
        Picture p;
        synchronized (sd) {
            p = renderer == Renderer.XZ ? sd.decode(zRow)[0]
                    : sd.imageToImage(sd.initLatent(zRow), cRow, cfg.seed(), steps, cfg.guidance(), cfg.strength())[0];
        }
        double[] d = p.data();
        float[] img = new float[d.length];
        for (int j = 0; j < d.length; j++) img[j] = (float) (2 * d[j] - 1); // as the SD render stage writes its PNGs
        Tensor image = Tensor.of(img, p.channels(), p.height(), p.width());
        long t3 = System.nanoTime();
        put(ms, t0, t1, t2, t3);
        return new Result(image, ms);
    }

    private static void put(Map<String, Double> ms, long t0, long t1, long t2, long t3) {
        ms.put("preprocess", (t1 - t0) / 1e6);
        ms.put("decode", (t2 - t1) / 1e6);
        ms.put("render", (t3 - t2) / 1e6);
    }

    /** (1, |idx|) of the volume's values at the ROI's voxel indices. */
    private static Tensor gather(float[] volume, int[] idx) {
        float[] x = new float[idx.length];
        for (int i = 0; i < idx.length; i++) x[i] = volume[idx[i]];
        return Tensor.of(x, 1, idx.length);
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    @Override
    public void close() {
        if (sd != null) sd.close();
        if (backend != null) backend.close();
    }
}
