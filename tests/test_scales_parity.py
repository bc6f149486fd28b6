"""Averaging a trial's SMDs over several scales (analysis.scales.rule ``average``) against
metafor 3.8-1's ``aggregate.escalc(struct = "CS", rho, weighted = TRUE)``: reference
tests/reference/scales.json, made by tests/reference/generate_scales.R.

Tolerance: RTOL = 1e-10 (closed forms on both sides; what is left is the order of floating-point
summation in escalc and in the 2x2 or 3x3 solve)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from depmeta import escalc
from depmeta.stats.effects import aggregate_correlated

RTOL = 1e-10
REF = json.loads((Path(__file__).parent / "reference" / "scales.json").read_text())


def _effects():
    d = REF["data"]
    es = escalc("SMD", m1i=d["m1i"], sd1i=d["sd1i"], n1i=d["n1i"], m2i=d["m2i"], sd2i=d["sd2i"], n2i=d["n2i"])
    return np.asarray(d["trial"]), es


def test_smds_as_metafor():
    _, es = _effects()
    np.testing.assert_allclose(es.yi, REF["yi"], rtol=RTOL)
    np.testing.assert_allclose(es.vi, REF["vi"], rtol=RTOL)


@pytest.mark.parametrize("agg", REF["aggregated"], ids=lambda a: f"rho{a['rho']}")
def test_average_as_metafor_aggregate(agg):
    trial, es = _effects()
    for t, y_ref, v_ref in zip(agg["trial"], agg["yi"], agg["vi"]):
        at = trial == t
        y, v = aggregate_correlated(es.yi[at], es.vi[at], agg["rho"])
        assert y == pytest.approx(y_ref, rel=RTOL) and v == pytest.approx(v_ref, rel=RTOL)


def test_average_refuses_what_metafor_refuses():
    with pytest.raises(ValueError, match="rho must lie in"):
        aggregate_correlated([0.1, 0.2], [0.04, 0.05], 1.0)
    with pytest.raises(ValueError, match="positive"):
        aggregate_correlated([0.1, 0.2], [0.04, 0.0], 0.5)
