#!/usr/bin/env python3
"""PyTorch CPU reference for `brain2img bench nets --archs vgg19-caffe`: VGG19 at 224², batch 1, forward and
forward + input gradient of L = sum over Shen's 19 layers (every conv and fc output before its ReLU) of
||phi_l(x)||^2, on random weights, on the same cores. Run both side by side on the same machine:

    /usr/bin/python3 benchmarks/vgg19_torch.py [--threads N] [--warmup 10] [--reps 2]
    ./brain2img bench nets --archs vgg19-caffe [--warmup 10] --reps 2 --device cpu

Both run the same number of untimed warm-up passes (10 by default) before the timed ones.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = torchvision.models.vgg19().eval()
    for mod in m.modules():
        if isinstance(mod, nn.ReLU):
            mod.inplace = False
    layers = [mod for mod in m.modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]
    outs = []
    for mod in layers:
        mod.register_forward_hook(lambda mm, i, o: outs.append(o))
    for p in m.parameters():
        p.requires_grad_(False)
    x = torch.randn(a.batch, 3, 224, 224)
    macs = 0
    for mod in layers:
        if isinstance(mod, nn.Linear):
            macs += mod.in_features * mod.out_features
    # conv MACs from the output sizes of one pass
    with torch.no_grad():
        outs.clear()
        m(x)
        for mod, o in zip(layers, outs):
            if isinstance(mod, nn.Conv2d):
                macs += o[0].numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
    gflop = 2 * macs * a.batch / 1e9

    def forward():
        with torch.no_grad():
            outs.clear()
            m(x)

    def forward_grad():
        outs.clear()
        xx = x.clone().requires_grad_(True)
        m(xx)
        loss = sum((o ** 2).sum() for o in outs)
        loss.backward()
        return xx.grad

    for name, fn, flop in [("forward", forward, gflop), ("forward+input gradient (19 layers)", forward_grad, 2 * gflop)]:
        for _ in range(a.warmup):
            fn()
        each = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            fn()
            each.append(time.perf_counter() - t0)
        dt, med = statistics.mean(each), statistics.median(each)
        print(f"torch {torch.__version__} vgg19 224x224 batch {a.batch} {name}: {dt * 1e3:8.1f} ms (median {med * 1e3:.1f} ms)  "
              f"{flop:6.2f} GFLOP  {flop / dt:6.2f} GFLOP/s  ({a.threads} threads)", flush=True)


if __name__ == "__main__":
    main()
