#!/usr/bin/env python3
"""Reference data for brain2img.dir from PyTorch (run with Debian's python3-torch 1.13; Python is never part of
the product). Writes into java/src/test/resources/brain2img/dir/:

  generator        a reduced-width deepsim fc7 generator (the lab's layer names and layout, random weights):
                   deepsim_tiny.safetensors and deepsim_tiny.npz = latent z, G(z) 64² centre crop, a seed gradient
                   dL/dimage and torch autograd's dL/dz.
  reconstruction   a reduced-width VGG19 (torchvision's module names features.0..34, classifier.0/3/6; random
                   torchvision init): vgg_tiny.safetensors, three held-out 64x64 test images and the PixCorr
                   that the lab's schedules reach in torch/scipy from their true features (all 19 layers,
                   weights 1/||f||^2): gradient descent (icnn_gd: momentum 0.9, lr 2->1e-10, decay 0.2->1e-10,
                   scipy gaussian_filter sigma 2->0.5) and scipy's L-BFGS-B (gtol = ftol = 0: the loss scale is arbitrary), 200 iterations, start at mean
                   grey, pixel bounds of the input space. vgg_tiny.npz holds images, results and PixCorr values;
                   tools/dir_torch_reference.png is the figure.

    /usr/bin/python3 tools/dir_torch_reference.py [generator|reconstruction|all]
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

OUT = Path(__file__).resolve().parent.parent / "java/src/test/resources/brain2img/dir"


def save_safetensors(path, tensors):
    """The safetensors layout: u64 header length, JSON header (dtype, shape, offsets), raw little-endian data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ------------------------------------------------------------------ deepsim generator

class DeepSim(nn.Module):
    """Dosovitskiy & Brox's fc7 generator with the layer names of the lab's PyTorch port; widths scalable."""

    def __init__(self, latent, fc, seed, w):
        super().__init__()
        self.seed = seed
        self.fc7, self.fc6, self.fc5 = nn.Linear(latent, fc), nn.Linear(fc, fc), nn.Linear(fc, seed * 16)
        c = lambda i, o, k, s: nn.ConvTranspose2d(i, o, k, s, 1)
        self.deconv5, self.conv5_1 = c(seed, w[0], 4, 2), c(w[0], w[1], 3, 1)
        self.deconv4, self.conv4_1 = c(w[1], w[2], 4, 2), c(w[2], w[3], 3, 1)
        self.deconv3, self.conv3_1 = c(w[3], w[4], 4, 2), c(w[4], w[5], 3, 1)
        self.deconv2, self.deconv1, self.deconv0 = c(w[5], w[6], 4, 2), c(w[6], w[7], 4, 2), c(w[7], 3, 4, 2)

    def forward(self, z):
        a = lambda t: nn.functional.leaky_relu(t, 0.3)
        h = a(self.fc5(a(self.fc6(a(self.fc7(z))))))
        h = h.view(-1, self.seed, 4, 4)
        for m in [self.deconv5, self.conv5_1, self.deconv4, self.conv4_1, self.deconv3, self.conv3_1, self.deconv2, self.deconv1]:
            h = a(m(h))
        return self.deconv0(h)


def generator():
    torch.manual_seed(3)
    g = DeepSim(latent=64, fc=48, seed=8, w=[8, 12, 8, 8, 6, 6, 4, 4])
    with torch.no_grad():  # scale each layer so the activations keep a useful size through 12 layers
        for m in g.modules():
            if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
                m.weight.mul_(2.0)
                m.bias.uniform_(-0.5, 0.5)
    save_safetensors(OUT / "deepsim_tiny.safetensors", dict(g.state_dict()))
    z = torch.rand(1, 64, dtype=torch.float32, requires_grad=True)
    img = g(z)[:, :, 96:160, 96:160]  # a 64² centre crop keeps the fixture small (224 would be 16:240)
    seed = torch.randn_like(img)
    (img * seed).sum().backward()
    np.savez(OUT / "deepsim_tiny.npz", z=z.detach().numpy()[0], image=img.detach().numpy()[0],
             grad_image=seed.numpy()[0], grad_z=z.grad.numpy()[0])
    print("generator: image range", float(img.min()), float(img.max()), "|dz|", float(z.grad.abs().mean()))


