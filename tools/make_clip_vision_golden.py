#!/usr/bin/env python3
"""Golden outputs for brain2img.vision.ClipVision: small CLIP vision towers with random weights, written in plain
torch after OpenAI's CLIP `VisionTransformer` (the transformers package is not used), saved in both layouts.

    /usr/bin/python3 tools/make_clip_vision_golden.py [OUTDIR]
    (default OUTDIR: java/src/test/resources/brain2img/vision/clip; needs Debian's python3-torch 1.13)

Model A: width 64, 2 layers, 4 heads (head size 16), patch 8, image 32, MLP 128, embedding 32, quick_gelu.
  a-hf/model.safetensors + a-hf/config.json  Hugging Face CLIPModel names (vision_model.*, visual_projection, plus
                                             the position_ids buffer and one text_model tensor to be ignored);
                                             config with vision_config and a top-level projection_dim
  a-openai.pth                               OpenAI names (visual.*), torch.save zip format; heads only from the config
Model B: width 64, 1 layer, patch 8, image 16, MLP 256, embedding 16, no config at all: the reader must infer every
  size from the shapes and take heads = width / 64 = 1 as OpenAI's code does.
  b-openai.pth                               legacy (pre-1.6) torch format
golden.safetensors: for each model two random images `X.pixel_values` (2,3,S,S) and the outputs, computed in
  float64: `X.image_embeds` (post-LN CLS · projection, not normalised) and `X.hidden_states.N` (N = 0 after
  ln_pre, N = i after block i, as Hugging Face numbers them).
Weights are rounded to float16 and stored as f16 (OpenAI's own checkpoints are f16), which halves the files.
"""
import json
import pathlib
import sys
from collections import OrderedDict

import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_torch_checkpoints import write_safetensors  # noqa: E402

OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else \
    pathlib.Path(__file__).resolve().parents[1] / 'java/src/test/resources/brain2img/vision/clip'


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    """OpenAI's ResidualAttentionBlock: pre-LN attention and MLP, each added back to the stream."""

    def __init__(self, width, heads, mlp):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([('c_fc', nn.Linear(width, mlp)), ('gelu', QuickGELU()),
                                              ('c_proj', nn.Linear(mlp, width))]))

    def forward(self, x):  # x (L,N,D), as OpenAI's code keeps it
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class VisionTransformer(nn.Module):
    def __init__(self, image, patch, width, layers, heads, mlp, embed):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width))
        self.positional_embedding = nn.Parameter(torch.randn((image // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.Sequential(*[Block(width, heads, mlp) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, embed))

    def forward(self, x):
        """Returns (image_embeds, [hidden states (N,L,D)]) with hidden state 0 after ln_pre."""
        x = self.conv1(x)                                   # (N,D,g,g)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # (N,g²,D)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        hidden = [x]
        x = x.permute(1, 0, 2)
        for block in self.transformer.resblocks:
            x = block(x)
            hidden.append(x.permute(1, 0, 2))
        return self.ln_post(hidden[-1][:, 0, :]) @ self.proj, hidden


def randomise(model, seed):
    """Random values everywhere (LayerNorm gains and biases too, so a swapped name cannot pass), f16-exact."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'ln' in name:  # LayerNorm gain around 1, bias around 0
                v = (1 if name.endswith('weight') else 0) + 0.2 * torch.randn(p.shape, generator=g)
            elif p.dim() >= 2:  # fan-in scaling keeps activations O(1); proj is used as x @ proj
                fan_in = p.shape[0] if name == 'proj' else p[0].numel()
                v = torch.randn(p.shape, generator=g) / fan_in ** 0.5
            else:
                v = 0.5 * torch.randn(p.shape, generator=g)
            p.copy_(v.half().float())
    return model


def openai_state(model):
    return OrderedDict(('visual.' + k, v.detach().half()) for k, v in model.state_dict().items())


def hf_state(model, layers):
    """The same weights under transformers' CLIPModel names (in_proj split into q, k, v; proj transposed)."""
    s = model.state_dict()
    out = OrderedDict()
    out['text_model.embeddings.token_embedding.weight'] = torch.zeros(4, 8)  # another tower: ignored
    e = 'vision_model.embeddings.'
    out[e + 'class_embedding'] = s['class_embedding']
    out[e + 'patch_embedding.weight'] = s['conv1.weight']
    out[e + 'position_embedding.weight'] = s['positional_embedding']
    out[e + 'position_ids'] = torch.arange(s['positional_embedding'].shape[0]).unsqueeze(0)
    out['vision_model.pre_layrnorm.weight'] = s['ln_pre.weight']
    out['vision_model.pre_layrnorm.bias'] = s['ln_pre.bias']
    for i in range(layers):
        o, h = f'transformer.resblocks.{i}.', f'vision_model.encoder.layers.{i}.'
        qkv_w, qkv_b = s[o + 'attn.in_proj_weight'].chunk(3), s[o + 'attn.in_proj_bias'].chunk(3)
        for j, n in enumerate('qkv'):
            out[h + f'self_attn.{n}_proj.weight'] = qkv_w[j]
            out[h + f'self_attn.{n}_proj.bias'] = qkv_b[j]
        pairs = [('attn.out_proj', 'self_attn.out_proj'), ('ln_1', 'layer_norm1'), ('ln_2', 'layer_norm2'),
                 ('mlp.c_fc', 'mlp.fc1'), ('mlp.c_proj', 'mlp.fc2')]
        for a, b in pairs:
            out[h + b + '.weight'] = s[o + a + '.weight']
            out[h + b + '.bias'] = s[o + a + '.bias']
    out['vision_model.post_layernorm.weight'] = s['ln_post.weight']
    out['vision_model.post_layernorm.bias'] = s['ln_post.bias']
    out['visual_projection.weight'] = s['proj'].t()
    return OrderedDict((k, v.detach().contiguous().half() if v.is_floating_point() else v) for k, v in out.items())


def golden(model, prefix, image, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, image, image, generator=g)
    with torch.no_grad():
        embeds, hidden = model.double()(x.double())
    out = OrderedDict([(prefix + 'pixel_values', x), (prefix + 'image_embeds', embeds.float())])
    for i, h in enumerate(hidden):
        out[prefix + f'hidden_states.{i}'] = h.float()
    return out


def main():
    (OUT / 'a-hf').mkdir(parents=True, exist_ok=True)
    a = randomise(VisionTransformer(image=32, patch=8, width=64, layers=2, heads=4, mlp=128, embed=32), 1)
    b = randomise(VisionTransformer(image=16, patch=8, width=64, layers=1, heads=1, mlp=256, embed=16), 2)
    write_safetensors(OUT / 'a-hf/model.safetensors', hf_state(a, 2))
    config = {'architectures': ['CLIPModel'], 'model_type': 'clip', 'projection_dim': 32,
              'text_config': {'hidden_size': 8},
              'vision_config': {'hidden_size': 64, 'intermediate_size': 128, 'num_attention_heads': 4,
                                'num_hidden_layers': 2, 'patch_size': 8, 'image_size': 32,
                                'hidden_act': 'quick_gelu', 'layer_norm_eps': 1e-5}}
    (OUT / 'a-hf/config.json').write_text(json.dumps(config, indent=2) + '\n')
    torch.save(openai_state(a), OUT / 'a-openai.pth')
    torch.save(openai_state(b), OUT / 'b-openai.pth', _use_new_zipfile_serialization=False)
    gold = golden(a, 'a.', 32, 3)
    gold.update(golden(b, 'b.', 16, 4))
    write_safetensors(OUT / 'golden.safetensors', gold)
    for p in sorted(OUT.rglob('*')):
        if p.is_file():
            print(f'{str(p.relative_to(OUT)):28s} {p.stat().st_size:7d} bytes')


if __name__ == '__main__':
    main()
