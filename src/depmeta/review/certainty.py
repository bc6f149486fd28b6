"""Certainty of the evidence: GRADE for pairwise estimates, CINeMA for network estimates, and
the absolute effects of the summary of findings (computed by :mod:`depmeta.stats.absolute`).
Frames in, frames out, frozen judgements (:mod:`depmeta.review.judgements`), no file I/O.

GRADE (pairwise)
    One judgement per domain (risk of bias, inconsistency, indirectness,
    imprecision, publication bias), each a :class:`Judgement` with the level
    (``no`` / ``serious`` / ``very serious``, or ``not assessable``), the
    downgrade (0/1/2), the reason in words and the rule applied. Evidence from
    randomized trials starts at high certainty and goes down one level per
    downgrade (GRADE guidelines 5: "randomized trials start as high-quality
    evidence ... but ... can be rated down"; Guyatt et al. 2011, J Clin
    Epidemiol 64:1277). Each domain function cites the GRADE passage it
    follows and names the choices that are this project's.

CINeMA (network)
    Six domains judged ``no concerns`` / ``some concerns`` / ``major concerns``
    (Nikolakopoulou et al. 2020, PLoS Med 17:e1003082; Papakonstantinou et al.
    2020, Campbell Syst Rev 16:e1080). What the papers' stored text confirmed
    (their abstracts): the six domains "(i) within-study bias, (ii) reporting
    bias, (iii) indirectness, (iv) imprecision, (v) heterogeneity, and (vi)
    incoherence"; "Key to judgments about within-study bias and indirectness
    is the percentage contribution matrix"; "In evaluating imprecision,
    heterogeneity, and incoherence, we consider the impact of these components
    of variability in forming clinical decisions" (Nikolakopoulou, Abstract);
    each estimate is judged as giving rise to "no concerns," "some concerns,"
    or "major concerns" in each domain and "judgments across the domains are
    summarized into a single confidence rating ("high," "moderate," "low," or
    "very low")"; "The dataset should include assessments of study-level risk
    of bias and judgments on indirectness" (Papakonstantinou, Abstract).
    NOT confirmed from the papers: their full rule tables could not be
    retrieved from the stored text of either paper.

    The imprecision, heterogeneity and incoherence rules follow the CINeMA web
    application's code (:data:`CINEMA_APP`), which is what CINeMA's users get
    and differs from its documentation (:data:`CINEMA_DOC`); each function
    names the file and function it follows and says where the two differ:

    * imprecision (``imprecision/update.js`` ``getRuleLevel``,
      ``purescripts/src/Imprecision/Rules.purs`` ``numberOfCrosses``): the CI
      against no effect and the clinically important effect on the far side
      of it from the estimate;
    * heterogeneity (``inconsistency/heterogeneity/update.js``
      ``getRuleLevel``, ``purescripts/src/Inconsistency/Heterogeneity/Nodes.purs``
      ``jointCrosses``, ``ruleLevel``): the prediction interval's crossings of
      the same limits beyond the CI's;
    * incoherence (``inconsistency/incoherence/update.js``
      ``getRuleJudgement``; its statistics from the R back end's
      ``getHatMatrix``, ``R/hatmatrix.R`` of esm-ispm-unibe-ch/flow_contribution):
      mixed evidence by the side-splitting p and then the agreement of the
      direct and indirect CIs; direct-only and indirect-only comparisons by
      the random-effects design-by-treatment test
      (:attr:`depmeta.stats.network.NetworkResult.q_between_random_pval`),
      major concerns without one.

    The application compares limits and p-values as it prints them, to three
    decimals (:data:`APP_DECIMALS`), and so do these rules. Its statistics come
    from netmeta with a DerSimonian-Laird τ² and netmeta's t-based prediction
    interval; these rules judge the estimates of this project's network
    (``network.method``, and ``network.test``'s CI and prediction interval: by
    default t on the network's residual df, as metafor's ``rma.mv(test = "t")``;
    the direct and indirect CIs of the incoherence rule are the network rule's,
    normal at the network's level, as netsplit), so the same rule can meet
    slightly different intervals. The three contribution rules
    and reporting bias follow the documentation. What neither source states
    (rounding and ties of the contribution rules, the reporting-bias default,
    the state ``not assessed`` of a domain nobody assessed (:data:`NOT_ASSESSED`,
    config ``certainty.not_assessed``), how the six domains combine into one
    rating) is this project's, a config option where it is a choice, and each
    function says which part is which.

Every rule is a small function whose ``rule`` text states it, so a reader of
``grade.csv`` sees what was applied; reviewer overrides replace a judgement
and keep the rule's verdict in the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd

from depmeta.review.comparisons import comparison_set, control_arm_types, side_texts
from depmeta.review.judgements import (
    CINEMA_LEVELS,
    GRADE_LEVELS,
    Judgement,
    apply_override,
    overall_certainty,
)
from depmeta.review.populations import ADULT_GROUPS, groups_text, outside_population
from depmeta.review.robustness import robust_inconsistency, robust_publication_bias, robust_rob
from depmeta.review.vocabulary import CONTROL_TYPES, OUTCOME_DIRECTION
from depmeta.stats.absolute import absolute_effect, median_risk, nnt, optimal_information_size, smd_to_risk
from depmeta.stats.effects import RATIO_MEASURES

__all__ = [
    "ABSOLUTE_COLUMNS", "CertaintyOptions", "CertaintyTables", "rate_certainty",
    "study_rob_levels", "rob_domain", "inconsistency_domain", "indirectness_domain",
    "imprecision_domain", "outcome_ois", "publication_bias_domain", "contribution_domain", "reporting_bias_domain",
    "cinema_imprecision", "cinema_heterogeneity", "cinema_incoherence", "CINEMA_APP", "CINEMA_DOC", "zone_crossings",
    "APP_DECIMALS", "NOT_ASSESSED", "NOT_ASSESSED_RULES", "NOT_ASSESSED_SHARE", "GRADE_DOMAINS",
    "CINEMA_DOMAINS", "DOMAIN_COUNTERPARTS", "certainty_difference", "assumed_risks", "grade_pairwise",
    "cinema_network", "study_sizes", "plain_statement", "sof_rows",
]

RATIO = RATIO_MEASURES  # ratio measures: no effect at 1, risks by multiplication
#: Floating-point slack when a weight share is compared with a threshold: the
#: shares are sums of normalised weights, exact to a few ulps, and a share of
#: exactly 50% must count as reaching a 50% threshold.
SHARE_TOL = 1e-12


@dataclass(frozen=True)
class CertaintyOptions:
    """The ``certainty`` section of the config (see ``config/README.md``)."""

    #: clinically important zone (display scale) per measure: effects inside are unimportant
    zone: dict = field(default_factory=lambda: {"RR": (0.8, 1.25), "OR": (0.8, 1.25), "HR": (0.8, 1.25),
                                                "RD": (-0.05, 0.05), "SMD": (-0.2, 0.2)})
    rob_serious_share: float = 0.5
    rob_very_serious_share: float = 0.5
    i2_serious: float = 50.0
    i2_very_serious: float = 75.0
    #: GRADE imprecision: limits of appreciable benefit and harm (display scale) per measure; a measure
    #: not listed uses ``zone``. GRADE guidelines 6 (Guyatt et al. 2011, J Clin Epidemiol 64:1283,
    #: Abstract): "we suggest an RR of under 0.75 or over 1.25 as a rough guide".
    imprecision_thresholds: dict = field(default_factory=lambda: {"RR": (0.75, 1.25), "OR": (0.75, 1.25),
                                                                  "HR": (0.75, 1.25)})
    ois_alpha: float = 0.05
    ois_power: float = 0.8
    ois_rrr: float = 0.25
    ois_smd: float = 0.2
    #: CINeMA imprecision also at least some concerns when the contributing trials' patients fall short of the OIS
    cinema_ois: bool = True
    pb_min_studies: int = 10
    pb_alpha: float = 0.10
    #: GRADE indirectness: serious / very serious when trials outside ``indirect_population`` (the
    #: question's age groups) carry at least these shares of the weight
    indirect_serious_share: float = 0.5
    indirect_very_serious_share: float = 1.0
    indirect_population: tuple = ADULT_GROUPS
    cinema_rule: str = "average"
    cinema_not_assessed: str = "moderate"
    #: CINeMA study-level indirectness of a trial outside ``indirect_population`` (the others: low)
    cinema_indirect: str = "moderate"
    #: a CINeMA domain nobody assessed: ``flag`` (no downgrade, shown as not assessed) or ``some concerns``
    not_assessed: str = "flag"
    reporting_bias: str = "not assessed"
    reporting_bias_reason: str = ""
    incoherence_some_p: float = 0.10
    incoherence_major_p: float = 0.05
    assumed_risk: dict = field(default_factory=dict)
    smd_control_event_rate: object = "response"
    indirectness: tuple = ()
    overrides: tuple = ()
    #: whether each sensitivity finding may downgrade (depmeta.review.robustness); reported either way
    sens_low_rob: bool = True
    sens_influential: bool = True
    sens_trimfill: bool = True

    @classmethod
    def from_config(cls, section: dict | None) -> "CertaintyOptions":
        """Build from the config's ``certainty`` mapping (already schema-validated)."""
        s = dict(section or {})
        kw = {}
        if "zone" in s:
            kw["zone"] = {**cls().zone, **{k: tuple(v) for k, v in s["zone"].items()}}
        if "thresholds" in s.get("imprecision", {}):
            kw["imprecision_thresholds"] = {**cls().imprecision_thresholds,
                                            **{k: tuple(v) for k, v in s["imprecision"]["thresholds"].items()}}
        flat = {
            ("risk_of_bias", "serious_share"): "rob_serious_share",
            ("risk_of_bias", "very_serious_share"): "rob_very_serious_share",
            ("risk_of_bias", "cinema_rule"): "cinema_rule",
            ("risk_of_bias", "cinema_not_assessed"): "cinema_not_assessed",
            ("inconsistency", "i2_serious"): "i2_serious",
            ("inconsistency", "i2_very_serious"): "i2_very_serious",
            ("imprecision", "alpha"): "ois_alpha", ("imprecision", "power"): "ois_power",
            ("imprecision", "rrr"): "ois_rrr", ("imprecision", "smd"): "ois_smd",
            ("imprecision", "cinema_ois"): "cinema_ois",
            ("publication_bias", "min_studies"): "pb_min_studies", ("publication_bias", "alpha"): "pb_alpha",
            ("indirectness", "serious_share"): "indirect_serious_share",
            ("indirectness", "very_serious_share"): "indirect_very_serious_share",
            ("indirectness", "population"): "indirect_population",
            ("indirectness", "cinema_indirect"): "cinema_indirect",
            ("indirectness", "judgements"): "indirectness",
            ("reporting_bias", "level"): "reporting_bias", ("reporting_bias", "reason"): "reporting_bias_reason",
            ("incoherence", "some_p"): "incoherence_some_p", ("incoherence", "major_p"): "incoherence_major_p",
            ("sensitivity", "low_risk_of_bias"): "sens_low_rob",
            ("sensitivity", "influential"): "sens_influential",
            ("sensitivity", "trimfill"): "sens_trimfill",
        }
        for (sec, key), name in flat.items():
            if key in s.get(sec, {}):
                kw[name] = s[sec][key]
        for key in ("assumed_risk", "smd_control_event_rate", "overrides", "not_assessed"):
            if key in s:
                kw[key] = s[key]
        kw["indirectness"] = tuple(kw.get("indirectness", ()))
        if "indirect_population" in kw:
            kw["indirect_population"] = tuple(kw["indirect_population"])
        kw["overrides"] = tuple(kw.get("overrides", ()))
        if kw.get("cinema_rule", "average") not in ("average", "majority", "highest"):
            raise ValueError("certainty.risk_of_bias.cinema_rule must be average, majority or highest")
        if kw.get("not_assessed", "flag") not in NOT_ASSESSED_RULES:
            raise ValueError(f"certainty.not_assessed must be one of {', '.join(NOT_ASSESSED_RULES)}")
        return cls(**kw)

    def grade_thresholds(self, measure: str) -> tuple:
        """GRADE imprecision's limits of appreciable benefit and harm for ``measure`` (else the zone)."""
        return tuple(self.imprecision_thresholds.get(measure, self.zone[measure]))

    def null(self, measure: str) -> float:
        """The value of no effect on the display scale."""
        return 1.0 if measure in RATIO else 0.0


