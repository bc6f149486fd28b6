"""The statistical engine: arrays in, frozen result objects out, no file I/O and no review
vocabulary. Effect sizes (``effects``), distributions, the between-study variance of pooling
and meta-regression alike (``tau2``), random-effects pooling and its batched form
(``pooling``), meta-regression, subgroups and permutation tests (``regression``),
sensitivity analyses (``sensitivity``), small-study tests (``bias``), the network model
(``network``), absolute effects (``absolute``) and coverage simulation (``simulation``).
Imports nothing from :mod:`depmeta.review` or :mod:`depmeta.report` (tests/test_floors.py)."""
