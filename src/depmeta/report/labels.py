"""How the tables, figures and report write comparisons, measures and p-values.

Text only (no matplotlib), so that the report and the table modules can use it
without importing a plotting library."""

from __future__ import annotations

import numpy as np

__all__ = ["MEASURE_LABEL", "TEST_NAME", "and_list", "comparison_label", "fmt_p", "p_text"]

MEASURE_LABEL = {"RR": "Risk ratio", "OR": "Odds ratio", "RD": "Risk difference", "SMD": "Hedges' g",
                 "HR": "Hazard ratio"}

#: The short name of each test of a pooled estimate (``analysis.test``), for table headings.
TEST_NAME = {"z": "z", "t": "t", "knha": "Knapp-Hartung", "adhoc": "Knapp-Hartung (ad hoc)"}


def comparison_label(comparison: str) -> str:
    """'combined_vs_medication' -> 'combined vs medication'."""
    return comparison.replace("_vs_", " vs ").replace("_", " ")


def and_list(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def fmt_p(p: float) -> str:
    """p-value for display."""
    if not np.isfinite(p):
        return "NA"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_text(p: float) -> str:
    """'p = 0.023' or 'p < 0.001'."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"
