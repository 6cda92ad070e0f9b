#!/usr/bin/env python3
"""PyTorch reference for brain2img's SD v1 U-Net: the same network, written with torch's own ops.

NOT RUN ON THE BUILD MACHINE: it needs torch with CUDA, which only the GPU machine has (benchmarks/gpu-check.sh
runs it there when `import torch` works). It is kept `python3 -m py_compile`-clean here. diffusers is not used:
the U-Net is written out below in plain torch (cuDNN convolutions, group_norm, scaled_dot_product_attention,
fp16, channels-last), reading the diffusers config.json and safetensors weights (own reader, numpy only).

  torch_unet.py check --weights DIR/unet --cases DIR [--ours eps.npy]
      runs the U-Net on DIR/unet_in_{latent,timesteps,context}.npy (the sd-tiny golden inputs) in fp32 and in
      fp16 channels-last and prints its relative error against unet_out_eps.npy and against --ours, the .npy
      written by `brain2img sd unet` for the same weights and inputs.
  torch_unet.py time --config unet/config.json [--batch 2] [--latent 64] [--reps 20] [--flop F]
      random weights of the config (SD v1.4's: java/src/main/resources/brain2img/sd/v1-defaults/unet/config.json),
      fp16 channels-last on the GPU: mean time of a guidance step (batch 2 = uncond + cond, then the CFG mix),
      timed with CUDA events after warm-up; --flop (from `brain2img bench sd`) adds the TFLOP/s.
"""
import argparse
import json
import math
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64}


