#!/usr/bin/env python3
"""Golden for brain2img.dir.GaussianBlur: scipy.ndimage.gaussian_filter on float32 planes, as the Kamitani
lab's gaussian_blur applies it per colour channel (default mode 'reflect', truncate 4.0).

    python3 tools/dir_blur_reference.py java/src/test/resources/brain2img/dir/blur.npz
"""
import sys

import numpy as np
from scipy.ndimage import gaussian_filter

rng = np.random.default_rng(7)
img = rng.standard_normal((3, 11, 17)).astype(np.float32) * 40
out = {"input": img}
for name, sigma in [("s2", 2.0), ("s0_5", 0.5), ("s1_3", 1.3)]:
    out[name] = np.stack([gaussian_filter(c, sigma) for c in img]).astype(np.float32)
np.savez(sys.argv[1], **out)
