"""The comparisons a review pools, as its protocol defines them (config ``analysis.comparisons``).

A comparison names two sides, and a side says which arms it holds: a strategy (medication,
psychotherapy, combined, other_active, control), and optionally arm types (the control
types, for example), drug classes, therapy types, formats or named treatments. An arm is on a side
when it matches every key the side gives. The six comparisons of the strategies
(:data:`~depmeta.review.vocabulary.COMPARISONS`) are named by their names alone; any other is
written out::

    comparisons:
      - medication_vs_control
      - {name: SSRI_vs_TCA, arm1: {strategy: medication, drug_class: SSRI},
                            arm2: {strategy: medication, drug_class: TCA}}
      - {name: CBT_vs_waiting_list, arm1: {strategy: psychotherapy, therapy_type: CBT},
                                    arm2: {arm_type: waiting_list}}

The name says what is compared, ``<first side>_vs_<second side>``: the report writes it with
spaces (``SSRI vs TCA``) and the effect is the first side relative to the second. The two
sides of a comparison never hold the same arm (:func:`check_comparisons`). A side that is one
node of the network's node scheme (:func:`depmeta.review.nodes.side_node`) gives the
comparison its network estimate as well. No file I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from depmeta.review.vocabulary import COMPARISONS, STRATEGIES, strategy_of

__all__ = ["Comparison", "DEFAULT_COMPARISONS", "SIDE_KEYS", "Side", "arm_types", "check_comparisons",
           "comparison_set", "control_arm_types", "is_blank", "matching", "reported_arm_attributes", "side_texts"]

#: The keys a side may give beside ``strategy``: the arm sheet's columns they match.
SIDE_KEYS = ("arm_type", "drug_class", "therapy_type", "treatment", "format")


def matching(comparisons, attrs1: tuple, attrs2: tuple) -> list[tuple[str, bool]]:
    """``(name, flipped)`` of every comparison whose sides two arms of these values are
    (:meth:`Comparison.orient`), ``flipped`` where the first arm is the comparison's second side."""
    return [(c.name, o == -1) for c in comparisons if (o := c.orient(attrs1, attrs2))]


def is_blank(x) -> bool:
    """A sheet cell left empty (None, NaN or only spaces)."""
    return x is None or (isinstance(x, float) and np.isnan(x)) or str(x).strip() == ""


def _norm(x) -> str:
    """A sheet value as sides compare it: stripped; blank as ''."""
    return "" if is_blank(x) else str(x).strip()


@dataclass(frozen=True)
class Side:
    """One side of a comparison: the arms of ``strategy`` (empty: any) whose arm type, drug class,
    therapy type, treatment and format are among those given (empty: any). Treatments match
    without regard to case."""

    strategy: str = ""
    arm_type: tuple = ()
    drug_class: tuple = ()
    therapy_type: tuple = ()
    treatment: tuple = ()
    format: tuple = ()

    @classmethod
    def from_config(cls, entry: dict) -> "Side":
        def many(v):
            return tuple(str(x) for x in (v if isinstance(v, (list, tuple)) else [v]))
        return cls(strategy=str(entry.get("strategy", "")), **{k: many(entry[k]) for k in SIDE_KEYS if k in entry})

    def matches(self, arm_type, drug_class="", therapy_type="", treatment="", format="") -> bool:
        """Whether an arm of these values is on this side."""
        if self.strategy and strategy_of(arm_type) != self.strategy:
            return False
        if self.arm_type and arm_type not in self.arm_type:
            return False
        if self.drug_class and _norm(drug_class) not in self.drug_class:
            return False
        if self.therapy_type and _norm(therapy_type) not in self.therapy_type:
            return False
        if self.treatment and _norm(treatment).casefold() not in {t.casefold() for t in self.treatment}:
            return False
        if self.format and _norm(format) not in self.format:
            return False
        return True

    def strategies(self) -> set:
        """The strategies this side's arms can be of."""
        if self.strategy:
            return {self.strategy}
        if self.arm_type:
            return {strategy_of(t) for t in self.arm_type}
        return set(STRATEGIES)

    @property
    def whole_strategy(self) -> str:
        """The strategy when the side is every arm of it, else ''."""
        return self.strategy if self.strategy and not any(getattr(self, k) for k in SIDE_KEYS) else ""

    @property
    def by_arm_types(self) -> tuple:
        """The arm types when the side is given by them alone (``{arm_type: placebo}``), else ()."""
        return self.arm_type if not any(getattr(self, k) for k in SIDE_KEYS if k != "arm_type") else ()

    def record(self) -> dict:
        """The side as the protocol writes it (lists for the keys given)."""
        return {**({"strategy": self.strategy} if self.strategy else {}),
                **{k: list(getattr(self, k)) for k in SIDE_KEYS if getattr(self, k)}}


