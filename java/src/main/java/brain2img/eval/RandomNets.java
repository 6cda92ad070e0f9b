package brain2img.eval;

import brain2img.io.SafeTensors;
import brain2img.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Full-size metric networks with random weights, for timing only: every tensor torchvision (or Hugging Face,
 * for CLIP ViT-L/14) stores, with its name and shape, written to a safetensors file the real loaders open.
 * Convolutions and linear layers get uniform ±√(3/fan_in) (activations keep their scale), batch norm the
 * identity statistics.
 */
public final class RandomNets {
    private RandomNets() {}

    /** Writes the family's random full-size weights to {@code dir/<stem>.safetensors} and returns the file. */
    public static Path write(MetricNets.Family family, Path dir, long seed) throws IOException {
        Map<String, long[]> shapes = switch (family.name()) {
            case "alexnet" -> alexnet();
            case "inception" -> inception();
            case "clip" -> clip();
            case "effnet" -> efficientnetB1();
            case "swav" -> resnet50();
            default -> throw new IllegalArgumentException("no random weights for " + family.name());
        };
        Map<String, Tensor> t = new LinkedHashMap<>();
        long i = 0;
        for (var e : shapes.entrySet()) t.put(e.getKey(), random(e.getKey(), e.getValue(), seed + 7919 * i++));
        Path file = dir.resolve(family.stem() + ".safetensors");
        SafeTensors.write(file, t, Map.of("format", "pt", "note", "random weights for timing"));
        return file;
    }

    private static Tensor random(String name, long[] shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[Math.toIntExact(Tensor.numel(shape))];
        if (shape.length == 1) {
            // variances 1; norm scales 1 ± 0.02; biases, means and the class embedding ±0.02
            boolean var = name.endsWith("running_var"), scale = name.endsWith(".weight");
            for (int j = 0; j < d.length; j++) d[j] = var ? 1f : (scale ? 1f : 0f) + (float) r.nextDouble(-0.02, 0.02);
        } else {
            double bound = Math.sqrt(3.0 * shape[0] / d.length);
            for (int j = 0; j < d.length; j++) d[j] = (float) r.nextDouble(-bound, bound);
        }
        return Tensor.of(d, shape);
    }

    // ---------------------------------------------------------------- torchvision / HF layouts

    static Map<String, long[]> alexnet() {
        Map<String, long[]> m = new LinkedHashMap<>();
        int[][] convs = {{0, 64, 3, 11}, {3, 192, 64, 5}, {6, 384, 192, 3}, {8, 256, 384, 3}, {10, 256, 256, 3}};
        for (int[] c : convs) {
            m.put("features." + c[0] + ".weight", new long[]{c[1], c[2], c[3], c[3]});
            m.put("features." + c[0] + ".bias", new long[]{c[1]});
        }
        linear(m, "classifier.1", 4096, 9216, true);
        linear(m, "classifier.4", 4096, 4096, true);
        linear(m, "classifier.6", 1000, 4096, true);
        return m;
    }

    static Map<String, long[]> resnet50() {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("conv1.weight", new long[]{64, 3, 7, 7});
        bn(m, "bn1", 64);
        int[] blocks = {3, 4, 6, 3};
        int in = 64;
        for (int l = 0; l < 4; l++) {
            int planes = 64 << l, out = planes * 4;
            for (int b = 0; b < blocks[l]; b++) {
                String p = "layer" + (l + 1) + "." + b + ".";
                m.put(p + "conv1.weight", new long[]{planes, in, 1, 1});
                bn(m, p + "bn1", planes);
                m.put(p + "conv2.weight", new long[]{planes, planes, 3, 3});
                bn(m, p + "bn2", planes);
                m.put(p + "conv3.weight", new long[]{out, planes, 1, 1});
                bn(m, p + "bn3", out);
                if (b == 0) {
                    m.put(p + "downsample.0.weight", new long[]{out, in, 1, 1});
                    bn(m, p + "downsample.1", out);
                }
                in = out;
            }
        }
        return m; // SwAV's ResNet-50: no fc
    }

