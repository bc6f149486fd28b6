"""Validation of a review's sheets, group by group: each sheet cell by cell against its schema,
then the sheets of a group against each other. The workflow validates in three jobs, one per
group, so that a change to one sheet reruns only what reads it:

- ``extraction``: studies, arms, contrasts (reported effects, hazard ratios among them) and
  excluded arms (checked against each other);
- ``risk_of_bias``: the published judgements (checked against the validated studies);
- ``evidence``: the published benchmarks and the claims to check.

Frames in (the sheets as read, strings), typed frames or every problem out, with file, row and
column; reading the files is the caller's (workflow/scripts/validate_sheets.py). No file I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from depmeta.review.sheets import (
    Problem,
    check_claims,
    check_excluded_arms,
    check_extraction,
    check_layout,
    check_open_lists,
    check_risk_of_bias,
    check_sheet,
    coerce,
)

__all__ = ["BOOK_SHEETS", "GROUPS", "GroupCheck", "validate_group"]

#: The sheets of each validation group.
GROUPS = {
    "extraction": ("studies", "arms", "contrasts", "excluded_arms"),
    "risk_of_bias": ("risk_of_bias",),
    "evidence": ("benchmarks",),
}
#: The sheets a workbook may hold (benchmarks and claims are always files of their own).
BOOK_SHEETS = ("studies", "arms", "contrasts", "risk_of_bias", "excluded_arms")
#: Sheets that must have data rows when present.
REQUIRED_ROWS = ("studies", "arms")
#: A required sheet that may be a header only when another sheet has rows: a review whose
#: trials report only effect sizes has them in the contrasts sheet and no arm rows.
ROWS_ELSEWHERE = {"arms": "contrasts"}


@dataclass(frozen=True)
class GroupCheck:
    """A group's validation: the typed sheets (every sheet of the group, an absent optional
    one empty with the schema's columns) and the claims, valid only where ``problems`` is
    empty."""

    sheets: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_group(group: str, raw: dict[str, pd.DataFrame], schemas: dict[str, dict], labels: dict[str, str],
                   read_problems=(), claims_doc: dict | None = None, claims_label: str = "claims",
                   validated_studies: pd.DataFrame | None = None, studies_label: str = "studies",
                   vocabulary: dict | None = None) -> GroupCheck:
    """Validate one group of sheets.

    Parameters
    ----------
    group : {"extraction", "risk_of_bias", "evidence"}
    raw : dict
        The group's sheets that were read, as strings (an optional sheet may be absent).
    schemas, labels : dict
        Each sheet's JSON schema, and the name messages give its file (``contrasts`` may be
        absent from ``labels``: then "contrasts sheet").
    read_problems : sequence of Problem
        Sheets that could not be read; the others are still checked, so one pass lists
        every problem.
    claims_doc : dict, optional
        The claims document (group ``evidence``), named ``claims_label`` in messages.
    validated_studies : DataFrame, optional
        The studies as the extraction group validated them (group ``risk_of_bias``), named
        ``studies_label`` in messages.
    vocabulary : dict, optional
        The protocol's open lists (config ``vocabulary``: drug classes, therapy types) the arm
        sheet is checked against; the defaults where absent.
    """
    if group not in GROUPS:
        raise ValueError(f"unknown validation group {group!r}; choose one of {tuple(GROUPS)}")
    problems: list[Problem] = list(read_problems)
    for name, df in raw.items():
        if name == "contrasts" and (old := check_layout(df, labels[name])):
            problems += old  # a layout the sheet replaced: how to convert it, not every cell
            continue
        problems += check_sheet(df, schemas[name], labels[name])
        if name in ("arms", "contrasts"):
            problems += check_open_lists(df, vocabulary, labels[name])
        if name in REQUIRED_ROWS and len(df.columns) and not len(df):
            if name in ROWS_ELSEWHERE and len(raw.get(ROWS_ELSEWHERE[name], ())):
                continue
            problems.append(Problem(labels[name], None, None, "no data rows: the sheet has a header only"))
    claims = []
    if claims_doc is not None:
        problems += check_claims(claims_doc, schemas["claims"], claims_label)
        articles = claims_doc.get("articles", {})
        claims = [{**c, "article": articles.get(c.get("article"), c.get("article"))}
                  for c in claims_doc.get("claims", [])]
    if problems:
        return GroupCheck(claims=claims, problems=problems)
    typed = {name: coerce(raw.get(name, pd.DataFrame()), schemas[name]) for name in GROUPS[group]}
    if group == "extraction":
        labels = {"contrasts": "contrasts sheet", **labels}
        problems += check_extraction(typed["studies"], typed["arms"], typed["contrasts"], labels)
        if "excluded_arms" in labels:
            problems += check_excluded_arms(typed["excluded_arms"], typed["arms"], labels)
    elif group == "risk_of_bias" and "risk_of_bias" in labels:
        if validated_studies is None:
            raise ValueError("the risk-of-bias group needs the validated studies")
        studies = coerce(validated_studies, schemas["studies"])
        problems += check_risk_of_bias(typed["risk_of_bias"], studies, {**labels, "studies": studies_label})
    return GroupCheck(sheets=typed, claims=claims, problems=problems)
