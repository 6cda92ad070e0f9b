package brain2img.dir;

import brain2img.io.Npy;
import brain2img.tensor.Tensor;
import brain2img.vision.VisionNet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Image reconstruction from target features (Shen et al. 2019): optimise pixels (momentum GD with the lab's
 * schedules and blur, or bounded L-BFGS) or the deepsim generator's latent, so that the network's features
 * of the image match the targets under {@link FeatureLoss}.
 *
 * <p>Images are processed in batches whose optimiser states advance in lockstep; each finished batch is saved
 * to {@code parts/<first>.npy}, so a rerun resumes after the last finished batch. Results are in the network's
 * input space (N,3,S,S).
 */
public final class Reconstructor {

    public enum Method { GD, LBFGS }

    /**
     * @param initNoise amplitude of uniform noise added to the mean-grey start image (0–255 units); 0 = the lab's start
     * @param seed      seed of that noise (image i uses seed + i)
     */
    public record Options(Method method, int iterations, int batch, long seed, double initNoise, int logEvery) {
        public Options {
            if (iterations < 1) throw new IllegalArgumentException("iterations must be ≥ 1, got " + iterations);
            if (batch < 1) throw new IllegalArgumentException("batch must be ≥ 1, got " + batch);
        }
    }

    private final VisionNet net;
    private final FeatureLoss loss;
    private final PixelSpace space;
    private final Options opt;
    private final Consumer<String> log;
    private final DeepSimGenerator generator;
    private final float[] latentUpper;

    /** Pixel optimisation. */
    public Reconstructor(VisionNet net, FeatureLoss loss, Options opt, Consumer<String> log) {
        this(net, loss, opt, log, null, null);
    }

    /**
     * With a generator (null: pixels): the latent is optimised with the generator schedule, clipped to
     * [0, latentUpper] per unit.
     */
    public Reconstructor(VisionNet net, FeatureLoss loss, Options opt, Consumer<String> log, DeepSimGenerator generator, float[] latentUpper) {
        this.net = net;
        this.loss = loss;
        this.space = PixelSpace.of(net.inputSpace());
        this.opt = opt;
        this.log = log;
        this.generator = generator;
        this.latentUpper = latentUpper;
        if (generator != null && !net.inputSpace().bgr255()) {
            throw new IllegalArgumentException("the deepsim generator draws Caffe VGG input (BGR, 0–255, mean subtracted): use it with vgg19-caffe, not " + net.arch());
        }
        if (generator != null && (latentUpper == null || latentUpper.length != generator.latent())) {
            throw new IllegalArgumentException("the generator needs an upper bound for each of its " + generator.latent() + " latent units");
        }
    }

    /**
     * Reconstructs every image of the loss at side {@code size}, resuming from {@code parts} (a folder, or null
     * for no resuming). Returns (N,3,size,size) in the network's input space.
     */
    public Tensor run(int size, Path parts) throws IOException {
        int n = loss.images(), d = 3 * size * size;
        float[] out = new float[n * d];
        for (int b0 = 0; b0 < n; b0 += opt.batch()) {
            int b1 = Math.min(n, b0 + opt.batch());
            Path part = parts == null ? null : parts.resolve(b0 + ".npy");
            float[] imgs;
            if (part != null && Files.isRegularFile(part)) {
                Tensor t = Npy.read(part);
                if (t.numel() != (long) (b1 - b0) * d) throw new IllegalStateException(part + ": " + t.shapeString() + " does not fit this run; delete " + parts);
                imgs = t.toFloatArray();
                log.accept(String.format(Locale.ROOT, "images %d..%d: resumed from %s", b0, b1 - 1, part));
            } else {
                long t0 = System.nanoTime();
                imgs = generator != null ? latentBatch(b0, b1, size) : opt.method() == Method.GD ? gdBatch(b0, b1, size) : lbfgsBatch(b0, b1, size);
                double s = (System.nanoTime() - t0) / 1e9;
                log.accept(String.format(Locale.ROOT, "images %d..%d done in %.1f s (%.3f s per image-iteration)", b0, b1 - 1, s, s / ((b1 - b0) * (double) opt.iterations())));
                if (part != null) Npy.write(part, Tensor.of(imgs, b1 - b0, 3, size, size));
            }
            System.arraycopy(imgs, 0, out, b0 * d, imgs.length);
        }
        return Tensor.of(out, n, 3, size, size);
    }

    // ---------------------------------------------------------------- pixels