def side_texts(name: str) -> tuple[str, str]:
    """The two sides of a comparison in words, from its name: ``SSRI_vs_waiting_list`` ->
    ('SSRI', 'waiting list')."""
    a, sep, b = name.partition("_vs_")
    if not sep:
        raise ValueError(f"a comparison's name is <first side>_vs_<second side>, not {name!r}")
    return a.replace("_", " "), b.replace("_", " ")


@dataclass(frozen=True)
class Comparison:
    """A comparison of the protocol: its name and its two sides (the effect is ``arm1`` relative
    to ``arm2``)."""

    name: str
    arm1: Side
    arm2: Side

    @property
    def sides(self) -> tuple[str, str]:
        """The sides in words (:func:`side_texts`)."""
        return side_texts(self.name)

    def orient(self, attrs1: tuple, attrs2: tuple) -> int:
        """+1 when arms of these values (``(arm_type, drug_class, therapy_type, treatment, format)``) are
        arm1 and arm2 of the comparison, -1 the other way round, 0 when they are not."""
        if self.arm1.matches(*attrs1) and self.arm2.matches(*attrs2):
            return 1
        if self.arm1.matches(*attrs2) and self.arm2.matches(*attrs1):
            return -1
        return 0

    def record(self) -> dict:
        return {"name": self.name, "arm1": self.arm1.record(), "arm2": self.arm2.record()}


#: The comparisons of the strategies, by name.
DEFAULT_COMPARISONS = {name: Comparison(name, Side(a), Side(b)) for name, (a, b) in COMPARISONS.items()}


def comparison_set(entries=None) -> tuple[Comparison, ...]:
    """The protocol's comparisons from ``analysis.comparisons`` (names of the default ones,
    mappings ``{name, arm1, arm2}``, or :class:`Comparison` objects); None: the six defaults."""
    if entries is None:
        return tuple(DEFAULT_COMPARISONS.values())
    out = []
    for e in entries:
        if isinstance(e, Comparison):
            out.append(e)
        elif isinstance(e, str):
            if e not in DEFAULT_COMPARISONS:
                raise ValueError(f"unknown comparison {e!r}: name one of {', '.join(DEFAULT_COMPARISONS)}, or define "
                                 "it with its sides ({name, arm1, arm2}; config/README.md)")
            out.append(DEFAULT_COMPARISONS[e])
        else:
            side_texts(e["name"])
            out.append(Comparison(e["name"], Side.from_config(e["arm1"]), Side.from_config(e["arm2"])))
    return tuple(out)


def _disjoint(a: Side, b: Side) -> bool:
    """Whether no arm can be on both sides: they differ in strategy, or in a key both give."""
    if not a.strategies() & b.strategies():
        return True
    return any(getattr(a, k) and getattr(b, k) and not set(getattr(a, k)) & set(getattr(b, k)) for k in SIDE_KEYS)