# ---------------------------------------------------------------- absolute effects


# ---------------------------------------------------------------- study-level inputs

def study_rob_levels(studies: pd.DataFrame, rob: pd.DataFrame | None) -> pd.DataFrame:
    """Overall risk of bias per study: ``low``, ``some_concerns``, ``high`` or ``not assessed``.

    The study sheet's overall rating (``risk_of_bias``) where one was
    published; otherwise from the domain judgements of the risk-of-bias sheet:
    any ``high`` -> high; every judgement ``low`` -> low; else some_concerns
    (``unclear``, ``some_concerns``, ``medium``). A study with neither is
    ``not assessed``. Returns ``study_id, level, basis``.
    """
    rows = []
    for sid, overall in zip(studies.study_id, studies.risk_of_bias):
        if overall in ("low", "some_concerns", "high"):
            rows.append((sid, overall, "overall rating in the study sheet"))
            continue
        j = rob.judgement[rob.study_id == sid].tolist() if rob is not None and len(rob) else []
        if not j:
            rows.append((sid, "not assessed", "no published judgement"))
        elif "high" in j:
            rows.append((sid, "high", f"{j.count('high')} of {len(j)} published domain judgements high"))
        elif all(x == "low" for x in j):
            rows.append((sid, "low", f"all {len(j)} published domain judgements low"))
        else:
            rows.append((sid, "some_concerns", f"{len(j)} published domain judgements, not all low"))
    return pd.DataFrame(rows, columns=["study_id", "level", "basis"])


def _shares(weights, labels, names) -> dict:
    w = np.asarray(weights, float)
    if not len(w) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    w = w / w.sum()
    lab = np.asarray(labels, object)
    return {n: float(w[lab == n].sum()) for n in names}


#: GRADE's study levels of risk of bias (:func:`study_rob_levels`) and their words in a reason.
_GRADE_ROB = {"low": "low risk", "some_concerns": "some concerns", "high": "high risk"}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


# ---------------------------------------------------------------- GRADE domains

def rob_domain(weights, levels, serious_share: float = 0.5, very_serious_share: float = 0.5,
               not_assessed: str = "flag") -> Judgement:
    """GRADE risk of bias from the shares of weight of trials at high risk and with some concerns.

    ``levels`` per trial: ``low``, ``some_concerns``, ``high`` (:func:`study_rob_levels`) or
    ``not assessed``. very serious if trials at high risk carry at least
    ``very_serious_share`` of the weight; serious if trials at high risk or
    with some concerns together carry at least ``serious_share``; otherwise
    no. The basis is the share of the information, as in the Cochrane
    Handbook 5.1's across-studies summary (Table 8.7.a): "Low risk of bias:
    Most information is from studies at low risk of bias ... High risk of
    bias: The proportion of information from studies at high risk of bias is
    sufficient to affect the interpretation of results". Neither GRADE nor
    the Handbook gives a numeric share: the 50% thresholds, and counting some
    concerns with high risk for "serious", are this project's options.

    Trials without an assessment follow the rule of CINeMA's within-study
    bias, :func:`_set_aside` (config ``certainty.not_assessed``): ``flag``
    (default) sets them aside, so that their share does not lower the
    certainty: the domain is ``not assessed`` (no downgrade) when they carry
    at least :data:`NOT_ASSESSED_SHARE` of the weight, and is otherwise judged
    on the assessed trials' weight alone; a study level (``low``,
    ``some_concerns``, ``high``; the rule ``some concerns`` with
    ``certainty.risk_of_bias.cinema_not_assessed``) counts them at that
    level. The reason gives the share without an assessment either way.
    """
    lev = np.asarray(levels, object)
    bad = sorted(set(lev) - set(_GRADE_ROB) - {NOT_ASSESSED})
    if bad:
        raise ValueError(f"risk of bias: study levels must be {', '.join(_GRADE_ROB)} or {NOT_ASSESSED}, got {bad}")
    if not_assessed != "flag" and not_assessed not in _GRADE_ROB:
        raise ValueError(f"risk of bias: not_assessed must be flag or a study level, not {not_assessed!r}")
    aside = _set_aside(weights, lev, not_assessed, _GRADE_ROB.get(not_assessed, not_assessed), "weight")
    rule = (f"very serious if trials at high risk carry >= {_pct(very_serious_share)} of the weight; serious if "
            f"trials at high risk or with some concerns carry >= {_pct(serious_share)}{aside.rule}")
    s = _shares(aside.weights, aside.levels, tuple(_GRADE_ROB))
    shares = ", ".join(f"{_pct(s[k])} {_GRADE_ROB[k]}" for k in ("high", "some_concerns", "low"))
    if aside.domain_not_assessed:
        return Judgement("risk of bias", NOT_ASSESSED, 0,
                         f"weight {_pct(aside.share)} from trials without an assessment; {shares}", rule)
    facts = f"weight {shares}{aside.note}"
    if s["high"] >= very_serious_share - SHARE_TOL:
        return Judgement("risk of bias", "very serious", 2, facts, rule)
    if s["high"] + s["some_concerns"] >= serious_share - SHARE_TOL:
        return Judgement("risk of bias", "serious", 1, facts, rule)
    return Judgement("risk of bias", "no", 0, facts, rule)


def inconsistency_domain(i2: float, pi_low: float, pi_high: float, k: int, null: float, zone,
                         i2_serious: float = 50.0, i2_very_serious: float = 75.0) -> Judgement:
    """GRADE inconsistency from I² and the prediction interval (display scale).

    very serious if I² >= ``i2_very_serious`` and the PI reaches important
    effects on both sides of the zone (below its lower and above its upper
    limit); serious if I² >= ``i2_serious`` and the PI includes the null (a
    new setting could see the opposite effect); otherwise no. One study: not
    assessable. Without a PI the I² thresholds alone decide.

    GRADE guidelines 7 (Guyatt et al. 2011, J Clin Epidemiol 64:1294,
    Abstract): "Criteria for evaluating consistency include similarity of
    point estimates, extent of overlap of confidence intervals, and
    statistical criteria including tests of heterogeneity and I2 ... When
    inconsistency is large and unexplained, rating down quality for
    inconsistency is appropriate, particularly if some studies suggest
    substantial benefit, and others no effect or harm (rather than only large
    vs. small effects)." The PI including no effect is this rule's reading of
    "others no effect or harm"; GRADE 7 gives no numeric I² threshold, so the
    50% / 75% defaults and the two-level rule are this project's options.
    """
    lo, hi = zone
    rule = (f"very serious if I² >= {i2_very_serious:g}% and the PI extends below {lo:g} and above {hi:g}; "
            f"serious if I² >= {i2_serious:g}% and the PI includes {null:g}")
    if k < 2:
        return Judgement("inconsistency", "not assessable", 0, "a single study", rule)
    have_pi = math.isfinite(pi_low) and math.isfinite(pi_high)
    pi_text = f"PI {pi_low:.2f} to {pi_high:.2f}" if have_pi else "no prediction interval"
    facts = f"I² = {i2:.0f}%, {pi_text}"
    both = (pi_low < lo and pi_high > hi) if have_pi else True
    crosses = (pi_low <= null <= pi_high) if have_pi else True
    if i2 >= i2_very_serious and both:
        return Judgement("inconsistency", "very serious", 2, facts, rule)
    if i2 >= i2_serious and crosses:
        return Judgement("inconsistency", "serious", 1, facts, rule)
    return Judgement("inconsistency", "no", 0, facts, rule)


def indirectness_domain(weights, outside, serious_share: float = 0.5, very_serious_share: float = 1.0,
                        configured: dict | None = None, population: str = "adults and older adults") -> Judgement:
    """GRADE indirectness: the reviewer's judgement from the config, else in proportion to the weight
    of the trials outside the question's population.

    ``outside`` flags, per study, a trial outside the question's age groups (``population``, in words;
    :func:`depmeta.review.populations.outside_population`, ``certainty.indirectness.population``).
    With a configured judgement (``level``, ``reason``) that is used. Otherwise very serious when
    those trials carry at least ``very_serious_share`` of the weight, serious at ``serious_share``,
    else no. The shares and their defaults (50%, as the risk-of-bias rule and as CINeMA's average
    rule with such trials at moderate; 100%: the whole estimate from another population) are this
    project's: GRADE guidelines 8 (Guyatt et al. 2011, J Clin Epidemiol 64:1303) give no share of
    indirect evidence at which to rate down.
    """
    rule = (f"reviewer's judgement from the config; else very serious if trials outside {population} carry >= "
            f"{_pct(very_serious_share)} of the weight, serious if >= {_pct(serious_share)}")
    if configured:
        level = configured["level"]
        return Judgement("indirectness", level, GRADE_LEVELS[level], configured["reason"], rule)
    share = _shares(weights, np.asarray(outside, bool), (True,))[True]
    facts = f"trials outside {population} carry {_pct(share)} of the weight"
    if share >= very_serious_share - SHARE_TOL:
        return Judgement("indirectness", "very serious", 2, facts, rule)
    if share >= serious_share - SHARE_TOL:
        return Judgement("indirectness", "serious", 1, facts, rule)
    return Judgement("indirectness", "no", 0, facts + "; no indirectness judged in the config", rule)


