package brain2img.dir;

import brain2img.backend.Backend;
import brain2img.io.FormatException;
import brain2img.io.WeightFile;
import brain2img.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Dosovitskiy &amp; Brox's (2016) "deepsim" fc7 generator as the Kamitani lab uses it as an image prior, read
 * top to bottom:
 * <pre>
 *   z (4096) → fc7 → fc6 → fc5 (Linear 4096, each LeakyReLU 0.3) → reshape (256,4,4)
 *   deconv5  ConvT k4 s2 p1 256→256   8²       conv5_1 k3 s1 p1 256→512
 *   deconv4  ConvT k4 s2 p1 512→256  16²       conv4_1 k3 s1 p1 256→256
 *   deconv3  ConvT k4 s2 p1 256→128  32²       conv3_1 k3 s1 p1 128→128
 *   deconv2  ConvT k4 s2 p1 128→64   64²
 *   deconv1  ConvT k4 s2 p1  64→32  128²
 *   deconv0  ConvT k4 s2 p1  32→3   256²  (no activation)
 * </pre>
 * LeakyReLU(0.3) after every layer but the last; the output (3,256,256) is Caffe VGG input (BGR, 0–255, mean
 * subtracted), centre-cropped to the reconstruction size (224: offset 16). Weight names are the module names
 * above with {@code .weight}/{@code .bias}, every convolution stored as torch's ConvTranspose2d (Cin,Cout,k,k),
 * as in the PyTorch port the lab distributes (its k3 layers are stride-1 transposed convolutions, which equal
 * the convolutions above with flipped kernels). Widths are read from the file, so reduced-width test
 * generators load the same way.
 *
 * <p>{@link #forward} keeps each layer's input, so {@link Pass#latentGradient} runs the chain backwards:
 * LeakyReLU masks, each transposed convolution's adjoint (a strided convolution with the same weights),
 * Linear's Wᵀ, crop → zero padding.
 */
public final class DeepSimGenerator implements AutoCloseable {
    static final float SLOPE = 0.3f;
    static final String[] FC = {"fc7", "fc6", "fc5"};
    /** name, kernel, stride, padding. */
    record Deconv(String name, int k, int stride, int pad) {}
    static final Deconv[] DECONV = {
            new Deconv("deconv5", 4, 2, 1), new Deconv("conv5_1", 3, 1, 1),
            new Deconv("deconv4", 4, 2, 1), new Deconv("conv4_1", 3, 1, 1),
            new Deconv("deconv3", 4, 2, 1), new Deconv("conv3_1", 3, 1, 1),
            new Deconv("deconv2", 4, 2, 1), new Deconv("deconv1", 4, 2, 1), new Deconv("deconv0", 4, 2, 1)};
    static final int OUT = 256;

    private final Backend be;
    private final WeightFile file;
    private final Tensor[] fcW = new Tensor[3], fcB = new Tensor[3], dW = new Tensor[DECONV.length], dB = new Tensor[DECONV.length];
    private final int latent, seedChannels;

    public DeepSimGenerator(Path weights, Backend be) {
        this.be = be;
        this.file = WeightFile.open(weights);
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            fcW[i] = load(FC[i] + ".weight", missing);
            fcB[i] = load(FC[i] + ".bias", missing);
        }
        for (int i = 0; i < DECONV.length; i++) {
            dW[i] = load(DECONV[i].name + ".weight", missing);
            dB[i] = load(DECONV[i].name + ".bias", missing);
        }
        if (!missing.isEmpty()) throw new FormatException(weights + ": not a deepsim generator, missing " + String.join(", ", missing));
        latent = fcW[0].dimInt(1);
        long fcOut = fcW[2].dim(0);
        seedChannels = dW[0].dimInt(0);
        if (fcOut != seedChannels * 16L) {
            throw new FormatException(weights + ": fc5 gives " + fcOut + " values but deconv5 reads " + seedChannels + "×4×4");
        }
        for (int i = 1; i < DECONV.length; i++) {
            if (dW[i].dim(0) != dW[i - 1].dim(1)) {
                throw new FormatException(weights + ": " + DECONV[i].name + ".weight " + dW[i].shapeString() + " does not read "
                        + DECONV[i - 1].name + "'s " + dW[i - 1].dim(1) + " channels");
            }
        }
        if (dW[DECONV.length - 1].dim(1) != 3) throw new FormatException(weights + ": deconv0 must give 3 channels, gives " + dW[DECONV.length - 1].dim(1));
    }

    private Tensor load(String key, List<String> missing) {
        if (!file.contains(key)) {
            missing.add(key);
            return null;
        }
        return be.upload(file.getF32(key));
    }

    public int latent() {
        return latent;
    }

    /** One forward pass, with what the backward pass needs. */
    public final class Pass {
        private final List<Tensor> preActivations = new ArrayList<>(); // input of each LeakyReLU, in order
        private final List<Tensor> layerInputs = new ArrayList<>();    // input of each deconv, in order
        private final int size;
        private float[] image;

        private Pass(int size) {
            this.size = size;
        }

        /** The centre crop (3,size,size) of the generated image, flattened. */
        public float[] image() {
            return image;
        }

        /** ∂L/∂z from ∂L/∂image (3,size,size) of this pass. */
        public float[] latentGradient(float[] gradImage) {
            int off = (OUT - size) / 2;
            Tensor g = be.crop(be.upload(Tensor.of(gradImage, 1, 3, size, size)), -off, -off, OUT, OUT); // crop's adjoint
            for (int i = DECONV.length - 1; i >= 0; i--) {
                if (i < DECONV.length - 1) g = be.activateBackward(Backend.Act.LEAKY_RELU, SLOPE, preActivations.get(3 + i), g);
                Tensor x = layerInputs.get(i);
                Deconv d = DECONV[i];
                int h = x.dimInt(2), w = x.dimInt(3), oh = g.dimInt(2), ow = g.dimInt(3);
                int pb = (h - 1) * d.stride + d.k - oh - d.pad, pr = (w - 1) * d.stride + d.k - ow - d.pad;
                g = be.conv2d(g, dW[i], null, 1, d.stride, d.stride, d.pad, pb, d.pad, pr);
            }
            g = g.reshape(1, (long) seedChannels * 16);
            for (int i = 2; i >= 0; i--) {
                g = be.activateBackward(Backend.Act.LEAKY_RELU, SLOPE, preActivations.get(i), g);
                g = be.matmul(g, fcW[i]);
            }
            return be.download(g).toFloatArray();
        }
    }

    /** Generates G(z) for one latent z and crops it to size×size. */
    public Pass forward(float[] z, int size) {
        if (z.length != latent) throw new IllegalArgumentException("latent has " + z.length + " values, the generator takes " + latent);
        if (size > OUT) throw new IllegalArgumentException("the generator draws " + OUT + "², cannot crop to " + size);
        Pass p = new Pass(size);
        Tensor h = be.upload(Tensor.of(z.clone(), 1, latent));
        for (int i = 0; i < 3; i++) {
            Tensor pre = be.linear(h, fcW[i], fcB[i]);
            p.preActivations.add(pre);
            h = be.activate(Backend.Act.LEAKY_RELU, SLOPE, pre);
        }
        h = h.reshape(1, seedChannels, 4, 4);
        for (int i = 0; i < DECONV.length; i++) {
            Deconv d = DECONV[i];
            p.layerInputs.add(h);
            int oh = (h.dimInt(2) - 1) * d.stride - 2 * d.pad + d.k, ow = (h.dimInt(3) - 1) * d.stride - 2 * d.pad + d.k;
            Tensor pre = be.convTranspose2d(h, dW[i], dB[i], 1, d.stride, d.stride, d.pad, d.pad, oh, ow);
            if (i < DECONV.length - 1) {
                p.preActivations.add(pre);
                h = be.activate(Backend.Act.LEAKY_RELU, SLOPE, pre);
            } else {
                h = pre;
            }
        }
        if (h.dimInt(2) != OUT) throw new IllegalStateException("generator output " + h.shapeString() + ", expected 256²");
        int off = (OUT - size) / 2;
        p.image = be.download(be.crop(h, off, off, size, size)).toFloatArray();
        return p;
    }

    /** The generator's full 256² output for a latent (for checks against torch). */
    public float[] generate(float[] z) {
        return forward(z, OUT).image();
    }

    @Override
    public void close() {
        file.close();
    }
}