    /** One image's loss and gradient, both in the optimisation space. */
    private VisionNet.LossGradient evaluate(int i, float[] x, int size) {
        int plane = size * size;
        float[] in = x.clone();
        space.toInput(in, plane);
        VisionNet.LossGradient lg = loss.evaluate(i, Tensor.of(in, 1, 3, size, size));
        float[] g = lg.gradient().toFloatArray();
        space.gradientFromInput(g, plane);
        return new VisionNet.LossGradient(lg.loss(), Tensor.of(g, 1, 3, size, size));
    }

    private float[] start(int i, int size) {
        float[] x = new float[3 * size * size];
        if (opt.initNoise() > 0) {
            Random r = new Random(opt.seed() + i);
            for (int j = 0; j < x.length; j++) x[j] = (float) ((r.nextDouble() * 2 - 1) * opt.initNoise());
        }
        return x;
    }

    private float[] gdBatch(int b0, int b1, int size) {
        int m = b1 - b0, d = 3 * size * size, iters = opt.iterations();
        float[][] x = new float[m][], v = new float[m][d];
        float[][] box = space.bounds(size, size);
        for (int j = 0; j < m; j++) x[j] = start(b0 + j, size);
        GdSchedule s = GdSchedule.PIXELS;
        for (int t = 0; t < iters; t++) {
            double total = 0;
            for (int j = 0; j < m; j++) {
                VisionNet.LossGradient lg = evaluate(b0 + j, x[j], size);
                total += lg.loss();
                s.step(t, iters, x[j], v[j], lg.gradient().toFloatArray(), null, null);
                GaussianBlur.apply(x[j], 0, 3, size, size, s.sigma(t, iters));
                BoxLbfgs.project(x[j], box[0], box[1]);
            }
            progress(b0, b1, t, total);
        }
        return toInput(x, size);
    }

    private float[] lbfgsBatch(int b0, int b1, int size) {
        int m = b1 - b0;
        float[][] box = space.bounds(size, size);
        BoxLbfgs[] o = new BoxLbfgs[m];
        // tolerances off: the loss has no natural scale, so the run is the iteration count (scipy: gtol = ftol = 0)
        for (int j = 0; j < m; j++) o[j] = new BoxLbfgs(start(b0 + j, size), box[0], box[1], 10, opt.iterations(), 0, 0);
        for (int round = 0; ; round++) {
            double total = 0;
            boolean any = false;
            for (int j = 0; j < m; j++) {
                if (o[j].done()) continue;
                any = true;
                VisionNet.LossGradient lg = evaluate(b0 + j, o[j].point(), size);
                o[j].tell(lg.loss(), lg.gradient().toFloatArray());
                total += o[j].value();
            }
            if (!any) break;
            progress(b0, b1, round, total);
        }
        float[][] x = new float[m][];
        for (int j = 0; j < m; j++) {
            x[j] = o[j].x();
            log.accept(String.format(Locale.ROOT, "image %d: L-BFGS %d iterations, %d evaluations, loss %.5g (%s)",
                    b0 + j, o[j].iterations(), o[j].evaluations(), o[j].value(), o[j].stopReason()));
        }
        return toInput(x, size);
    }

    // ---------------------------------------------------------------- generator

    private float[] latentBatch(int b0, int b1, int size) {
        int m = b1 - b0, k = generator.latent(), iters = opt.iterations();
        float[][] z = new float[m][k], v = new float[m][k], img = new float[m][];
        float[] lo = new float[k];
        GdSchedule s = GdSchedule.GENERATOR;
        for (int t = 0; t < iters; t++) {
            double total = 0;
            for (int j = 0; j < m; j++) {
                DeepSimGenerator.Pass pass = generator.forward(z[j], size);
                VisionNet.LossGradient lg = evaluate(b0 + j, pass.image(), size);
                total += lg.loss();
                float[] gz = pass.latentGradient(lg.gradient().toFloatArray());
                s.step(t, iters, z[j], v[j], gz, lo, latentUpper);
            }
            progress(b0, b1, t, total);
        }
        for (int j = 0; j < m; j++) img[j] = generator.forward(z[j], size).image();
        return toInput(img, size);
    }

    // ---------------------------------------------------------------- helpers

    private float[] toInput(float[][] x, int size) {
        int d = 3 * size * size;
        float[] out = new float[x.length * d];
        for (int j = 0; j < x.length; j++) System.arraycopy(x[j], 0, out, j * d, d);
        space.toInput(out, size * size);
        return out;
    }

    private void progress(int b0, int b1, int t, double total) {
        if (opt.logEvery() > 0 && (t % opt.logEvery() == 0 || t == opt.iterations() - 1)) {
            log.accept(String.format(Locale.ROOT, "images %d..%d: iteration %d/%d, loss %.5g", b0, b1 - 1, t + 1, opt.iterations(), total));
        }
    }
}