    static Map<String, long[]> inception() {
        Map<String, long[]> m = new LinkedHashMap<>();
        basic(m, "Conv2d_1a_3x3", 3, 32, 3, 3);
        basic(m, "Conv2d_2a_3x3", 32, 32, 3, 3);
        basic(m, "Conv2d_2b_3x3", 32, 64, 3, 3);
        basic(m, "Conv2d_3b_1x1", 64, 80, 1, 1);
        basic(m, "Conv2d_4a_3x3", 80, 192, 3, 3);
        int[][] a = {{192, 32}, {256, 64}, {288, 64}};
        String[] aNames = {"Mixed_5b", "Mixed_5c", "Mixed_5d"};
        for (int i = 0; i < 3; i++) {
            String p = aNames[i] + ".";
            int in = a[i][0];
            basic(m, p + "branch1x1", in, 64, 1, 1);
            basic(m, p + "branch5x5_1", in, 48, 1, 1);
            basic(m, p + "branch5x5_2", 48, 64, 5, 5);
            basic(m, p + "branch3x3dbl_1", in, 64, 1, 1);
            basic(m, p + "branch3x3dbl_2", 64, 96, 3, 3);
            basic(m, p + "branch3x3dbl_3", 96, 96, 3, 3);
            basic(m, p + "branch_pool", in, a[i][1], 1, 1);
        }
        basic(m, "Mixed_6a.branch3x3", 288, 384, 3, 3);
        basic(m, "Mixed_6a.branch3x3dbl_1", 288, 64, 1, 1);
        basic(m, "Mixed_6a.branch3x3dbl_2", 64, 96, 3, 3);
        basic(m, "Mixed_6a.branch3x3dbl_3", 96, 96, 3, 3);
        int[] c7s = {128, 160, 160, 192};
        for (int i = 0; i < 4; i++) {
            String p = "Mixed_6" + (char) ('b' + i) + ".";
            int c7 = c7s[i];
            basic(m, p + "branch1x1", 768, 192, 1, 1);
            basic(m, p + "branch7x7_1", 768, c7, 1, 1);
            basic(m, p + "branch7x7_2", c7, c7, 1, 7);
            basic(m, p + "branch7x7_3", c7, 192, 7, 1);
            basic(m, p + "branch7x7dbl_1", 768, c7, 1, 1);
            basic(m, p + "branch7x7dbl_2", c7, c7, 7, 1);
            basic(m, p + "branch7x7dbl_3", c7, c7, 1, 7);
            basic(m, p + "branch7x7dbl_4", c7, c7, 7, 1);
            basic(m, p + "branch7x7dbl_5", c7, 192, 1, 7);
            basic(m, p + "branch_pool", 768, 192, 1, 1);
        }
        basic(m, "Mixed_7a.branch3x3_1", 768, 192, 1, 1);
        basic(m, "Mixed_7a.branch3x3_2", 192, 320, 3, 3);
        basic(m, "Mixed_7a.branch7x7x3_1", 768, 192, 1, 1);
        basic(m, "Mixed_7a.branch7x7x3_2", 192, 192, 1, 7);
        basic(m, "Mixed_7a.branch7x7x3_3", 192, 192, 7, 1);
        basic(m, "Mixed_7a.branch7x7x3_4", 192, 192, 3, 3);
        int[] eIn = {1280, 2048};
        for (int i = 0; i < 2; i++) {
            String p = "Mixed_7" + (char) ('b' + i) + ".";
            int in = eIn[i];
            basic(m, p + "branch1x1", in, 320, 1, 1);
            basic(m, p + "branch3x3_1", in, 384, 1, 1);
            basic(m, p + "branch3x3_2a", 384, 384, 1, 3);
            basic(m, p + "branch3x3_2b", 384, 384, 3, 1);
            basic(m, p + "branch3x3dbl_1", in, 448, 1, 1);
            basic(m, p + "branch3x3dbl_2", 448, 384, 3, 3);
            basic(m, p + "branch3x3dbl_3a", 384, 384, 1, 3);
            basic(m, p + "branch3x3dbl_3b", 384, 384, 3, 1);
            basic(m, p + "branch_pool", in, 192, 1, 1);
        }
        linear(m, "fc", 1000, 2048, true);
        return m;
    }

