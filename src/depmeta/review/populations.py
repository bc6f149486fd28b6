"""The protocol's populations (``analysis.populations``): which age groups of the study sheet
(``age_group``) form the primary population, analysed by every pairwise, event-rate and network
analysis, and which form named strata, each analysed on its own.

A trial outside the primary population is set apart in the one exclusion step
(:func:`depmeta.review.analysis.analysable_arms`, :func:`~depmeta.review.analysis.analysable_reported`),
every row of it listed among the unused data with the reason: its stratum, or that its age group is
in no population of the protocol. The default primary population holds every age group and there
are no strata, so a protocol that does not say pools all ages."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["AGE_GROUPS", "ADULT_GROUPS", "Populations", "groups_text", "outside_population", "populations_problems"]

#: The study sheet's ``age_group`` values (workflow/schemas/studies.schema.yaml).
AGE_GROUPS = ("adult", "adolescent", "older_adult")
#: The age groups a claim or published meta-analysis "of adults" speaks of.
ADULT_GROUPS = ("adult", "older_adult")
_UNUSED_COLUMNS = ["study_id", "row_ids", "sheet", "sheet_row", "comparison", "outcome", "reason"]


def groups_text(groups) -> str:
    """Age groups in words: ("adult", "older_adult") -> "adults and older adults"."""
    names = [g.replace("_", " ") + "s" for g in groups]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def outside_population(studies: pd.DataFrame, groups) -> set:
    """The trials of ``studies`` (``study_id``, ``age_group``) whose age group is not in ``groups``:
    the one definition of indirect trials for GRADE and CINeMA indirectness
    (``certainty.indirectness.population``)."""
    return set(studies.study_id[~studies.age_group.isin(list(groups))])


@dataclass(frozen=True)
class Populations:
    """``primary``: the age groups of the primary population; ``strata``: stratum name -> its
    age groups (none in two places; :func:`populations_problems`)."""

    primary: tuple = AGE_GROUPS
    strata: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, section: dict | None) -> "Populations":
        """From the config's ``analysis.populations`` mapping (schema-validated; the defaults where absent)."""
        s = section or {}
        problems = populations_problems(s)
        if problems:
            raise ValueError("; ".join(problems))
        return cls(tuple(s.get("primary", AGE_GROUPS)),
                   {name: tuple(groups) for name, groups in (s.get("strata") or {}).items()})

    def record(self) -> dict:
        """As the protocol states it (JSON-able)."""
        return {"primary": list(self.primary), "strata": {k: list(v) for k, v in self.strata.items()}}

    @property
    def primary_text(self) -> str:
        """The primary population in words ("adults and older adults")."""
        return groups_text(self.primary)

    def only(self, stratum: str) -> "Populations":
        """The populations of a stratum's own analysis: its age groups primary, nothing else."""
        return Populations(self.strata[stratum], {})

    def reason(self, age_group: str) -> str | None:
        """Why a trial of ``age_group`` is set apart from the primary analyses (None: it is in them)."""
        if age_group in self.primary:
            return None
        for name, groups in self.strata.items():
            if age_group in groups:
                return f"{name}: analysed as their own stratum (analysis.populations)"
        return (f"age group {age_group} is in no population of the protocol: the primary population is "
                f"{self.primary_text} (analysis.populations)")

    def study_reasons(self, studies: pd.DataFrame | None) -> dict[str, str]:
        """study_id -> reason, for the trials of ``studies`` outside the primary population."""
        if studies is None or not len(studies) or set(AGE_GROUPS) <= set(self.primary):
            return {}
        return {sid: why for sid, g in zip(studies.study_id, studies.age_group)
                if (why := self.reason(g)) is not None}

    def split(self, rows: pd.DataFrame | None, studies: pd.DataFrame | None, sheet: str,
              ids: list[str] | None = None) -> tuple[pd.DataFrame | None, pd.DataFrame]:
        """The rows of a sheet (``study_id``, ``outcome``, ``sheet_row``, ``row_id``) of trials in the
        primary population, and the others with the reason, in the form of
        :func:`depmeta.review.contrasts.form_contrasts`' ``unused`` frame (``sheet`` names the sheet;
        ``ids`` the row ids, default the ``row_id`` column)."""
        why = self.study_reasons(studies)
        if rows is None or not len(rows) or not why:
            return rows, pd.DataFrame(columns=_UNUSED_COLUMNS)
        ids = list(rows["row_id"]) if ids is None else ids
        apart = rows.study_id.isin(list(why)).to_numpy()
        out = [{"study_id": sid, "row_ids": [rid], "sheet": sheet, "sheet_row": int(line), "comparison": "",
                "outcome": outcome, "reason": why[sid]}
               for sid, rid, line, outcome, a in zip(rows.study_id, ids, rows.sheet_row, rows.outcome, apart) if a]
        return rows[~apart], pd.DataFrame.from_records(out, columns=_UNUSED_COLUMNS)


def populations_problems(section: dict | None) -> list[str]:
    """What is wrong with an ``analysis.populations`` mapping beyond its schema (one message each)."""
    s = section or {}
    where: dict[str, list[str]] = {}
    for g in s.get("primary", AGE_GROUPS):
        where.setdefault(g, []).append("primary")
    for name, groups in (s.get("strata") or {}).items():
        for g in groups:
            where.setdefault(g, []).append(f"strata.{name}")
    problems = [f"analysis.populations: age group {g} is in {' and '.join(places)}; name each age group once "
                "(in primary or in one stratum)" for g, places in where.items() if len(places) > 1]
    if not s.get("primary", AGE_GROUPS):
        problems.append("analysis.populations.primary: name at least one age group (e.g. [adult, older_adult])")
    return problems
