#!/usr/bin/env python3
"""Reference outputs of the vision networks and primitives for brain2img's tests, from torch/torchvision.

Run with Debian's python3-torch 1.13 / python3-torchvision 0.14:

    /usr/bin/python3 tools/vision_goldens.py java/src/test/resources/brain2img/vision

For every architecture it builds the real torchvision class at reduced width or depth (module names, and so
checkpoint keys and node names, unchanged), with random weights and random BatchNorm running statistics, and
writes into OUT/<arch>/:
  weights.safetensors   the state dict (f32)
  x.npy                 the input (N,3,H,W)
  features.npz          every tested node's output, ReLUs not in place (a conv node is before its ReLU)
  grad.npz              targets t_<node>, layer weights w_<node>, loss L and dL/dx for L = sum w ||phi - t||^2
and OUT/resize.npz with torch.nn.functional.interpolate outputs. Everything is seeded; the node names are
checked against torchvision's get_graph_node_names.
"""
import functools
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.feature_extraction import get_graph_node_names

torch.manual_seed(0)
np.random.seed(0)


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k, v in tensors.items():
        a = np.ascontiguousarray(v.detach().cpu().numpy().astype(np.float32))
        b = a.tobytes()
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def randomize(model):
    """Non-trivial BatchNorm statistics and affine parameters, so that folding is tested."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.25)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.2)
        if isinstance(m, nn.ReLU):
            m.inplace = False
        if isinstance(m, nn.SiLU):
            m.inplace = False
    model.eval()
    return model


def module_outputs(model, x, names):
    """Outputs of the named submodules (forward hooks; nothing in place, so a conv's output is pre-ReLU)."""
    outs, hooks = {}, []
    mods = dict(model.named_modules())
    for n in names:
        hooks.append(mods[n].register_forward_hook(lambda m, i, o, n=n: outs.__setitem__(n, o)))
    model(x)
    for h in hooks:
        h.remove()
    return outs


def check_names(model, names, extra=()):
    _, eval_nodes = get_graph_node_names(model)
    # a module name stands for the last node inside it, as create_feature_extractor accepts it
    missing = [n for n in names if n not in eval_nodes and n not in extra
               and not any(e.startswith(n + ".") for e in eval_nodes)]
    assert not missing, f"not torchvision node names: {missing}"


def write_case(out, arch, model, x, feature_nodes, grad_nodes, state=None, check=True, runner=None):
    d = out / arch
    d.mkdir(parents=True, exist_ok=True)
    if check:
        check_names(model, feature_nodes)
    save_safetensors(d / "weights.safetensors", state if state is not None else model.state_dict())
    np.save(d / "x.npy", x.numpy().astype(np.float32))
    run = runner or (lambda xx, names: module_outputs(model, xx, names))
    with torch.no_grad():
        feats = run(x, feature_nodes)
    np.savez(d / "features.npz", **{n: feats[n].numpy().astype(np.float32) for n in feature_nodes})
    # gradient of L = sum_l w_l ||phi_l(x) - t_l||^2
    g = torch.Generator().manual_seed(2)
    xg = x.clone().requires_grad_(True)
    phis = run(xg, grad_nodes)
    loss, arrays = 0.0, {}
    for i, n in enumerate(grad_nodes):
        t = feats_like = torch.randn(phis[n].shape, generator=g) * phis[n].detach().std() + phis[n].detach() * 0.5
        w = 1.0 / (i + 1)
        loss = loss + w * ((phis[n] - t) ** 2).sum()
        arrays["t_" + n] = t.numpy().astype(np.float32)
        arrays["w_" + n] = np.array(w, dtype=np.float64)
    loss.backward()
    arrays["L"] = np.array(loss.item(), dtype=np.float64)
    arrays["dx"] = xg.grad.numpy().astype(np.float32)
    np.savez(d / "grad.npz", **arrays)
    print(arch, "weights", sum(v.numel() for v in (state or model.state_dict()).values()), "x", tuple(x.shape),
          "L", loss.item())


def alexnet(out):
    m = torchvision.models.alexnet(num_classes=10)
    widths = [3, 16, 24, 32, 24, 16]
    for i, idx in enumerate([0, 3, 6, 8, 10]):
        old = m.features[idx]
        m.features[idx] = nn.Conv2d(widths[i], widths[i + 1], old.kernel_size, old.stride, old.padding)
    m.classifier[1] = nn.Linear(16 * 36, 64)
    m.classifier[4] = nn.Linear(64, 48)
    m.classifier[6] = nn.Linear(48, 10)
    randomize(m)
    x = torch.randn(2, 3, 83, 71)
    nodes = [f"features.{i}" for i in range(13)] + ["avgpool", "flatten"] + [f"classifier.{i}" for i in range(7)]
    feats = {n: n for n in nodes}
    write_case(out, "alexnet", m, x, nodes, ["features.3", "features.11", "classifier.4"],
               runner=lambda xx, names: sequential_outputs(m, xx, names))


def sequential_outputs(m, x, names):
    """torchvision's Sequential-style nets run module by module, each output kept (AlexNet, VGG)."""
    outs = {}
    for i, layer in enumerate(m.features):
        x = layer(x)
        outs[f"features.{i}"] = x
    x = m.avgpool(x)
    outs["avgpool"] = x
    x = torch.flatten(x, 1)
    outs["flatten"] = x
    for i, layer in enumerate(m.classifier):
        x = layer(x)
        outs[f"classifier.{i}"] = x
    return {n: outs[n] for n in names}


VGG_SMALL = [4, 4, "M", 8, 8, "M", 16, 16, 16, 16, "M", 32, 32, 32, 32, "M", 32, 32, 32, 32, "M"]


def vgg19(out):
    from torchvision.models.vgg import VGG, make_layers
    m = VGG(make_layers(VGG_SMALL), num_classes=10, init_weights=False)
    m.classifier[0] = nn.Linear(32 * 49, 32)
    m.classifier[3] = nn.Linear(32, 32)
    m.classifier[6] = nn.Linear(32, 10)
    randomize(m)
    x = torch.randn(2, 3, 48, 37)
    nodes = [f"features.{i}" for i in (0, 1, 2, 4, 5, 16, 18, 25, 34, 35, 36)] + ["avgpool", "flatten"] \
        + [f"classifier.{i}" for i in range(7)]
    runner = lambda xx, names: sequential_outputs(m, xx, names)
    write_case(out, "vgg19", m, x, nodes, ["features.2", "features.16", "features.34", "classifier.0", "classifier.6"],
               runner=runner)
    # timm's vgg19.tv_in1k layout of the same weights: fc6/fc7 conv-shaped, fc8 as head.fc
    sd = {k: v for k, v in m.state_dict().items() if not k.startswith("classifier")}
    c = m.state_dict()
    sd["pre_logits.fc1.weight"] = c["classifier.0.weight"].reshape(32, 32, 7, 7)
    sd["pre_logits.fc1.bias"] = c["classifier.0.bias"]
    sd["pre_logits.fc2.weight"] = c["classifier.3.weight"].reshape(32, 32, 1, 1)
    sd["pre_logits.fc2.bias"] = c["classifier.3.bias"]
    sd["head.fc.weight"] = c["classifier.6.weight"]
    sd["head.fc.bias"] = c["classifier.6.bias"]
    save_safetensors(out / "vgg19" / "weights-timm.safetensors", sd)


class CaffeVgg19(nn.Module):
    """Kamitani's VGG_ILSVRC_19_layers port layout: conv1_1 ... conv5_4, fc6, fc7, fc8 (widths reduced)."""

    def __init__(self, widths, fc):
        super().__init__()
        self.names = []
        c = 3
        for b, (n, w) in enumerate(zip([2, 2, 4, 4, 4], widths)):
            for k in range(n):
                name = f"conv{b + 1}_{k + 1}"
                setattr(self, name, nn.Conv2d(c, w, 3, 1, 1))
                self.names.append(name)
                c = w
            self.names.append(f"pool{b + 1}")
        self.fc6 = nn.Linear(fc[0], fc[1])
        self.fc7 = nn.Linear(fc[1], fc[2])
        self.fc8 = nn.Linear(fc[2], fc[3])

    def outputs(self, x):
        outs = {}
        for n in self.names:
            if n.startswith("conv"):
                x = getattr(self, n)(x)
                outs[n] = x
                x = F.relu(x)
            else:
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
                outs[n] = x
        x = self.fc6(torch.flatten(x, 1))
        outs["fc6"] = x
        x = self.fc7(F.relu(x))
        outs["fc7"] = x
        outs["fc8"] = self.fc8(F.relu(x))
        return outs


def vgg19_caffe(out):
    m = CaffeVgg19([4, 8, 16, 32, 32], [32 * 4, 32, 32, 10]).eval()
    x = torch.randn(2, 3, 64, 64) * 50
    nodes = ["conv1_1", "conv1_2", "pool1", "conv2_2", "conv3_4", "pool3", "conv4_1", "conv5_4", "pool5", "fc6",
             "fc7", "fc8"]
    write_case(out, "vgg19-caffe", m, x, nodes, ["conv1_2", "conv3_4", "conv5_4", "fc6", "fc8"], check=False,
               runner=lambda xx, names: {n: m.outputs(xx)[n] for n in names})


def resnet50(out):
    from torchvision.models.resnet import ResNet, Bottleneck

    class SmallResNet(ResNet):
        """resnet50's classes and names with 1/8 of the bottleneck widths and [1,2,1,1] blocks."""

        def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
            return super()._make_layer(block, planes // 8, blocks, stride, dilate)

    m = SmallResNet(Bottleneck, [1, 2, 1, 1], num_classes=10)
    m.fc = nn.Linear(256, 10)
    randomize(m)
    x = torch.randn(2, 3, 45, 38)
    nodes = ["bn1", "maxpool", "layer1.0", "layer2.0", "layer2.1", "layer2", "layer3", "layer4.0",
             "layer4", "avgpool", "flatten", "fc"]
    runner = lambda xx, names: resnet_outputs(m, xx, names)
    write_case(out, "resnet50", m, x, nodes, ["layer1", "layer3", "avgpool"], runner=runner)
    # SwAV's checkpoint layout: "module." prefix, extra heads, no fc
    sd = {"module." + k: v for k, v in m.state_dict().items() if not k.startswith("fc.")}
    sd["module.projection_head.0.weight"] = torch.randn(16, 256)
    sd["module.prototypes.weight"] = torch.randn(8, 16)
    save_safetensors(out / "resnet50" / "weights-swav.safetensors", sd)


def resnet_outputs(m, x, names):
    outs = {}
    x = m.bn1(m.conv1(x))
    outs["bn1"] = x
    x = m.relu(x)
    outs["relu"] = x
    x = m.maxpool(x)
    outs["maxpool"] = x
    for li in range(1, 5):
        layer = getattr(m, f"layer{li}")
        for bi, block in enumerate(layer):
            x = block(x)
            outs[f"layer{li}.{bi}"] = x
        outs[f"layer{li}"] = x
    x = m.avgpool(x)
    outs["avgpool"] = x
    x = torch.flatten(x, 1)
    outs["flatten"] = x
    outs["fc"] = m.fc(x)
    return {n: outs[n] for n in names}


def inception_v3(out):
    from torchvision.models import inception as inc
    D = 16

    class SmallConv(inc.BasicConv2d):
        def __init__(self, i, o, **kw):
            super().__init__(i if i == 3 else i // D, o // D, **kw)

    blocks = [SmallConv] + [functools.partial(b, conv_block=SmallConv)
                            for b in (inc.InceptionA, inc.InceptionB, inc.InceptionC, inc.InceptionD, inc.InceptionE,
                                      inc.InceptionAux)]
    m = inc.Inception3(num_classes=10, aux_logits=False, transform_input=True, inception_blocks=blocks,
                       init_weights=False)
    m.fc = nn.Linear(2048 // D, 10)
    randomize(m)
    x = torch.randn(2, 3, 75, 79)
    nodes = ["Conv2d_1a_3x3", "maxpool1", "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5d", "Mixed_6a", "Mixed_6e",
             "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool", "dropout", "flatten", "fc"]
    write_case(out, "inception_v3", m, x, nodes, ["Conv2d_2b_3x3", "Mixed_5d", "Mixed_6e", "avgpool"],
               runner=lambda xx, names: inception_outputs(m, xx, names))


def inception_outputs(m, x, names):
    outs = {}
    x = m._transform_input(x)
    for n in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
              "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
              "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool", "dropout"]:
        x = getattr(m, n)(x)
        outs[n] = x
    x = torch.flatten(x, 1)
    outs["flatten"] = x
    outs["fc"] = m.fc(x)
    return {n: outs[n] for n in names}


def efficientnet_b1(out):
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
    setting, last = _efficientnet_conf("efficientnet_b1", width_mult=0.25, depth_mult=0.5)
    m = EfficientNet(setting, 0.2, num_classes=10, last_channel=last)
    randomize(m)
    x = torch.randn(2, 3, 41, 37)
    nodes = ["features.0", "features.1", "features.2", "features.3", "features.4.0", "features.4.1",
             "features.4", "features.5", "features.6", "features.7", "features.8", "avgpool", "flatten",
             "classifier.0", "classifier.1"]
    write_case(out, "efficientnet_b1", m, x, nodes, ["features.2", "features.6", "avgpool"],
               runner=lambda xx, names: effnet_outputs(m, xx, names))


def effnet_outputs(m, x, names):
    outs = {}
    for i, stage in enumerate(m.features):
        if isinstance(stage, nn.Sequential) and i not in (0, len(m.features) - 1):
            for j, block in enumerate(stage):
                x = block(x)
                outs[f"features.{i}.{j}"] = x
        else:
            x = stage(x)
        outs[f"features.{i}"] = x
    x = m.avgpool(x)
    outs["avgpool"] = x
    x = torch.flatten(x, 1)
    outs["flatten"] = x
    for i, layer in enumerate(m.classifier):
        x = layer(x)
        outs[f"classifier.{i}"] = x
    return {n: outs[n] for n in names}


def resize(out):
    x = torch.randn(2, 3, 23, 17)
    arrays = {"x": x.numpy()}
    for mode in ["bilinear", "bicubic"]:
        for aa in [False, True]:
            for h, w in [(7, 5), (50, 41), (23, 9), (31, 17)]:
                y = F.interpolate(x, size=(h, w), mode=mode, align_corners=False, antialias=aa)
                arrays[f"{mode}_{int(aa)}_{h}x{w}"] = y.numpy()
    np.savez(out / "resize.npz", **arrays)


CASES = {"alexnet": alexnet, "vgg19": vgg19, "vgg19-caffe": vgg19_caffe, "resnet50": resnet50,
         "inception_v3": inception_v3, "efficientnet_b1": efficientnet_b1, "resize": resize}

if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[2:] or CASES:
        torch.manual_seed(0)
        CASES[name](out)