def imprecision_domain(ci_low: float, ci_high: float, null: float, thresholds, total_n: float, ois: float
                       ) -> Judgement:
    """GRADE imprecision from the CI (display scale), the thresholds and the optimal information size.

    GRADE guidelines 6 (Guyatt et al. 2011, J Clin Epidemiol 64:1283,
    Abstract), for systematic reviews: "If the 95% CI excludes a relative
    risk (RR) of 1.0, and the total number of events or patients exceeds the
    OIS criterion, precision is adequate. If the 95% CI includes appreciable
    benefit or harm (we suggest an RR of under 0.75 or over 1.25 as a rough
    guide) rating down for imprecision may be appropriate even if OIS criteria
    are met." Implemented as: serious if the patients are fewer than the OIS,
    or if the CI includes no effect and extends beyond a threshold of
    appreciable benefit or harm (``ci_low < lo`` or ``ci_high > hi``); no
    otherwise (a CI excluding no effect with the OIS met, or a CI around no
    effect that stays within the thresholds with the OIS met). Very serious
    (two levels) when the CI extends beyond both thresholds, appreciable
    benefit and appreciable harm both possible: GRADE guidance 34 (Zeng et al.
    2022, J Clin Epidemiol 150:216, Abstract): "when a CI appreciably crosses
    the threshold(s) of interest, one should consider rating down two or three
    levels"; reading "appreciably crosses" as "crosses both" is this
    project's choice. GRADE counts events or patients; this counts patients.
    """
    lo, hi = thresholds
    rule = (f"very serious if the CI extends below {lo:g} and above {hi:g}; serious if the patients are fewer than "
            f"the optimal information size, or if the CI includes {null:g} and extends below {lo:g} or above {hi:g} "
            "(GRADE guidelines 6)")
    crosses = ci_low <= null <= ci_high
    beyond = ci_low < lo or ci_high > hi
    short = total_n < ois
    sides = [f"below {lo:g}"] * (ci_low < lo) + [f"above {hi:g}"] * (ci_high > hi)
    text = (f"CI {ci_low:.2f} to {ci_high:.2f}, {'includes' if crosses else 'excludes'} no effect"
            + (f", reaches {' and '.join(sides)}" if beyond else f", within {lo:g} to {hi:g}")
            + "; " + _ois_text(total_n, ois))
    if ci_low < lo and ci_high > hi:
        return Judgement("imprecision", "very serious", 2, text + "; appreciable benefit and harm both possible",
                         rule)
    if short or (crosses and beyond):
        return Judgement("imprecision", "serious", 1, text, rule)
    return Judgement("imprecision", "no", 0, text, rule)


def _ois_text(total_n: float, ois: float) -> str:
    """``n patients < OIS m`` (or ``>=``), or that there is no OIS (no comparator risk to power it at)."""
    if not math.isfinite(ois):
        return f"{total_n:.0f} patients, no optimal information size (no comparator risk)"
    return f"{total_n:.0f} patients {'<' if total_n < ois else '>='} OIS {ois:.0f}"


def outcome_ois(measure: str, acr, opts: CertaintyOptions) -> float:
    """The optimal information size (total patients) of an estimate: for an SMD powered for
    ``imprecision.smd``, for a binary outcome for a relative risk reduction ``imprecision.rrr`` at
    the assumed comparator risk ``acr`` (``(risk, source)`` of :func:`assumed_risks`); nan
    without a comparator risk in (0, 1)."""
    if measure == "SMD":
        return float(optimal_information_size(smd=opts.ois_smd, alpha=opts.ois_alpha, power=opts.ois_power))
    if acr is not None and 0 < acr[0] < 1:
        return float(optimal_information_size(acr[0], opts.ois_rrr, opts.ois_alpha, opts.ois_power))
    return math.nan


def publication_bias_domain(k: int, pval: float | None, min_studies: int = 10, alpha: float = 0.10,
                            test: str = "Egger-type regression test") -> Judgement:
    """GRADE publication bias from a small-study test where ``k >= min_studies``.

    serious if the test's p < ``alpha``; no if not; not assessable with fewer
    studies (Sterne et al. 2011, BMJ 343:d4002: tests have too little power).
    GRADE guidelines 5 (Guyatt et al. 2011, J Clin Epidemiol 64:1277,
    Abstract): trials "can be rated down if a body of evidence is associated
    with a high risk of publication bias ... A number of approaches based on
    examination of the pattern of data are available to help assess
    publication bias. The most popular of these is the funnel plot; all,
    however, have substantial limitations." GRADE gives no test or cut-off:
    the regression test, the 10-trial minimum (Sterne et al.'s
    recommendation, not re-checked here) and p < 0.10 are options.
    """
    rule = f"with >= {min_studies} studies: serious if the {test} gives p < {alpha:g}; else not assessable"
    if k < min_studies:
        return Judgement("publication bias", "not assessable", 0, f"{k} studies, fewer than {min_studies}", rule)
    if pval is None or not math.isfinite(pval):
        return Judgement("publication bias", "not assessable", 0, f"{k} studies but no test result", rule)
    if pval < alpha:
        return Judgement("publication bias", "serious", 1, f"small-study effects suspected ({test} p = {pval:.3f})",
                         rule)
    return Judgement("publication bias", "no", 0, f"{test} p = {pval:.3f}", rule)


#: The reviewer's judgements of reporting bias (``certainty.reporting_bias.level``) that rate GRADE's
#: publication bias serious, as they give CINeMA's reporting bias concerns.
SUSPECTED = ("suspected", "strongly suspected")


def with_reviewers_judgement(j: Judgement, level: str, reason: str = "") -> Judgement:
    """GRADE publication bias (``j``, from the small-study test and trim-and-fill) with the
    reviewer's own judgement of reporting bias for the whole review (``certainty.reporting_bias``):
    ``suspected`` or ``strongly suspected`` makes it serious (one level: GRADE's evidence profiles
    know publication bias as undetected or strongly suspected, the latter one level down), whatever
    the test says, with
    the reviewer's reason; ``undetected`` and ``not assessed`` leave the test's judgement. The same
    judgement gives CINeMA's reporting bias its concerns (:func:`reporting_bias_domain`), so a
    comparison's pairwise and network ratings weigh it alike."""
    rule = j.rule + "; the reviewer's judgement of reporting bias, suspected or strongly suspected, makes it serious"
    if level not in SUSPECTED:
        return replace(j, rule=rule)
    said = f"reporting bias {level} by the reviewers" + (f": {reason}" if reason else "")
    return replace(j, level="serious", downgrade=1, reason=f"{said}; {j.reason}" if j.reason else said, rule=rule)


# ---------------------------------------------------------------- CINeMA domains

_CIN = {1: "no concerns", 2: "some concerns", 3: "major concerns"}
_STUDY_SCORE = {"low": 1, "moderate": 2, "high": 3}
#: The state of a CINeMA domain (and of a trial's risk of bias) that nobody assessed.
NOT_ASSESSED = "not assessed"
#: How a missing assessment is treated (config ``certainty.not_assessed``): counted as some concerns, or
#: not downgraded and flagged as not assessed.
NOT_ASSESSED_RULES = ("some concerns", "flag")
#: With ``flag``, a contribution-based domain is not assessed when the trials without an assessment carry
#: at least this share of the estimate's contributions; below it the assessed trials are judged.
NOT_ASSESSED_SHARE = 0.5


class _Aside(NamedTuple):
    """What :func:`_set_aside` leaves to judge."""

    weights: np.ndarray
    levels: np.ndarray
    share: float              # share of the weight (contributions) of the trials without an assessment
    domain_not_assessed: bool
    note: str                 # appended to the reason when the domain is judged
    rule: str                 # appended to the rule


def _set_aside(weights, levels, not_assessed: str | None, counted_as: str, of: str) -> _Aside:
    """The one rule for trials without an assessment (level ``not assessed``), shared by GRADE's
    risk of bias (:func:`rob_domain`) and CINeMA's within-study bias (:func:`contribution_domain`).

    ``flag``: the trials are set aside; the domain is ``not assessed`` when they carry at least
    :data:`NOT_ASSESSED_SHARE` of the ``weights`` (``of`` names them: weight, contributions),
    else the other trials are judged on their weights alone. A study level: the trials count at
    that level (``counted_as`` is its name in the reason). ``None``: nothing is set aside (the
    caller has refused the level). The rule and its half are this project's.
    """
    w, lev = np.asarray(weights, float), np.asarray(levels, object)
    share = _shares(w, lev, (NOT_ASSESSED,))[NOT_ASSESSED]
    if not_assessed is None:
        return _Aside(w, lev, share, False, "", "")
    if not_assessed == "flag":
        rule = (f"; trials without an assessment set aside, the domain {NOT_ASSESSED} when they carry >= "
                f"{_pct(NOT_ASSESSED_SHARE)} of the {of}")
        if share >= NOT_ASSESSED_SHARE - SHARE_TOL:
            return _Aside(w, lev, share, True, "", rule)
        keep = lev != NOT_ASSESSED
        note = f" (the assessed trials; {_pct(share)} from trials without an assessment set aside)" if share > 0 else ""
        return _Aside(w[keep], lev[keep], share, False, note, rule)
    note = f" ({_pct(share)} from trials without an assessment, counted as {counted_as})" if share > 0 else ""
    return _Aside(w, np.where(lev == NOT_ASSESSED, not_assessed, lev), share, False, note,
                  f"; a trial without an assessment counts as {counted_as}")


