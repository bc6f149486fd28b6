"""The Metapsy database: reading (';', decimal commas, NA), codebook checks, the
psychotherapy-vs-control contrasts and analyses (parity with metafor on the shared
copy), release resolution with a fake fetcher (never the network), and the rule
end to end with ``metapsy.enabled: true``.

Reference: tests/reference/metapsy.json, made by tests/reference/generate_metapsy.R
(metafor ``rma(yi = -.g, sei = .g_se, method = "REML")``, tol 1e-12) on
../shared/datasets/metapsy/depression-psyctr.csv. Tolerances: RTOL = 1e-6 (six
significant digits), ATOL = 1e-8 for quantities near zero.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from depmeta.review.metapsy import INDEX_URL, MetapsyError, analyse_metapsy, metapsy_contrasts, resolve_release
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
from pipeline_io import read_metapsy  # noqa: E402

REF = json.loads((ROOT / "tests" / "reference" / "metapsy.json").read_text())
RTOL, ATOL = 1e-6, 1e-8
FIELDS = {"k": "k", "estimate": "estimate", "se": "se", "ci_low": "ci_lb", "ci_high": "ci_ub", "tau2": "tau2",
          "i2": "i2", "q": "q", "pi_low": "pi_lb", "pi_high": "pi_ub"}
CODES = {"cau": "usual_care", "wl": "waiting_list", "other ctr": "other_control"}


@pytest.fixture(scope="module")
def shared():
    data = shared_path("datasets", "metapsy", "depression-psyctr.csv")
    codebook = json.loads(data.with_suffix(".variables.json").read_text(encoding="utf-8"))
    return data, read_metapsy(str(data)), codebook


def _check(row, ref):
    for ours, theirs in FIELDS.items():
        assert math.isclose(row[ours], ref[theirs], rel_tol=RTOL, abs_tol=ATOL), (row.group, ours)


def test_shared_copy_parses_to_900_comparisons_not_lines(shared):
    data, df, codebook = shared
    # 941 lines, but 40 references run over two lines inside their quotes: 900 records
    assert sum(1 for _ in open(data, encoding="utf-8")) == 941
    assert len(df) == REF["rows"] == 900
    assert df[".g"].dtype.kind == "f" and df["sd_arm1"].dtype.kind == "f"  # decimal commas parsed
    assert df["mean_change_arm1"].isna().any()  # NA as missing


def test_analyses_match_metafor_on_the_shared_copy(shared):
    _, df, codebook = shared
    contrasts, unusable, notes = metapsy_contrasts(df, codebook, "depression-psyctr.csv")
    assert len(contrasts) == 900 and not len(unusable)
    np.testing.assert_allclose(contrasts.g, -df[".g"].to_numpy())  # this project's sign
    out = analyse_metapsy(contrasts, {"method": "REML", "test": "z"})  # the reference is metafor's default z
    _check(out[out.analysis == "overall"].iloc[0], REF["overall"])
    for code, ref in REF["control_type"].items():
        _check(out[(out.analysis == "control type") & (out.group == CODES[code])].iloc[0], ref)
    for code, ref in REF["therapy_type"].items():
        _check(out[(out.analysis == "therapy type") & (out.group == code)].iloc[0], ref)
    _check(out[out.analysis == "low risk of bias"].iloc[0], REF["low_rob"])
    knha = analyse_metapsy(contrasts, {"method": "REML", "test": "knha"})
    _check(knha[knha.analysis == "overall"].iloc[0], REF["overall_knha"])
    # the three ba = 2 rows (a value the codebook does not define) are noted, not dropped
    assert any(n.startswith("column 'ba': value '2'") and "row(s) 893, 894, 895;" in n for n in notes)


CODEBOOK = {c: c for c in ("study", "condition_arm1", "condition_arm2", ".g", ".g_se", "sg", "ac", "ba", "itt", "rob",
                           "n_arm1", "n_arm2", ".id")}


def _tiny(edits=None):
    df = pd.DataFrame({"": ["1", "2", "3"], "study": ["A, 2001", "A, 2001", "B, 2002"],
                       "condition_arm1": ["cbt", "ipt", "cbt"], "condition_arm2": ["wl", "wl", "cau"],
                       ".g": [0.5, 0.7, 0.2], ".g_se": [0.2, 0.25, 0.1], "sg": [1, 1, 0], "ac": [1, 0, 0],
                       "ba": ["sr", "1", "0"], "itt": [1, 1, 0], "rob": [4, 3, 0], "n_arm1": [20, 21, 50],
                       "n_arm2": [20, 20, 48], ".id": ["a", "b", "c"]})
    for (col, i), value in (edits or {}).items():
        df[col] = df[col].astype(object)
        df.loc[i, col] = value
    return df


def test_bad_cells_are_named_with_file_row_and_column():
    with pytest.raises(MetapsyError) as err:
        metapsy_contrasts(_tiny({(".g", 1): "big", (".g_se", 2): 0.0}), CODEBOOK, "db.csv")
    text = str(err.value)
    assert "db.csv: row 2 (row id 2), column '.g': 'big' is not a number" in text
    assert "db.csv: row 3 (row id 3), column '.g_se': 0 must be greater than 0" in text
    with pytest.raises(MetapsyError, match=r"db.csv: column '.g_se': required column is missing"):
        metapsy_contrasts(_tiny().drop(columns=".g_se"), CODEBOOK, "db.csv")
    with pytest.raises(MetapsyError, match=r"column 'rob': not described in the codebook"):
        metapsy_contrasts(_tiny(), {k: v for k, v in CODEBOOK.items() if k != "rob"}, "db.csv")


def test_non_control_comparator_is_listed_not_dropped_and_off_codebook_values_noted():
    contrasts, unusable, notes = metapsy_contrasts(
        _tiny({("condition_arm2", 2): "pha", ("sg", 0): 7}), CODEBOOK, "db.csv"
    )
    assert list(contrasts.row_id) == ["metapsy:1", "metapsy:2"]
    assert unusable.row_id.tolist() == ["metapsy:3"] and "'pha' is not a control condition" in unusable.reason[0]
    assert any(n.startswith("column 'sg': value '7'") and "row(s) 1;" in n for n in notes)
    assert contrasts.control_type.tolist() == ["waiting_list", "waiting_list"]


def test_subgroups_and_the_hook_for_further_analyses():
    contrasts, _, _ = metapsy_contrasts(_tiny(), CODEBOOK, "db.csv")

    def one_per_study(c, opts):
        return [{"analysis": "extra", "group": "x", "k": c.study_id.nunique(), "status": "not pooled"}]

    out = analyse_metapsy(contrasts, {"method": "DL", "min_studies": 2}, extra=[one_per_study])
    assert out.analysis.tolist() == ["overall", "control type", "control type", "therapy type", "therapy type",
                                     "low risk of bias", "extra"]
    cau = out[(out.analysis == "control type") & (out.group == "usual_care")].iloc[0]
    assert cau.status == "not pooled" and "1 comparison(s)" in cau.reason
    assert out.iloc[-1].k == 2
    low = out[out.analysis == "low risk of bias"].iloc[0]
    assert low.k == 2  # rob 4 and 3; rob 0 out


def test_reader_handles_semicolons_decimal_commas_na_and_line_breaks(tmp_path):
    f = tmp_path / "db.csv"
    f.write_text('"";"study";".g";"full_ref"\n"1";"A, 2001";0,5;"Line one\nline two"\n"2";"B, 2002";NA;""\n',
                 encoding="utf-8")
    df = read_metapsy(str(f))
    assert len(df) == 2 and df[".g"].iloc[0] == 0.5 and np.isnan(df[".g"].iloc[1])
    assert df.full_ref.iloc[0] == "Line one\nline two" and df.full_ref.iloc[1] == ""


class FakeWeb:
    """Answers the two queries of resolve_release from canned text; records the URLs."""

    INDEX = (
        "shorthand;repo;url;doi\ndepression-psyctr;data-depression-psyctr;depression-psyctr;10.5281/zenodo.7254845\n"
    )
    RECORDS = {"hits": {"hits": [
        {"doi": "10.5281/zenodo.2", "metadata": {"version": "24.0.1", "publication_date": "2024-03-01"}},
        {"doi": "10.5281/zenodo.3", "metadata": {"version": "25.0.0", "publication_date": "2025-08-29"}},
        {"doi": "10.5281/zenodo.1", "metadata": {"version": "23.0.0", "publication_date": "2023-01-10"}},
    ]}}

    def __init__(self):
        self.urls = []

    def __call__(self, url):
        self.urls.append(url)
        if url == INDEX_URL:
            return self.INDEX
        assert url.startswith("https://zenodo.org/api/records?") and 'conceptdoi:"10.5281/zenodo.7254845"' in url
        return json.dumps(self.RECORDS)


def test_release_resolution_latest_and_named_version_with_a_fake_fetcher():
    web = FakeWeb()
    rel = resolve_release("depression-psyctr", "latest", web)
    assert (rel.version, rel.version_doi) == ("25.0.0", "10.5281/zenodo.3")
    assert rel.data_url == "https://raw.githubusercontent.com/metapsy-project/data-depression-psyctr/25.0.0/data.csv"
    assert rel.variables_url.endswith("/data-depression-psyctr/25.0.0/metadata/variable_description.json")
    assert "access_token" not in " ".join(web.urls)
    assert resolve_release("depression-psyctr", "24.0.1", FakeWeb()).version_doi == "10.5281/zenodo.2"
    with pytest.raises(ValueError, match="shorthand 'nope' not in the data index"):
        resolve_release("nope", "latest", FakeWeb())
    with pytest.raises(
        ValueError, match="version '9.9' of 'depression-psyctr' not found; released: 24.0.1, 25.0.0, 23.0.0"
    ):
        resolve_release("depression-psyctr", "9.9", FakeWeb())


@pytest.mark.slow
def test_rule_runs_end_to_end_on_the_shared_copy(tmp_path):
    from tests.test_workflow import copy_project, snakemake

    data = shared_path("datasets", "metapsy", "depression-psyctr.csv")
    work = copy_project(tmp_path)
    cfg = work / "metapsy_config.yaml"
    cfg.write_text(f"metapsy:\n  enabled: true\n  path: {data}\n  variables: ''\n  shorthand: depression-psyctr\n"
                   "  version: latest\n")
    proc = snakemake(work, "--configfile", "config/config.yaml", str(cfg), "--", "results/metapsy/metapsy.json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(work / "results" / "metapsy" / "summary.csv")
    _check(summary[summary.analysis == "overall"].iloc[0], REF["overall_knha"])  # the protocol's Knapp-Hartung
    meta = json.loads((work / "results" / "metapsy" / "metapsy.json").read_text())
    assert (meta["rows"], meta["usable"], meta["version"]) == (900, 900, "local copy")
    assert not (work / "resources").exists()  # a local copy: nothing downloaded
