"""The report: its sections (``sections``: one function per section of report/report.qmd),
tables (``tables``, ``network_tables``, ``sensitivity_tables``, ``summary_of_findings``),
figures (``figures``, ``network_figure``, ``sensitivity_figures``, ``subgroup_figures``) and
the words they share (``labels``). Builds on :mod:`depmeta.review` and :mod:`depmeta.stats`
(tests/test_floors.py)."""
