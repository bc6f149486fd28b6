"""Display helpers of depmeta.report.tables: escaping of sheet strings, blank missing
cells, unbreakable intervals, and the split of pooled estimates from heterogeneity."""

from __future__ import annotations

import math
import subprocess

import pandas as pd
import pytest

from depmeta.report.tables import NBSP, fmt_ci, fmt_est_ci, heterogeneity_table, md_escape, md_table, summary_table

SUMMARY = pd.DataFrame([
    dict(comparison="combined_vs_medication", outcome="response", status="pooled", k=6, n_patients=1454,
         measure="RR", estimate_display=1.19, ci_low_display=1.0, ci_high_display=1.43, pval=0.049,
         pi_low_display=0.79, pi_high_display=1.8, tau2=0.0351, i2=77.2, i2_ci_low=37.4, i2_ci_high=96.1,
         q=21.87, q_df=5, q_pval=0.0006),
    dict(comparison="combined_vs_medication", outcome="symptoms", status="pooled", k=2, n_patients=526,
         measure="SMD", estimate_display=-0.004, ci_low_display=-0.21, ci_high_display=0.2, pval=0.976,
         pi_low_display=math.nan, pi_high_display=math.nan, tau2=0.006, i2=28.0, i2_ci_low=0.0, i2_ci_high=100.0,
         q=1.39, q_df=1, q_pval=0.238),
    dict(comparison="medication_vs_control", outcome="relapse", status="not pooled", k=1, n_patients=40,
         measure="RR"),
])


def test_summary_table_keeps_estimate_and_interval_in_one_unbreakable_cell():
    tab = summary_table(SUMMARY, 0.95)
    assert list(tab.columns) == ["Comparison", "Outcome", "k (patients)", "Estimate [95% CI]", "p", "95% PI"]
    assert tab["Estimate [95% CI]"].tolist() == [f"RR{NBSP}1.19{NBSP}[1.00,{NBSP}1.43]",
                                          f"SMD{NBSP}0.00{NBSP}[-0.21,{NBSP}0.20]"]
    assert tab["95% PI"].tolist() == [f"[0.79,{NBSP}1.80]", "–"]  # no "nan"


def test_heterogeneity_table_is_separate():
    tab = heterogeneity_table(SUMMARY, 0.95)
    assert list(tab.columns) == ["Comparison", "Outcome", "k", "τ²", "I² % [95% CI]", "Q (df)", "p (Q)"]
    assert tab.iloc[0].tolist() == ["combined vs medication", "response", "6", "0.035", f"77{NBSP}[37,{NBSP}96]",
                                    f"21.87{NBSP}(5)", "< 0.001"]
    assert len(tab) == 2


def test_intervals_and_missing_values():
    assert fmt_ci(0.5, math.nan) == "–" and fmt_est_ci(None, 1, 2) == "–"
    assert " " not in fmt_est_ci(1.234, 0.5, 2.5)  # no ordinary space: never wraps


def test_md_escape_makes_markup_literal():
    assert md_escape("<script>alert(1)</script>") == r"\<script\>alert(1)\</script\>"
    assert md_escape("a *b* _c_ [d](e) `f` $g$ @fig-x | & \\") == r"a \*b\* \_c\_ \[d\](e) \`f\` \$g\$ \@fig-x \| \& \\"
    assert md_escape(math.nan) == "" and md_escape(None) == "" and md_escape("two\nlines") == "two lines"


def test_md_table_blanks_missing_and_keeps_markdown_columns():
    df = pd.DataFrame({"Study": ["<b>x</b>", None], "Note": [math.nan, "n/a"], "Code": ["`a`", "`b`"]})
    lines = md_table(df, markdown=("Code",)).splitlines()
    assert lines[2] == r"| \<b\>x\</b\> |  | `a` |"
    assert lines[3] == "|  | n/a | `b` |"
    assert "nan" not in md_table(df)


def test_wide_md_table_gives_unbreakable_columns_their_width():
    wide = pd.DataFrame(
        {
            "Source": ["Cuijpers P et al. 2020"] * 3,
            "Estimate": [fmt_est_ci(1.27, 1.14, 1.39)] * 3,
            "Note": ["confidence intervals overlap; 2 trials here; published estimate for a subgroup " * 2] * 3,
        }
    )
    sep = md_table(wide).splitlines()[1]
    dashes = [len(part.strip(":")) for part in sep.strip("|").split("|")]
    assert dashes[1] >= len(fmt_est_ci(1.27, 1.14, 1.39)) and dashes[2] > dashes[0]
    narrow = pd.DataFrame({"a": [1], "b": ["x"]})
    assert md_table(narrow).splitlines()[1] == "|:---|:---|"  # natural widths


@pytest.fixture(scope="module")
def pandoc():
    pypandoc = pytest.importorskip("pypandoc", reason="pypandoc-binary is needed to check the markdown through pandoc")
    return pypandoc.get_pandoc_path()


@pytest.mark.parametrize("to", ["html", "typst"])
def test_escaped_strings_come_out_as_text(pandoc, to):
    label = "Smith <script>alert(1)</script> & *Co* [1] @fig-x $5 | #tag_1"
    md = md_table(pd.DataFrame({"Study": [label], "k": [3]}))
    out = subprocess.run([pandoc, "-f", "markdown", "-t", to, "--wrap=none"], input=md, capture_output=True, text=True,
                         check=True).stdout
    if to == "html":
        assert "<script>" not in out and "&lt;script&gt;alert(" in out
        assert "Smith &lt;script&gt;alert(1)&lt;/script&gt; &amp; *Co* [1] @fig-x $5 | #tag_1" in out
    else:  # Typst markup characters escaped, nothing dropped
        assert "alert" in out and "\\#tag\\_1" in out and "\\@fig-x" in out and "\\$5" in out


def test_a_value_rounding_to_zero_is_printed_without_a_sign():
    from depmeta.report.summary_of_findings import _num
    from depmeta.report.tables import fmt

    assert (fmt(-0.004), fmt(-0.004, 3), fmt(-0.5), fmt(0.0)) == ("0.00", "-0.004", "-0.50", "0.00")
    assert (_num(-0.001), _num(-10.004), _num(-0.21)) == ("0.00", "-10.00", "-0.21")