def check_comparisons(entries, vocabulary: dict | None = None) -> list[str]:
    """Problems of the protocol's ``analysis.comparisons`` the schema cannot say, one message each:
    a name twice, a side of an unknown class or type, a side whose arm types are not of its
    strategy, two sides that can hold the same arm, a comparison defined twice under two names."""
    from depmeta.review.vocabulary import OPEN_LISTS

    vocabulary = vocabulary or {}
    problems, seen, defs = [], set(), {}
    for i, e in enumerate(entries or []):
        key = f"analysis.comparisons.{i}"
        try:
            comp = comparison_set([e])[0]
        except ValueError as err:
            problems.append(f"{key}: {err}")
            continue
        if comp.name in seen:
            problems.append(f"{key}: the name {comp.name!r} is used twice; give each comparison its own name")
        seen.add(comp.name)
        for n, side in (("arm1", comp.arm1), ("arm2", comp.arm2)):
            for list_name, (column, default, fixed) in OPEN_LISTS.items():
                allowed = (*fixed, *(vocabulary.get(list_name) or default))
                unknown = [v for v in getattr(side, column) if v not in allowed]
                if unknown:
                    problems.append(f"{key}.{n}.{column}: {', '.join(map(repr, unknown))} is not in the review's "
                                    f"{list_name} ({', '.join(allowed)}); add it to vocabulary.{list_name}")
            bad = [t for t in side.arm_type if side.strategy and strategy_of(t) != side.strategy]
            if bad:
                problems.append(f"{key}.{n}: arm type {', '.join(bad)} is not {side.strategy}; leave out the strategy "
                                "or name arm types of it")
        if not _disjoint(comp.arm1, comp.arm2):
            problems.append(f"{key}: the sides of {comp.name} can hold the same arm; make them differ in strategy, "
                            "arm type, drug class, therapy type or treatment")
        sig = (comp.arm1, comp.arm2)
        if sig in defs or (comp.arm2, comp.arm1) in defs:
            other = defs.get(sig) or defs[(comp.arm2, comp.arm1)]
            problems.append(f"{key}: {comp.name} compares the same arms as {other}")
        defs.setdefault(sig, comp.name)
    return problems


def arm_types(arms: pd.DataFrame | None, contrasts: pd.DataFrame | None = None) -> dict[tuple[str, str], str]:
    """``{(study_id, arm_id): arm_type}`` from the arm sheet and the contrasts sheet's
    ``arm1_*``/``arm2_*`` columns (an arm in both: the arm sheet's)."""
    out = {}
    if contrasts is not None and len(contrasts):
        for k in (1, 2):
            out.update(zip(zip(contrasts.study_id.astype(str), contrasts[f"arm{k}_id"].astype(str)),
                           contrasts[f"arm{k}_type"].astype(str)))
    if arms is not None and len(arms):
        out.update(zip(zip(arms.study_id.astype(str), arms.arm_id.astype(str)), arms.arm_type.astype(str)))
    return out


def control_arm_types(study_id, arm_ids, types) -> set[str]:
    """The control types (placebo, waiting_list, a review's own) of a contrast's arms ``arm_ids``
    of trial ``study_id``, looked up in ``types`` (``{(study_id, arm_id): arm_type}``,
    :func:`arm_types`); an arm it does not know has none."""
    return {t for a in arm_ids if a and (t := types.get((str(study_id), a))) and strategy_of(t) == "control"}


def reported_arm_attributes(rep: pd.DataFrame, arms: pd.DataFrame) -> dict[int, list[tuple]]:
    """Each contrasts-sheet row's two arms as ``(arm_type, drug_class, therapy_type, treatment, format)``
    (the order :meth:`depmeta.review.comparisons.Side.matches` takes): the row's own
    ``arm1_drug_class``, ..., else its arm's in the arm sheet (any outcome), else blank."""
    sub = {}
    for r in arms.itertuples():
        for col in ("therapy_type", "drug_class", "treatment", "format"):
            v = getattr(r, col, "")
            if not is_blank(v):
                sub.setdefault((r.study_id, r.arm_id, col), v)

    def own(r, k, col):
        v = getattr(r, f"arm{k}_{col}", "")
        return sub.get((r.study_id, getattr(r, f"arm{k}_id"), col), "") if is_blank(v) else v

    return {k: [(getattr(r, f"arm{k}_type"), own(r, k, "drug_class"), own(r, k, "therapy_type"),
                 own(r, k, "treatment"), own(r, k, "format")) for r in rep.itertuples()] for k in (1, 2)}
