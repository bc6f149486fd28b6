"""What the benchmarks against metafor share: timing, R processes (optionally on another BLAS),
agreement, the machine's description and writing a marked block of benchmarks/README.md.

Used by bench_sensitivity.py, bench_regression.py and bench_network.py (each run as a script, so this
folder is on ``sys.path``); the R side of each sources ``benchlib.R``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
#: Where Debian's ``libopenblas0-pthread`` puts its BLAS and LAPACK (``libblas.so.3``, ``liblapack.so.3``).
DEBIAN_OPENBLAS = Path("/usr/lib/x86_64-linux-gnu/openblas-pthread")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads(n: int) -> str:
    """With ``n > 0``, make this process and the R processes it starts use ``n`` BLAS threads.

    numpy reads the setting only when it is imported, so the script is run again with the
    variables set (once: the second run finds them). Returns how the threads were set, for the
    report. With ``n == 0`` the libraries' own settings (and the environment) are left alone.
    """
    if n > 0:
        want = {var: str(n) for var in THREAD_VARS}
        if any(os.environ.get(k) != v for k, v in want.items()):
            sys.stdout.flush()
            os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, **want})
        return f"{n} BLAS thread{'s' if n > 1 else ''} on each side ({', '.join(f'{v}={n}' for v in THREAD_VARS)})"
    set_ = [f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ]
    return "the BLAS libraries' own thread settings" + (f" ({', '.join(set_)})" if set_ else "")


def openblas_dir(arg: str | None) -> Path | None:
    """The folder of OpenBLAS's ``libblas.so.3`` for R's second run, or None for none.

    ``arg``: a folder, ``none``, or None for Debian's place if the package is installed.
    """
    if arg == "none":
        return None
    path = Path(arg) if arg else DEBIAN_OPENBLAS
    if (path / "libblas.so.3").exists():
        return path.resolve()
    if arg:
        sys.exit(f"{path} holds no libblas.so.3 (give the folder of OpenBLAS's libblas.so.3, or --openblas none)")
    return None


def r_env(blas: Path | None) -> dict | None:
    """Environment for Rscript that loads the BLAS and LAPACK in ``blas`` instead of the system's.

    R's start-up script (``R_HOME/etc/ldpaths``) puts ``R_LD_LIBRARY_PATH`` (default
    ``R_HOME/lib`` and the system's library folder, which holds the ``libblas.so.3`` that the
    system's alternatives choose) before ``LD_LIBRARY_PATH``, so a folder given only in
    ``LD_LIBRARY_PATH`` is never searched for it; the folder goes first in ``R_LD_LIBRARY_PATH``.
    Nothing outside the started process changes.
    """
    if blas is None:
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "R_LD_LIBRARY_PATH")}
    # with no LD_LIBRARY_PATH of its own, R's is its default R_LD_LIBRARY_PATH
    default = subprocess.run(["Rscript", "-e", 'cat(Sys.getenv("LD_LIBRARY_PATH"))'], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
    return {**os.environ, "R_LD_LIBRARY_PATH": f"{blas}:{default}" if default else str(blas)}


def run_r(script: Path, payload: dict, mode: str, blas: Path | None = None) -> dict:
    """Run ``Rscript script IN.json OUT.json mode`` (IN holds ``payload``) and return OUT.

    With ``blas``, R loads that folder's BLAS; that it really did is checked from what R reports.
    """
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(payload))
        subprocess.run(["Rscript", str(script), str(inp), str(out), mode], check=True, env=r_env(blas))
        result = json.loads(out.read_text())
    if blas is not None and not str(result.get("blas", "")).startswith(str(blas)):
        sys.exit(f"R did not load the BLAS in {blas}: it reports {result.get('blas')!r}")
    return result


def timed(fn):
    """Wall and CPU seconds of one call, and its value."""
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - w0, time.process_time() - c0, value


def span(values) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def as_array(values) -> np.ndarray:
    """JSON numbers (None for NA) as a float array."""
    return np.array([np.nan if x is None else x for x in np.ravel(np.asarray(values, dtype=object))], float)


def max_rel_diff(ours, theirs, atol: float = 1e-8, floor: float | None = None) -> float:
    """Largest relative difference ``|ours - theirs| / |theirs|``.

    Without ``floor``, entries that differ by at most ``atol`` are left out (so that a tau² of 0 on
    both sides is no infinite ratio); with it, every entry counts and ``|theirs|`` is taken as at
    least ``floor`` (values nearer 0 are compared on that scale).
    """
    ours, theirs = as_array(ours), as_array(theirs)
    diff = np.abs(ours - theirs)
    if floor is not None:
        rel = diff / np.maximum(np.abs(theirs), floor)
    else:
        rel = diff / np.maximum(np.abs(theirs), 1e-300) * (diff > atol)
    return float(np.nanmax(rel)) if rel.size else 0.0


def agree(ours, theirs, name: str, rtol: float = 1e-6, atol: float = 1e-8, floor: float | None = None) -> dict:
    """Whether ``ours`` is within ``rtol`` relative (``atol`` absolute, for values near 0) of ``theirs``,
    and the largest relative difference (:func:`max_rel_diff` with ``atol`` and ``floor``)."""
    ours_a, theirs_a = as_array(ours), as_array(theirs)
    ok = ours_a.shape == theirs_a.shape and bool(np.allclose(ours_a, theirs_a, rtol=rtol, atol=atol))
    return {"quantity": name, "ok": ok, "max_rel_diff": max_rel_diff(ours_a, theirs_a, atol, floor)}


def seconds(x: float) -> str:
    """Seconds to three significant digits, never in exponent form."""
    return f"{x:.3g}" if x >= 1e-3 else f"{x:.6f}"


def ratio(x: float) -> str:
    return f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×" if x >= 1 else f"{x:.2g}×"


def numpy_blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']}"
    except Exception:  # numpy < 1.26 has no mode="dicts"
        return "not reported"


def blas_label(path: str) -> str:
    """A short name for the BLAS library at ``path``."""
    low = path.lower()
    return "OpenBLAS" if "openblas" in low else "reference BLAS" if "/blas/libblas" in low else "system BLAS"


def describe_r(info: dict) -> str:
    return f"BLAS {info['blas'] or 'not reported'}, LAPACK {info['lapack']}"


def header(r_info: dict, blas_runs: list[tuple[str, dict]], threads: str, loads: list[tuple[float, float]]) -> str:
    """The block's first paragraph: when, where, which versions and BLAS, and the load average."""
    lo = min(min(pair) for pair in loads)
    hi = max(max(pair) for pair in loads)
    r_blas = "; ".join(f"{label}: {describe_r(info)}" for label, info in blas_runs)
    return (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node() or 'this machine'} "
            f"({os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__} with "
            f"{numpy_blas()}; {r_info['r_version']}, metafor {r_info['metafor_version']} at its default control). "
            f"R's BLAS: {r_blas}. Threads: {threads}. Load average {lo:.1f} to {hi:.1f} over the rounds "
            "(1-minute load average before and after each round).")


def write_block(markers: tuple[str, str], block: str, readme: Path = README) -> None:
    """Replace the text between the two markers of ``readme`` with ``block``."""
    text = readme.read_text()
    start, end = (text.index(m) for m in markers)
    readme.write_text(text[:start + len(markers[0])] + "\n" + block + "\n" + text[end:])
