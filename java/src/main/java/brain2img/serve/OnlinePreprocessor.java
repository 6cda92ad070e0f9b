package brain2img.serve;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Online preprocessing as real-time fMRI does it, all opt-in; with the defaults a volume passes unchanged, so it is
 * treated exactly as the offline {@code decode} treats a test response (the decoder z-scores with its training
 * statistics).
 * <ol>
 *   <li><b>z-scoring</b> ({@code baseline} N &gt; 0): per voxel, running mean and variance (Welford, population) over
 *       every volume so far; the first N volumes form the baseline and produce no output. Afterwards each volume
 *       is z-scored with the statistics including itself and mapped into the training data's scale,
 *       x = μ_train + σ_train · z, so the decoder's own standardisation gives back z (the session's raw signal
 *       level and scale, which differ from the training betas, cancel).</li>
 *   <li><b>sliding window</b> ({@code window} K &gt; 1): the mean of the last K volumes after step 1 (fewer at the
 *       start).</li>
 *   <li><b>haemodynamic delay</b> ({@code delay} k &gt; 0): the output of volume v is attributed to the event (and the
 *       image) of volume v − k; the first k volumes have no event and produce no output.</li>
 * </ol>
 * Not thread-safe: the acquisition thread owns it, so running statistics see every volume, dropped or not.
 */
final class OnlinePreprocessor {
    private final OnlineSettings s;
    private final float[] trainMean, trainScale; // per data-set voxel (z-scoring only)
    private double[] mean, m2;
    private long count;
    private final ArrayDeque<float[]> recent = new ArrayDeque<>();
    private final Map<Integer, Integer> imageOfVolume = new HashMap<>();

    /** @param trainMean, trainScale the decoders' per-voxel training mean and scale (used by z-scoring only) */
    OnlinePreprocessor(OnlineSettings s, float[] trainMean, float[] trainScale) {
        this.s = s;
        this.trainMean = trainMean;
        this.trainScale = trainScale;
    }

    /** The volume to reconstruct for this arrival, or empty while it is baseline or before the first event. */
    Optional<Volume> accept(Volume v) {
        long t0 = System.nanoTime();
        if (s.isNone()) return Optional.of(v);
        float[] x = v.voxels();
        if (s.baseline() > 0) {
            update(x);
            if (count <= s.baseline()) return Optional.empty();
            x = zscored(x);
        }
        if (s.window() > 1) {
            recent.addLast(x);
            if (recent.size() > s.window()) recent.removeFirst();
            x = windowMean();
        }
        Volume out = v.withVoxels(x, v.preprocessMs() + (System.nanoTime() - t0) / 1e6);
        if (s.delay() > 0) {
            imageOfVolume.put(v.index(), v.imageId());
            imageOfVolume.remove(v.index() - s.delay() - 1);
            int event = v.index() - s.delay();
            if (event < 0) return Optional.empty();
            out = out.withEvent(event, imageOfVolume.get(event));
        }
        return Optional.of(out);
    }

    private void update(float[] x) {
        if (mean == null) {
            mean = new double[x.length];
            m2 = new double[x.length];
        }
        count++;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - mean[i];
            mean[i] += d / count;
            m2[i] += d * (x[i] - mean[i]);
        }
    }

    private float[] zscored(float[] x) {
        float[] z = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            double sd = Math.sqrt(m2[i] / count);
            double zi = sd > 0 ? (x[i] - mean[i]) / sd : 0;
            z[i] = (float) (trainMean[i] + trainScale[i] * zi);
        }
        return z;
    }

    private float[] windowMean() {
        float[] m = new float[recent.peekFirst().length];
        for (float[] r : recent) for (int i = 0; i < m.length; i++) m[i] += r[i];
        for (int i = 0; i < m.length; i++) m[i] /= recent.size();
        return m;
    }
}
