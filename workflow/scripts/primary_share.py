"""Share of extracted rows whose numbers rest wholly on the trial's own report.

A row of ``data/arms.csv`` or ``data/contrasts.csv`` counts as *secondary*
when its ``locator`` says that any of its numbers was read somewhere other than
a report of the trial itself: a review or meta-analysis table, a trial registry,
a news item or another secondary summary. The rule is textual and documented in
``data/README.md``: a locator naming such a source contains one of the words in
:data:`SECONDARY_MARKERS` (case-insensitive). Everything else is *primary*
(the trial's own article, abstract or a later report by the trial's own team).

Run from the project root (it reads the sheets, prints the counts and writes
nothing)::

    python workflow/scripts/primary_share.py [data/arms.csv] [data/contrasts.csv]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

#: Words whose presence in ``locator`` marks a number read outside the trial's
#: own reports. The first group is the convention for new rows; the second names
#: the review tables and summaries that earlier rows cite without a generic word.
SECONDARY_MARKERS: tuple[str, ...] = (
    "review", "meta-analysis", "registry", "news", "secondary", "summary", "round-up",
    "cochrane", "characteristics of included studies", "clinicaltrials.gov", "participant flow",
    "amick", "dawson", "negt", "zhang et al",
)
_PATTERN = re.compile("|".join(re.escape(m) for m in SECONDARY_MARKERS), re.IGNORECASE)


def is_secondary(locator: str) -> bool:
    """Whether a locator names a source other than the trial's own report.

    Parameters
    ----------
    locator : str
        The ``locator`` cell of a row (missing values count as empty).

    Returns
    -------
    bool
        True when any of :data:`SECONDARY_MARKERS` occurs in it.
    """
    return bool(_PATTERN.search(locator or ""))


def primary_share(frame: pd.DataFrame) -> tuple[int, int, float]:
    """Count the rows resting wholly on the trial's own report.

    Parameters
    ----------
    frame : pandas.DataFrame
        A sheet with a ``locator`` column.

    Returns
    -------
    tuple of (int, int, float)
        Number of primary rows, number of rows, and their ratio (NaN when empty).
    """
    locators = frame["locator"].fillna("").astype(str)
    primary = sum(not is_secondary(locator) for locator in locators)
    total = len(frame)
    return primary, total, (primary / total if total else float("nan"))


def main(paths: list[str]) -> None:
    """Print the primary share of each sheet given (default: arms and hazard ratios)."""
    for path in paths or ["data/arms.csv", "data/contrasts.csv"]:
        if not Path(path).exists():
            print(f"{path}: not found")
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        primary, total, share = primary_share(frame)
        trials = frame.loc[~frame["locator"].map(is_secondary), "study_id"].nunique()
        print(
            f"{path}: {primary} of {total} rows ({share:.1%}) rest wholly on the trial's own "
            f"report ({trials} of {frame['study_id'].nunique()} trials have at least one such row)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
