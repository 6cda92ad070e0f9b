#!/usr/bin/env python3
"""Full-size torchvision networks with random weights and random BatchNorm statistics against `brain2img nets
features` (nothing committed: weights are hundreds of MB). Usage:

    /usr/bin/python3 tools/vision_fullsize_check.py WORKDIR [arch ...]

writes WORKDIR/<arch>/{weights.safetensors, x.npy, ref/<node>.npy}, runs ./brain2img nets features and prints
the relative error per node.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torchvision

sys.path.insert(0, str(Path(__file__).parent))
import vision_goldens as vg  # noqa: E402

CASES = {
    # arch: (constructor, input size, nodes, runner)
    "alexnet": (lambda: torchvision.models.alexnet(), (1, 3, 256, 256), ["features.4", "features.11", "classifier.5"],
                vg.sequential_outputs),
    "vgg19": (lambda: torchvision.models.vgg19(), (1, 3, 224, 224), ["features.34", "classifier.0", "classifier.6"],
              vg.sequential_outputs),
    "resnet50": (lambda: torchvision.models.resnet50(), (2, 3, 224, 200), ["layer2", "avgpool", "fc"], vg.resnet_outputs),
    "inception_v3": (lambda: torchvision.models.inception_v3(init_weights=False, aux_logits=True, transform_input=True),
                     (1, 3, 342, 300), ["Mixed_6e", "avgpool", "fc"], vg.inception_outputs),
    "efficientnet_b1": (lambda: torchvision.models.efficientnet_b1(), (2, 3, 255, 255), ["features.5", "avgpool", "classifier.1"],
                        vg.effnet_outputs),
}

if __name__ == "__main__":
    work = Path(sys.argv[1])
    repo = Path(__file__).resolve().parent.parent
    for arch in sys.argv[2:] or CASES:
        make, shape, nodes, runner = CASES[arch]
        torch.manual_seed(0)
        m = vg.randomize(make())
        d = work / arch
        (d / "ref").mkdir(parents=True, exist_ok=True)
        vg.save_safetensors(d / "weights.safetensors", m.state_dict())
        x = torch.randn(*shape)
        np.save(d / "x.npy", x.numpy())
        with torch.no_grad():
            outs = runner(m, x, nodes)
        for n in nodes:
            np.save(d / "ref" / f"{n}.npy", outs[n].numpy())
        subprocess.run([str(repo / "brain2img"), "nets", "features", "--arch", arch, "--weights", str(d / "weights.safetensors"),
                        "--images", str(d / "x.npy"), "--layers", ",".join(nodes), "--out", str(d / "got"), "--device", "cpu"],
                       check=True)
        for n in nodes:
            ref, got = np.load(d / "ref" / f"{n}.npy"), np.load(d / "got" / f"{n}.npy")
            assert ref.shape == got.shape, (n, ref.shape, got.shape)
            err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
            print(f"{arch} {n} {ref.shape} relative error {err:.2e}", flush=True)