# ------------------------------------------------------------------ reduced VGG19 reconstruction

WIDTHS = [8, 8, "M", 16, 16, "M", 16, 16, 16, 16, "M", 32, 32, 32, 32, "M", 32, 32, 32, 32, "M"]
NODES = ["features.%d" % i for i in (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)] + \
        ["classifier.0", "classifier.3", "classifier.6"]
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
SIZE, ITERS = 64, 200


class TinyVgg(nn.Module):
    """torchvision's VGG layout and module names (features / avgpool / classifier) at reduced widths."""

    def __init__(self):
        super().__init__()
        layers, c = [], 3
        for v in WIDTHS:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=False)]
                c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(nn.Linear(c * 49, 64), nn.ReLU(False), nn.Dropout(), nn.Linear(64, 64),
                                        nn.ReLU(False), nn.Dropout(), nn.Linear(64, 16))
        # PyTorch's default layer initialisation (uniform weights and biases), not VGG's (zero biases,
        # fc weights N(0, 0.01)): with those, fc8's target is ~1e-6, its weight 1/||f||^2 swamps every other
        # layer, and at the mean-grey start every ReLU is dead, so there is no gradient to start from.

    def nodes(self, x):
        """Pre-ReLU outputs of every conv and linear layer, by torchvision node name."""
        out = {}
        for i, m in enumerate(self.features):
            x = m(x)
            out["features.%d" % i] = x
        x = torch.flatten(self.avgpool(x), 1)
        for i, m in enumerate(self.classifier):
            x = m(x)
            out["classifier.%d" % i] = x
        return {k: out[k] for k in NODES}


def test_images():
    """Three 64x64 RGB scenes (a colour ramp, a disc, a square), values on the 1/255 grid."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    imgs = []
    for k, (cx, cy, r, c1, c2) in enumerate([(0.3, 0.4, 0.2, (1, 0.2, 0.1), (0.1, 0.3, 0.9)),
                                             (0.6, 0.55, 0.25, (0.1, 0.8, 0.2), (0.9, 0.9, 0.1)),
                                             (0.5, 0.3, 0.15, (0.9, 0.5, 0.0), (0.2, 0.1, 0.5))]):
        img = np.stack([0.2 + 0.6 * xx * (ch == k % 3) + 0.3 * yy * (ch == (k + 1) % 3) for ch in range(3)])
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        sq = (abs(xx - (1 - cx)) < 0.12) & (abs(yy - (1 - cy)) < 0.12)
        for ch in range(3):
            img[ch][disc] = c1[ch]
            img[ch][sq] = c2[ch]
        imgs.append(np.round(img * 255) / 255)
    return np.array(imgs, np.float32)


def pixcorr(a, b):
    """Pearson r over all values of two [0,1] RGB images (0 for a constant image)."""
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    d = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d > 0 else 0.0


def reconstruct(net, targets, method):
    """The lab's pixel optimisation in the Caffe-like space x = 255 (rgb - mean); returns the [0,1] image."""
    from scipy.ndimage import gaussian_filter
    from scipy.optimize import minimize
    w = {k: 1 / float((v ** 2).sum()) for k, v in targets.items()}
    tot = sum(w.values())
    w = {k: v / tot for k, v in w.items()}
    scale = torch.tensor(1 / (255 * STD)).view(1, 3, 1, 1)
    lo = np.broadcast_to((-255 * MEAN)[:, None, None], (3, SIZE, SIZE)).astype(np.float32)
    hi = np.broadcast_to((255 * (1 - MEAN))[:, None, None], (3, SIZE, SIZE)).astype(np.float32)

    # L-BFGS-B in float64: its first step has unit length over all 12,288 pixels (in 0-255 units), a change of
    # the loss that float32 cannot resolve, after which it stops
    dt = torch.float64 if method == "lbfgs" else torch.float32
    model = net.double() if method == "lbfgs" else net.float()
    targets = {k: v.to(dt) for k, v in targets.items()}

    def loss_grad(x):
        xt = torch.tensor(x.reshape(1, 3, SIZE, SIZE), dtype=dt, requires_grad=True)
        feats = model.nodes(xt * scale.to(dt))
        loss = sum(w[k] * ((feats[k] - targets[k]) ** 2).sum() for k in targets)
        loss.backward()
        return float(loss), xt.grad.numpy()[0]

    x = np.zeros((3, SIZE, SIZE), np.float32)  # mean grey
    if method == "gd":
        v = np.zeros_like(x)
        for t in range(ITERS):
            lr = 2 + t * (1e-10 - 2) / ITERS
            decay = 0.2 + t * (1e-10 - 0.2) / ITERS
            sigma = 2 + t * (0.5 - 2) / ITERS
            _, g = loss_grad(x)
            gm = np.abs(g).mean()
            if gm > 0:
                v = 0.9 * v + lr * g / gm
            x = (1 - decay) * (x - v)
            x = np.stack([gaussian_filter(c, sigma) for c in x]).astype(np.float32)
            x = np.clip(x, lo, hi)
    else:
        res = minimize(lambda v: tuple(np.float64(a) if i == 0 else a.astype(np.float64).ravel() for i, a in enumerate(loss_grad(v))),
                       x.ravel().astype(np.float64), jac=True, method="L-BFGS-B",
                       bounds=list(zip(lo.ravel().astype(np.float64), hi.ravel().astype(np.float64))), options={"maxiter": ITERS, "gtol": 0, "ftol": 0})
        print("L-BFGS-B:", res.nit, "iterations,", res.nfev, "evaluations:", res.message)
        x = res.x.astype(np.float32).reshape(3, SIZE, SIZE)
    return np.clip(x / 255 + MEAN[:, None, None], 0, 1)