    /** torchvision efficientnet_b1: B0's stages with depth ×1.1 (layers rounded up), widths ×1.0. */
    static Map<String, long[]> efficientnetB1() {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("features.0.0.weight", new long[]{32, 3, 3, 3});
        bn(m, "features.0.1", 32);
        int[][] stages = {{1, 3, 32, 16, 1}, {6, 3, 16, 24, 2}, {6, 5, 24, 40, 2}, {6, 3, 40, 80, 3}, {6, 5, 80, 112, 3}, {6, 5, 112, 192, 4}, {6, 3, 192, 320, 1}};
        for (int s = 0; s < stages.length; s++) {
            int expand = stages[s][0], k = stages[s][1], out = stages[s][3], layers = (int) Math.ceil(stages[s][4] * 1.1);
            for (int i = 0; i < layers; i++) {
                int in = i == 0 ? stages[s][2] : out, exp = in * expand, sq = Math.max(1, in / 4);
                String p = "features." + (s + 1) + "." + i + ".block.";
                int j = 0;
                if (expand != 1) {
                    m.put(p + j + ".0.weight", new long[]{exp, in, 1, 1});
                    bn(m, p + j++ + ".1", exp);
                }
                m.put(p + j + ".0.weight", new long[]{exp, 1, k, k});
                bn(m, p + j++ + ".1", exp);
                m.put(p + j + ".fc1.weight", new long[]{sq, exp, 1, 1});
                m.put(p + j + ".fc1.bias", new long[]{sq});
                m.put(p + j + ".fc2.weight", new long[]{exp, sq, 1, 1});
                m.put(p + j++ + ".fc2.bias", new long[]{exp});
                m.put(p + j + ".0.weight", new long[]{out, exp, 1, 1});
                bn(m, p + j + ".1", out);
            }
        }
        m.put("features.8.0.weight", new long[]{1280, 320, 1, 1});
        bn(m, "features.8.1", 1280);
        linear(m, "classifier.1", 1000, 1280, true);
        return m;
    }

    /** HF CLIP ViT-L/14 vision tower and projection (width 1024, 24 layers, patch 14, 224², embedding 768). */
    static Map<String, long[]> clip() {
        Map<String, long[]> m = new LinkedHashMap<>();
        int w = 1024, mlp = 4096;
        m.put("vision_model.embeddings.class_embedding", new long[]{w});
        m.put("vision_model.embeddings.patch_embedding.weight", new long[]{w, 3, 14, 14});
        m.put("vision_model.embeddings.position_embedding.weight", new long[]{257, w});
        norm(m, "vision_model.pre_layrnorm", w);
        for (int l = 0; l < 24; l++) {
            String p = "vision_model.encoder.layers." + l + ".";
            for (String proj : new String[]{"q_proj", "k_proj", "v_proj", "out_proj"}) linear(m, p + "self_attn." + proj, w, w, true);
            norm(m, p + "layer_norm1", w);
            linear(m, p + "mlp.fc1", mlp, w, true);
            linear(m, p + "mlp.fc2", w, mlp, true);
            norm(m, p + "layer_norm2", w);
        }
        norm(m, "vision_model.post_layernorm", w);
        linear(m, "visual_projection", 768, w, false);
        return m;
    }

    private static void basic(Map<String, long[]> m, String p, int in, int out, int kh, int kw) {
        m.put(p + ".conv.weight", new long[]{out, in, kh, kw});
        bn(m, p + ".bn", out);
    }

    private static void bn(Map<String, long[]> m, String p, int c) {
        for (String s : new String[]{"weight", "bias", "running_mean", "running_var"}) m.put(p + "." + s, new long[]{c});
    }

    private static void norm(Map<String, long[]> m, String p, int c) {
        m.put(p + ".weight", new long[]{c});
        m.put(p + ".bias", new long[]{c});
    }

    private static void linear(Map<String, long[]> m, String p, int out, int in, boolean bias) {
        m.put(p + ".weight", new long[]{out, in});
        if (bias) m.put(p + ".bias", new long[]{out});
    }
}
