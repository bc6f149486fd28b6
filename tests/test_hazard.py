"""Relapse as time to event: the contrasts sheet's hazard ratios (measure HR), their
validation, orientation and generic inverse-variance pooling, against metafor.

Reference: tests/reference/hazard.json, made by tests/reference/generate_hazard.R
(``rma(yi, vi, measure = "GEN")`` with tol 1e-12). Its hazard ratios are SIMULATED
(no metadat dataset holds hazard ratios), shaped as the sheet holds them: four as
HR with a two-decimal 95% CI, two as log HR with its SE.

Tolerances: RTOL = 1e-6, the project's six significant digits (the closed forms
agree to about 1e-12); ATOL = 1e-8 for quantities near zero.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from depmeta.review.analysis import AnalysisOptions, run_meta_analyses
from depmeta.review.hazard import hazard_contrasts
from depmeta.review.sheets import (
    check_contrasts,
    check_open_lists,
    check_sheet,
    coerce,
    effect_scale,
    prepare_contrasts,
)

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests" / "reference" / "hazard.json").read_text())
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "contrasts.schema.yaml").read_text())
FILES = {"contrasts": "contrasts.csv", "studies": "studies.csv", "arms": "arms.csv"}
RTOL, ATOL = 1e-6, 1e-8


def _nan(values):
    return np.array([np.nan if v is None else v for v in values], float)


def _fixture_sheet() -> pd.DataFrame:
    """The reference set as a sheet of strings: six trials of combined vs medication;
    the third is printed the other way round (medication relative to combined)."""
    inp = REF["input"]
    rows = []
    for i in range(6):
        flip = i == 2
        hr, lo, hi, lhr, se = (inp[k][i] for k in ("hr", "ci_low", "ci_high", "log_hr", "se_log_hr"))
        if flip:  # published as medication relative to combined: 1/HR, bounds swapped
            hr, lo, hi = 1 / hr, 1 / hi, 1 / lo
        rows.append({
            "study_id": f"trial{i + 1}", "arm1_id": "adm" if flip else "combo",
            "arm1_type": "medication" if flip else "combined", "arm2_id": "combo" if flip else "adm",
            "arm2_type": "combined" if flip else "medication", "phase": "maintenance", "outcome": "relapse",
            "followup_months": "24", "analysis_population": "ITT", "n1": str(40 + i), "n2": str(50 + i),
            "measure": "HR", "estimate": "" if hr is None else repr(hr), "ci_low": "" if lo is None else repr(lo),
            "ci_high": "" if hi is None else repr(hi), "log_estimate": "" if lhr is None else repr(lhr),
            "se": "" if se is None else repr(se), "source": "https://example.org/trial",
            "locator": "Table 2", "derived_note": "", "notes": "relapse (simulated fixture)",
        })
    return pd.DataFrame(rows)


def _sheet(raw: pd.DataFrame) -> pd.DataFrame:
    """The typed, prepared rows (as the analyses read them)."""
    return prepare_contrasts(coerce(raw, SCHEMA))


def _studies(ids):
    return pd.DataFrame({"study_id": list(ids)})


ARMS = pd.DataFrame(columns=["study_id", "arm_id", "arm_type"])


def test_log_hazard_ratios_match_metafor_escalc():
    """A CI at the default level (95) gives the SE as metafor's (log(ub) - log(lb)) / (2 * 1.96)."""
    inp = REF["input"]
    yi, sei = effect_scale(["HR"] * 6, *(_nan(inp[k]) for k in ("hr", "ci_low", "ci_high")), np.full(6, np.nan),
                           *(_nan(inp[k]) for k in ("log_hr", "se_log_hr")))
    np.testing.assert_allclose(yi, REF["escalc"]["yi"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(sei**2, REF["escalc"]["vi"], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("method", ["REML", "DL", "EE"])
def test_pooled_hazard_ratio_matches_metafor_gen(method):
    sheet = _sheet(_fixture_sheet())
    contrasts, unused = hazard_contrasts(sheet, ["combined_vs_medication"])
    assert len(contrasts) == 6 and not len(unused)
    # the reference is metafor's default z test
    opts = AnalysisOptions(method=method, test="z", comparisons=("combined_vs_medication",), outcomes=("relapse",))
    summary, per_study, excluded = run_meta_analyses(contrasts, {}, opts)
    ref = REF["fits"][method]
    row = summary.iloc[0]
    assert (row.comparison, row.outcome, row.measure, row.status) == (
        "combined_vs_medication",
        "relapse",
        "HR",
        "pooled",
    )
    for ours, theirs in (("estimate", "estimate"), ("se", "se"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub"),
                         ("tau2", "tau2"), ("q", "q"), ("pval", "pval"), ("estimate_display", "hr"),
                         ("ci_low_display", "hr_ci_lb"), ("ci_high_display", "hr_ci_ub")):
        assert math.isclose(row[ours], ref[theirs], rel_tol=RTOL, abs_tol=ATOL), (ours, row[ours], ref[theirs])
    if method != "EE":
        assert math.isclose(row.pi_low, ref["pi_lb"], rel_tol=RTOL) and math.isclose(
            row.pi_high, ref["pi_ub"], rel_tol=RTOL
        )
    # the engine gives weights in percent, as metafor prints them; the JSON holds proportions
    np.testing.assert_allclose(per_study.sort_values("study_id").weight, 100 * np.asarray(ref["weights"]), rtol=RTOL)
    assert not len(excluded)


def test_inverted_row_is_oriented_to_the_comparison():
    sheet = _sheet(_fixture_sheet())
    contrasts, _ = hazard_contrasts(sheet, ["combined_vs_medication"])
    third = contrasts.set_index("study_id").loc["trial3"]
    assert bool(third.inverted) and (third.arms1, third.arms2) == ("combo", "adm")
    assert (third.n1, third.n2) == (52.0, 42.0)  # the sheet's n2 (combined) is the comparison's arm 1
    assert math.isclose(third.reported_yi, REF["escalc"]["yi"][2], rel_tol=RTOL)
    assert not contrasts.set_index("study_id").loc["trial1"].inverted


def test_preferred_population_then_longest_follow_up_and_the_rest_listed():
    raw = _fixture_sheet().iloc[[0, 0, 0]].reset_index(drop=True)
    raw.loc[1, ["analysis_population", "followup_months"]] = ["completers", "36"]
    raw.loc[2, "followup_months"] = "12"
    raw.loc[0, "estimate"], raw.loc[2, "estimate"] = "0.5", "0.6"
    contrasts, unused = hazard_contrasts(_sheet(raw), ["combined_vs_medication"])
    assert (
        len(contrasts) == 1
        and contrasts.iloc[0].followup_months == 24
        and contrasts.iloc[0].analysis_population == "ITT"
    )
    assert len(unused) == 2 and all("uses ITT over 24 months" in r for r in unused.reason)


def test_row_of_no_selected_comparison_is_listed_with_its_reason():
    sheet = _sheet(_fixture_sheet())
    contrasts, unused = hazard_contrasts(sheet, ["psychotherapy_vs_control"])
    assert not len(contrasts) and len(unused) == 6
    assert unused.reason.str.contains("is not a comparison selected in config").all()
    assert unused.sheet_row.tolist() == [2, 3, 4, 5, 6, 7]


def test_embedded_hazard_ratios_are_rows_of_the_contrasts_sheet():
    raw = pd.read_csv(ROOT / "data" / "contrasts.csv", dtype=str, keep_default_na=False)
    assert list(raw.columns) == list(SCHEMA["properties"])
    assert check_sheet(raw, SCHEMA, "contrasts.csv") == []
    assert (raw.measure == "HR").sum() == 11  # every row of the former hazard-ratio sheet, sources kept
    assert (raw.source != "").all() and (raw.locator != "").all()


def _cross(raw, known=None):
    found = check_sheet(raw, SCHEMA, "contrasts.csv") + check_open_lists(raw, None, "contrasts.csv")
    if found:
        return [str(p) for p in found]
    studies = _studies(known if known is not None else raw.study_id)
    return [str(p) for p in check_contrasts(coerce(raw, SCHEMA), studies, ARMS, FILES)]


@pytest.mark.parametrize(("row", "edit", "expected"), [
    (0, {"log_estimate": "-0.5", "se": "0.2"}, "row 2, column 'log_estimate': give either estimate, ci_low, "
                                               "ci_high (the HR and its CI as printed) or log_estimate, se"),
    (0, {"estimate": "", "ci_low": "", "ci_high": ""}, "row 2, column 'estimate': the effect is missing"),
    (0, {"ci_high": ""}, "row 2, column 'ci_high': ci_high is missing"),
    (4, {"se": ""}, "row 6, column 'se': se is missing"),
    (0, {"estimate": "0.9"}, "row 2, column 'estimate': the HR 0.9 must lie strictly inside its CI (0.34 to 0.86)"),
    (0, {"ci_low": "0.86", "ci_high": "0.34"}, "row 2, column 'estimate': the HR 0.54 must lie strictly inside"),
    (4, {"se": "0"}, "row 6, column 'se': 0.0 must be greater than 0"),
    (0, {"se": "0.2", "ci_low": "", "ci_high": ""}, "row 2, column 'se': se is the standard error of the log HR"),
    (0, {"estimate": "-0.6"}, "row 2, column 'estimate': -0.6 is not a HR: a ratio is greater than 0"),
    (0, {"followup_months": ""}, "row 2, column 'followup_months': a relapse row needs its follow-up length"),
    (1, {"arm2_id": "combo"}, "row 3, column 'arm2_id': an arm cannot be compared with itself"),
    (1, {"arm1_type": "pill"}, "row 3, column 'arm1_type': 'pill' is not an arm type of this review's protocol: add "
                               "it to vocabulary.control_types"),
])
def test_bad_cell_is_named(row, edit, expected):
    raw = _fixture_sheet()
    for col, value in edit.items():
        raw.loc[row, col] = value
    messages = _cross(raw)
    assert any(m.startswith("contrasts.csv, ") and expected in m for m in messages), messages


def test_unknown_study_and_arm_type_disagreeing_with_the_arm_sheet():
    raw = _fixture_sheet()
    arms = pd.DataFrame({"study_id": ["trial1"], "arm_id": ["combo"], "arm_type": ["psychotherapy"]})
    found = [str(p) for p in check_contrasts(coerce(raw, SCHEMA), _studies(["trial2"]), arms, FILES)]
    assert "contrasts.csv, row 2, column 'study_id': study 'trial1' is not in studies.csv" in found
    assert "contrasts.csv, row 2, column 'arm1_type': 'psychotherapy' in arms.csv but 'combined' here" in found


@pytest.mark.slow
def test_workflow_pools_hazard_ratios_beside_the_counts(tmp_path):
    """validate_extraction → analyse → figures on a copy of the project whose contrasts sheet is
    a fixture of hazard ratios: the reference's first three (simulated) HRs, set on three real maintenance trials
    of psychotherapy vs medication, the second printed the other way round."""
    from tests.test_workflow import copy_project, snakemake

    work = copy_project(tmp_path)
    raw = _fixture_sheet().iloc[:3].copy()
    raw["study_id"] = ["kuyken2008", "kuyken2015", "segal2010"]
    raw["arm1_type"] = raw.arm1_type.map({"combined": "psychotherapy", "medication": "medication"})
    raw["arm2_type"] = raw.arm2_type.map({"combined": "psychotherapy", "medication": "medication"})
    raw["arm1_id"] = raw.arm1_id.map({"combo": "mbct_fixture", "adm": "adm_fixture"})
    raw["arm2_id"] = raw.arm2_id.map({"combo": "mbct_fixture", "adm": "adm_fixture"})
    raw.to_csv(work / "data" / "contrasts.csv", index=False)
    proc = snakemake(work, "--configfile", "config/config.yaml", "--", "results/figures")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(work / "results" / "tables" / "summary.csv")
    hr = summary[(summary.comparison == "psychotherapy_vs_medication") & (summary.outcome == "relapse")]
    assert set(hr.measure) == {"RR", "HR"}  # beside the count-based analysis, not instead of it
    row = hr[hr.measure == "HR"].iloc[0]
    # the same three log HRs through the engine's pool (metafor-checked above), oriented as the sheet says
    from depmeta import pool

    ref = pool(np.array(REF["escalc"]["yi"][:3]), np.array(REF["escalc"]["vi"][:3]), method="REML")
    assert row.k == 3 and math.isclose(row.estimate, ref.estimate, rel_tol=RTOL)
    assert math.isclose(row.estimate_display, math.exp(ref.estimate), rel_tol=RTOL)
    per = pd.read_csv(work / "results" / "tables" / "per_study.csv")
    assert (per[(per.measure == "HR")].arms1 == "mbct_fixture").all()
    manifest = json.loads((work / "results" / "figures" / "figures.json").read_text())
    assert any(f["measure"] == "HR" and f["file"].endswith("_relapse_HR.png") for f in manifest["forest"])
    # a bad row stops validation with file, row and column
    raw.loc[1, "ci_high"] = "0.1"
    raw.to_csv(work / "data" / "contrasts.csv", index=False)
    proc = snakemake(work, "--configfile", "config/config.yaml", "--", "results/validated/contrasts.csv")
    log = (work / "logs" / "validate_extraction.log").read_text()
    assert proc.returncode != 0 and "data/contrasts.csv, row 3, column 'estimate'" in log
