"""File I/O shared by the workflow's scripts: logging, hashing, JSON/CSV writing, reading the
result tables. Reading the review's sheets is :mod:`depmeta.review.reading` (re-exported here);
the statistics live in the ``depmeta`` package (src/)."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from depmeta.review.reading import read_sheet  # noqa: F401 (the scripts' reader of sheets)

PACKAGES = ("depmeta", "numpy", "scipy", "pandas", "statsmodels", "pymare", "matplotlib", "snakemake")


def setup_logging(log_path: str) -> logging.Logger:
    """Log to the rule's log file and to stderr; errors to the log file only: when a run fails,
    the workflow prints them once, as its last lines (``onerror`` in workflow/Snakefile)."""
    logger = logging.getLogger("depmeta.workflow")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.addFilter(lambda record: record.levelno < logging.ERROR)
    for handler in (logging.FileHandler(log_path, mode="w"), to_stderr):
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    return logger


def read_metapsy(path: str) -> pd.DataFrame:
    """A Metapsy-standard database: ``;`` separated, decimal commas, ``NA`` for
    missing (and nothing else: an empty cell stays empty text). Fields may hold
    line breaks (quoted references), so records, not lines, are rows."""
    return pd.read_csv(path, sep=";", decimal=",", na_values=["NA"], keep_default_na=False, encoding="utf-8")


def read_validated(inputs, names, schema_dir) -> dict[str, pd.DataFrame]:
    """Validated sheets (``inputs[name]``) read back with their schema's types
    (:func:`depmeta.review.sheets.coerce` on ``schema_dir/NAME.schema.yaml``)."""
    from depmeta.review.sheets import coerce

    return {
        name: coerce(read_sheet(inputs[name]), yaml.safe_load((Path(schema_dir) / f"{name}.schema.yaml").read_text()))
        for name in names
    }


#: The result tables' schemas: ``columns.yaml`` describes every column once (type, scale,
#: meaning); one ``<table>.schema.yaml`` per table, at the table's path under ``results/``,
#: lists its columns in order (tests/test_result_schemas.py).
RESULT_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "results"


@functools.cache
def result_columns() -> dict:
    """The column dictionary of the result tables (``columns.yaml``)."""
    return yaml.safe_load((RESULT_SCHEMAS / "columns.yaml").read_text())


def table_schema(path: str) -> dict:
    """The schema of the results table at ``path`` (``.../results/<dir>/<name>.csv[.gz]``)."""
    parts = Path(path).parts
    if "results" not in parts:
        raise ValueError(f"{path} is not a table under results/")
    at = len(parts) - 1 - parts[::-1].index("results")
    rel = Path(*parts[at + 1:])
    name = rel.name.split(".")[0]
    if rel.parent == Path("validated"):  # a validated sheet: its sheet schema's columns, in order
        sheet = yaml.safe_load((RESULT_SCHEMAS.parent / f"{name}.schema.yaml").read_text())
        return {"description": sheet.get("description", ""), "columns": list(sheet["properties"])}
    schema = RESULT_SCHEMAS / rel.parent / (name + ".schema.yaml")
    if not schema.exists():
        raise FileNotFoundError(f"{path}: every results table needs a schema, and {schema} does not exist")
    return yaml.safe_load(schema.read_text())


def conform_table(df: pd.DataFrame, path: str) -> pd.DataFrame:
    """``df`` with its schema's columns in the schema's order (a column the frame lacks is
    added empty, except the schema's ``optional`` columns, written only when present), after
    checking that it has no column the schema does not list and that each column's values
    have the column's type; ``ValueError`` naming the table and the columns."""
    schema, columns = table_schema(path), result_columns()
    unknown = [c for c in df.columns if c not in schema["columns"]]
    if unknown:
        raise ValueError(f"{path}: columns not in its schema: {unknown}")
    optional = set(schema.get("optional", []))
    out = df.reindex(columns=[c for c in schema["columns"] if c in df.columns or c not in optional])
    bad = [f"{c} ({columns[c]['type']})" for c in out.columns if not _has_type(out[c], columns[c]["type"])]
    if bad:
        raise ValueError(f"{path}: values of the wrong type in {', '.join(bad)}")
    return out


def _has_type(col: pd.Series, kind: str) -> bool:
    values = col[col.notna()]
    if not len(values):
        return True
    if kind == "string":
        return not pd.api.types.is_numeric_dtype(values)
    if kind == "boolean":
        return pd.api.types.is_bool_dtype(values) or set(values.map(type)) <= {bool, np.bool_}
    if pd.api.types.is_bool_dtype(values):
        return False
    if not pd.api.types.is_numeric_dtype(values):
        # an object column of numbers (e.g. 0-d arrays from numpy) is a numeric column
        if not all(_is_number(v) for v in values):
            return False
        values = pd.Series([float(v) for v in values])
    return kind == "number" or bool(np.all(np.mod(values.to_numpy(float), 1) == 0))


def _is_number(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and np.issubdtype(value.dtype, np.number)
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def read_table(path: str) -> pd.DataFrame:
    """A results table, its header checked against the table's schema; an empty file (a table
    with no rows) as an empty DataFrame."""
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    schema = table_schema(path)
    optional = set(schema.get("optional", []))
    expected = [c for c in schema["columns"] if c in df.columns or c not in optional]
    if list(df.columns) != expected:
        raise ValueError(f"{path}: the columns are not those of its schema (got {list(df.columns)}, "
                         f"expected {expected}); run the workflow again")
    return df


def sha256(path: str) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict:
    """Python and package versions of this run."""
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_clean(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if obj is pd.NA:
        return None
    return obj


def write_json(path: str, obj) -> None:
    """JSON with NaN/inf written as null (valid JSON), sorted keys."""
    Path(path).write_text(json.dumps(_clean(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_csv(path: str, df: pd.DataFrame, **to_csv) -> None:
    """A results table as CSV, conformed to its schema (:func:`conform_table`); list-valued
    cells (row ids) joined with ';'."""
    out = df.copy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, (list, tuple))).any():
            out[col] = out[col].map(lambda v: ";".join(v) if isinstance(v, (list, tuple)) else v)
    conform_table(out, path).to_csv(path, index=False, **to_csv)


#: PNG metadata of every figure: no Software version (nor any date), so that two runs
#: write byte-identical files.
PNG_METADATA = {"Software": None}


#: resolution of every figure, and the margin kept around its drawn content (matplotlib's
#: savefig.pad_inches default, as ``bbox_inches="tight"`` keeps)
PNG_DPI = 150
PNG_PAD_INCHES = 0.1
#: zlib level of the PNGs: on this project's figures level 3 gives files as small as the
#: default (6) in 60% of its encoding time
PNG_COMPRESS_LEVEL = 3


def figure_defaults() -> None:
    """Make figures at the resolution they are saved at (:data:`PNG_DPI`), so that their
    layout (``tight_layout``) and their drawing measure text alike, once."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["figure.dpi"] = PNG_DPI


def save_png(fig, path) -> None:
    """Write a matplotlib figure as a PNG the same way in every rule (150 dpi, cropped to
    its drawn content, no varying metadata) and close it.

    ``savefig(bbox_inches="tight")`` lays the figure out twice (once to measure, once to
    draw), and its text layout, most of a forest plot's cost, is not reused between the
    two. Here the figure is drawn once, its tight box is measured on that same renderer
    (text sizes cached), and the pixels are cropped to the box plus the margin. Where
    something is drawn outside the canvas (the box reaches past it), cropping cannot
    reach it: then the figure goes through savefig's tight box as before."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    try:
        fig.set_dpi(PNG_DPI)
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        canvas.draw()
        box = fig.get_tightbbox(canvas.get_renderer())
        width, height = fig.get_size_inches()
        if box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height:
            fig.savefig(path, dpi=PNG_DPI, bbox_inches="tight", metadata=PNG_METADATA,
                        pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
            return
        box = box.padded(PNG_PAD_INCHES)
        pixels = np.asarray(canvas.buffer_rgba())
        rows, cols = pixels.shape[:2]
        # inches from the bottom left -> pixel rows from the top; the margin may reach past
        # the canvas, where it is the figure's background, as savefig draws it
        left, right = math.floor(box.x0 * PNG_DPI), math.ceil(box.x1 * PNG_DPI)
        top, bottom = rows - math.ceil(box.y1 * PNG_DPI), rows - math.floor(box.y0 * PNG_DPI)
        out = np.empty((bottom - top, right - left, 4), np.uint8)
        out[:] = np.round(np.asarray(fig.get_facecolor()) * 255)
        out[max(-top, 0):max(-top, 0) + min(bottom, rows) - max(top, 0),
            max(-left, 0):max(-left, 0) + min(right, cols) - max(left, 0)] = \
            pixels[max(top, 0):min(bottom, rows), max(left, 0):min(right, cols)]
        Image.fromarray(out, "RGBA").save(
            path, format="png", dpi=(PNG_DPI, PNG_DPI), compress_level=PNG_COMPRESS_LEVEL)
    finally:
        plt.close(fig)
