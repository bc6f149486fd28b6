"""File I/O shared by the workflow's scripts: logging, sheet reading, hashing,
JSON/CSV writing. The statistics live in the ``depmeta`` package (src/)."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

PACKAGES = ("depmeta", "numpy", "scipy", "pandas", "statsmodels", "pymare", "matplotlib", "snakemake")


def setup_logging(log_path: str) -> logging.Logger:
    """Log to the rule's log file and to stderr."""
    logger = logging.getLogger("depmeta.workflow")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    for handler in (logging.FileHandler(log_path, mode="w"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    return logger


def read_sheet(path: str, sheet: str | None = None) -> pd.DataFrame:
    """A sheet as strings (blank cells as ""), from CSV or from a workbook's named sheet."""
    p = Path(path)
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        df = pd.read_excel(p, sheet_name=sheet, dtype=str)
    else:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    df = df.fillna("")
    df.columns = [str(c).strip() for c in df.columns]
    return df.reset_index(drop=True)


def read_metapsy(path: str) -> pd.DataFrame:
    """A Metapsy-standard database: ``;`` separated, decimal commas, ``NA`` for
    missing (and nothing else: an empty cell stays empty text). Fields may hold
    line breaks (quoted references), so records, not lines, are rows."""
    return pd.read_csv(path, sep=";", decimal=",", na_values=["NA"], keep_default_na=False, encoding="utf-8")


def read_table(path: str) -> pd.DataFrame:
    """A results table; an empty file (a table with no rows) as an empty DataFrame."""
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


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


def write_csv(path: str, df: pd.DataFrame) -> None:
    """CSV; list-valued cells (row ids) joined with ';'."""
    out = df.copy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, (list, tuple))).any():
            out[col] = out[col].map(lambda v: ";".join(v) if isinstance(v, (list, tuple)) else v)
    out.to_csv(path, index=False)
