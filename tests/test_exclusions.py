"""Arms no analysis uses (the excluded-arms sheet: CREATE's factorial margins), and
symptom rows that say where their n came from."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from depmeta.review.analysis import analysable_arms
from depmeta.review.contrasts import exclude_arms, form_contrasts
from depmeta.review.nodes import outcome_network
from depmeta.review.sheets import check_excluded_arms, check_sheet, coerce, prepare_arms, prepare_contrasts

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = {n: yaml.safe_load((ROOT / "workflow" / "schemas" / f"{n}.schema.yaml").read_text())
           for n in ("arms", "excluded_arms")}
FILES = {"excluded_arms": "excluded_arms.csv", "arms": "arms.csv"}


def _read(name):
    return pd.read_csv(ROOT / "data" / f"{name}.csv", dtype=str, keep_default_na=False)


def _arms():
    return prepare_arms(coerce(_read("arms"), SCHEMAS["arms"]))


def test_embedded_excluded_arms_sheet_is_valid():
    raw = _read("excluded_arms")
    assert check_sheet(raw, SCHEMAS["excluded_arms"], "excluded_arms.csv") == []
    assert check_excluded_arms(coerce(raw, SCHEMAS["excluded_arms"]), _arms(), FILES) == []


def test_unknown_or_repeated_excluded_arm_is_named():
    raw = _read("excluded_arms")
    raw = pd.concat([raw, raw.iloc[[0]]], ignore_index=True)
    raw.loc[1, "arm_id"] = "nosuch"
    found = [str(p) for p in check_excluded_arms(coerce(raw, SCHEMAS["excluded_arms"]), _arms(), FILES)]
    assert "excluded_arms.csv, row 3, column 'arm_id': arm lesperance2007/nosuch is not in arms.csv" in found
    last = len(raw) + 1  # the repeated first row, the sheet's last
    assert any(m.startswith(f"excluded_arms.csv, row {last}, column 'arm_id'") and "already excluded" in m
               for m in found)


def test_create_margins_mix_strategies_and_enter_no_contrast():
    arms = _arms()
    excluded = coerce(_read("excluded_arms"), SCHEMAS["excluded_arms"])
    kept, set_apart = exclude_arms(arms, excluded[excluded.outcome == ""])
    create = arms[arms.study_id == "lesperance2007"]
    assert len(create) and set(set_apart.row_ids.sum()) == set(create.row_id)
    assert (set_apart.reason.str.startswith("excluded: CREATE is a 2 x 2 factorial trial")).all()
    assert "lesperance2007" not in set(kept.study_id)
    contrasts, _ = form_contrasts(kept)
    assert "lesperance2007" not in set(contrasts.study_id)
    # the margins' mix as coded in the sheet agrees with the study sheet's cells
    studies = _read("studies").set_index("study_id")
    assert "IPT+CM+citalopram 67" in studies.at["lesperance2007", "notes"]
    assert create[create.arm_id == "citalopram"].treatment.str.contains("67 of 142 also received IPT").all()
    assert create[create.arm_id == "placebo"].treatment.str.contains("75 of 142 also received IPT").all()


def test_excluded_arms_enter_no_network_either():
    """One exclusion step for every analysis: the network reads the arms analysable_arms
    returns, so CREATE's margins (listed as used nowhere) are in no network."""
    sheets = {"arms": coerce(_read("arms"), SCHEMAS["arms"]),
              "excluded_arms": coerce(_read("excluded_arms"), SCHEMAS["excluded_arms"])}
    arms, set_apart = analysable_arms(sheets)
    assert "lesperance2007" not in set(arms.study_id) and len(set_apart)
    everything = prepare_arms(sheets["arms"])
    for outcome in ("response", "remission"):
        with_create, _ = outcome_network(everything, outcome, "RR")
        without, _ = outcome_network(arms, outcome, "RR")
        assert "lesperance2007" in {c.study for c in with_create}
        assert "lesperance2007" not in {c.study for c in without}


def test_symptom_rows_say_where_their_n_came_from():
    """A symptoms row read from a table that does not print the n behind the mean
    (a review table, an abstract) says in derived_note where its n came from."""
    arms = _read("arms")
    sym = arms[arms.outcome == "symptoms"]
    assert len(sym)
    for i, r in sym.iterrows():
        if "review table" in r.locator or r.locator.startswith("Abstract"):
            assert "n =" in r.derived_note or "n=" in r.derived_note, \
                f"arms.csv, row {i + 2}: the symptoms row's n needs its origin in derived_note"


