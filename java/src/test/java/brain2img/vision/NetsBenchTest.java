package brain2img.vision;

import brain2img.backend.CpuBackend;
import brain2img.cli.Main;
import brain2img.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's random full-size nets and its FLOP count, which must equal the layers' multiply-adds. */
class NetsBenchTest {
    /** 2 × multiply-adds of AlexNet's convs and linears at a square input, from the layer table by hand. */
    private static long alexnetFlops(int side) {
        int[][] convs = {{3, 64, 11, 4, 2}, {64, 192, 5, 1, 2}, {192, 384, 3, 1, 1}, {384, 256, 3, 1, 1}, {256, 256, 3, 1, 1}};
        boolean[] poolAfter = {true, true, false, false, true};
        long macs = 0;
        int s = side;
        for (int i = 0; i < convs.length; i++) {
            int[] c = convs[i];
            s = (s + 2 * c[4] - c[2]) / c[3] + 1;
            macs += (long) c[1] * s * s * c[0] * c[2] * c[2];
            if (poolAfter[i]) s = (s - 3) / 2 + 1;
        }
        macs += 9216L * 4096 + 4096L * 4096 + 4096L * 1000;
        return 2 * macs;
    }

    @Test
    void randomAlexNetAtFullSizeCountsItsFlops() {
        try (CnnNet net = NetsBench.randomNet("alexnet", new CpuBackend(), 1)) {
            Tensor x = NetsBench.randomInput(1, 64, 3);
            Tensor y = net.features(x, List.of("classifier.6")).get("classifier.6");
            assertEquals(List.of(1L, 1000L), List.of(y.dim(0), y.dim(1)));
            assertEquals(alexnetFlops(64), net.lastFlops());
            // He-scaled weights keep activations finite and of moderate size through the whole net
            double ss = 0;
            for (float v : y.toFloatArray()) ss += v * v;
            assertTrue(Double.isFinite(ss) && ss > 0, "output energy " + ss);
        }
    }

    @Test
    void benchCommandPrintsThroughput() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        int code;
        try {
            code = Main.execute("bench", "nets", "--archs", "alexnet", "--size", "64", "--warmup", "1", "--reps", "3", "--device", "cpu");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code);
        String s = out.toString();
        assertTrue(s.matches("(?s)alexnet\\s+64x64 batch 1 forward: +[0-9.]+ ms \\(median [0-9.]+ ms\\) .* images/s\\s+0\\.20 GFLOP .* GFLOP/s.*"), s);
    }
}
