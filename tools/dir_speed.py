#!/usr/bin/env python3
"""PyTorch side of the reconstruct-loop timing: full-size torchvision VGG19 with random weights, one image at
224x224, loss over Shen et al.'s 19 layers (pre-ReLU) with the lab's weights, forward + input gradient.
Writes the weights and the target features for the Java side (brain2img dir reconstruct) into DIR.

    /usr/bin/python3 tools/dir_speed.py DIR [repeats]
then
    ./brain2img dir reconstruct --features DIR/features --arch vgg19 --weights DIR/vgg19_random.safetensors \\
        --iterations 3 --out DIR/recon.npy     # prints seconds per image-iteration
"""
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dir_torch_reference import save_safetensors  # noqa: E402

NODES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]

out = Path(sys.argv[1])
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
(out / "features").mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)
net = torchvision.models.vgg19().eval()
save_safetensors(out / "vgg19_random.safetensors", dict(net.state_dict()))
# only the input gradient, as the Java side computes: no weight gradients
for p in net.parameters():
    p.requires_grad_(False)


def nodes(x):
    f = {}
    for i, m in enumerate(net.features):
        x = m(x)
        if i in NODES:
            f["features.%d" % i] = x
    x = torch.flatten(net.avgpool(x), 1)
    for i, m in enumerate(net.classifier):
        x = m(x)
        if i in (0, 3, 6):
            f["classifier.%d" % i] = x
    return f


with torch.no_grad():
    target = nodes(torch.randn(1, 3, 224, 224))
for k, v in target.items():
    np.save(out / "features" / (k + ".npy"), v.numpy().astype(np.float32))
w = {k: 1 / float((v ** 2).sum()) for k, v in target.items()}
s = sum(w.values())
times = []
for r in range(repeats + 1):
    x = torch.zeros(1, 3, 224, 224, requires_grad=True)
    t0 = time.perf_counter()
    f = nodes(x)
    loss = sum(w[k] / s * ((f[k] - target[k]) ** 2).sum() for k in f)
    loss.backward()
    times.append(time.perf_counter() - t0)
print("torch %s, %d threads: VGG19 forward + input gradient at 224, batch 1: %s s (median of %d after warm-up: %.2f s)"
      % (torch.__version__, torch.get_num_threads(), np.round(times, 2), repeats, float(np.median(times[1:]))))
