"""Reference p- and q-values for brain2img.encode.VoxelStats (EncodeStatsTest).

One-sided t test of Pearson r with n-2 degrees of freedom (scipy.stats.t.sf) and Benjamini-Hochberg
q-values (scipy.stats.false_discovery_control, method 'bh'). Writes a small JSON golden:

    python3 tools/encode_stats_reference.py java/src/test/resources/brain2img/encode/stats_golden.json
"""
import json
import sys

import numpy as np
from scipy import stats

rng = np.random.default_rng(7)
n = 40
r = np.concatenate([rng.uniform(-0.3, 0.3, 30), rng.uniform(0.3, 0.8, 10), [0.0, 0.999, -0.95]])
t = r * np.sqrt((n - 2) / (1 - r * r))
p = stats.t.sf(t, n - 2)
q = stats.false_discovery_control(p, method="bh")
json.dump({"n": n, "r": r.tolist(), "p": p.tolist(), "q": q.tolist()}, open(sys.argv[1], "w"), indent=1)
