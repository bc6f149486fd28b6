"""depmeta: the depression-treatment meta-analysis pipeline, on three floors, each importing
only from the floors below it (tests/test_floors.py):

- :mod:`depmeta.stats`: the statistical engine, arrays in and frozen results out;
- :mod:`depmeta.review`: the review's rules (sheets, contrasts, analyses, certainty, claims);
- :mod:`depmeta.report`: the report's tables, figures and words.

The engine's front door, re-exported here:

- :func:`escalc` effect sizes (RR, OR, RD, SMD, GEN, PLO), metafor's names and defaults;
- :func:`pool` random-effects pooling (EE DL REML PM SJ ML HE EB HS; z, t, knha, adhoc tests);
- :func:`tau2_estimate`, :func:`q_profile` the vectorised building blocks.
"""

from depmeta.stats.effects import MEASURES, EffectSizes, counts_from_percent, escalc, hedges_correction
from depmeta.stats.pooling import METHODS, PI_METHODS, TESTS, PoolResult, pool, q_profile, tau2_estimate

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
