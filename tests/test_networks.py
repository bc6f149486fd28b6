"""The review's network loop (depmeta.review.networks): one loop per outcome, the rows set apart
listed, a network too small named with the reason, the reference node chosen as configured or by
the fallback, and the tables' columns."""

from __future__ import annotations

import pandas as pd
import pytest
from test_network import TYPED, _typed_arms

from depmeta.review.networks import (
    ESTIMATE_COLUMNS,
    SUMMARY_COLUMNS,
    NetworkOptions,
    network_record,
    network_tables,
    outcome_networks,
)

OPTS = NetworkOptions(outcomes=("response", "remission"), nodes="therapy_type", controls="merged", method="REML",
                      reference="control")


def test_one_network_per_outcome_with_its_tables():
    arms = _typed_arms(TYPED)
    set_apart = pd.DataFrame({"study_id": ["t9"], "row_ids": [["t9:x:response:12w:ITT"]], "sheet": ["arms"],
                              "sheet_row": [99], "comparison": [""], "outcome": ["response"],
                              "reason": ["excluded: a factorial margin"]})
    nets = outcome_networks(arms, None, OPTS, set_apart)
    response, remission = nets
    assert response.fits and response.reference == "control" and not response.why
    assert not remission.fits and remission.why.startswith("not analysed: 0 usable studies")
    tables = network_tables(nets, OPTS.method)
    assert list(tables["estimates"].columns) == ESTIMATE_COLUMNS
    assert list(tables["summary"].columns) == SUMMARY_COLUMNS
    assert tables["summary"].outcome.tolist() == ["response", "remission"]
    excl = tables["exclusions"]
    assert excl[excl.outcome == "response"].reason.tolist() == ["excluded: a factorial margin"]
    assert set(tables["ranking"].treatment) == set(response.nodes)
    record = network_record(response)
    assert record["reference"] == "control" and set(record["input_rows"]) == {c.study for c in response.contrasts}


@pytest.mark.parametrize("reference, controls, expected", [
    ("psychotherapy:IPT", "merged", "psychotherapy:IPT"), ("nosuch", "merged", "control"),
    ("control", "separate", "placebo")])
def test_reference_as_configured_else_control(reference, controls, expected):
    opts = NetworkOptions(outcomes=("response",), nodes="therapy_type", controls=controls, reference=reference)
    (net,) = outcome_networks(_typed_arms(TYPED), None, opts)
    assert net.reference == expected


def test_too_few_studies_lists_them_with_the_reason():
    opts = NetworkOptions(outcomes=("response",), nodes="strategy", min_studies=50)
    (net,) = outcome_networks(_typed_arms(TYPED), None, opts)
    assert not net.fits and "min_studies is 50" in net.why
    listed = net.exclusions[net.exclusions.reason == net.why]
    assert set(listed.study_id) == {c.study for c in net.contrasts}


def test_estimates_name_the_trials_of_their_network():
    nets = outcome_networks(_typed_arms(TYPED), None, OPTS)
    est = network_tables(nets, OPTS.method)["estimates"]
    assert (est.n_network_studies == len(nets[0].fits[0].studies)).all()
