"""Every table under results/ has a schema (workflow/schemas/results/): one dictionary of
columns, each with one type and, for effect sizes, one scale, and one file per table listing
its columns in order; the workflow's writer conforms each table to it and its reader checks
the header."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
from pipeline_io import RESULT_SCHEMAS, conform_table, read_table, result_columns, table_schema, write_csv  # noqa: E402

TYPES = {"string", "number", "integer", "boolean"}
SCALES = {"analysis", "display"}
TABLES = sorted(RESULT_SCHEMAS.rglob("*.schema.yaml"))


def test_every_column_has_one_type_one_scale_and_a_description():
    columns = result_columns()
    for name, spec in columns.items():
        assert spec["type"] in TYPES, name
        assert spec.get("scale", "analysis") in SCALES, name
        assert spec.get("description", "").strip(), name
        assert set(spec) <= {"type", "scale", "description"}, name


@pytest.mark.parametrize("path", TABLES, ids=lambda p: str(p.relative_to(RESULT_SCHEMAS)))
def test_table_schemas_list_known_columns_once(path):
    schema = yaml.safe_load(path.read_text())
    cols = schema["columns"]
    assert schema["description"].strip() and len(cols) == len(set(cols))
    assert set(cols) <= set(result_columns()), sorted(set(cols) - set(result_columns()))
    assert set(schema.get("key", [])) <= set(cols)
    assert set(schema.get("notes", {})) <= set(cols)
    assert set(schema.get("optional", [])) <= set(cols)


def test_every_dictionary_column_is_used():
    used = {c for p in TABLES for c in yaml.safe_load(p.read_text())["columns"]}
    assert set(result_columns()) <= used, sorted(set(result_columns()) - used)


def test_no_column_means_two_scales():
    """A column whose name says one scale holds it in every table: no open conflicts."""
    assert not (RESULT_SCHEMAS / "CONFLICTS.md").exists(), (RESULT_SCHEMAS / "CONFLICTS.md").read_text()


def test_writer_conforms_and_refuses(tmp_path):
    path = tmp_path / "results" / "tables" / "summary.csv"
    path.parent.mkdir(parents=True)
    cols = table_schema(str(path))["columns"]
    frame = pd.DataFrame({"comparison": ["combined_vs_medication"], "outcome": ["response"], "k": [3]})
    out = conform_table(frame, str(path))
    assert list(out.columns) == cols and out.k.tolist() == [3] and out.drop(columns=["comparison", "outcome", "k"]
                                                                            ).isna().all().all()
    with pytest.raises(ValueError, match="columns not in its schema: \\['nosuch'\\]"):
        conform_table(frame.assign(nosuch=1), str(path))
    with pytest.raises(ValueError, match="wrong type in k \\(integer\\)"):
        conform_table(frame.assign(k=[2.5]), str(path))
    with pytest.raises(ValueError, match="wrong type in comparison \\(string\\)"):
        conform_table(frame.assign(comparison=[1.0]), str(path))
    write_csv(str(path), frame.assign(row_ids=[["a:1", "b:2"]]))
    back = read_table(str(path))
    assert list(back.columns) == cols and back.row_ids.tolist() == ["a:1;b:2"]
    path.write_text("comparison,outcome\nx,y\n")
    with pytest.raises(ValueError, match="not those of its schema"):
        read_table(str(path))


def test_optional_columns_are_written_only_when_present(tmp_path):
    path = tmp_path / "results" / "tables" / "contrasts.csv"
    frame = pd.DataFrame({"study_id": ["s1"], "comparison": ["combined_vs_medication"]})
    assert "reported_yi" not in conform_table(frame, str(path)).columns
    assert list(conform_table(frame.assign(reported_measure=["SMD"], reported_yi=[0.3], reported_se=[0.1],
                                                  inverted=[False]), str(path)).columns).index(
        "reported_se") == table_schema(str(path))["columns"].index("reported_se")


def test_a_table_without_a_schema_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="every results table needs a schema"):
        table_schema(str(tmp_path / "results" / "tables" / "nosuch.csv"))


@pytest.mark.slow
def test_every_table_of_a_run_has_its_schema(workflow_run):
    tables = [p for p in (workflow_run / "results").rglob("*.csv*")]
    assert tables
    for p in tables:
        schema = table_schema(str(p))
        df = pd.read_csv(p)
        optional = set(schema.get("optional", []))
        assert list(df.columns) == [c for c in schema["columns"] if c in df.columns or c not in optional], p
        if "validated" in p.parts:
            continue
        columns = result_columns()
        for c in df.columns:
            values = df[c].dropna()
            if len(values) and columns[c]["type"] in ("number", "integer"):
                assert pd.api.types.is_numeric_dtype(values), (p, c)
                if columns[c]["type"] == "integer":
                    assert np.all(np.mod(values.to_numpy(float), 1) == 0), (p, c)
