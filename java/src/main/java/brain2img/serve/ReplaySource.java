package brain2img.serve;

import brain2img.data.Averaged;
import brain2img.data.Dataset;
import brain2img.data.Split;
import brain2img.tensor.Tensor;

import java.util.function.Consumer;

/**
 * Replays a data set's test volumes as a scanner would: one volume per test image — its responses averaged over
 * repetitions, exactly the rows the offline {@code decode} stage reads — in the order of {@code trials.csv}, one
 * every TR/speed seconds.
 */
final class ReplaySource {
    private final Averaged test;
    private final long periodNanos;

    ReplaySource(Dataset ds, double tr, double speed) {
        if (!(tr > 0)) throw new IllegalArgumentException("--tr must be > 0 seconds, got " + tr);
        if (!(speed > 0)) throw new IllegalArgumentException("--speed must be > 0, got " + speed);
        this.test = ds.average(Split.TEST);
        if (test.imageIds().length == 0) throw new IllegalArgumentException(ds.dir() + ": no test trials to replay");
        this.periodNanos = Math.round(tr / speed * 1e9);
    }

    int volumes() {
        return test.imageIds().length;
    }

    /** Emits every volume at its time; returns after the last. */
    void run(Consumer<Volume> sink) throws InterruptedException {
        Tensor r = test.responses();
        long t0 = System.nanoTime();
        for (int i = 0; i < volumes(); i++) {
            long wait = t0 + i * periodNanos - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            sink.accept(new Volume(i, i, "replay", test.imageIds()[i], System.nanoTime(), System.currentTimeMillis(),
                    r.get(i).toFloatArray(), 0, 0));
        }
    }
}