def contribution_domain(domain: str, contributions, levels, rule: str = "average", not_assessed: str | None = None
                        ) -> Judgement:
    """CINeMA within-study bias or indirectness from contributions × study-level judgements.

    ``levels`` are ``low``/``moderate``/``high`` per study, or ``not assessed``
    for a study nobody assessed, treated by ``not_assessed``: a study level
    (``low``/``moderate``/``high``: counted at that level, the rule
    ``certainty.not_assessed: some concerns`` with
    ``certainty.risk_of_bias.cinema_not_assessed``), or ``flag``: the domain
    is ``not assessed`` (no downgrade) when those studies carry at least
    :data:`NOT_ASSESSED_SHARE` of the contributions, and otherwise judged on
    the assessed studies' contributions alone; ``None`` (indirectness, judged
    for every study): a ``not assessed`` level is an error. Either way the
    reason gives the share without an assessment. CINeMA itself has no such
    state (its input needs a judgement per study); the ``flag`` rule and its
    half are this project's.

    Rules (Papakonstantinou 2020): ``majority`` the level carrying the largest
    contribution (a tie goes to the worse level); ``average`` the
    contribution-weighted mean of 1/2/3, rounded to the nearest level (1.5 and
    2.5 round up); ``highest`` the worst level among contributing studies.

    Confirmed from the papers' abstracts: the judgement combines the
    percentage contribution matrix with study-level judgements (Nikolakopoulou
    2020: "Key to judgments about within-study bias and indirectness is the
    percentage contribution matrix"; Papakonstantinou 2020: "The dataset
    should include assessments of study-level risk of bias and judgments on
    indirectness"). The CINeMA documentation (:data:`CINEMA_DOC`, sections
    Configuration and Within-study bias) names the three rules, Average,
    Majority ("the most prevalent bias ... level") and Highest ("the maximum
    bias ... level"), leaves the pick to the reviewer ("You need to pick a
    selection rule ... (Majority, Average, Highest)") and codes study levels
    "1, 2 and 3 or L, U, H values for low, unclear and high". Not stated
    there: the rounding of the average and the tie-break of the majority
    (this project's), and no default: the rule is the config option
    ``certainty.risk_of_bias.cinema_rule`` (default ``average``, this
    project's choice).
    """
    lev = np.asarray(levels, object)
    allowed = set(_STUDY_SCORE) | ({NOT_ASSESSED} if not_assessed is not None else set())
    bad = sorted(set(lev) - allowed)
    if bad:
        also = f" (or {NOT_ASSESSED})" if not_assessed is not None else ""
        raise ValueError(f"{domain}: study levels must be low, moderate or high{also}, got {bad}")
    if not_assessed is not None and not_assessed != "flag" and not_assessed not in _STUDY_SCORE:
        raise ValueError(f"{domain}: not_assessed must be flag or a study level, not {not_assessed!r}")
    what = "risk" if domain == "within-study bias" else "indirectness"
    aside = _set_aside(contributions, lev, not_assessed, str(not_assessed), "contributions")
    if aside.domain_not_assessed:
        s = _shares(aside.weights, aside.levels, ("low", "moderate", "high"))
        facts = (f"contributions {_pct(aside.share)} from trials without an assessment; "
                 + ", ".join(f"{_pct(s[k])} {k}" for k in _STUDY_SCORE) + f" {what}")
        return Judgement(domain, NOT_ASSESSED, 0, facts, _contribution_rule(rule) + aside.rule)
    c, lev = aside.weights, aside.levels
    s = _shares(c, lev, ("low", "moderate", "high"))
    facts = f"contributions {', '.join(f'{_pct(s[k])} {k}' for k in _STUDY_SCORE)} {what}" + aside.note
    na_rule = aside.rule
    text = _contribution_rule(rule) + na_rule
    if rule == "majority":
        top = max(s.values())
        best = max((k for k in _STUDY_SCORE if s[k] >= top - SHARE_TOL), key=_STUDY_SCORE.get)
        score = _STUDY_SCORE[best]
    elif rule == "average":
        mean = sum(_STUDY_SCORE[k] * s[k] for k in _STUDY_SCORE)
        score = int(math.floor(mean + 0.5 + SHARE_TOL))
        facts += f" (weighted mean {mean:.2f}; low 1, high 3)"
    else:
        score = max(_STUDY_SCORE[k] for k, ci in zip(lev, c) if ci > 0)
    return Judgement(domain, _CIN[score], score - 1, facts, text)


def _contribution_rule(rule: str) -> str:
    texts = {"majority": "majority: the level with the largest contribution",
             "average": "average: contribution-weighted mean of low 1 / moderate 2 / high 3, rounded",
             "highest": "highest: the worst level among contributing studies"}
    if rule not in texts:
        raise ValueError(f"unknown CINeMA rule {rule!r}")
    return texts[rule]


def reporting_bias_domain(level: str = NOT_ASSESSED, reason: str = "", k_tested: int = 0,
                          small_study_p: float | None = None, alpha: float = 0.10, not_assessed: str = "flag"
                          ) -> Judgement:
    """CINeMA reporting bias: the reviewer's judgement ``undetected`` / ``suspected`` /
    ``strongly suspected``, or ``not assessed``.

    Mapped to no / some / major concerns. A small-study test with p < ``alpha``
    in a direct comparison raises ``undetected`` (or ``not assessed``) to
    ``suspected``. ``not assessed`` otherwise follows ``not_assessed``
    (config ``certainty.not_assessed``): ``flag`` keeps the state ``not
    assessed`` (no downgrade; a test with p >= ``alpha`` is reported, not
    taken for an assessment), ``some concerns`` counts it as suspected.

    Not confirmed from the papers' stored text: the three-level scale's
    wording and its mapping, and any default. The CINeMA documentation
    (:data:`CINEMA_DOC`, section Across-studies bias) leaves it to the
    reviewer: "users are limited to report whether they suspect or not the
    presence of bias on a per comparison level". The level is the reviewer's
    (config ``certainty.reporting_bias.level``, default ``not assessed``); the
    shipped configuration's ``suspected`` is this project's judgement of its
    own search (data/README), not a default taken from CINeMA; the
    small-study test's role and the ``not assessed`` state are this
    project's.
    """
    mapping = {"undetected": 1, "suspected": 2, "strongly suspected": 3}
    if level not in mapping and level != NOT_ASSESSED:
        raise ValueError(f"reporting bias level must be one of {sorted(mapping) + [NOT_ASSESSED]}, got {level!r}")
    if not_assessed not in NOT_ASSESSED_RULES:
        raise ValueError(f"not_assessed must be one of {NOT_ASSESSED_RULES}, not {not_assessed!r}")
    rule = ("reviewer's judgement (undetected / suspected / strongly suspected -> no / some / major concerns; "
            + ("not assessed -> not assessed, no downgrade" if not_assessed == "flag"
               else "not assessed -> some concerns")
            + f"); a small-study test with p < {alpha:g} makes it at least suspected")
    facts = f"reporting bias {level}" + (f": {reason}" if reason else "")
    tested = small_study_p is not None and math.isfinite(small_study_p)
    if tested:
        facts += f"; small-study test on the {k_tested} direct trials p = {small_study_p:.3f}"
    raised = tested and small_study_p < alpha
    if level == NOT_ASSESSED:
        if raised:
            return Judgement("reporting bias", _CIN[2], 1, facts, rule)
        if not_assessed == "flag":
            return Judgement("reporting bias", NOT_ASSESSED, 0, facts, rule)
        return Judgement("reporting bias", _CIN[2], 1, facts + " (counted as some concerns)", rule)
    score = max(mapping[level], 2) if raised else mapping[level]
    return Judgement("reporting bias", _CIN[score], score - 1, facts, rule)


#: Source of the CINeMA rules that the papers' stored text did not show and the application's code does not
#: decide (the contribution rules' wording, reporting bias): the CINeMA web application's documentation
#: (docs/documentation.md of github.com/esm-ispm-unibe-ch/cinema, commit 728c66f), read for its stated rules.
CINEMA_DOC = "CINeMA documentation (docs/documentation.md, esm-ispm-unibe-ch/cinema@728c66f)"
#: Source of the imprecision, heterogeneity and incoherence rules: the CINeMA web application's code (frontend
#: v2.0.0, github.com/esm-ispm-unibe-ch/cinema, commit 399245a), where it differs from its documentation; the
#: statistics it judges come from its R back end (getHatMatrix, R/hatmatrix.R of
#: github.com/esm-ispm-unibe-ch/flow_contribution, on netmeta). Read for the rules; the code here is this
#: project's.
CINEMA_APP = "CINeMA application (esm-ispm-unibe-ch/cinema@399245a, webapp/app/scripts)"
#: How a rule's text names its source in cinema.csv and the report.
_APP_RULE = "the CINeMA application's rule, version 2.0.0"
#: Decimals of the limits and p-values the application compares: it prints each as JavaScript's
#: ``toFixed(3)`` and compares the printed number, so a p-value of 0.1004 is judged as 0.100.
APP_DECIMALS = 3


def _as_shown(x) -> float:
    """``x`` as the application prints it: rounded to :data:`APP_DECIMALS` decimals, a tie (in the exact
    binary value) away from zero, as JavaScript's ``toFixed``; not finite (a missing value) stays so."""
    if x is None:
        return math.nan
    x = float(x)
    if not math.isfinite(x) or abs(x) >= 2.0 ** 52:
        # from 2**52 on every double is a whole number, so the rounding leaves it as it is (and a
        # value as large as an interval bound of 3e43 would overflow the decimal context)
        return x
    return float(Decimal(x).quantize(Decimal(1).scaleb(-APP_DECIMALS), rounding=ROUND_HALF_UP))


def zone_crossings(low: float, high: float, zone_low: float, zone_high: float) -> int:
    """How many limits of the zone ``zone_low`` to ``zone_high`` the interval ``low`` to ``high``
    crosses, counted as the CINeMA application counts them (``numberOfCrosses`` in
    ``purescripts/src/Imprecision/Rules.purs`` and ``Inconsistency/Heterogeneity/Nodes.purs``).

    0: the interval lies strictly inside the zone, or strictly below or above it, or starts on the
    lower limit and ends inside. 1: it reaches from below the lower limit to inside the zone (ending on
    that limit counts), or from inside to above the upper limit (starting on that limit counts).
    2: anything else, which is an interval covering the zone, and also an interval ending exactly on the
    upper limit from inside, or starting on the lower limit and reaching past the upper one (the
    application's arithmetic at those ties). A missing limit (``nan``) gives 2.
    """
    if zone_low < low and high < zone_high:
        return 0
    if (high < zone_low and low < zone_high) or (low > zone_high and high > zone_low):
        return 0
    if (low < zone_low and high < zone_high) or (low > zone_low and high > zone_high):
        return 1
    # what is left below the upper limit starts on the lower limit
    return 0 if high < zone_high else 2


def _far_zone(estimate: float, zone, null: float, at_null) -> tuple:
    """The zone the application measures crossings against once an interval is not inside the
    clinically important zone: from no effect to the important effect on the far side of it from the
    estimate (``zone[0]`` to ``null`` for an estimate above no effect, ``null`` to ``zone[1]`` below it);
    ``at_null`` for an estimate exactly at no effect."""
    if estimate > null:
        return zone[0], null
    if estimate < null:
        return null, zone[1]
    return at_null