def reconstruction():
    torch.manual_seed(5)
    net = TinyVgg().eval()
    save_safetensors(OUT / "vgg_tiny.safetensors", dict(net.state_dict()))
    imgs = test_images()
    x = torch.tensor((imgs - MEAN[None, :, None, None]) / STD[None, :, None, None])
    out = {"images": imgs}
    for method in ("gd", "lbfgs"):
        recs, pcs = [], []
        for i in range(len(imgs)):
            with torch.no_grad():
                targets = {k: v for k, v in net.float().nodes(x[i:i + 1]).items()}
            rec = reconstruct(net, targets, method)
            recs.append(rec)
            pcs.append(pixcorr(rec, imgs[i]))
        out["recon_" + method] = np.array(recs, np.float32)
        out["pixcorr_" + method] = np.array(pcs)
        print(method, "PixCorr per image", np.round(pcs, 4), "mean", np.mean(pcs))
    np.savez_compressed(OUT / "vgg_tiny.npz", **out)
    figure(out)


def figure(out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [("ground truth", out["images"], None), ("torch GD", out["recon_gd"], out["pixcorr_gd"]),
            ("scipy L-BFGS-B", out["recon_lbfgs"], out["pixcorr_lbfgs"])]
    fig, ax = plt.subplots(3, 3, figsize=(6, 6.4))
    for r, (name, imgs, pc) in enumerate(rows):
        for c in range(3):
            ax[r, c].imshow(imgs[c].transpose(1, 2, 0))
            ax[r, c].set_xticks([])
            ax[r, c].set_yticks([])
            ax[r, c].set_title(name if pc is None else "%s r=%.3f" % (name, pc[c]), fontsize=8)
    fig.suptitle("Reconstruction from true features, reduced random VGG19 (64x64, 200 iterations)", fontsize=8)
    fig.tight_layout()
    fig.savefig(Path(__file__).resolve().parent / "dir_torch_reference.png", dpi=80)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    OUT.mkdir(parents=True, exist_ok=True)
    if what in ("generator", "all"):
        generator()
    if what in ("reconstruction", "all"):
        reconstruction()
