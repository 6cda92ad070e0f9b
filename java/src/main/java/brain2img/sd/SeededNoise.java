package brain2img.sd;

import brain2img.tensor.Tensor;

/**
 * Reproducible standard normal noise, a pure function of (seed, stream, batch item, element index), so the same
 * seed gives the same numbers on every machine, thread count and JVM, and batch item b gets the same noise
 * whatever the batch size.
 *
 * <p>Algorithm (fixed; changing it changes every seeded result): a key k = mix(mix(mix(seed) ^ stream) ^ b)
 * with mix the SplitMix64 finaliser; element i takes u₁ = (mix(k + 2i + 1) ≫ 11 + 1)·2⁻⁵³ ∈ (0,1] and
 * u₂ = (mix(k + 2i + 2) ≫ 11)·2⁻⁵³, and returns √(−2 ln u₁)·cos(2π u₂) (Box–Muller), evaluated with
 * {@link StrictMath} so the bits are the same everywhere. It does not reproduce torch's generator: a diffusers
 * image and ours from the same seed differ.
 */
public final class SeededNoise {
    private static final double TWO_POW_53 = 0x1.0p-53;

    private SeededNoise() {}

    /** A (B,...) tensor of N(0,1) values for the given seed and stream (the sampler uses the timestep). */
    public static Tensor normal(long seed, long stream, long... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] v = t.heapFloats();
        int batch = shape.length == 0 ? 1 : Math.toIntExact(shape[0]);
        int per = batch == 0 ? 0 : v.length / batch;
        for (int b = 0; b < batch; b++) {
            long key = mix(mix(mix(seed) ^ stream) ^ b);
            for (int i = 0; i < per; i++) v[b * per + i] = (float) gaussian(key, i);
        }
        return t;
    }

    static double gaussian(long key, long i) {
        double u1 = ((mix(key + 2 * i + 1) >>> 11) + 1) * TWO_POW_53;
        double u2 = (mix(key + 2 * i + 2) >>> 11) * TWO_POW_53;
        return StrictMath.sqrt(-2 * StrictMath.log(u1)) * StrictMath.cos(2 * Math.PI * u2);
    }

    /** The SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