def cinema_imprecision(estimate: float, ci_low: float, ci_high: float, zone, null: float,
                       total_n: float | None = None, ois: float | None = None) -> Judgement:
    """CINeMA imprecision as the CINeMA application decides it (:data:`CINEMA_APP`:
    ``imprecision/update.js``, ``getRuleLevel``; ``purescripts/src/Imprecision/Rules.purs``,
    ``numberOfCrosses``).

    The CI (display scale, limits as printed to three decimals) is compared with two values: no effect
    (``null``) and the clinically important effect on the far side of no effect from the point estimate
    (``zone[0]`` for an estimate above no effect, ``zone[1]`` below it; the application's changelog,
    v1.5-6: "clinically important zones defined as the null effect and the further from the point
    estimate clinical important value"). The number of those two values the CI crosses
    (:func:`zone_crossings`) gives the level: 0 no concerns, 1 some concerns, 2 major concerns. A CI
    strictly inside the zone ``zone`` has no concerns whatever the estimate. An estimate exactly at no
    effect is measured against no effect alone, which a CI around it crosses twice (major concerns).

    So for an estimate above no effect: a CI excluding no effect has no concerns however far it reaches
    into important effects; a CI reaching no effect (its lower limit at or below it) but not the
    important effect below it (lower limit above ``zone[0]``), some concerns; a CI reaching
    ``zone[0]`` (at or below it), major concerns. The documentation's rule (the CI against both zone
    limits: "If only one of the two values is crossed", some concerns) is not what the application does.

    With ``total_n`` (patients of the trials contributing to the estimate) and ``ois`` (the optimal
    information size, :func:`outcome_ois`) given (config ``certainty.imprecision.cinema_ois``, default
    true), an estimate resting on fewer patients than the OIS has at least some concerns, the reason
    stating both numbers: GRADE guidelines 6 (Guyatt et al. 2011, J Clin Epidemiol 64:1283, Abstract):
    "If the 95% CI excludes a relative risk (RR) of 1.0, and the total number of events or patients
    exceeds the OIS criterion, precision is adequate", so a CI that excludes no effect is not enough
    on its own. The application's rule is the CI against the zone alone; adding the OIS to it is this
    project's. Without an OIS (``nan``: no comparator risk) the application's rule alone applies.
    """
    lo, hi = _as_shown(ci_low), _as_shown(ci_high)
    rule = (f"crossings of the CI with no effect ({null:g}) and the important effect on the other side of it from the "
            f"estimate ({zone[0]:g} or {zone[1]:g}), none for a CI inside {zone[0]:g} to {zone[1]:g}: 0 no, 1 some, "
            f"2 major concerns ({_APP_RULE})")
    text = f"estimate {estimate:.3f}, CI {lo:.3f} to {hi:.3f}"
    if zone[0] < lo and hi < zone[1]:
        n, text = 0, f"{text} inside the zone {zone[0]:g} to {zone[1]:g}"
    else:
        n = zone_crossings(lo, hi, *_far_zone(estimate, zone, null, (null, null)))
        far = zone[0] if estimate > null else zone[1]
        text += (f" around no effect: crosses it {n} times" if estimate == null
                 else f" crosses {n} of no effect ({null:g}) and {far:g}")
    if total_n is None or ois is None:
        return Judgement("imprecision", _CIN[n + 1], n, text, rule)
    rule += ("; at least some concerns when the contributing trials' patients are fewer than the optimal "
             "information size")
    text += "; " + _ois_text(total_n, ois)
    if math.isfinite(ois) and total_n < ois and n == 0:
        n, text = 1, text + " (some concerns for want of patients)"
    return Judgement("imprecision", _CIN[n + 1], n, text, rule)


def cinema_heterogeneity(estimate: float, ci_low: float, ci_high: float, pi_low: float, pi_high: float, zone,
                         null: float) -> Judgement:
    """CINeMA heterogeneity as the CINeMA application decides it (:data:`CINEMA_APP`:
    ``inconsistency/heterogeneity/update.js``, ``getRuleLevel``;
    ``purescripts/src/Inconsistency/Heterogeneity/Nodes.purs``, ``jointCrosses`` and ``ruleLevel``).

    Crossings (:func:`zone_crossings`; limits as printed to three decimals) of the CI and of the
    prediction interval with the zone the application uses: for a CI strictly inside the zone, the CI
    counts 0 and the PI is measured against the whole zone; otherwise both are measured against the
    part from no effect to the important effect on the far side of it from the estimate (as
    imprecision; the whole zone for an estimate exactly at no effect). The level is one more than the
    PI's extra crossings: PI crossings minus CI crossings 0 no concerns, 1 some concerns, 2 major
    concerns (the documentation's table of CI by PI crossings, applied to those zones; the PI contains
    the CI, so it cannot cross fewer, and the table has no entry for that). A missing PI counts as
    crossing both limits, which is what the application's arithmetic gives for a missing value (netmeta
    gives none when the network's Q has fewer than 2 df): heterogeneity is not shown to be small.
    """
    lo, hi, plo, phi = (_as_shown(x) for x in (ci_low, ci_high, pi_low, pi_high))
    rule = ("crossings of the PI beyond the CI's, with no effect and the important effect on the other side of it "
            f"from the estimate (the whole zone {zone[0]:g} to {zone[1]:g} when the CI lies inside it): 0 no, 1 some, "
            f"2 major concerns ({_APP_RULE})")
    inside = zone[0] < lo and hi < zone[1]
    part = _far_zone(estimate, zone, null, tuple(zone))
    ci_n = 0 if inside else zone_crossings(lo, hi, *part)
    pi_n = zone_crossings(plo, phi, *(zone if inside else part))
    extra = max(pi_n - ci_n, 0)
    where = f"{zone[0]:g} to {zone[1]:g}" if inside else f"{part[0]:g} to {part[1]:g}"
    pi_text = (f"PI {plo:.3f} to {phi:.3f}" if math.isfinite(plo) and math.isfinite(phi)
               else "no prediction interval (counted as crossing both limits)")
    return Judgement("heterogeneity", _CIN[extra + 1], extra,
                     f"CI {lo:.3f} to {hi:.3f} crosses {ci_n}, {pi_text} crosses {pi_n} of the limits of {where}",
                     rule)


def _areas(low: float, high: float, zone) -> tuple:
    """Which areas an interval reaches, as the application's incoherence rule tells them (``makeVector``):
    below the zone (``low < zone[0]``), the zone (``low < zone[1]`` and ``high > zone[0]``), above it
    (``high > zone[1]``); an interval touching a limit does not reach across it."""
    return low < zone[0], low < zone[1] and high > zone[0], high > zone[1]


def cinema_incoherence(split_p: float | None, dbt_p: float | None, zone, direct=None, indirect=None,
                       some_p: float = 0.10, major_p: float = 0.05, has_direct: bool = True) -> Judgement:
    """CINeMA incoherence as the CINeMA application decides it (:data:`CINEMA_APP`:
    ``inconsistency/incoherence/update.js``, ``getRuleJudgement``, ``rfvs`` and ``createEstimators``).

    The application reads, per estimate, netmeta's side-splitting (``netsplit``, random effects:
    direct and indirect estimates with their CIs and the p-value of their difference) and, for the
    network, the random-effects design-by-treatment interaction test (``decomp.design(...)$Q.inc.random``;
    back end ``getHatMatrix``). Every p-value and limit is compared as printed, to three decimals.

    * Mixed evidence (``direct`` and ``indirect``, each ``(low, high)`` on the display scale):
      side-splitting p at or above ``some_p`` (0.10 in the application): no concerns. Below it, the
      agreement of the two CIs on the three areas below, inside and above the zone (:func:`_areas`):
      agreeing on 3 no, 2 some, 1 or 0 major concerns.
    * Direct evidence only (no indirect estimate: a comparison no loop reaches) or indirect evidence
      only (``has_direct`` tells which, for the reason): the design-by-treatment p-value ``dbt_p`` above
      ``some_p`` no concerns, above ``major_p`` (0.05) up to ``some_p`` some, at or below ``major_p``
      major concerns. A network without that test (no loops of designs, no degrees of freedom:
      ``dbt_p`` None or ``nan``): major concerns (the application's "star network" branch).

    The documentation differs: it judges mixed evidence by the CIs' agreement whatever the
    side-splitting p, direct-only comparisons as no concerns, and puts the lower cut-off at 0.01; the
    application changed these in v1.5-6 and v1.7.0 (its changelog).
    """
    rule = (f"mixed: side-splitting p >= {some_p:g} no concerns, else the direct and indirect CIs agree on 3 / 2 / "
            f"<= 1 of the areas below, inside, above the zone: no / some / major; direct only or indirect only: "
            f"random-effects design-by-treatment test p > {some_p:g} no, {major_p:g} < p <= {some_p:g} some, "
            f"p <= {major_p:g} or no test (no loops) major concerns ({_APP_RULE})")
    if direct is not None and indirect is not None:
        p = _as_shown(split_p)
        split = f"side-splitting p = {p:.3f}" if math.isfinite(p) else "no side-splitting p"
        if p >= some_p:
            return Judgement("incoherence", _CIN[1], 0, split, rule)
        z = tuple(_as_shown(x) for x in zone)
        d, i = tuple(_as_shown(x) for x in direct), tuple(_as_shown(x) for x in indirect)
        agree = sum(a == b for a, b in zip(_areas(*d, z), _areas(*i, z)))
        score = {3: 1, 2: 2}.get(agree, 3)
        return Judgement("incoherence", _CIN[score], score - 1,
                         f"{split}; direct CI {d[0]:.3f} to {d[1]:.3f}, indirect CI {i[0]:.3f} to {i[1]:.3f}: agree "
                         f"on {agree} of 3 areas", rule)
    which = "direct evidence only" if has_direct else "indirect evidence only"
    p = _as_shown(dbt_p)
    if not math.isfinite(p):
        return Judgement("incoherence", _CIN[3], 2,
                         f"{which}; no design-by-treatment test (no loops of designs in the network)", rule)
    score = 1 if p > some_p else (2 if p > major_p else 3)
    return Judgement("incoherence", _CIN[score], score - 1,
                     f"{which}; random-effects design-by-treatment test p = {p:.3f}", rule)


# ---------------------------------------------------------------- tables: pairwise GRADE, CINeMA, SoF

GRADE_DOMAINS = ("risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias")
CINEMA_DOMAINS = ("within-study bias", "reporting bias", "indirectness", "imprecision", "heterogeneity",
                  "incoherence")
#: CINeMA's study-level scale from the overall risk of bias per study.
_CINEMA_ROB = {"low": "low", "some_concerns": "moderate", "high": "high"}
#: The GRADE study level of a CINeMA one: where a trial without an assessment counts under
#: ``certainty.not_assessed: some concerns`` (``certainty.risk_of_bias.cinema_not_assessed``).
_GRADE_OF_CINEMA = {v: k for k, v in _CINEMA_ROB.items()}


def _matches(entry: dict, comparison: str, outcome: str, evidence: str) -> bool:
    return (entry.get("comparison", "*") in ("*", comparison) and entry.get("outcome", "*") in ("*", outcome)
            and entry.get("evidence", "*") in ("*", evidence))


def _overridden(judgements: list, comparison: str, outcome: str, evidence: str, opts: CertaintyOptions) -> list:
    out = []
    known = CINEMA_DOMAINS if evidence == "network" else GRADE_DOMAINS
    for j in judgements:
        for o in opts.overrides:
            if o["domain"] not in GRADE_DOMAINS + CINEMA_DOMAINS:
                raise ValueError(f"certainty.overrides: unknown domain {o['domain']!r} "
                                 f"(one of {', '.join(dict.fromkeys(GRADE_DOMAINS + CINEMA_DOMAINS))})")
            if o["level"] not in GRADE_LEVELS and o["level"] not in CINEMA_LEVELS:
                raise ValueError(f"certainty.overrides: level {o['level']!r} of {o['domain']} is neither a GRADE "
                                 f"({', '.join(GRADE_LEVELS)}) nor a CINeMA ({', '.join(CINEMA_LEVELS)}) level")
            # a GRADE level overrides pairwise judgements, a CINeMA level network ones
            fits = o["level"] in (CINEMA_LEVELS if evidence == "network" else GRADE_LEVELS)
            if fits and o["domain"] == j.domain and j.domain in known and _matches(o, comparison, outcome, evidence):
                j = apply_override(j, o["level"], o["reason"], cinema=evidence == "network")
        out.append(j)
    return out


