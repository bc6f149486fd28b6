"""The contrasts sheet: effects reported as contrasts between two arms on any measure (OR, RR,
HR, RD, MD, SMD), with a CI at its level or an SE. Its validation (every problem by file, row and
column with the fix; the layouts it replaced named with their conversion), which analysis each
row joins (only one on its own scale; the others listed with the reason), and multi-arm trials
in the network: every pair of arms given, the arms' variances back-calculated as netmeta does,
checked against metafor's rma.mv on Linde 2016's response network
(tests/reference/linde2016_review.json, made by tests/reference/generate_linde2016_review.R).

Tolerances: RTOL = 1e-6, the project's six significant digits (the engine's REML agrees with
the polished rma.mv fit to about 1e-9); ATOL = 1e-8 for log odds ratios near 0."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from reviews import linde2016

from conftest import ROOT, load_linde2016_reference, shared_path
from depmeta.review.analysis import AnalysisOptions, analysable_reported, assemble_contrasts
from depmeta.review.networks import NetworkOptions, outcome_networks
from depmeta.review.protocol import check_protocol
from depmeta.review.sheets import effect_scale
from depmeta.review.validation import validate_group
from depmeta.stats.distributions import norm_ppf

SCHEMAS = {p.name.split(".")[0]: yaml.safe_load(p.read_text()) for p in (ROOT / "workflow" / "schemas").glob("*.yaml")}
RTOL, ATOL = 1e-6, 1e-8
STUDIES = pd.DataFrame([{"study_id": s, "label": s, "year": "2001", "age_group": "adult", "condition": "MDD",
                         "design": "acute", "risk_of_bias": "not assessed", "reference": "R", "doi": "10.1/x"}
                        for s in ("t1", "t2", "t3")])
ARMS = pd.DataFrame(columns=list(SCHEMAS["arms"]["properties"]))


def _row(**kw) -> dict:
    base = {"study_id": "t1", "arm1_id": "ssri", "arm1_type": "medication", "arm2_id": "pbo", "arm2_type": "placebo",
            "phase": "acute", "outcome": "response", "timepoint_weeks": "8", "analysis_population": "ITT",
            "n1": "50", "n2": "50", "measure": "OR", "estimate": "1.8", "ci_low": "1.1", "ci_high": "2.9",
            "source": "doi:10.1/x", "locator": "Table 2"}
    return {**base, **{k: str(v) for k, v in kw.items()}}


def _check(rows, labels=None):
    raw = {"studies": STUDIES.astype(str), "arms": ARMS, "contrasts": pd.DataFrame(rows)}
    return validate_group("extraction", raw, SCHEMAS, labels or {n: f"{n}.csv" for n in raw})


def _messages(rows) -> list[str]:
    return [str(p) for p in _check(rows).problems]


def test_a_valid_sheet_of_every_measure():
    rows = [_row(), _row(study_id="t2", measure="RR", estimate="1.3", ci_low="1.0", ci_high="1.7"),
            _row(study_id="t3", measure="RD", estimate="0.12", ci_low="", ci_high="", se="0.05"),
            _row(outcome="symptoms", measure="SMD", estimate="-0.4", ci_low="", ci_high="", se="0.2"),
            _row(outcome="symptoms", measure="MD", estimate="-2.5", ci_low="-4.1", ci_high="-0.9", ci_level="90",
                 adjustment="ANCOVA on baseline score"),
            _row(outcome="relapse", measure="HR", estimate="", ci_low="", ci_high="", log_estimate="-0.4", se="0.2",
                 followup_months="12")]
    check = _check(rows)
    assert check.ok, check.problems
    assert len(check.sheets["contrasts"]) == 6


@pytest.mark.parametrize(("edit", "expected"), [
    ({"measure": "SMD"}, "row 2, column 'measure': SMD is not a measure of response: use one of OR, RR, HR, RD"),
    ({"outcome": "symptoms"}, "row 2, column 'measure': OR is not a measure of symptoms: use one of MD, SMD"),
    ({"measure": "RD", "log_estimate": "0.2", "se": "0.1", "estimate": "", "ci_low": "", "ci_high": ""},
     "row 2, column 'log_estimate': a RD is not a ratio"),
    ({"se": "0.2"}, "row 2, column 'se': give either the CI (ci_low, ci_high) or se, not both"),
    ({"ci_low": "", "ci_high": "", "se": "0.3"}, "row 2, column 'se': se is the standard error of the log OR"),
    ({"estimate": "", "ci_low": "", "ci_high": ""}, "row 2, column 'estimate': the effect is missing: give "
                                                    "estimate, ci_low, ci_high or log_estimate, se"),
    ({"ci_high": ""}, "row 2, column 'ci_high': ci_high is missing: give the estimate's CI (ci_low, ci_high) or "
                      "its standard error in se"),
    ({"estimate": "3.5"}, "row 2, column 'estimate': the OR 3.5 must lie strictly inside its CI (1.1 to 2.9)"),
    ({"ci_low": "-1"}, "row 2, column 'ci_low': -1 is not a OR: a ratio is greater than 0"),
    ({"ci_level": "90", "ci_low": "", "ci_high": "", "estimate": "", "log_estimate": "0.5", "se": "0.2"},
     "row 2, column 'ci_level': a CI level without a CI"),
    ({"ci_level": "0.95"}, "row 2, column 'ci_level': 0.95 must be greater than 50"),
    ({"arm1_drug_class": "ssri"}, "row 2, column 'arm1_drug_class': 'ssri' is not a drug class of this review's "
                                  "protocol: write 'SSRI'"),
])
def test_a_bad_row_is_named_with_the_fix(edit, expected):
    messages = _messages([_row(**edit)])
    assert any(m.startswith("contrasts.csv, ") and expected in m for m in messages), messages


def test_a_duplicated_effect_names_its_first_row():
    messages = _messages([_row(), _row(arm1_id="pbo", arm1_type="placebo", arm2_id="ssri", arm2_type="medication",
                                       estimate="0.55", ci_low="0.35", ci_high="0.9")])
    assert messages == ["contrasts.csv, row 3, column 'arm2_id': duplicated effect: t1 pbo vs ssri, response OR at "
                        "week 8 already appears at row 2"]


def _three_arms(ab="0.3", ac="0.5", bc="0.2", rows=("ab", "ac", "bc")):
    pairs = {"ab": ("a", "b", ab, "0.30"), "ac": ("a", "c", ac, "0.31"), "bc": ("b", "c", bc, "0.29")}
    drug = {"a": "SSRI", "b": "TCA", "c": ""}
    return [_row(arm1_id=pairs[k][0], arm1_type="medication", arm2_id=pairs[k][1],
                 arm2_type="placebo" if pairs[k][1] == "c" else "medication", estimate="", ci_low="", ci_high="",
                 log_estimate=pairs[k][2], se=pairs[k][3], arm1_drug_class=drug[pairs[k][0]],
                 arm2_drug_class=drug[pairs[k][1]]) for k in rows]


def test_a_multi_arm_trial_whose_pairs_do_not_add_up_is_named_by_its_rows():
    assert _check(_three_arms()).ok
    messages = _messages(_three_arms(bc="0.25"))
    assert len(messages) == 1 and messages[0].startswith("contrasts.csv, row 2, column 'estimate': rows 2, 3, 4 give "
                                                         "every pair of t1's arms a, b, c (response, OR)")
    assert "inconsistent multi-arm estimates" in messages[0] and "netmeta's tol.multiarm" in messages[0]


def test_the_layouts_the_sheet_replaced_are_named_with_their_conversion():
    old_g = pd.DataFrame([{**_row(), "g": "-0.3", "g_se": "0.2"}]).drop(columns=["measure", "estimate"])
    problems = [str(p) for p in _check(old_g.to_dict("records")).problems]
    assert "contrasts.csv, row 1, column 'g': this is an old contrasts sheet (g, g_se): rename g to estimate and " \
           "g_se to se, and add measure SMD on every row; data/README.md, 'contrasts.csv', describes the layout" \
           in problems
    old_hr = pd.DataFrame([{**_row(), "hr": "0.6", "log_hr": "", "se_log_hr": ""}])
    problems = [str(p) for p in _check(old_hr.to_dict("records")).problems]
    assert any("column 'hr': this is a hazard-ratio sheet (hr, ci_low, ci_high): rename hr to estimate, add measure "
               "HR" in p for p in problems)
    protocol = {"sheets": {"studies": "s.csv", "arms": "a.csv", "hazard_ratios": "my/hazard_ratios.csv"}}
    assert any(p.startswith("sheets.hazard_ratios: hazard ratios are rows of the contrasts sheet (measure HR) now. "
                            "Move the rows of my/hazard_ratios.csv") for p in check_protocol(protocol))


def test_a_ci_is_turned_to_an_se_at_its_own_level():
    yi, sei = effect_scale(["OR", "MD", "SMD"], [2.0, -3.0, -0.4], [1.2, -5.0, np.nan], [3.3, -1.0, np.nan],
                           [95.0, 90.0, np.nan], [np.nan] * 3, [np.nan, np.nan, 0.2])
    assert yi[0] == math.log(2.0) and sei[0] == pytest.approx((math.log(3.3) - math.log(1.2)) / (2 * 1.959963985),
                                                              rel=1e-9)
    assert yi[1] == -3.0 and sei[1] == pytest.approx(4.0 / (2 * norm_ppf(0.95)), rel=1e-12)
    assert (yi[2], sei[2]) == (-0.4, 0.2)


def _sheets(rows, arms=None):
    from depmeta.review.sheets import coerce

    return {"arms": arms if arms is not None else ARMS, "excluded_arms": None,
            "contrasts": coerce(pd.DataFrame(rows), SCHEMAS["contrasts"])}


def test_a_row_joins_only_the_analysis_on_its_own_scale():
    rows = [_row(), _row(study_id="t2", estimate="2.0", ci_low="1.2", ci_high="3.3"),
            _row(study_id="t3", measure="RR", estimate="1.3", ci_low="1.0", ci_high="1.7")]
    as_rr = assemble_contrasts(_sheets(rows), AnalysisOptions(outcomes=("response",), binary_measure="RR"))
    assert as_rr.contrasts.study_id.tolist() == ["t3"]
    why = as_rr.unused.set_index("study_id").reason
    assert why["t1"] == "not used: a OR, and response is pooled as RR (analysis.binary_measure)"
    as_or = assemble_contrasts(_sheets(rows), AnalysisOptions(outcomes=("response",), binary_measure="OR"))
    assert as_or.contrasts.study_id.tolist() == ["t1", "t2"]
    assert as_or.contrasts.reported_yi.tolist() == pytest.approx([math.log(1.8), math.log(2.0)])
    from depmeta.review.analysis import run_meta_analyses

    summary, per_study, _ = run_meta_analyses(as_or.contrasts, {}, AnalysisOptions(
        outcomes=("response",), binary_measure="OR", comparisons=("medication_vs_control",)))
    assert summary.iloc[0].measure == "OR" and summary.iloc[0].k == 2
    assert per_study.yi_display.tolist() == pytest.approx([1.8, 2.0])


def test_a_multi_arm_trial_without_every_pair_stays_out_of_the_network_with_the_reason():
    opts = NetworkOptions(outcomes=("response",), nodes="drug_class", binary_measure="OR",
                          population_preference=("ITT",), min_studies=1)
    rows = _three_arms(rows=("ac", "bc")) + [
        _row(study_id="t2", arm1_id="x", arm2_id="y", estimate="1.5", ci_low="1.0", ci_high="2.25")]
    reported, _ = analysable_reported(_sheets(rows))
    net = outcome_networks(ARMS, reported, opts)[0]
    assert [c.study for c in net.contrasts] == ["t2"]
    why = net.exclusions.set_index("study_id").reason["t1"]
    assert why.startswith("the trial's 3 arms are not given as every pair (only a vs c, b vs c)")
    # its pairs still enter the pairwise analyses
    formed = assemble_contrasts(_sheets(rows), AnalysisOptions(outcomes=("response",), binary_measure="OR"))
    assert "t1" in set(formed.contrasts.study_id)


def test_linde2016_network_from_reported_odds_ratios_matches_rma_mv(tmp_path):
    """Linde 2016 laid out as its own review (tests/reviews/linde2016.py), validated and its response
    network fitted in process: every network OR as metafor's rma.mv on the same contrasts."""
    from depmeta.cli import validate_review
    from depmeta.review.sheets import coerce

    dataset = shared_path("datasets", "netmeta", "Linde2016.csv")
    ref = load_linde2016_reference()
    protocol = linde2016.write_review(dataset, tmp_path, folder="linde2016")
    text = protocol.read_text().replace("linde2016/", f"{tmp_path}/linde2016/")
    protocol.write_text(text)
    problems, counts = validate_review(protocol)
    assert problems == [] and counts[f"{tmp_path}/linde2016/contrasts.csv"] == 124
    config = yaml.safe_load(text)
    raw = pd.read_csv(tmp_path / "linde2016" / "contrasts.csv", dtype=str, keep_default_na=False)
    sheets = {"arms": ARMS, "excluded_arms": None, "contrasts": coerce(raw, SCHEMAS["contrasts"])}
    reported, apart = analysable_reported(sheets)
    assert not len(apart)
    opts = NetworkOptions(outcomes=("response",), nodes=config["network"]["nodes"],
                          controls=config["network"]["controls"], binary_measure="OR",
                          population_preference=("ITT", "mITT", "completers", "not reported"))
    net = outcome_networks(ARMS, reported, opts)[0]
    fit = net.fits[0]
    assert sorted(fit.treatments) == sorted(ref["nodes"]) and len(fit.studies) == ref["n_studies"]
    assert fit.tau2 == pytest.approx(ref["tau2"], rel=RTOL)
    pairs = fit.pairs_frame().set_index(["treatment1", "treatment2"])
    p = ref["pairs"]
    for t1, t2, y, se in zip(p["treatment1"], p["treatment2"], p["estimate"], p["se"]):
        assert pairs.loc[(t1, t2)].estimate == pytest.approx(y, rel=RTOL, abs=ATOL), (t1, t2)
        assert pairs.loc[(t1, t2)].se == pytest.approx(se, rel=RTOL), (t1, t2)
    # the trials with two arms in one node (two psychotherapies), listed with the reason
    assert net.exclusions.study_id.nunique() == len(ref["studies_left_out"])
    assert net.exclusions.reason.str.contains("same network node|are one network node").all()


def test_a_workbook_with_a_hazard_ratio_sheet_is_told_where_its_rows_go(tmp_path):
    from depmeta.review.reading import read_group
    from depmeta.review.validation import BOOK_SHEETS, GROUPS

    book = tmp_path / "sheets.xlsx"
    with pd.ExcelWriter(book) as writer:
        for name, frame in (("studies", STUDIES), ("arms", ARMS), ("hazard_ratios", pd.DataFrame([{"hr": 0.6}]))):
            frame.to_excel(writer, sheet_name=name, index=False)
    _, _, _, problems = read_group(GROUPS["extraction"], {"workbook": str(book)}, BOOK_SHEETS)
    assert [str(p) for p in problems] == [
        f"{book} [sheet hazard_ratios]: hazard ratios are rows of the contrasts sheet (measure HR) now: move the "
        "rows to the sheet contrasts, rename hr to estimate (or log_hr to log_estimate and se_log_hr to se), add "
        "measure HR on every row, and delete the sheet hazard_ratios; data/README.md, 'contrasts.csv', describes "
        "the layout"]
