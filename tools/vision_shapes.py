#!/usr/bin/env python3
"""Tensor names and shapes of the full-size torchvision networks, for `brain2img bench nets`' random weights.

    /usr/bin/python3 tools/vision_shapes.py java/src/main/resources/brain2img/vision/shapes

Writes <arch>.json: {"name": [shape...], ...} (BatchNorm counters left out); vgg19-caffe is vgg19 under
Kamitani's names.
"""
import json
import sys
from pathlib import Path

import torchvision

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
models = {
    "alexnet": torchvision.models.alexnet(),
    "vgg19": torchvision.models.vgg19(),
    "resnet50": torchvision.models.resnet50(),
    "inception_v3": torchvision.models.inception_v3(init_weights=False, aux_logits=False),
    "efficientnet_b1": torchvision.models.efficientnet_b1(),
}
for arch, m in models.items():
    shapes = {k: list(v.shape) for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}
    (out / f"{arch}.json").write_text(json.dumps(shapes, indent=0))
vgg = {k: list(v.shape) for k, v in models["vgg19"].state_dict().items()}
caffe, convs = {}, [i for i in range(37) if f"features.{i}.weight" in vgg]
names = [f"conv{b}_{k}" for b, n in zip(range(1, 6), [2, 2, 4, 4, 4]) for k in range(1, n + 1)]
for i, n in zip(convs, names):
    caffe[n + ".weight"], caffe[n + ".bias"] = vgg[f"features.{i}.weight"], vgg[f"features.{i}.bias"]
for src, dst in [("classifier.0", "fc6"), ("classifier.3", "fc7"), ("classifier.6", "fc8")]:
    caffe[dst + ".weight"], caffe[dst + ".bias"] = vgg[src + ".weight"], vgg[src + ".bias"]
(out / "vgg19-caffe.json").write_text(json.dumps(caffe, indent=0))
