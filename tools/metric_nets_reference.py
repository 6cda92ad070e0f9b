#!/usr/bin/env python3
"""Reference for brain2img's published network metrics (eval.NetMetric, NetSuite, FeatureScores).

Builds REDUCED-width networks from torchvision's own classes (key names stay torchvision's; every conv,
batch-norm and linear width divided by a factor, depth unchanged), a tiny CLIP vision tower in plain torch
with Hugging Face's key names, random weights and non-trivial batch-norm statistics; writes them as
safetensors (by hand: 8-byte header length, JSON header, raw little-endian data) into a --nets folder, with
small test pictures, and computes MindEye2's metric table with MindEye2's own code path (torchvision
transforms, create_feature_extractor, np.corrcoef, scipy's correlation distance) and Takagi's variant
(Resize(299) + CenterCrop(299), AlexNet features.5/12, Inception flatten, ground-truth anchored with r
averaged over samples). Also a feature-level golden from random vectors, independent of any network.

Run with Debian's python3-torch 1.13 / torchvision 0.14:
    /usr/bin/python3 tools/metric_nets_reference.py java/src/test/resources/brain2img/eval
"""
import json
import os
import struct
import sys

import numpy as np
import scipy.spatial.distance
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import transforms
from torchvision.models.feature_extraction import create_feature_extractor

IMAGENET = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
CLIP_NORM = dict(mean=[0.48145466, 0.4578275, 0.40821073], std=[0.26862954, 0.26130258, 0.27577711])
BILINEAR = transforms.InterpolationMode.BILINEAR


# ------------------------------------------------------------------ reduced torchvision networks

def shrink(model, factor, keep_out):
    """Every Conv2d/BatchNorm2d/Linear with widths c -> c // factor (3 input channels kept; at least 1);
    the Linear layers named in keep_out keep their output width (the classifier's classes)."""
    def g(c):
        return 3 if c == 3 else max(1, c // factor)

    for name, mod in list(model.named_modules()):
        for child_name, child in list(mod.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, nn.Conv2d):
                groups = g(child.in_channels) if child.groups == child.in_channels and child.groups > 1 else child.groups
                new = nn.Conv2d(g(child.in_channels), g(child.out_channels), child.kernel_size, child.stride,
                                child.padding, child.dilation, groups, child.bias is not None)
            elif isinstance(child, nn.BatchNorm2d):
                new = nn.BatchNorm2d(g(child.num_features), eps=child.eps, momentum=child.momentum)
            elif isinstance(child, nn.BatchNorm1d):
                new = nn.BatchNorm1d(g(child.num_features), eps=child.eps)
            elif isinstance(child, nn.Linear):
                out = child.out_features if full in keep_out else g(child.out_features)
                new = nn.Linear(g(child.in_features), out, child.bias is not None)
            else:
                continue
            setattr(mod, child_name, new)
    return model


def calibrate(model, x, gen):
    """Batch-norm running statistics from the test pictures themselves (so activations keep a sane scale
    through the depth and pooled features vary between pictures), then randomised affine parameters and a
    perturbed mean/var: non-trivial statistics."""
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d))]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        model(x)
    model.eval()
    with torch.no_grad():
        for m in bns:
            m.weight.uniform_(0.5, 1.5, generator=gen)
            m.bias.normal_(0, 0.05, generator=gen)
            m.running_mean.add_(torch.randn(m.running_mean.shape, generator=gen) * 0.05)
            # a floor on the variance: a near-constant channel would otherwise amplify float32 rounding by 1/sqrt(eps)
            m.running_var.mul_(torch.rand(m.running_var.shape, generator=gen) * 0.5 + 0.75).add_(0.2 * m.running_var.mean())
    return model


def alexnet(gen, pics):
    return calibrate(shrink(torchvision.models.AlexNet(num_classes=10), 16, {"classifier.6"}), preprocess(pics, ("me", 256, IMAGENET)), gen)


def inception(gen, pics):
    m = torchvision.models.Inception3(num_classes=10, aux_logits=False, transform_input=True, init_weights=True)
    return calibrate(shrink(m, 16, {"fc"}), preprocess(pics, ("me", 342, IMAGENET)), gen)


