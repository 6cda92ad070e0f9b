#!/usr/bin/env python3
"""Reference ids for ClipTokenizerRandomTest: OpenAI CLIP's BPE tokenizer (simple_tokenizer.py semantics)
re-implemented from the vocab.json/merges.txt of a Hugging Face tokenizer folder, WITHOUT ftfy (CLIP runs
ftfy.fix_text first; ftfy is not installed here, so strings where our TextFixer changes the text are the
documented exceptions of the Java test).

    python3 tools/clip_tokenizer_reference.py ../shared/golden/sd-tiny/weights/tokenizer \
        java/src/test/resources/brain2img/sd/clip_random_strings.json.gz

Writes 3,000 random strings (fixed seed 20231) with their untruncated BPE ids (no start/end tokens), gzipped
JSON: [{"text": ..., "ids": [...]}, ...]. Needs the `regex` module (for \\p{L}, \\p{N}).
"""
import gzip
import html
import json
import random
import sys
from functools import lru_cache
from pathlib import Path

import regex


@lru_cache()
def bytes_to_unicode():
    """CLIP's reversible byte → printable character map (printable latin-1 bytes map to themselves)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


PAT = regex.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                    regex.IGNORECASE)


class Tokenizer:
    def __init__(self, folder):
        folder = Path(folder)
        self.encoder = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        lines = (folder / "merges.txt").read_text(encoding="utf-8").split("\n")
        merges = [tuple(l.split()) for l in lines if l and not l.startswith("#version")]
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.cache = {}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            first, second = best
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self.cache[token] = word
        return word

    def encode(self, text):
        text = html.unescape(html.unescape(text)).strip()     # basic_clean without ftfy
        text = regex.sub(r"\s+", " ", text).strip().lower()   # whitespace_clean, then lower-case
        ids = []
        for token in regex.findall(PAT, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token))
        return ids


def random_strings(n, seed):
    """Words from mixed scripts, digits, punctuation, emoji, HTML references and odd whitespace."""
    rnd = random.Random(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "àáâãäåçèéêëìíîïñòóôõöùúûüýÿßøæœ",
        "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΩ", "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЖЯ", "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
        "あいうえおかきくけこアイウエオ", "0123456789", ".,;:!?'\"()[]{}-_/\\@#$%^&*+=<>|~`",
    ]
    emoji = ["😀", "🐱", "🚀", "❤️", "👍🏽", "🇫🇷", "✨", "🍕"]
    entities = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&eacute;", "&nbsp;", "&#x263A;", "&amp;amp;", "&hellip;", "&copy"]
    spaces = [" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u3000"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 12)):
            r = rnd.random()
            if r < 0.08:
                parts.append(rnd.choice(emoji))
            elif r < 0.14:
                parts.append(rnd.choice(entities))
            else:
                pool = rnd.choice(pools)
                parts.append("".join(rnd.choice(pool) for _ in range(rnd.randint(1, 9))))
            parts.append(rnd.choice(spaces))
        out.append("".join(parts))
    return out


def main():
    tok = Tokenizer(sys.argv[1])
    cases = [{"text": s, "ids": tok.encode(s)} for s in random_strings(3000, 20231)]
    with gzip.open(sys.argv[2], "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(cases, f, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
