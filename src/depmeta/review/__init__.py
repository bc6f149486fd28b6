"""The review's rules: its vocabulary (``vocabulary``), the sheets and their validation
(``sheets``, ``validation``), what is contrasted and pooled with what (``contrasts``,
``hazard``, ``nodes``, ``analysis``, ``networks``), the analyses of every pooled comparison
(``sensitivity``, ``subgroups``), GRADE and CINeMA (``judgements``, ``certainty``,
``robustness``), claims and benchmarks (``checks``, ``evidence``), database imports (``metapsy``). Frames
in, frames out, no file I/O; builds on :mod:`depmeta.stats` and imports nothing from
:mod:`depmeta.report` (tests/test_floors.py)."""