def efficientnet(gen, pics):
    return calibrate(shrink(torchvision.models.efficientnet_b1(num_classes=10), 8, {"classifier.1"}), preprocess(pics, ("me", 255, IMAGENET)), gen)


def resnet50(gen, pics):
    m = shrink(torchvision.models.resnet50(num_classes=10), 16, {"fc"})
    m = calibrate(m, preprocess(pics, ("me", 224, IMAGENET)), gen)
    m.fc = nn.Identity()  # torch.hub's SwAV resnet50: no classifier
    return m


# ------------------------------------------------------------------ tiny CLIP vision tower (HF layout)

class ClipVision(nn.Module):
    """HF CLIPVisionModelWithProjection's forward: patch conv (no bias) + class token + positions, pre-LN,
    pre-norm encoder layers (quick_gelu MLP), post-LN of the class token, projection (no bias)."""

    def __init__(self, hidden=32, heads=2, layers=2, inter=64, patch=32, image=224, proj=16):
        super().__init__()
        self.cfg = dict(hidden_size=hidden, num_attention_heads=heads, num_hidden_layers=layers, intermediate_size=inter,
                        patch_size=patch, image_size=image, hidden_act="quick_gelu", layer_norm_eps=1e-5, num_channels=3)
        self.proj_dim = proj
        self.heads = heads
        self.patch = nn.Conv2d(3, hidden, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(hidden) * 0.5)
        self.position = nn.Parameter(torch.randn((image // patch) ** 2 + 1, hidden) * 0.5)
        self.pre = nn.LayerNorm(hidden)
        self.layers = nn.ModuleList()
        for _ in range(layers):
            self.layers.append(nn.ModuleDict(dict(
                q=nn.Linear(hidden, hidden), k=nn.Linear(hidden, hidden), v=nn.Linear(hidden, hidden), o=nn.Linear(hidden, hidden),
                ln1=nn.LayerNorm(hidden), ln2=nn.LayerNorm(hidden), fc1=nn.Linear(hidden, inter), fc2=nn.Linear(inter, hidden))))
        self.post = nn.LayerNorm(hidden)
        self.projection = nn.Linear(hidden, proj, bias=False)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.LayerNorm):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.2)

    def forward(self, x):
        b = x.shape[0]
        p = self.patch(x).flatten(2).transpose(1, 2)
        h = torch.cat([self.class_embedding.expand(b, 1, -1), p], 1) + self.position
        h = self.pre(h)
        d = h.shape[-1] // self.heads
        for L in self.layers:
            r = h
            y = L["ln1"](h)
            q = (L["q"](y) * d ** -0.5).view(b, -1, self.heads, d).transpose(1, 2)
            k = L["k"](y).view(b, -1, self.heads, d).transpose(1, 2)
            v = L["v"](y).view(b, -1, self.heads, d).transpose(1, 2)
            a = torch.softmax(q @ k.transpose(-1, -2), -1) @ v
            h = r + L["o"](a.transpose(1, 2).reshape(b, -1, h.shape[-1]))
            r = h
            y = L["fc1"](L["ln2"](h))
            y = y * torch.sigmoid(1.702 * y)
            h = r + L["fc2"](y)
        return self.projection(self.post(h[:, 0]))

    def hf_state_dict(self):
        sd = {"vision_model.embeddings.patch_embedding.weight": self.patch.weight,
              "vision_model.embeddings.class_embedding": self.class_embedding,
              "vision_model.embeddings.position_embedding.weight": self.position,
              "vision_model.pre_layrnorm.weight": self.pre.weight, "vision_model.pre_layrnorm.bias": self.pre.bias,
              "vision_model.post_layernorm.weight": self.post.weight, "vision_model.post_layernorm.bias": self.post.bias,
              "visual_projection.weight": self.projection.weight}
        names = dict(q="self_attn.q_proj", k="self_attn.k_proj", v="self_attn.v_proj", o="self_attn.out_proj",
                     ln1="layer_norm1", ln2="layer_norm2", fc1="mlp.fc1", fc2="mlp.fc2")
        for i, L in enumerate(self.layers):
            for short, hf in names.items():
                sd[f"vision_model.encoder.layers.{i}.{hf}.weight"] = L[short].weight
                sd[f"vision_model.encoder.layers.{i}.{hf}.bias"] = L[short].bias
        return sd

    def hf_config(self):
        return {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": self.proj_dim,
                "vision_config": dict(self.cfg, projection_dim=self.proj_dim)}


# ------------------------------------------------------------------ files

def write_safetensors(path, tensors):
    """The safetensors format by hand: u64 LE header length, JSON header (offsets into the data), data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().contiguous().cpu().numpy().astype("<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def torchvision_state(model):
    """state_dict without num_batches_tracked (not a weight; safetensors users drop it too)."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def swav_state(model, gen):
    """The SwAV checkpoint's layout: every key under module., plus the projection head and prototypes
    that evaluation ignores (MindEye2 loads it non-strict)."""
    sd = {"module." + k: v for k, v in torchvision_state(model).items()}
    width = model.layer4[-1].conv3.out_channels
    sd["module.projection_head.0.weight"] = torch.randn(32, width, generator=gen) * 0.1
    sd["module.projection_head.0.bias"] = torch.zeros(32)
    sd["module.projection_head.1.weight"] = torch.ones(32)
    sd["module.projection_head.1.bias"] = torch.zeros(32)
    sd["module.projection_head.1.running_mean"] = torch.zeros(32)
    sd["module.projection_head.1.running_var"] = torch.ones(32)
    sd["module.projection_head.3.weight"] = torch.randn(8, 32, generator=gen) * 0.1
    sd["module.projection_head.3.bias"] = torch.zeros(8)
    sd["module.prototypes.weight"] = torch.randn(12, 8, generator=gen)
    return sd


# ------------------------------------------------------------------ pictures

def pictures(gen, n_truth=6, samples=2, n_train=4, h=40, w=48):
    """Smooth random RGB pictures in [0,1]; reconstructions = own ground truth blended with another image and
    noise (identification neither trivial nor hopeless); one training picture is a near-copy of a sample."""
    def smooth(n):
        low = torch.rand(n, 3, 5, 6, generator=gen)
        return F.interpolate(low, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)

    truth = smooth(n_truth)
    train = smooth(n_train)
    recon = torch.empty(n_truth, samples, 3, h, w)
    for i in range(n_truth):
        for s in range(samples):
            other = truth[(i + 1 + s) % n_truth]
            a = 0.35 + 0.25 * torch.rand(1, generator=gen).item()
            recon[i, s] = (a * truth[i] + (1 - a) * other + 0.15 * torch.randn(3, h, w, generator=gen)).clamp(0, 1)
    train[0] = (recon[2, 1] + 0.01 * torch.randn(3, h, w, generator=gen)).clamp(0, 1)
    return truth.float(), recon.float(), train.float()


# ------------------------------------------------------------------ MindEye2's and Takagi's code paths

def mindeye_resize(x):
    """MindEye2: every picture to 256x256 with the tensor Resize (bilinear, no antialias)."""
    return transforms.Resize((256, 256), interpolation=BILINEAR, antialias=False)(x)


def mindeye_pre(side, norm):
    return transforms.Compose([transforms.Resize(side, interpolation=BILINEAR, antialias=False), transforms.Normalize(**norm)])


def takagi_pre():
    """Takagi: Resize(299) + CenterCrop(299) on the picture (PIL bilinear = antialiased), ImageNet norm."""
    return transforms.Compose([transforms.Resize(299, interpolation=BILINEAR, antialias=True), transforms.CenterCrop(299),
                               transforms.Normalize(**IMAGENET)])


def two_way_identification(preds, reals):
    """MindEye2's utils.two_way_identification (return_avg=False) on flattened features."""
    n = len(reals)
    r = np.corrcoef(reals, preds)
    r = r[:n, n:]
    congruents = np.diag(r)
    success = r < congruents
    success_cnt = np.sum(success, 0)
    return success_cnt / (n - 1)  # per reconstruction; MindEye2's number is the mean


def correlation_distance(gt, fake):
    return np.array([scipy.spatial.distance.correlation(gt[i], fake[i]) for i in range(len(gt))])


def takagi_identification(feat_orgs, feat_gens):
    """Takagi's identification.py: r of each ground truth with every sample of every reconstruction, a
    reconstruction wins when its mean r is below the true one's mean r."""
    n = len(feat_orgs)
    rs = [[np.corrcoef(feat_orgs[row], feat_gens[col])[0, 1:] for col in range(n)] for row in range(n)]
    acc = []
    for i in range(n):
        r_true = rs[i][i]
        acc.append(sum(r_true.mean() > rs[i][j].mean() for j in range(n) if j != i) / (n - 1))
    return np.array(acc)


def memorised(truth, train, rec):
    """[i][s] = 1 when sample s of image i correlates more with some training vector than with its own truth."""
    n, k = rec.shape[0], rec.shape[1]
    out = np.zeros((n, k))
    for i in range(n):
        for s in range(k):
            own = np.corrcoef(truth[i], rec[i, s])[0, 1]
            near = max(np.corrcoef(t, rec[i, s])[0, 1] for t in train)
            out[i, s] = 1.0 if near > own else 0.0
    return out


def scores(kind, truth, rec, train):
    """Per-image headline (mean over samples), best-of-K and memorised fractions, as brain2img reports them."""
    n, k = rec.shape[0], rec.shape[1]
    out = {}
    if kind == "two_way":
        per = np.stack([two_way_identification(rec[:, s], truth) for s in range(k)], 1)
        out["mean"], out["best"] = per.mean(1), per.max(1)
    elif kind == "distance":
        per = np.stack([correlation_distance(truth, rec[:, s]) for s in range(k)], 1)
        out["mean"], out["best"] = per.mean(1), per.min(1)
    else:
        out["mean"] = takagi_identification(list(truth), [list(rec[j]) for j in range(n)])
    out["memorised"] = memorised(truth, train, rec).mean(1)
    return {key: [float(v) for v in val] for key, val in out.items()}


METRICS = [  # key, net, node, preprocessing, scoring
    ("alexnet2", "alexnet", "features.4", ("me", 256, IMAGENET), "two_way"),
    ("alexnet5", "alexnet", "features.11", ("me", 256, IMAGENET), "two_way"),
    ("inception", "inception", "avgpool", ("me", 342, IMAGENET), "two_way"),
    ("clip", "clip", None, ("me", 224, CLIP_NORM), "two_way"),
    ("effnet", "effnet", "avgpool", ("me", 255, IMAGENET), "distance"),
    ("swav", "swav", "avgpool", ("me", 224, IMAGENET), "distance"),
    ("takagi_alexnet2", "alexnet", "features.5", ("takagi",), "takagi"),
    ("takagi_alexnet5", "alexnet", "features.12", ("takagi",), "takagi"),
    ("takagi_inception", "inception", "flatten", ("takagi",), "takagi"),
]


def preprocess(pics, prep):
    if prep[0] == "me":
        return mindeye_pre(prep[1], prep[2])(mindeye_resize(pics))
    return takagi_pre()(pics)


def features(nets, net, node, x):
    with torch.no_grad():
        if net == "clip":
            return nets[net](x).float().flatten(1).numpy()
        fx = create_feature_extractor(nets[net], return_nodes=[node])
        return fx(x)[node].float().flatten(1).numpy()


def margin(truth, rec, train):
    """Smallest gap in r behind any decision (two-way: r[i][j] vs r[j][j]; memorised: nearest training r vs
    own r): the Java side, in another float32 implementation, must make the same decisions."""
    n, k = rec.shape[0], rec.shape[1]
    m = np.inf
    for s in range(k):
        r = np.corrcoef(truth, rec[:, s])[:n, n:]
        d = np.abs(r - np.diag(r)[None, :])
        m = min(m, d[~np.eye(n, dtype=bool)].min())
        for j in range(n):
            near = max(np.corrcoef(t, rec[j, s])[0, 1] for t in train)
            m = min(m, abs(near - r[j, j]))
    return float(m)


def main(out):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    truth, recon, train = pictures(gen)
    n, k = recon.shape[0], recon.shape[1]
    calib = pictures(gen)[0]  # other pictures: batch norm must not cancel the test pictures' own means exactly
    nets = {"alexnet": alexnet(gen, calib), "inception": inception(gen, calib), "effnet": efficientnet(gen, calib), "swav": resnet50(gen, calib)}
    torch.manual_seed(7)
    clip = ClipVision().eval()
    nets["clip"] = clip

    netdir = os.path.join(out, "nets")
    os.makedirs(os.path.join(netdir, "clip-vit-large-patch14"), exist_ok=True)
    write_safetensors(os.path.join(netdir, "alexnet.safetensors"), torchvision_state(nets["alexnet"]))
    write_safetensors(os.path.join(netdir, "inception_v3.safetensors"), torchvision_state(nets["inception"]))
    write_safetensors(os.path.join(netdir, "efficientnet_b1.safetensors"), torchvision_state(nets["effnet"]))
    write_safetensors(os.path.join(netdir, "swav_resnet50.safetensors"), swav_state(nets["swav"], gen))
    write_safetensors(os.path.join(netdir, "clip-vit-large-patch14", "model.safetensors"), clip.hf_state_dict())
    with open(os.path.join(netdir, "clip-vit-large-patch14", "config.json"), "w") as f:
        json.dump(clip.hf_config(), f, indent=1)

    np.save(os.path.join(out, "metric-truth.npy"), truth.numpy())
    np.save(os.path.join(out, "metric-recon.npy"), recon.numpy())
    np.save(os.path.join(out, "metric-train.npy"), train.numpy())

    golden = {"images": n, "samples": k, "training": len(train), "metrics": {}, "preprocess": {}, "features": {}}
    for key, net, node, prep, kind in METRICS:
        xt, xtr = preprocess(truth, prep), preprocess(train, prep)
        xr = preprocess(recon.reshape(n * k, *recon.shape[2:]), prep)
        ft, ftr = features(nets, net, node, xt), features(nets, net, node, xtr)
        fr = features(nets, net, node, xr).reshape(n, k, -1)
        entry = scores(kind, ft, fr, ftr)
        entry["margin"] = margin(ft, fr, ftr)
        golden["metrics"][key] = entry
        golden["features"][key] = {"dim": int(ft.shape[1]), "truth0_head": [float(v) for v in ft[0, :8]],
                                   "truth0_sum": float(ft[0].astype(np.float64).sum()),
                                   "truth0_sumsq": float((ft[0].astype(np.float64) ** 2).sum())}
        pname = "takagi" if prep[0] == "takagi" else f"mindeye_{prep[1]}_{'clip' if prep[2] is CLIP_NORM else 'imagenet'}"
        if pname not in golden["preprocess"]:
            x0 = xt[0].double()
            golden["preprocess"][pname] = {"shape": list(x0.shape), "channel_sums": x0.sum((1, 2)).tolist(),
                                           "stride": 23, "strided": x0[:, ::23, ::23].flatten().tolist()}
        print(f"{key:18s} d={ft.shape[1]:6d} mean={np.mean(entry['mean']):.4f} memorised={np.mean(entry['memorised']):.3f} "
              f"margin={entry['margin']:.2e}")

    golden["feature_level"] = feature_level(np.random.default_rng(5))
    with open(os.path.join(out, "metric-goldens.json"), "w") as f:
        json.dump(golden, f, indent=1)


def feature_level(rng, n=7, k=3, t=5, d=50):
    """Random feature vectors (no network): the scores of each scoring rule, for the Java feature-level test."""
    truth = rng.standard_normal((n, d)).astype(np.float32)
    rec = (0.6 * truth[:, None, :] + rng.standard_normal((n, k, d))).astype(np.float32)
    train = rng.standard_normal((t, d)).astype(np.float32)
    train[1] = rec[3, 0] + 0.01 * rng.standard_normal(d).astype(np.float32)
    return {"truth": truth.tolist(), "recon": rec.tolist(), "train": train.tolist(),
            "two_way": scores("two_way", truth, rec, train), "distance": scores("distance", truth, rec, train),
            "takagi": scores("takagi", truth, rec, train), "margin": margin(truth, rec, train)}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "java/src/test/resources/brain2img/eval")
