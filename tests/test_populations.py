"""The protocol's populations (analysis.populations): the primary population's trials in every
analysis through the one exclusion step, the others listed with the reason, each stratum pooled on
its own, and a protocol that does not say pooling every age as before."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml

from depmeta.review.analysis import (
    AnalysisOptions,
    analysable_arms,
    analysable_reported,
    assemble_contrasts,
    pooled_summary,
    stratum_analyses,
)
from depmeta.review.populations import Populations, populations_problems
from depmeta.review.protocol import check_protocol
from depmeta.review.sheets import coerce

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("studies", "arms", "contrasts", "excluded_arms")
SCHEMAS = {n: yaml.safe_load((ROOT / "workflow" / "schemas" / f"{n}.schema.yaml").read_text()) for n in NAMES}
EMBEDDED = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
STRATA = Populations(("adult", "older_adult"), {"adolescents": ("adolescent",)})
REASON = "adolescents: analysed as their own stratum (analysis.populations)"


@pytest.fixture(scope="module")
def sheets():
    return {n: coerce(pd.read_csv(ROOT / "data" / f"{n}.csv", dtype=str, keep_default_na=False), SCHEMAS[n])
            for n in NAMES}


@pytest.fixture(scope="module")
def young(sheets):
    s = sheets["studies"]
    ids = set(s.study_id[s.age_group == "adolescent"])
    assert ids, "the embedded study sheet has adolescent trials"
    return ids


def test_the_embedded_protocol_makes_adults_primary_and_adolescents_a_stratum():
    opts = AnalysisOptions.from_config(EMBEDDED["analysis"])
    assert opts.populations == STRATA
    assert opts.record()["populations"] == {"primary": ["adult", "older_adult"],
                                            "strata": {"adolescents": ["adolescent"]}}


def test_the_default_pools_every_age_group():
    default = AnalysisOptions.from_config({})
    assert default.populations == Populations() and set(default.populations.primary) == set(SCHEMAS["studies"][
        "properties"]["age_group"]["enum"])
    assert Populations().study_reasons(pd.DataFrame({"study_id": ["a"], "age_group": ["adolescent"]})) == {}


def test_trials_outside_the_primary_population_are_listed_with_the_reason(sheets, young):
    everyone, apart_all = analysable_arms(sheets)
    arms, apart = analysable_arms(sheets, populations=STRATA)
    assert young & set(everyone.study_id) and not young & set(arms.study_id)
    mine = apart[apart.study_id.isin(young)]
    # every arm row of every adolescent trial, once, with its stratum as the reason
    n_rows = int(sheets["arms"].study_id.isin(young).sum())
    assert len(mine) == n_rows and set(mine.reason) == {REASON} and set(mine.sheet) == {"arms"}
    assert len(everyone) == len(arms) + n_rows - int(apart_all.study_id.isin(young).sum())


def test_a_reported_effect_of_a_stratum_is_set_apart_too(sheets, young):
    sid = sorted(young)[0]
    arms = sheets["arms"][sheets["arms"].study_id == sid]
    pair = arms.arm_id.iloc[:2].tolist()
    reported = coerce(pd.DataFrame([{
        "study_id": sid, "arm1_id": pair[0], "arm1_type": arms.arm_type.iloc[0], "arm2_id": pair[1],
        "arm2_type": arms.arm_type.iloc[1], "phase": "acute", "outcome": "symptoms", "timepoint_weeks": "12",
        "analysis_population": "ITT", "n1": "50", "n2": "50", "measure": "SMD", "estimate": "-0.3", "se": "0.2",
        "scale": "CDRS-R", "source": "PMID:1", "locator": "Table 2", "notes": ""}]), SCHEMAS["contrasts"])
    with_it = {**sheets, "contrasts": reported}
    kept, apart = analysable_reported(with_it, populations=STRATA)
    assert not len(kept) and apart.reason.tolist() == [REASON] and apart.sheet.tolist() == ["contrasts"]
    assert len(analysable_reported(with_it)[0]) == 1


def test_primary_and_stratum_analyses_take_their_own_trials(sheets, young):
    opts = replace(AnalysisOptions.from_config(EMBEDDED["analysis"]), populations=STRATA)
    formed = assemble_contrasts(sheets, opts)
    assert not young & set(formed.contrasts.study_id)
    assert set(formed.unused.reason[formed.unused.study_id.isin(young)]) == {REASON}
    strata = stratum_analyses(sheets, opts)
    assert list(strata.columns[:2]) == ["stratum", "comparison"] and set(strata.stratum) == {"adolescents"}
    used = {s for ids in strata.studies for s in ids.split(";") if s}
    assert used and used <= young
    # the stratum's estimates are those of its trials pooled on their own
    alone = assemble_contrasts(sheets, replace(opts, populations=Populations(("adolescent",))))
    expected = pooled_summary(alone.contrasts, opts)
    pd.testing.assert_frame_equal(strata.drop(columns="stratum"), expected)
    assert stratum_analyses(sheets, replace(opts, populations=Populations())).empty


@pytest.mark.parametrize("section, message", [
    ({"primary": ["adult", "adolescent"], "strata": {"adolescents": ["adolescent"]}},
     "age group adolescent is in primary and strata.adolescents"),
    ({"primary": ["adult"], "strata": {"young": ["adolescent"], "teens": ["adolescent"]}},
     "age group adolescent is in strata.young and strata.teens"),
])
def test_an_age_group_is_named_once(section, message):
    (problem,) = populations_problems(section)
    assert message in problem and "name each age group once" in problem
    config = {**EMBEDDED, "analysis": {**EMBEDDED["analysis"], "populations": section}}
    assert any(message in p for p in check_protocol(config))
    with pytest.raises(ValueError, match="name each age group once"):
        Populations.from_config(section)


def test_an_age_group_in_no_population_says_so():
    pops = Populations(("adult",), {"adolescents": ("adolescent",)})
    assert pops.reason("older_adult") == ("age group older_adult is in no population of the protocol: the primary "
                                          "population is adults (analysis.populations)")
    assert pops.reason("adult") is None and pops.reason("adolescent") == REASON