def test_a_reported_effect_of_an_excluded_arm_enters_no_analysis():
    """The same exclusion step covers the contrasts sheet: a reported g of CREATE's citalopram
    margin is set apart with the reason, from the pairwise analyses and from the network."""
    from depmeta.review.analysis import AnalysisOptions, analysable_reported, assemble_contrasts

    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "contrasts.schema.yaml").read_text())
    reported = coerce(pd.DataFrame([{
        "study_id": "lesperance2007", "arm1_id": "citalopram", "arm1_type": "medication", "arm2_id": "placebo",
        "arm2_type": "placebo", "phase": "acute", "outcome": "symptoms", "timepoint_weeks": "12",
        "analysis_population": "ITT", "n1": "142", "n2": "142", "measure": "SMD", "estimate": "-0.33", "se": "0.12",
        "scale": "HAM-D",
        "source": "PMID:17244833", "locator": "Abstract", "notes": ""}]), schema)
    sheets = {"arms": coerce(_read("arms"), SCHEMAS["arms"]), "contrasts": reported,
              "excluded_arms": coerce(_read("excluded_arms"), SCHEMAS["excluded_arms"])}
    kept, apart = analysable_reported(sheets)
    assert not len(kept) and apart.reason.str.startswith("excluded: CREATE is a 2 x 2 factorial").all()
    assert apart.row_ids.tolist() == [["lesperance2007:citalopram-vs-placebo:symptoms:SMD:12w:ITT"]]
    formed = assemble_contrasts(sheets, AnalysisOptions(), hazard=False)
    assert "lesperance2007" not in set(formed.contrasts.study_id)
    assert "lesperance2007:citalopram-vs-placebo:symptoms:SMD:12w:ITT" in formed.unused.row_ids.sum()
    arms, _ = analysable_arms(sheets)
    with_it, _ = outcome_network(arms, "symptoms", "SMD", reported=prepare_contrasts(reported))
    without, _ = outcome_network(arms, "symptoms", "SMD", reported=kept)
    assert "lesperance2007" in {c.study for c in with_it} and "lesperance2007" not in {c.study for c in without}


def test_two_reported_effects_of_one_trial_and_comparison_give_one_estimate_everywhere():
    """Two reported g for the same two arms and outcome (two scales, or two timepoints): one is
    used, by population preference, then timepoint, then sheet order; the other is set apart with
    the row it yields to, and the pairwise and network analyses take the same one (a valid sheet,
    never an error)."""
    from depmeta.review.analysis import AnalysisOptions, analysable_reported, assemble_contrasts

    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "contrasts.schema.yaml").read_text())
    base = {"study_id": "madeup2021", "arm1_id": "cbt", "arm1_type": "psychotherapy", "arm2_id": "wl",
            "arm2_type": "waiting_list", "phase": "acute", "outcome": "symptoms", "analysis_population": "ITT",
            "n1": "40", "n2": "40", "measure": "SMD", "se": "0.23", "source": "https://example.org",
            "locator": "Table 3", "notes": ""}
    rows = [{**base, "timepoint_weeks": "8", "estimate": "-0.6", "scale": "BDI-II"},
            {**base, "timepoint_weeks": "8", "estimate": "-0.5", "scale": "HRSD"},
            {**base, "timepoint_weeks": "12", "estimate": "-0.4", "scale": "BDI-II"}]
    reported = coerce(pd.DataFrame(rows), schema)
    sheets = {"arms": coerce(_read("arms"), SCHEMAS["arms"]), "contrasts": reported,
              "excluded_arms": coerce(_read("excluded_arms"), SCHEMAS["excluded_arms"])}
    kept, apart = analysable_reported(sheets)
    assert kept.estimate.tolist() == [-0.4]  # the latest timepoint
    assert apart.sheet_row.tolist() == [2, 3]
    assert (apart.reason == "not used: another reported effect of this trial for the same arms, outcome and measure "
                            "is used (madeup2021:cbt-vs-wl:symptoms:SMD:12w:ITT, scale BDI-II)").all()
    early, apart = analysable_reported(sheets, timepoint="earliest")
    # the earliest, then the first scale of analysis.scales.priority (clinician-rated HRSD before BDI-II)
    assert early.estimate.tolist() == [-0.5] and early.scale.tolist() == ["HRSD"]
    assert "(madeup2021:cbt-vs-wl:symptoms:SMD:8w:ITT, scale HRSD)" in apart.reason.iloc[0]
    # a priority list without HRSD leaves the sheet order to decide; BDI listed first wins
    early, _ = analysable_reported(sheets, timepoint="earliest", scale_priority=("BDI",))
    assert early.estimate.tolist() == [-0.6]
    formed = assemble_contrasts(sheets, AnalysisOptions(outcomes=("symptoms",)), hazard=False)
    mine = formed.contrasts[formed.contrasts.study_id == "madeup2021"]
    assert mine.reported_yi.tolist() == [-0.4]
    arms, _ = analysable_arms(sheets)
    network, _ = outcome_network(arms, "symptoms", "SMD", reported=kept)
    assert [c.study for c in network].count("madeup2021") == 1


