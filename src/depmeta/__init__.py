"""depmeta: the statistical engine of the depression-treatment meta-analysis pipeline.

Pure functions on arrays returning frozen result objects; no file I/O.

- :func:`escalc` effect sizes (RR, OR, RD, SMD, GEN, PLO), metafor's names and defaults;
- :func:`pool` random-effects pooling (EE DL REML PM SJ ML HE EB HS; z, t, knha, adhoc tests);
- :func:`tau2_estimate`, :func:`q_profile` the vectorised building blocks.
"""

from depmeta.effects import MEASURES, EffectSizes, counts_from_percent, escalc, hedges_correction
from depmeta.pooling import METHODS, PI_METHODS, TESTS, PoolResult, pool, q_profile, tau2_estimate

__all__ = [
    "METHODS",
    "MEASURES",
    "PI_METHODS",
    "TESTS",
    "EffectSizes",
    "PoolResult",
    "counts_from_percent",
    "escalc",
    "hedges_correction",
    "pool",
    "q_profile",
    "tau2_estimate",
]

__version__ = "0.1.0"
