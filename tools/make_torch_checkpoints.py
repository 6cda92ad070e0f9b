#!/usr/bin/env python3
"""Writes the small PyTorch checkpoints that brain2img.io.torch is tested on, and the values they must give.

    /usr/bin/python3 tools/make_torch_checkpoints.py [OUTDIR]
    (default OUTDIR: java/src/test/resources/brain2img/io/torch; needs Debian's python3-torch 1.13)

Files:
  zip.pth            torch.save of a state dict (zip format): a Conv2d+BatchNorm2d module's state_dict (with its
                     _metadata, a Parameter-free OrderedDict, num_batches_tracked i64 scalar) plus f16, bf16, f64,
                     i32, i64, u8, bool tensors, a transposed (non-contiguous) tensor, two views of one storage
                     at different offsets, an nn.Parameter, an empty (0,3) tensor
  legacy.pth         the same dict with _use_new_zipfile_serialization=False (pre-1.6 format)
  nested.pth.tar     {"state_dict": {"module.…": …}, "epoch": 3, "arch": "resnet50", "best_acc1": 0.5,
                     "note": None, "milestones": [30, 60]} as a training script saves it (zip format)
  nested_legacy.pth.tar  the same, legacy format
  zip64.pth          zip.pth's records rewritten by this script's own zip writer with ZIP64 sizes and offsets
                     everywhere (central directory extras, ZIP64 end record and locator), as torch writes > 4 GiB files
  deflated.pth       zip.pth's records recompressed with deflate (a checkpoint repacked by another tool)
  expected.safetensors  every tensor's values, C-contiguous, written by hand below (bool as u8): names as the
                     reader must give them (the nested files' names start with "module.")
"""
import pathlib
import struct
import sys
import zipfile
import zlib
import json
from collections import OrderedDict

import torch

OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else \
    pathlib.Path(__file__).resolve().parents[1] / 'java/src/test/resources/brain2img/io/torch'


def flat_dict():
    torch.manual_seed(7)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    with torch.no_grad():
        net[1].running_mean.normal_()
        net[1].running_var.uniform_(0.5, 2)
        net[1].num_batches_tracked.fill_(17)
    sd = net.state_dict()  # an OrderedDict carrying _metadata (pickled through BUILD)
    sd['half'] = torch.randn(2, 5).half()
    sd['bfloat'] = torch.randn(3, 2).bfloat16()
    sd['double'] = torch.randn(4, dtype=torch.float64)
    sd['int32'] = torch.tensor([[-3, 0, 2147483647]], dtype=torch.int32)
    sd['int64'] = torch.tensor([-(2 ** 40), 1, 2 ** 62], dtype=torch.int64)
    sd['uint8'] = torch.tensor([0, 7, 255], dtype=torch.uint8)
    sd['mask'] = torch.tensor([[True, False, True], [False, False, True]])
    sd['transposed'] = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()  # (4,3), stride (1,4)
    base = torch.randn(20)
    sd['view_a'] = base[3:9].view(2, 3)  # storage offset 3
    sd['view_b'] = base.view(4, 5)[2]    # storage offset 10, same storage
    sd['param'] = torch.nn.Parameter(torch.randn(2, 2))
    sd['empty'] = torch.zeros(0, 3)
    return sd


def nested_dict():
    torch.manual_seed(11)
    inner = OrderedDict()
    inner['module.conv1.weight'] = torch.randn(2, 3, 1, 1)
    inner['module.fc.weight'] = torch.randn(3, 2)
    inner['module.fc.bias'] = torch.randn(3)
    return {'state_dict': inner, 'epoch': 3, 'arch': 'resnet50', 'best_acc1': 0.5, 'note': None,
            'milestones': [30, 60]}


def write_safetensors(path, tensors):
    """The safetensors layout: u64 header length, JSON header, then the raw little-endian data."""
    names = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
             torch.int32: 'I32', torch.int64: 'I64', torch.uint8: 'U8', torch.bool: 'U8'}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.bool:
            t = t.to(torch.uint8)
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {'dtype': names[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    path.write_bytes(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def write_zip64(src, dst):
    """Rewrites a zip with stored entries, every size and offset in ZIP64 form (0xFFFFFFFF + extra field)."""
    with zipfile.ZipFile(src) as z:
        records = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    out, central = bytearray(), bytearray()
    for name, data in records:
        n = name.encode()
        crc = zlib.crc32(data)
        local_extra = struct.pack('<HHQQ', 1, 16, len(data), len(data))
        offset = len(out)
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(n),
                           len(local_extra)) + n + local_extra + data
        extra = struct.pack('<HHQQQ', 1, 24, len(data), len(data), offset)
        central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(n), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + n + extra
    cd_offset = len(out)
    out += central
    z64 = len(out)
    out += struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, len(records), len(records), len(central),
                       cd_offset)
    out += struct.pack('<IIQI', 0x07064b50, 0, z64, 1)
    out += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    dst.write_bytes(bytes(out))


def write_deflated(src, dst):
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, 'w', compression=zipfile.ZIP_DEFLATED) as w:
        for i in z.infolist():
            w.writestr(i.filename, z.read(i.filename))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    flat, nested = flat_dict(), nested_dict()
    torch.save(flat, OUT / 'zip.pth')
    torch.save(flat, OUT / 'legacy.pth', _use_new_zipfile_serialization=False)
    torch.save(nested, OUT / 'nested.pth.tar')
    torch.save(nested, OUT / 'nested_legacy.pth.tar', _use_new_zipfile_serialization=False)
    write_zip64(OUT / 'zip.pth', OUT / 'zip64.pth')
    write_deflated(OUT / 'zip.pth', OUT / 'deflated.pth')
    # the files must read back in torch itself
    for f in ['zip.pth', 'legacy.pth', 'nested.pth.tar', 'zip64.pth', 'deflated.pth']:
        torch.load(OUT / f)
    expected = OrderedDict(flat)
    expected.update(nested['state_dict'])
    write_safetensors(OUT / 'expected.safetensors', expected)
    for p in sorted(OUT.iterdir()):
        print(f'{p.name:28s} {p.stat().st_size:7d} bytes')


if __name__ == '__main__':
    main()
