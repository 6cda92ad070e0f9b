#!/usr/bin/env python3
"""PyTorch's time for the operations `brain2img cuda bench` times, at the same shapes, on the same GPU.

Run beside `brain2img cuda bench` (benchmarks/gpu-check.sh does) to put our kernels next to cuBLAS/cuDNN and
scaled_dot_product_attention as PyTorch calls them. Each figure is the mean of REPS launches after two warm-ups,
timed with CUDA events, like CudaBench. Usage: python3 benchmarks/torch_kernels.py [REPS]
"""
import sys

import torch
import torch.nn.functional as F

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def timed(fn):
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(REPS):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / REPS


def row(what, ms, flop=None):
    tf = f"{flop / (ms * 1e-3) / 1e12:10.1f}" if flop else f"{'-':>10}"
    print(f"{what:<44} {ms:10.3f} {tf}")


def main():
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"[torch {torch.__version__}, {torch.cuda.get_device_name(0)}]")
    print(f"{'operation':<44} {'ms':>10} {'TFLOP/s':>10}")
    n = 4096
    for name, dtype, tf32 in [("fp32", torch.float32, False), ("tf32", torch.float32, True),
                              ("fp16", torch.float16, False), ("bf16", torch.bfloat16, False)]:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a = torch.randn(n, n, device=dev, dtype=dtype)
        b = torch.randn(n, n, device=dev, dtype=dtype)
        row(f"torch gemm 4096³ {name}", timed(lambda: a @ b.T), 2.0 * n ** 3)
    torch.backends.cuda.matmul.allow_tf32 = False
    B, L, H, D = 2, 4096, 8, 40
    for dtype, tag in [(torch.float32, "fp32"), (torch.float16, "fp16")]:
        q, k, v = (torch.randn(B, H, L, D, device=dev, dtype=dtype) for _ in range(3))
        row(f"torch sdpa self B2 L4096 H8 D40 ({tag})", timed(lambda: F.scaled_dot_product_attention(q, k, v)),
            4.0 * B * H * L * L * D)
        kc, vc = (torch.randn(B, H, 77, D, device=dev, dtype=dtype) for _ in range(2))
        row(f"torch sdpa cross B2 L4096×77 H8 D40 ({tag})", timed(lambda: F.scaled_dot_product_attention(q, kc, vc)),
            4.0 * B * H * L * 77 * D)
    for dtype, tag, cl in [(torch.float32, "fp32", False), (torch.float16, "fp16 channels-last", True)]:
        x = torch.randn(B, 320, 64, 64, device=dev, dtype=dtype)
        w = torch.randn(320, 320, 3, 3, device=dev, dtype=dtype)
        bias = torch.randn(320, device=dev, dtype=dtype)
        if cl:
            x, w = x.to(memory_format=torch.channels_last), w.to(memory_format=torch.channels_last)
        row(f"torch conv3x3 B2 320→320 64×64 ({tag})", timed(lambda: F.conv2d(x, w, bias, padding=1)),
            2.0 * B * 320 * 320 * 9 * 4096)
    x = torch.randn(B, 320, 64, 64, device=dev)
    g, bt = torch.randn(320, device=dev), torch.randn(320, device=dev)
    row("torch groupNorm+SiLU B2 320×64×64 (fp32)", timed(lambda: F.silu(F.group_norm(x, 32, g, bt, 1e-5))))


if __name__ == "__main__":
    main()
