package brain2img.pipeline;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * The render stage cut into units of work: (subject, kind, chunk of test images, samples). The same plan
 * serves an ordinary run (every unit in order), {@code --shard i/N} (Slurm job arrays: unit u belongs to shard
 * u mod N) and Spark (one task per unit); a unit's outputs are a pure function of the run folder's decoded
 * targets, its config and the unit itself, so whoever renders it writes the same bytes.
 *
 * <p>Outputs of a unit, under {@code RUN/units/<key>/<kind>/<first>-<end>}: {@code .npy} (m,K,C,h,w)
 * reconstructions in [0,1] (written last: it marks the unit done), optionally {@code .z.npy} (m,K,dz); plus the
 * PNGs of sample 0 at {@code RUN/recon/<kind>/<id>.png}. {@code <key>} is a hash of the render stage's
 * config, so units of a changed config are never mistaken for current ones.
 */
public final class Planner {
    private Planner() {}

    /**
     * One unit: images [first, end) of the test set for one kind (reconstruction or null), samples 0..samples−1.
     *
     * @param index position in the plan (shards own index mod N)
     */
    public record Unit(int index, String subject, String kind, int first, int end, int samples) implements Serializable {
        /** "kind/first-end", unique within a plan; the relative file stem of its outputs. */
        public String id() {
            return String.format(Locale.ROOT, "%s/%05d-%05d", kind, first, end);
        }

        public int images() {
            return end - first;
        }
    }

    /** Shard {@code index} of {@code count}: owns the units whose plan index is {@code index} mod {@code count}. */
    public record Shard(int index, int count) implements Serializable {
        public static final Shard ALL = new Shard(0, 1);

        public Shard {
            if (count < 1 || index < 0 || index >= count) {
                throw new IllegalArgumentException("shard must be i/N with 0 ≤ i < N, got " + index + "/" + count);
            }
        }

        /** "i/N", e.g. from $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT. */
        public static Shard parse(String s) {
            String[] p = s.strip().split("/");
            try {
                if (p.length == 2) return new Shard(Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip()));
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
            throw new IllegalArgumentException("--shard: expected i/N (e.g. 0/3), got '" + s + "'");
        }

        public boolean owns(Unit u) {
            return u.index() % count == index;
        }

        @Override
        public String toString() {
            return index + "/" + count;
        }
    }

    /**
     * Every kind's images in chunks of {@code chunk}, kinds in the given order.
     *
     * @param samples samples per image of each kind (same order as kinds)
     */
    public static List<Unit> plan(String subject, List<String> kinds, int[] samples, int images, int chunk) {
        if (chunk < 1) throw new IllegalArgumentException("chunk must be ≥ 1, got " + chunk);
        List<Unit> units = new ArrayList<>();
        for (int k = 0; k < kinds.size(); k++) {
            for (int i0 = 0; i0 < images; i0 += chunk) {
                units.add(new Unit(units.size(), subject, kinds.get(k), i0, Math.min(images, i0 + chunk), samples[k]));
            }
        }
        return units;
    }

    /** The folder of the units of one render config: RUN/units/&lt;12 hex digits of the key's SHA-256&gt;. */
    static Path unitsDir(Path run, String renderKey) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(renderKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return run.resolve("units").resolve(HexFormat.of().formatHex(h, 0, 6));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The unit's reconstructions file; its presence marks the unit done (it is written last, atomically). */
    static Path reconFile(Path unitsDir, Unit u) {
        return unitsDir.resolve(u.id() + ".npy");
    }

    /** The VAE latents of the unit's reconstructions (SD path only). */
    static Path latentFile(Path unitsDir, Unit u) {
        return unitsDir.resolve(u.id() + ".z.npy");
    }

    static boolean done(Path unitsDir, Unit u) {
        return Files.isRegularFile(reconFile(unitsDir, u));
    }
}
