"""The judgement types of GRADE and CINeMA: one domain's :class:`Judgement` (level, downgrade,
reason, rule), the overall :class:`Certainty`, and the two steps every rating shares (combining
the domains, a reviewer's override). The domain rules are :mod:`depmeta.review.certainty` and
:mod:`depmeta.review.robustness`. No file I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["CERTAINTY_WORDS", "CINEMA_LEVELS", "GRADE_LEVELS", "Certainty", "Judgement", "apply_override",
           "overall_certainty"]


#: GRADE levels of concern and their downgrade.
GRADE_LEVELS = {"no": 0, "serious": 1, "very serious": 2, "not assessable": 0}


#: CINeMA levels of concern and the downgrade the summary applies; ``not assessed`` is this project's state of
#: a domain nobody assessed, shown beside the rating instead of lowering it (certainty.not_assessed: flag).
CINEMA_LEVELS = {"no concerns": 0, "some concerns": 1, "major concerns": 2, "not assessed": 0}


#: Certainty by number of levels left (4 = high), with GRADE's symbols.
CERTAINTY_WORDS = {4: "high", 3: "moderate", 2: "low", 1: "very low"}


_SYMBOLS = {4: "⊕⊕⊕⊕", 3: "⊕⊕⊕◯", 2: "⊕⊕◯◯", 1: "⊕◯◯◯"}


@dataclass(frozen=True)
class Judgement:
    """One domain's judgement.

    Attributes
    ----------
    domain : str
    level : str
        ``no``/``serious``/``very serious``/``not assessable`` (GRADE) or
        ``no concerns``/``some concerns``/``major concerns``/``not assessed`` (CINeMA).
    downgrade : int
        Levels of certainty taken off (0, 1 or 2).
    reason : str
        Why, in words, with the numbers behind it.
    rule : str
        The rule applied (or ``reviewer override``).
    overridden : bool
        True when a reviewer's judgement from the config replaced the rule's.
    """

    domain: str
    level: str
    downgrade: int
    reason: str
    rule: str
    overridden: bool = False


@dataclass(frozen=True)
class Certainty:
    """Overall certainty: ``score`` 4 (high) to 1 (very low)."""

    score: int
    word: str
    symbols: str
    downgrades: int


def overall_certainty(judgements, start: int = 4) -> Certainty:
    """Certainty after the downgrades: start (4 = high for randomized trials) minus the downgrades, at least 1.

    GRADE: one level per serious, two per very serious domain. CINeMA: the
    software paper confirms that the six judgements "are summarized into a
    single confidence rating ("high," "moderate," "low," or "very low")"
    (Papakonstantinou 2020, Abstract); the CINeMA documentation leaves the
    rating to the reviewer (section Report: all judgements start at High and
    the reviewer places the final one), so one level per domain with some
    concerns and two per domain with major concerns is this project's rule (a
    reviewer can override any domain).
    """
    down = int(sum(j.downgrade for j in judgements))
    score = max(1, start - down)
    return Certainty(score, CERTAINTY_WORDS[score], _SYMBOLS[score], down)


def apply_override(judgement: Judgement, level: str, reason: str, cinema: bool = False) -> Judgement:
    """A reviewer's judgement replacing the rule's; the reason keeps the rule's verdict."""
    table = CINEMA_LEVELS if cinema else GRADE_LEVELS
    if level not in table:
        raise ValueError(f"override level {level!r} for {judgement.domain} is not one of {sorted(table)}")
    if not str(reason).strip():
        raise ValueError(f"override of {judgement.domain} needs a reason")
    return replace(judgement, level=level, downgrade=table[level], overridden=True, rule="reviewer override",
                   reason=f"reviewer judgement: {reason} (rule gave {judgement.level}: {judgement.reason})")
