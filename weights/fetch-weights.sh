#!/usr/bin/env bash
# Downloads Stable Diffusion v1.4 (diffusers layout, safetensors only) into weights/sd-v1-4.
# Needs network access to huggingface.co and acceptance of the model licence (CreativeML OpenRAIL-M).
set -euo pipefail
dest="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sd-v1-4"
repo="https://huggingface.co/CompVis/stable-diffusion-v1-4/resolve/main"
files=(model_index.json scheduler/scheduler_config.json
  tokenizer/vocab.json tokenizer/merges.txt tokenizer/tokenizer_config.json tokenizer/special_tokens_map.json
  text_encoder/config.json text_encoder/model.safetensors
  unet/config.json unet/diffusion_pytorch_model.safetensors
  vae/config.json vae/diffusion_pytorch_model.safetensors)
auth=()
[ -n "${HF_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $HF_TOKEN")
for f in "${files[@]}"; do
  mkdir -p "$dest/$(dirname "$f")"
  if [ -s "$dest/$f" ]; then echo "have $f"; continue; fi
  echo "fetching $f"
  curl -fL --retry 3 "${auth[@]}" -o "$dest/$f.part" "$repo/$f"
  mv "$dest/$f.part" "$dest/$f"
done
echo "done: $dest"