def read_safetensors(path):
    """name -> numpy array (bf16 widened to f32 through its bits)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        raw = data[a:b]
        if meta["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[meta["dtype"]])
        out[name] = arr.reshape(meta["shape"])
    return out


def parameter_shapes(cfg):
    """The diffusers key -> shape map of a UNet2DConditionModel config (the layout SD v1 uses)."""
    ch, ctx, lpb = cfg["block_out_channels"], cfg["cross_attention_dim"], cfg["layers_per_block"]
    temb = 4 * ch[0]
    s = {}

    def conv(p, o, i, k):
        s[p + ".weight"], s[p + ".bias"] = (o, i, k, k), (o,)

    def lin(p, o, i, bias=True):
        s[p + ".weight"] = (o, i)
        if bias:
            s[p + ".bias"] = (o,)

    def norm(p, c):
        s[p + ".weight"], s[p + ".bias"] = (c,), (c,)

    def resnet(p, i, o):
        norm(p + ".norm1", i); conv(p + ".conv1", o, i, 3); lin(p + ".time_emb_proj", o, temb)
        norm(p + ".norm2", o); conv(p + ".conv2", o, o, 3)
        if i != o:
            conv(p + ".conv_shortcut", o, i, 1)

    def transformer(p, c):
        norm(p + ".norm", c); conv(p + ".proj_in", c, c, 1); conv(p + ".proj_out", c, c, 1)
        b = p + ".transformer_blocks.0"
        for a, kv in (("attn1", c), ("attn2", ctx)):
            lin(f"{b}.{a}.to_q", c, c, False); lin(f"{b}.{a}.to_k", c, kv, False); lin(f"{b}.{a}.to_v", c, kv, False)
            lin(f"{b}.{a}.to_out.0", c, c)
        for k in (1, 2, 3):
            norm(f"{b}.norm{k}", c)
        lin(b + ".ff.net.0.proj", 8 * c, c); lin(b + ".ff.net.2", c, 4 * c)

    conv("conv_in", ch[0], cfg["in_channels"], 3)
    lin("time_embedding.linear_1", temb, ch[0]); lin("time_embedding.linear_2", temb, temb)
    prev = ch[0]
    for i, t in enumerate(cfg["down_block_types"]):
        for j in range(lpb):
            resnet(f"down_blocks.{i}.resnets.{j}", prev if j == 0 else ch[i], ch[i])
            if t.startswith("CrossAttn"):
                transformer(f"down_blocks.{i}.attentions.{j}", ch[i])
            prev = ch[i]
        if i < len(ch) - 1:
            conv(f"down_blocks.{i}.downsamplers.0.conv", ch[i], ch[i], 3)
    resnet("mid_block.resnets.0", ch[-1], ch[-1]); transformer("mid_block.attentions.0", ch[-1])
    resnet("mid_block.resnets.1", ch[-1], ch[-1])
    rev = list(reversed(ch))
    prev = ch[-1]
    for i, t in enumerate(cfg["up_block_types"]):
        out = rev[i]
        for j in range(lpb + 1):
            skip = rev[min(i + 1, len(ch) - 1)] if j == lpb else out
            resnet(f"up_blocks.{i}.resnets.{j}", (prev if j == 0 else out) + skip, out)
            if t.startswith("CrossAttn"):
                transformer(f"up_blocks.{i}.attentions.{j}", out)
        if i < len(ch) - 1:
            conv(f"up_blocks.{i}.upsamplers.0.conv", out, out, 3)
        prev = out
    norm("conv_norm_out", ch[0]); conv("conv_out", cfg["out_channels"], ch[0], 3)
    return s


class UNet:
    """SD v1 UNet2DConditionModel forward over a dict of tensors (diffusers names)."""

    def __init__(self, cfg, w, torch):
        self.cfg, self.w, self.t = cfg, w, torch
        self.F = torch.nn.functional
        heads = cfg.get("num_attention_heads") or cfg["attention_head_dim"]  # diffusers: v1's "head dim" 8 is the head count
        self.heads = heads
        self.eps = cfg.get("norm_eps", 1e-5)
        self.groups = cfg.get("norm_num_groups", 32)

    def conv(self, p, x, stride=1):
        wt = self.w[p + ".weight"]
        return self.F.conv2d(x, wt, self.w[p + ".bias"], stride=stride, padding=wt.shape[-1] // 2)

    def lin(self, p, x):
        return self.F.linear(x, self.w[p + ".weight"], self.w.get(p + ".bias"))

    def gn(self, p, x, eps):
        return self.F.group_norm(x, self.groups, self.w[p + ".weight"], self.w[p + ".bias"], eps)

    def resnet(self, p, x, temb):
        F = self.F
        h = self.conv(p + ".conv1", F.silu(self.gn(p + ".norm1", x, self.eps)))
        h = h + self.lin(p + ".time_emb_proj", F.silu(temb))[:, :, None, None]
        h = self.conv(p + ".conv2", F.silu(self.gn(p + ".norm2", h, self.eps)))
        sc = p + ".conv_shortcut"
        return (self.conv(sc, x) if sc + ".weight" in self.w else x) + h

    def attn(self, p, x, ctx):
        b, n, c = x.shape
        h = self.heads
        q = self.lin(p + ".to_q", x).view(b, n, h, c // h).transpose(1, 2)
        k = self.lin(p + ".to_k", ctx).view(b, ctx.shape[1], h, c // h).transpose(1, 2)
        v = self.lin(p + ".to_v", ctx).view(b, ctx.shape[1], h, c // h).transpose(1, 2)
        o = self.F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c)
        return self.lin(p + ".to_out.0", o)

    def ln(self, p, x):
        return self.F.layer_norm(x, x.shape[-1:], self.w[p + ".weight"], self.w[p + ".bias"], 1e-5)

    def transformer(self, p, x, ctx):
        b, c, hh, ww = x.shape
        h = self.conv(p + ".proj_in", self.gn(p + ".norm", x, 1e-6))
        h = h.permute(0, 2, 3, 1).reshape(b, hh * ww, c)
        t = p + ".transformer_blocks.0"
        n1 = self.ln(t + ".norm1", h)
        h = self.attn(t + ".attn1", n1, n1) + h
        h = self.attn(t + ".attn2", self.ln(t + ".norm2", h), ctx) + h
        val, gate = self.lin(t + ".ff.net.0.proj", self.ln(t + ".norm3", h)).chunk(2, dim=-1)
        h = self.lin(t + ".ff.net.2", val * self.F.gelu(gate)) + h
        h = h.reshape(b, hh, ww, c).permute(0, 3, 1, 2)  # (B,C,H,W) view of channels-last memory
        return self.conv(p + ".proj_out", h) + x

    def timestep_features(self, ts, dim):
        torch = self.t
        half = dim // 2
        shift = self.cfg.get("freq_shift", 0)
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32, device=ts.device) / (half - shift))
        a = ts.float()[:, None] * freqs[None]
        sin, cos = torch.sin(a), torch.cos(a)
        return torch.cat([cos, sin], 1) if self.cfg.get("flip_sin_to_cos", True) else torch.cat([sin, cos], 1)

    def __call__(self, x, ts, ctx):
        cfg, F = self.cfg, self.F
        ch, lpb = cfg["block_out_channels"], cfg["layers_per_block"]
        dtype = self.w["conv_in.weight"].dtype
        temb = self.timestep_features(ts, ch[0]).to(dtype)
        temb = self.lin("time_embedding.linear_2", F.silu(self.lin("time_embedding.linear_1", temb)))
        h = self.conv("conv_in", x)
        skips = [h]
        for i, t in enumerate(cfg["down_block_types"]):
            for j in range(lpb):
                h = self.resnet(f"down_blocks.{i}.resnets.{j}", h, temb)
                if t.startswith("CrossAttn"):
                    h = self.transformer(f"down_blocks.{i}.attentions.{j}", h, ctx)
                skips.append(h)
            if i < len(ch) - 1:
                h = self.conv(f"down_blocks.{i}.downsamplers.0.conv", h, stride=2)
                skips.append(h)
        h = self.resnet("mid_block.resnets.0", h, temb)
        h = self.transformer("mid_block.attentions.0", h, ctx)
        h = self.resnet("mid_block.resnets.1", h, temb)
        for i, t in enumerate(cfg["up_block_types"]):
            for j in range(lpb + 1):
                h = self.t.cat([h, skips.pop()], 1)
                h = self.resnet(f"up_blocks.{i}.resnets.{j}", h, temb)
                if t.startswith("CrossAttn"):
                    h = self.transformer(f"up_blocks.{i}.attentions.{j}", h, ctx)
            if i < len(ch) - 1:
                h = self.conv(f"up_blocks.{i}.upsamplers.0.conv", F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv("conv_out", F.silu(self.gn("conv_norm_out", h, self.eps)))


def to_device(torch, arrays, dtype, channels_last):
    """numpy weights -> device tensors; 4-D convolution kernels in channels-last when asked."""
    out = {}
    for k, a in arrays.items():
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to("cuda", dtype)
        out[k] = t.contiguous(memory_format=torch.channels_last) if channels_last and t.dim() == 4 else t
    return out


def rel_err(got, ref):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(got - ref) / np.linalg.norm(ref))


def check(args, torch):
    with open(f"{args.weights}/config.json") as f:
        cfg = json.load(f)
    arrays = read_safetensors(f"{args.weights}/diffusion_pytorch_model.safetensors")
    x = np.load(f"{args.cases}/unet_in_latent.npy")
    ts = np.load(f"{args.cases}/unet_in_timesteps.npy")
    ctx = np.load(f"{args.cases}/unet_in_context.npy")
    refs = {}
    try:
        refs["diffusers golden"] = np.load(f"{args.cases}/unet_out_eps.npy")
    except FileNotFoundError:
        pass
    if args.ours:
        refs["brain2img"] = np.load(args.ours)
    for name, dtype, cl in (("fp32", torch.float32, False), ("fp16 channels-last", torch.float16, True)):
        unet = UNet(cfg, to_device(torch, arrays, dtype, cl), torch)
        xt = torch.from_numpy(x).to("cuda", dtype)
        if cl:
            xt = xt.contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            eps = unet(xt, torch.from_numpy(ts.astype(np.float32)).cuda(), torch.from_numpy(ctx).to("cuda", dtype))
        eps = eps.float().cpu().numpy()
        for r, ref in refs.items():
            print(f"torch {name} vs {r}: relative error {rel_err(eps, ref):.2e}")


def time_step(args, torch):
    with open(args.config) as f:
        cfg = json.load(f)
    torch.backends.cudnn.benchmark = True
    gen = torch.Generator(device="cuda").manual_seed(0)
    w = {}
    for k, shape in parameter_shapes(cfg).items():
        if len(shape) == 1:
            base = 1.0 if k.endswith(".weight") and ("norm" in k) else 0.0
            t = base + 0.02 * (torch.rand(shape, device="cuda", generator=gen) * 2 - 1)
        else:
            fan_in = int(np.prod(shape[1:]))
            t = (torch.rand(shape, device="cuda", generator=gen) * 2 - 1) / math.sqrt(fan_in)
        t = t.half()
        w[k] = t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t
    unet = UNet(cfg, w, torch)
    b, l = args.batch, args.latent
    x = torch.randn(b, cfg["in_channels"], l, l, device="cuda", generator=gen).half().contiguous(memory_format=torch.channels_last)
    ctx = torch.randn(b, 77, cfg["cross_attention_dim"], device="cuda", generator=gen).half()
    ts = torch.full((b,), 981.0, device="cuda")
    g = 7.5

    def step():
        eps = unet(x, ts, ctx)
        half = b // 2
        return eps[:half] + g * (eps[half:] - eps[:half])

    with torch.no_grad():
        for _ in range(3):
            step()
        torch.cuda.synchronize()
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(args.reps):
            step()
        e1.record()
        torch.cuda.synchronize()
    ms = e0.elapsed_time(e1) / args.reps
    rate = f", {args.flop / (ms * 1e-3) / 1e12:.1f} TFLOP/s" if args.flop else ""
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}: guidance step batch {b}, {l}x{l}, fp16 channels-last: "
          f"{ms:.2f} ms{rate} (mean of {args.reps})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--weights", required=True, help="diffusers unet folder (config.json + diffusion_pytorch_model.safetensors)")
    c.add_argument("--cases", required=True, help="folder with unet_in_{latent,timesteps,context}.npy")
    c.add_argument("--ours", help="brain2img's eps .npy for the same weights and inputs")
    t = sub.add_parser("time")
    t.add_argument("--config", required=True)
    t.add_argument("--batch", type=int, default=2)
    t.add_argument("--latent", type=int, default=64)
    t.add_argument("--reps", type=int, default=20)
    t.add_argument("--flop", type=float, default=0, help="FLOPs of one step (brain2img bench sd's guidance line)")
    args = ap.parse_args()
    import torch
    if not torch.cuda.is_available():
        sys.exit("torch_unet.py: torch has no CUDA device here")
    check(args, torch) if args.cmd == "check" else time_step(args, torch)


if __name__ == "__main__":
    main()