def assumed_risks(per_study: pd.DataFrame, arm_rates: pd.DataFrame | None, opts: CertaintyOptions,
                  pairs, types: dict | None = None) -> dict:
    """Assumed comparator risk per (comparison, outcome, comparator strategy).

    ``pairs`` lists ``(comparison, outcome, comparator)``, the comparator being the strategy of
    the comparison's second side where that side is a whole strategy, else '', optionally with a
    fourth item, the arm types of a second side given by arm types alone (``("placebo",)``). The config's
    ``assumed_risk[outcome]`` where given; else the median risk of the
    comparator arms of the trials in that comparison (``per_study``'s
    ``events2 / n2``); else, for a comparison with no direct trials whose comparator is a whole
    strategy, the median risk of every arm of it for that outcome
    (``arm_rates``: ``strategy, outcome, events, n``), and for one given by arm types the
    median risk of the arms of those types (``arms`` of ``arm_rates`` looked up in ``types``,
    :func:`~depmeta.review.comparisons.arm_types`). Returns ``{(comparison, outcome): (risk, source text)}``; continuous
    outcomes are skipped.
    """
    out = {}
    for comp, outcome, comparator, *side_types in pairs:
        side_types = tuple(side_types[0]) if side_types else ()
        if outcome in opts.assumed_risk:
            out[(comp, outcome)] = (float(opts.assumed_risk[outcome]), "assumed risk set in the config")
            continue
        rows = per_study[(per_study.comparison == comp) & (per_study.outcome == outcome)] if len(per_study) else []
        if len(rows) and rows.events2.notna().any():
            r = median_risk(rows.events2, rows.n2)
            k = int(rows.events2.notna().sum())
            side = comparator or side_texts(comp)[1]
            out[(comp, outcome)] = (r, f"median risk of the {side} arms of {k} trial{'s' * (k != 1)}")
            continue
        if comparator and arm_rates is not None and len(arm_rates):
            a = arm_rates[(arm_rates.strategy == comparator) & (arm_rates.outcome == outcome)]
            if len(a):
                out[(comp, outcome)] = (median_risk(a.events, a.n), f"median risk of {len(a)} {comparator} "
                                                                    f"arm{'s' * (len(a) != 1)} (no direct trials)")
        elif side_types and types and arm_rates is not None and len(arm_rates) and "arms" in arm_rates:
            a = arm_rates[arm_rates.outcome == outcome]
            a = a[[all(types.get((str(sid), i)) in side_types for i in str(ids).split(";"))
                   for sid, ids in zip(a.study_id, a.arms)]]
            if len(a):
                named = " or ".join(t.replace("_", " ") for t in side_types)
                out[(comp, outcome)] = (median_risk(a.events, a.n), f"median risk of {len(a)} {named} "
                                                                    f"arm{'s' * (len(a) != 1)} (no direct trials)")
    return out


def _absolute_row(measure: str, est: float, lo: float, hi: float, outcome: str, acr, cer, direction: int) -> dict:
    """Absolute effect fields for one estimate (display scale)."""
    if measure == "SMD":
        if cer is None or not math.isfinite(cer[0]):
            return {"absolute_note": "no control event rate for the SMD conversion"}
        c = cer[0]
        if not 0 < c < 1:  # no responder, or every one, in the comparator arms: no probit to shift
            return {"absolute_note": f"no SMD conversion at a control event rate of {c:g} ({cer[1]}): it needs a "
                                     "rate between 0 and 1"}
        eer = [float(smd_to_risk(x, c, direction)) for x in (est, lo, hi)]
        el, eh = min(eer[1:]), max(eer[1:])
        n = nnt(eer[0] - c, el - c, eh - c, 1)
        return {"acr": c, "acr_source": f"responders: {cer[1]} (Furukawa-Leucht conversion)",
                "absolute_outcome": "response (from the SMD)", "risk_comparator": 1000 * c,
                "risk_intervention": 1000 * eer[0], "risk_intervention_low": 1000 * el,
                "risk_intervention_high": 1000 * eh, "difference": 1000 * (eer[0] - c),
                "difference_low": 1000 * (el - c), "difference_high": 1000 * (eh - c), "nnt": n.text(),
                "absolute_note": ""}
    if acr is None or not math.isfinite(acr[0]):
        return {"absolute_note": "no comparator risk"}
    a = absolute_effect(measure, est, lo, hi, acr[0], direction)
    return {"acr": acr[0], "acr_source": acr[1], "absolute_outcome": outcome, "risk_comparator": a.risk_comparator,
            "risk_intervention": a.risk_intervention, "risk_intervention_low": a.risk_intervention_low,
            "risk_intervention_high": a.risk_intervention_high, "difference": a.difference,
            "difference_low": a.difference_low, "difference_high": a.difference_high, "nnt": a.nnt.text(),
            "absolute_note": ""}


def _cer(opts: CertaintyOptions, risks: dict, comparison: str):
    c = opts.smd_control_event_rate
    if isinstance(c, (int, float)):
        return float(c), "control event rate set in the config"
    return risks.get((comparison, c))


def small_study_testable(vi) -> bool:
    """Whether a small-study test can be run on trials of these variances: at least three, not
    all with the same standard error (the regression on it has no slope), as rule sensitivity
    runs it; otherwise publication bias is not assessable for want of a test result."""
    v = np.asarray(vi, float)
    return len(v) >= 3 and bool(np.ptp(v) > 0)


def grade_pairwise(summary: pd.DataFrame, per_study: pd.DataFrame, rob_levels: pd.DataFrame,
                   studies: pd.DataFrame, opts: CertaintyOptions, risks: dict, direction: dict,
                   small_study_test=None, robustness: dict | None = None):
    """GRADE every pooled pairwise comparison × outcome.

    Parameters
    ----------
    summary, per_study : DataFrame
        The pipeline's pooled results and per-study rows (``weight`` in %).
    rob_levels : DataFrame
        :func:`study_rob_levels` output.
    studies : DataFrame
        The study sheet (``study_id, age_group``).
    risks : dict
        :func:`assumed_risks` output.
    direction : dict
        outcome -> +1 (good outcome) / -1.
    small_study_test : callable ``(yi, vi) -> p`` or None
        Used where ``k >= pb_min_studies`` and ``robustness`` holds no test
        result; None: publication bias not assessable for want of a test.
    robustness : dict, optional
        :func:`depmeta.review.robustness.robustness_findings` of the sensitivity rule's
        tables: its Egger test is the small-study test, and its low-risk-of-bias,
        influence and trim-and-fill findings enter the risk-of-bias, inconsistency
        and publication-bias domains (rules in :mod:`depmeta.review.robustness`).

    Returns
    -------
    grade : DataFrame, one row per comparison × outcome × domain.
    results : DataFrame, one row per comparison × outcome: certainty and absolute effect.
    """
    level = rob_levels.set_index("study_id").level.to_dict()
    outside = outside_population(studies, opts.indirect_population)
    grade, results = [], []
    pooled = summary[summary.status == "pooled"] if len(summary) else summary
    for r in pooled.itertuples():
        ps = per_study[(per_study.comparison == r.comparison) & (per_study.outcome == r.outcome)
                       & per_study.weight.notna()]
        w = ps.weight.to_numpy(float)
        zone, null = tuple(opts.zone[r.measure]), opts.null(r.measure)
        acr = risks.get((r.comparison, r.outcome))
        ois = outcome_ois(r.measure, acr, opts)
        configured = next((e for e in opts.indirectness if _matches(e, r.comparison, r.outcome, "pairwise")), None)
        rb = (robustness or {}).get((r.comparison, r.outcome, r.measure))
        pb_p = None
        if r.k >= opts.pb_min_studies:
            if rb is not None and rb.small_study_p is not None:
                pb_p = rb.small_study_p
            elif small_study_test is not None and small_study_testable(ps.vi):
                pb_p = small_study_test(ps.yi.to_numpy(float), ps.vi.to_numpy(float))
        js = [
            rob_domain(w, [level.get(s, NOT_ASSESSED) for s in ps.study_id], opts.rob_serious_share,
                       opts.rob_very_serious_share,
                       "flag" if opts.not_assessed == "flag" else _GRADE_OF_CINEMA[opts.cinema_not_assessed]),
            inconsistency_domain(r.i2, r.pi_low_display, r.pi_high_display, int(r.k), null, zone, opts.i2_serious,
                                 opts.i2_very_serious),
            indirectness_domain(w, ps.study_id.isin(outside).to_numpy(), opts.indirect_serious_share,
                                opts.indirect_very_serious_share, configured, groups_text(opts.indirect_population)),
            imprecision_domain(r.ci_low_display, r.ci_high_display, null, opts.grade_thresholds(r.measure),
                               r.n_patients, ois),
            publication_bias_domain(int(r.k), pb_p, opts.pb_min_studies, opts.pb_alpha),
        ]
        if small_study_test is None and pb_p is None and r.k >= opts.pb_min_studies:
            js[-1] = replace(js[-1], reason=f"{r.k} studies but no small-study test available")
        if rb is not None:

            ci = (r.ci_low_display, r.ci_high_display)
            js[0] = robust_rob(js[0], rb, ci, null, opts.sens_low_rob)
            js[1] = robust_inconsistency(js[1], rb, ci, null, opts.sens_influential)
            if r.k >= opts.pb_min_studies:
                js[-1] = robust_publication_bias(js[-1], rb, ci, null, opts.pb_min_studies, opts.sens_trimfill)
        js[-1] = with_reviewers_judgement(js[-1], opts.reporting_bias, opts.reporting_bias_reason)
        js = _overridden(js, r.comparison, r.outcome, "pairwise", opts)
        cert = overall_certainty(js)
        for j in js:
            grade.append({"evidence": "pairwise", "comparison": r.comparison, "outcome": r.outcome,
                          "domain": j.domain, "concern": j.level, "downgrade": j.downgrade, "reason": j.reason,
                          "rule": j.rule, "overridden": j.overridden})
        row = {"evidence": "pairwise", "comparison": r.comparison, "outcome": r.outcome, "measure": r.measure,
               "estimate_display": r.estimate_display, "ci_low_display": r.ci_low_display,
               "ci_high_display": r.ci_high_display, "k": int(r.k), "n_patients": int(r.n_patients), "ois": ois,
               "certainty": cert.word, "certainty_score": cert.score, "symbols": cert.symbols,
               "downgrades": cert.downgrades,
               "not_assessed": "; ".join(j.domain for j in js if j.level == NOT_ASSESSED),
               "followup_weeks": _weeks(ps.timepoint_weeks), "row_ids": r.row_ids}
        row.update(_absolute_row(r.measure, r.estimate_display, r.ci_low_display, r.ci_high_display, r.outcome,
                                 acr, _cer(opts, risks, r.comparison), direction.get(r.outcome, 1)))
        results.append(row)
    return pd.DataFrame(grade), pd.DataFrame(results)