def test_an_outcome_outside_its_definition_is_set_apart_with_the_reason():
    """A row of the excluded-arms sheet that names an outcome sets apart only that outcome's rows of
    the arm: de Jonghe 2001's dropout counts refusal of the allocated treatment at week 0, not
    discontinuation, so its dropout rows are listed with the reason and its response rows stay."""
    from depmeta.review.analysis import AnalysisOptions, assemble_contrasts

    excluded = coerce(_read("excluded_arms"), SCHEMAS["excluded_arms"])
    sheets = {"arms": coerce(_read("arms"), SCHEMAS["arms"]), "contrasts": None, "excluded_arms": excluded}
    mine = excluded[excluded.study_id == "dejonghe2001"]
    assert set(mine.outcome) == {"dropout"} and mine.source.str.startswith("PMID:11313088").all()
    arms, apart = analysable_arms(sheets)
    dj = apart[apart.study_id == "dejonghe2001"]
    dropout = _arms().query("study_id == 'dejonghe2001' and outcome == 'dropout'")
    assert len(dropout) == 2 and set(dj.row_ids.sum()) == set(dropout.row_id)
    assert dj.reason.str.startswith("excluded: dropout here is refusal of the allocated treatment at week 0").all()
    assert set(arms[arms.study_id == "dejonghe2001"].outcome) == {"response"}
    # the CREATE margins (outcome blank) stay set apart on every outcome
    assert "lesperance2007" not in set(arms.study_id)
    # under the protocol's time frames the reason is still the definition, not the week
    formed = assemble_contrasts(sheets, AnalysisOptions.from_config(
        yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["analysis"]), hazard=False)
    unused = formed.unused[formed.unused.study_id == "dejonghe2001"]
    assert unused[unused.outcome == "dropout"].reason.str.startswith("excluded: dropout here is refusal").all()


def test_an_excluded_outcome_must_be_one_the_arm_reports():
    raw = _read("excluded_arms")
    extra = raw[raw.study_id == "dejonghe2001"].iloc[[0]].assign(outcome="remission")
    twice = raw[raw.study_id == "dejonghe2001"].iloc[[0]]
    whole = raw[raw.study_id == "dejonghe2001"].iloc[[0]].assign(outcome="")
    raw = pd.concat([raw, extra, twice, whole], ignore_index=True)
    n = len(raw)
    found = [str(p) for p in check_excluded_arms(coerce(raw, SCHEMAS["excluded_arms"]), _arms(), FILES)]
    arm = raw.arm_id.iloc[n - 3]
    assert any(m.startswith(f"excluded_arms.csv, row {n - 1}, column 'outcome': arm dejonghe2001/{arm} has no "
                            "remission rows in arms.csv; leave outcome blank") for m in found)
    assert any(m.startswith(f"excluded_arms.csv, row {n}, column 'arm_id'") and "already excluded" in m
               for m in found)
    # a whole arm and one of its outcomes: the outcome row says nothing more
    assert any(m.startswith(f"excluded_arms.csv, row {n + 1}, column 'arm_id'") and "already excluded" in m
               for m in found)
