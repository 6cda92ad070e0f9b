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
                   scipy gaussian_filter sigma 2->0.5) and scipy's L-BFGS-B, 200 iterations, start at mean
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


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    OUT.mkdir(parents=True, exist_ok=True)
    if what in ("generator", "all"):
        generator()