def _weeks(weeks) -> str:
    w = pd.Series(weeks, dtype=float).dropna()
    if not len(w):
        return ""
    # three significant digits: a follow-up given in months (26 months = 112.67 weeks) reads 113
    lo, hi = (float(f"{x:.3g}") for x in (w.min(), w.max()))
    return f"{lo:g} weeks" if lo == hi else f"{lo:g}–{hi:g} weeks"


def study_sizes(per_study: pd.DataFrame) -> dict:
    """Patients per (study, outcome): the distinct arm groups of the study's contrasts summed once each
    (an arm whose size the source does not print, as a reported effect may leave it, counts none)."""
    out = {}
    for (sid, outcome), d in per_study.groupby(["study_id", "outcome"]):
        groups = dict(zip(d.arms1, d.n1)) | dict(zip(d.arms2, d.n2))
        out[(sid, outcome)] = float(sum(n for n in groups.values() if pd.notna(n)))
    return out


def cinema_network(estimates: pd.DataFrame, net_summary: pd.DataFrame, contributions: pd.DataFrame,
                   rob_levels: pd.DataFrame, studies: pd.DataFrame, per_study: pd.DataFrame,
                   opts: CertaintyOptions, risks: dict, direction: dict, small_study: dict | None = None,
                   input_rows: dict | None = None):
    """CINeMA for each network estimate of a project comparison (``comparison`` not empty).

    ``estimates``, ``net_summary``, ``contributions`` as the network rule writes
    them; ``small_study`` maps (comparison, outcome) to ``(k, p)`` of a
    small-study test on the direct trials; ``input_rows`` maps outcome -> study
    -> the network's input row ids (network.json), so that each estimate lists
    the rows of every contributing study (else the direct evidence's
    ``row_ids``). Returns ``(cinema, results)`` shaped as
    :func:`grade_pairwise`'s.
    """
    if not len(estimates):
        return pd.DataFrame(), pd.DataFrame()
    level = rob_levels.set_index("study_id").level.to_dict()
    outside = outside_population(studies, opts.indirect_population)
    sizes = study_sizes(per_study) if len(per_study) else {}
    # the random-effects design-by-treatment test, the one the CINeMA application reads (nan: no test)
    dbt_p = net_summary.set_index("outcome").q_between_random_pval.to_dict() if len(net_summary) else {}
    rows, results = [], []
    est = estimates[estimates.comparison.fillna("").astype(str) != ""]
    for r in est.itertuples():
        c = contributions[(contributions.outcome == r.outcome) & (contributions.treatment1 == r.treatment1)
                          & (contributions.treatment2 == r.treatment2)]
        c = c[c.contribution > 0]
        if not len(c):
            raise ValueError(f"network_contributions.csv: no contributions for {r.outcome}, "
                             f"{r.treatment1} vs {r.treatment2}")
        zone, null = tuple(opts.zone[r.measure]), opts.null(r.measure)
        n_patients = int(sum(sizes.get((s, r.outcome), 0) for s in c.study_id))
        ois = outcome_ois(r.measure, risks.get((r.comparison, r.outcome)), opts)
        study_rob = [_CINEMA_ROB.get(level.get(s, NOT_ASSESSED), NOT_ASSESSED) for s in c.study_id]
        study_ind = [opts.cinema_indirect if s in outside else "low" for s in c.study_id]
        direct = indirect = None
        if pd.notna(r.direct_estimate) and pd.notna(r.indirect_estimate):
            # the network rule's direct and indirect CIs (normal quantile at the network's level, as netsplit)
            direct = (r.direct_ci_low_display, r.direct_ci_high_display)
            indirect = (r.indirect_ci_low_display, r.indirect_ci_high_display)
        k_pb, p_pb = (small_study or {}).get((r.comparison, r.outcome), (0, None))
        js = [
            contribution_domain("within-study bias", c.contribution, study_rob, opts.cinema_rule,
                                "flag" if opts.not_assessed == "flag" else opts.cinema_not_assessed),
            reporting_bias_domain(opts.reporting_bias, opts.reporting_bias_reason, k_pb, p_pb, opts.pb_alpha,
                                  opts.not_assessed),
            contribution_domain("indirectness", c.contribution, study_ind, opts.cinema_rule),
            cinema_imprecision(r.estimate_display, r.ci_low_display, r.ci_high_display, zone, null,
                               *((n_patients, ois) if opts.cinema_ois else (None, None))),
            cinema_heterogeneity(r.estimate_display, r.ci_low_display, r.ci_high_display, r.pi_low_display,
                                 r.pi_high_display, zone, null),
            cinema_incoherence(r.split_pval if pd.notna(r.split_pval) else None, dbt_p.get(r.outcome), zone,
                               direct, indirect, opts.incoherence_some_p, opts.incoherence_major_p,
                               has_direct=bool(pd.notna(r.direct_k) and r.direct_k > 0)),
        ]
        js = _overridden(js, r.comparison, r.outcome, "network", opts)
        cert = overall_certainty(js)
        for j in js:
            rows.append({"evidence": "network", "comparison": r.comparison, "outcome": r.outcome,
                         "domain": j.domain, "concern": j.level, "downgrade": j.downgrade, "reason": j.reason,
                         "rule": j.rule, "overridden": j.overridden})
        ids = list(c.study_id)
        wk = per_study[per_study.study_id.isin(ids) & (per_study.outcome == r.outcome)].timepoint_weeks \
            if len(per_study) else []
        row = {"evidence": "network", "comparison": r.comparison, "outcome": r.outcome, "measure": r.measure,
               "estimate_display": r.estimate_display, "ci_low_display": r.ci_low_display,
               "ci_high_display": r.ci_high_display, "pi_low_display": r.pi_low_display,
               "pi_high_display": r.pi_high_display,
               "k": len(ids), "n_patients": n_patients, "ois": ois,
               "k_direct": int(r.n_studies) if pd.notna(r.n_studies) else 0,
               "certainty": cert.word, "certainty_score": cert.score, "symbols": cert.symbols,
               "downgrades": cert.downgrades,
               "not_assessed": "; ".join(j.domain for j in js if j.level == NOT_ASSESSED),
               "followup_weeks": _weeks(wk), "studies": ";".join(ids),
               "row_ids": _network_rows(r, ids, input_rows)}
        row.update(_absolute_row(r.measure, r.estimate_display, r.ci_low_display, r.ci_high_display, r.outcome,
                                 risks.get((r.comparison, r.outcome)), _cer(opts, risks, r.comparison),
                                 direction.get(r.outcome, 1)))
        results.append(row)
    return pd.DataFrame(rows), pd.DataFrame(results)


def _network_rows(r, studies: list, input_rows: dict | None) -> str:
    by_study = (input_rows or {}).get(r.outcome)
    if by_study:
        return ";".join(rid for s in studies for rid in by_study.get(s, []))
    return r.row_ids if isinstance(r.row_ids, str) else ""


_VERB = {("increase", 4): "increases", ("increase", 3): "probably increases", ("increase", 2): "may increase",
         ("reduce", 4): "reduces", ("reduce", 3): "probably reduces", ("reduce", 2): "may reduce",
         ("none", 4): "makes little or no difference to", ("none", 3): "probably makes little or no difference to",
         ("none", 2): "may make little or no difference to"}


def plain_statement(intervention: str, comparator: str, outcome: str, measure: str, estimate: float,
                    score: int, zone) -> str:
    """A GRADE-style plain-language statement (Santesso et al. 2020, J Clin Epidemiol 119:126).

    The verb follows the certainty (high: "increases", moderate: "probably
    increases", low: "may increase"; very low: "the evidence is very
    uncertain"); the direction follows the point estimate, "little or no
    difference" when it lies inside the zone of unimportant effects.
    """
    if score <= 1:
        return (f"The evidence is very uncertain about the effect of {intervention} compared with {comparator} "
                f"on {outcome}.")
    lo, hi = zone
    way = "none" if lo <= estimate <= hi else ("increase" if estimate > (1.0 if measure in RATIO else 0.0)
                                               else "reduce")
    verb = _VERB[(way, score)]
    what = "symptom scores" if measure == "SMD" else outcome
    return f"Compared with {comparator}, {intervention} {verb} {what}."


#: The GRADE domain (pairwise) that judges what each CINeMA domain (network) judges; incoherence has none, as a
#: pairwise estimate holds no indirect evidence.
DOMAIN_COUNTERPARTS = (("within-study bias", "risk of bias"), ("reporting bias", "publication bias"),
                       ("indirectness", "indirectness"), ("imprecision", "imprecision"),
                       ("heterogeneity", "inconsistency"), ("incoherence", None))
#: GRADE's level words as GRADE's evidence profiles print them ("no" reads "not serious").
_GRADE_WORDS = {"no": "not serious"}


def certainty_difference(network: pd.DataFrame, pairwise: pd.DataFrame) -> str:
    """Why a network (CINeMA) and a pairwise (GRADE) rating of one comparison and outcome differ,
    from their judgements (rows of ``cinema`` and ``grade``: ``domain, concern, downgrade``): each
    pair of counterpart domains (:data:`DOMAIN_COUNTERPARTS`) whose downgrades differ, named with
    its level on either side, e.g. "network: incoherence major concerns; pairwise: no indirect
    evidence". Empty when no pair differs."""
    net = {d.domain: d for d in network.itertuples()}
    pw = {d.domain: d for d in pairwise.itertuples()}
    sides = {"network": [], "pairwise": []}
    for n_dom, p_dom in DOMAIN_COUNTERPARTS:
        n, p = net.get(n_dom), pw.get(p_dom) if p_dom else None
        if n is None or (p_dom is not None and p is None):
            continue
        if p is None:   # incoherence: only the network has indirect evidence to disagree with
            if n.downgrade > 0:
                sides["network"].append(f"{n_dom} {n.concern}")
                sides["pairwise"].append("no indirect evidence")
            continue
        if n.downgrade != p.downgrade:
            sides["network"].append(f"{n_dom} {n.concern}")
            sides["pairwise"].append(f"{p_dom} {_GRADE_WORDS.get(p.concern, p.concern)}")
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in sides.items() if v)


def single_small_trial(evidence: str, k, n_patients, ois) -> str:
    """Why an estimate rests on a single small trial, or "" when it does not: a network estimate
    to which one trial contributes, with fewer patients than the optimal information size (or no
    OIS to judge it by). Pairwise estimates pool two trials or more (``analysis.min_studies``)."""
    if evidence != "network" or not float(k) < 2:
        return ""
    n = float(n_patients)
    if math.isfinite(float(ois)):
        if n >= float(ois):
            return ""
        return f"one trial of {n:.0f} patients, fewer than the {float(ois):.0f} the optimal information size asks for"
    return f"one trial of {n:.0f} patients, and no optimal information size to judge it by (no comparator risk)"


