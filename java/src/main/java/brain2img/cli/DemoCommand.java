package brain2img.cli;

import brain2img.backend.Backend;
import brain2img.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Random;
import java.util.concurrent.Callable;

/** The README's main command. Until the reconstruction pipeline lands it runs the backend self-check. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the embedded default job (currently: backend self-check of gemm and conv2d against naive loops).",
        footer = {"", "Example:", "  ./brain2img demo"})
public final class DemoCommand implements Callable<Integer> {
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        try (Backend be = device.open()) {
            Random rnd = new Random(42);
            int m = 67, n = 91, k = 129;
            Tensor a = random(rnd, m, k), b = random(rnd, k, n);
            Tensor c = be.download(be.matmul(be.upload(a), be.upload(b)));
            double e1 = relErr(c.toFloatArray(), naiveMatmul(a.toFloatArray(), b.toFloatArray(), m, n, k));
            System.out.printf("gemm %dx%dx%d: relative error vs naive %.2e%n", m, n, k, e1);
            Tensor x = random(rnd, 2, 5, 13, 11), w = random(rnd, 7, 5, 3, 3);
            Tensor y = be.download(be.conv2d(be.upload(x), be.upload(w), null, 1, 1, 1, 1, 1, 1));
            double e2 = relErr(y.toFloatArray(), naiveConv(x, w));
            System.out.printf("conv2d 3x3 %s: relative error vs naive %.2e%n", x.shapeString(), e2);
            boolean ok = e1 < 1e-5 && e2 < 1e-5;
            System.out.println(ok ? "self-check passed" : "self-check FAILED");
            return ok ? 0 : 1;
        }
    }

    private static Tensor random(Random r, long... shape) {
        float[] d = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
        return Tensor.of(d, shape);
    }

    private static double[] naiveMatmul(float[] a, float[] b, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double) a[i * k + p] * b[p * n + j];
            c[i * n + j] = s;
        }
        return c;
    }

    private static double[] naiveConv(Tensor x, Tensor w) {
        int bs = x.dimInt(0), ch = x.dimInt(1), h = x.dimInt(2), wd = x.dimInt(3), oc = w.dimInt(0);
        double[] out = new double[bs * oc * h * wd];
        for (int b = 0; b < bs; b++) for (int o = 0; o < oc; o++) for (int y = 0; y < h; y++) for (int xx = 0; xx < wd; xx++) {
            double s = 0;
            for (int c = 0; c < ch; c++) for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) {
                int yy = y + i - 1, xj = xx + j - 1;
                if (yy < 0 || yy >= h || xj < 0 || xj >= wd) continue;
                s += x.getFloat(((long) (b * ch + c) * h + yy) * wd + xj) * w.getFloat(((long) (o * ch + c) * 3 + i) * 3 + j);
            }
            out[((b * oc + o) * h + y) * wd + xx] = s;
        }
        return out;
    }

    private static double relErr(float[] got, double[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (got[i] - ref[i]) * (got[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }
}