def sof_rows(results: pd.DataFrame, grade: pd.DataFrame, opts: CertaintyOptions, outcomes, pairs: dict) -> pd.DataFrame:
    """Summary-of-findings rows: every estimate (network and pairwise) with its footnotes (every
    domain downgraded, overridden or not assessed) and a plain-language statement; ``primary`` marks the row the
    table shows per comparison × outcome: the network estimate where there is one, else the
    pairwise estimate; a network estimate that rests on one trial gives way to a pairwise estimate
    of more trials where there is one.

    A single small trial is never the headline (:func:`single_small_trial`): where the row shown
    rests on one, ``headline`` is false and ``headline_note`` says why, and the report prints the
    row without an effect statement; ``headline`` is true on every other row shown.

    Every row also carries both ratings of its comparison × outcome, so that the table tells one
    story where the two disagree: ``network_certainty`` (CINeMA) and ``pairwise_certainty``
    (GRADE; of the pairwise estimate on the row's measure where there is one, else the first
    pooled; "" where there is no such estimate), and ``certainty_difference``, where the two
    differ, the counterpart domains that differ (:func:`certainty_difference`).

    ``pairs`` maps comparison -> (intervention, comparator)."""
    if not len(results):
        return pd.DataFrame()
    out = []
    order = {o: i for i, o in enumerate(outcomes)}
    rank = {"network": 0, "pairwise": 1}
    for comp in dict.fromkeys(results.comparison):
        sub = results[results.comparison == comp]
        for outcome in sorted(set(sub.outcome), key=lambda o: order.get(o, 99)):
            cand = sub[sub.outcome == outcome]
            one_trial = (cand.evidence == "network") & (cand.k.astype(float) < 2)
            cand = cand.assign(_rank=cand.evidence.map(rank) + 2 * one_trial).sort_values("_rank", kind="stable")
            cand = cand.drop(columns="_rank")
            small = [single_small_trial(r.evidence, r.k, r.n_patients, r.ois) for r in cand.itertuples()]
            judged = grade[(grade.comparison == comp) & (grade.outcome == outcome)]
            for i, (_, r) in enumerate(cand.iterrows()):
                g = grade[(grade.evidence == r.evidence) & (grade.comparison == comp) & (grade.outcome == outcome)]
                notes = [{"domain": d.domain, "level": d.concern, "downgrade": int(d.downgrade), "reason": d.reason,
                          "overridden": bool(d.overridden)}
                         for d in g.itertuples() if d.downgrade > 0 or d.overridden or d.concern == NOT_ASSESSED]
                a, b = pairs[comp]
                rec = r.to_dict()
                rec.update(primary=i == 0, headline=i == 0 and not small[i],
                           headline_note=small[i] if i == 0 else "", footnotes=notes,
                           statement=plain_statement(a, b, outcome, r.measure, r.estimate_display,
                                                     int(r.certainty_score), opts.zone[r.measure]))
                rec.update(_both_ratings(r, cand, judged))
                out.append(rec)
    return pd.DataFrame(out)


def _both_ratings(r, cand: pd.DataFrame, judged: pd.DataFrame) -> dict:
    """The network and pairwise ratings of row ``r``'s comparison × outcome (``cand``: its rated
    estimates; ``judged``: their domain judgements) and why they differ."""
    def pick(evidence):
        rows = cand[cand.evidence == evidence]
        if evidence == r.evidence:
            return r
        same = rows[rows.measure == r.measure]
        return (same if len(same) else rows).iloc[0] if len(rows) else None

    net, pw = pick("network"), pick("pairwise")
    out = {"network_certainty": net.certainty if net is not None else "",
           "pairwise_certainty": pw.certainty if pw is not None else "", "certainty_difference": ""}
    if net is not None and pw is not None and net.certainty != pw.certainty:
        # the judgements carry no measure: where two pairwise analyses (relapse as RR and as HR) share the
        # key, theirs follow one another in the order of the estimates, five domains each
        order = list(cand[cand.evidence == "pairwise"].measure).index(pw.measure)
        pw_j = judged[judged.evidence == "pairwise"].iloc[order * len(GRADE_DOMAINS):(order + 1) * len(GRADE_DOMAINS)]
        out["certainty_difference"] = certainty_difference(judged[judged.evidence == "network"], pw_j)
    return out


#: Columns of absolute.csv: the relative effect and its absolute effect per 1000.
ABSOLUTE_COLUMNS = ("evidence", "comparison", "outcome", "measure", "estimate_display", "ci_low_display",
                    "ci_high_display", "acr", "acr_source", "absolute_outcome", "risk_comparator", "risk_intervention",
                    "risk_intervention_low", "risk_intervention_high", "difference", "difference_low",
                    "difference_high", "nnt", "absolute_note", "row_ids")


@dataclass(frozen=True)
class CertaintyTables:
    """The certainty rule's results: GRADE and CINeMA judgements (``grade``, ``cinema``), the
    rated estimates with their absolute effects (``results``), ``absolute`` and ``sof``
    (summary-of-findings rows), the assumed comparator risks and the study-level risk of bias."""

    grade: pd.DataFrame
    cinema: pd.DataFrame
    results: pd.DataFrame
    absolute: pd.DataFrame
    sof: pd.DataFrame
    risks: dict
    rob_levels: pd.DataFrame

    @property
    def judgements(self) -> pd.DataFrame:
        return pd.concat([self.grade, self.cinema], ignore_index=True)


def pooled_control_types(per_study: pd.DataFrame, types: dict) -> dict[tuple[str, str, str], str]:
    """``(comparison, outcome, measure) -> text``: the control types of the pooled trials'
    control arms (:func:`~depmeta.review.comparisons.control_arm_types`), with the number of
    trials of each, in the order of the vocabulary then by name, e.g. ``placebo (2);
    no_treatment (1)``; only for the analyses whose trials have control arms. A trial whose
    control side holds two types counts under each."""
    if not types or not len(per_study) or not {"arms1", "arms2"} <= set(per_study.columns):
        return {}
    pooled = per_study[per_study.weight.notna()] if "weight" in per_study else per_study
    out = {}
    for key, g in pooled.groupby(["comparison", "outcome", "measure"], sort=False):
        trials: dict[str, set] = {}
        for r in g.itertuples():
            for t in control_arm_types(r.study_id, f"{r.arms1};{r.arms2}".split(";"), types):
                trials.setdefault(t, set()).add(r.study_id)
        if trials:
            order = sorted(trials, key=lambda t: (CONTROL_TYPES.index(t) if t in CONTROL_TYPES else len(CONTROL_TYPES),
                                                  t))
            out[key] = "; ".join(f"{t} ({len(trials[t])})" for t in order)
    return out


def rate_certainty(studies: pd.DataFrame, rob: pd.DataFrame | None, summary: pd.DataFrame, per_study: pd.DataFrame,
                   arm_rates: pd.DataFrame, opts: CertaintyOptions, comparisons, outcomes, small_study_test,
                   robustness: dict | None = None, network: dict | None = None,
                   input_rows: dict | None = None, types: dict | None = None) -> CertaintyTables:
    """Every pooled pairwise estimate rated by GRADE and every network estimate (of the
    ``comparisons`` asked for: names of the default ones, definitions or
    :class:`~depmeta.review.comparisons.Comparison` objects) by CINeMA, with absolute effects and
    summary-of-findings rows.

    ``network`` holds ``estimates``, ``summary_network`` and ``contributions`` (rule network's
    tables) where the network ran. ``small_study_test(yi, vi)`` gives Egger's p-value where the
    sensitivity findings (``robustness``) hold none. ``types`` (:func:`~depmeta.review.comparisons.arm_types`) lets each
    pairwise row name the control types it pools (``control_types``). Raises ``ValueError`` for
    study ids the study sheet does not know and for a reviewer's judgement that does not fit."""
    comparisons = comparison_set(comparisons)
    rob_levels = study_rob_levels(studies, rob)
    known = set(studies.study_id)
    unknown = sorted(set(per_study.study_id) - known) if len(per_study) else []
    if unknown:
        raise ValueError(f"per-study results: study ids not in the study sheet: {unknown}")
    contrib = (network or {}).get("contributions", pd.DataFrame())
    unknown = sorted(set(contrib.study_id) - known) if len(contrib) else []
    if unknown:
        raise ValueError(f"network contributions: study ids not in the study sheet: {unknown}")
    risks = assumed_risks(per_study, arm_rates, opts,
                          [(c.name, outcome, c.arm2.whole_strategy, c.arm2.by_arm_types) for c in comparisons
                           for outcome in outcomes], types)
    robustness = robustness or {}
    grade, results = grade_pairwise(summary, per_study, rob_levels, studies, opts, risks, OUTCOME_DIRECTION,
                                    small_study_test, robustness)
    if len(results):
        # a pairwise pool against control may hold control arms of several types: each row says which
        mixed = pooled_control_types(per_study, types or {})
        results["control_types"] = [mixed.get((r.comparison, r.outcome, r.measure), "") for r in results.itertuples()]
    small = {}
    if len(summary):
        for r in summary[(summary.status == "pooled") & (summary.k >= opts.pb_min_studies)].itertuples():
            ps = per_study[(per_study.comparison == r.comparison) & (per_study.outcome == r.outcome)
                           & per_study.weight.notna()]
            # the sensitivity rule's Egger test; computed here only where that rule did not run it
            # (its sensitivity.min_k_small_study above certainty.publication_bias.min_studies)
            found = robustness.get((r.comparison, r.outcome, r.measure))
            p = found.small_study_p if found is not None and found.small_study_p is not None else \
                small_study_test(ps.yi.to_numpy(float), ps.vi.to_numpy(float)) if small_study_testable(ps.vi) else None
            small[(r.comparison, r.outcome)] = (int(r.k), p)
    cinema, net_results = pd.DataFrame(), pd.DataFrame()
    if network and len(network["estimates"]):
        # the network's strategy nodes name the comparisons; keep those the analysis asks for
        est = network["estimates"]
        est = est[est.comparison.fillna("").isin([c.name for c in comparisons])]
        cinema, net_results = cinema_network(est, network["summary_network"], network["contributions"], rob_levels,
                                             studies, per_study, opts, risks, OUTCOME_DIRECTION, small, input_rows)
    results_all = pd.concat([results, net_results], ignore_index=True)
    names = {c.name: tuple("combined treatment" if s == "combined" else s for s in c.sides) for c in comparisons}
    sof = sof_rows(results_all, pd.concat([grade, cinema], ignore_index=True), opts, outcomes, names)
    absolute = (results_all[[c for c in ABSOLUTE_COLUMNS if c in results_all.columns]] if len(results_all)
                else pd.DataFrame())
    return CertaintyTables(grade, cinema, results_all, absolute, sof, risks, rob_levels)
