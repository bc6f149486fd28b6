"""Absolute effects of a pooled relative effect: risk with intervention from a relative effect
at an assumed comparator risk (ACR), per 1000 patients, with the CI of the relative effect
carried over (the ACR is treated as known, as in GRADE's summary-of-findings tables); NNT in
Altman's NNTB/NNTH form (Altman 1998, BMJ 317:1309); a standardised mean difference converted
to a risk of response by Furukawa & Leucht's method (2011, PLoS One 6:e19070): with normal
outcomes of equal variance, ``EER = Phi(Phi^-1(CER) + d)``, ``d`` the effect in the good
direction; the optimal information size. Pure arithmetic, frozen results, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from depmeta.stats.distributions import norm_cdf, norm_ppf
from depmeta.stats.effects import RATIO_MEASURES

__all__ = ["NNT", "AbsoluteEffect", "absolute_effect", "median_risk", "nnt", "optimal_information_size",
           "risk_with_intervention", "smd_to_risk"]

RATIO = RATIO_MEASURES  # ratio measures: no effect at 1, risks by multiplication


@dataclass(frozen=True)
class NNT:
    """Number needed to treat in Altman's form.

    ``kind`` is ``NNTB`` (benefit), ``NNTH`` (harm) or ``none`` (no
    difference); ``value`` its size (``inf`` for none). The CI is
    ``ci_kind`` ``NNTB``/``NNTH`` with ``ci_low <= ci_high``, or ``both`` when
    the CI of the risk difference includes 0: then it runs from NNTB
    ``ci_low`` through infinity to NNTH ``ci_high``.
    """

    kind: str
    value: float
    ci_kind: str
    ci_low: float
    ci_high: float

    def text(self) -> str:
        """e.g. 'NNTB 8 (5 to 25)' or 'NNTB 12 (NNTB 5 to ∞ to NNTH 40)'; NNTs rounded up."""
        if not math.isfinite(self.value) and self.kind == "none":
            head = "NNT ∞"
        else:
            head = f"{self.kind} {_ceil(self.value)}"
        if self.ci_kind == "both":
            return f"{head} (NNTB {_ceil(self.ci_low)} to ∞ to NNTH {_ceil(self.ci_high)})"
        return f"{head} ({_ceil(self.ci_low)} to {_ceil(self.ci_high)})"


def _ceil(x: float) -> str:
    return "∞" if not math.isfinite(x) else f"{math.ceil(x - 1e-9):d}"


@dataclass(frozen=True)
class AbsoluteEffect:
    """Absolute effect at an assumed comparator risk, per ``per`` patients.

    ``risk_comparator`` and ``risk_intervention*`` are per ``per`` patients;
    ``difference*`` is intervention minus comparator, per ``per``; ``nnt``
    in the outcome's good direction.
    """

    measure: str
    acr: float
    per: int
    risk_comparator: float
    risk_intervention: float
    risk_intervention_low: float
    risk_intervention_high: float
    difference: float
    difference_low: float
    difference_high: float
    nnt: NNT


def risk_with_intervention(measure: str, effect, acr: float):
    """Risk with intervention from a relative effect (display scale) and the ACR.

    RR: ``ACR * RR``; OR: ``OR ACR / (1 - ACR + OR ACR)``; RD: ``ACR + RD``;
    HR: ``1 - (1 - ACR) ** HR``, the risk by the same follow-up under proportional hazards
    (Cochrane Handbook 15.4.4, with ACR the comparator's risk by that time);
    clipped to [0, 1] (an RR above ``1/ACR`` cannot be a risk).
    """
    e = np.asarray(effect, float)
    if not 0 <= acr <= 1:
        raise ValueError(f"assumed comparator risk must be in [0, 1], got {acr}")
    if measure == "RR":
        r = acr * e
    elif measure == "OR":
        r = e * acr / (1 - acr + e * acr)
    elif measure == "RD":
        r = acr + e
    elif measure == "HR":
        r = 1.0 - (1.0 - acr) ** e
    else:
        raise ValueError(f"no absolute risk for measure {measure!r}")
    return np.clip(r, 0.0, 1.0)


def nnt(difference: float, low: float, high: float, direction: int) -> NNT:
    """NNT from a risk difference (proportions) and its CI.

    Parameters
    ----------
    difference, low, high : float
        Risk with intervention minus risk with comparator, and its CI.
    direction : int
        +1 if the outcome is good (response), -1 if bad (relapse, dropout).
    """
    b = direction * difference
    lo, hi = sorted((direction * low, direction * high))
    kind = "NNTB" if b > 0 else ("NNTH" if b < 0 else "none")
    value = 1 / abs(b) if b != 0 else math.inf
    if lo > 0:
        return NNT(kind, value, "NNTB", 1 / hi, 1 / lo)
    if hi < 0:
        return NNT(kind, value, "NNTH", 1 / -lo, 1 / -hi)
    return NNT(kind, value, "both", 1 / hi if hi > 0 else math.inf, 1 / -lo if lo < 0 else math.inf)


def absolute_effect(measure: str, estimate: float, ci_low: float, ci_high: float, acr: float, direction: int,
                    per: int = 1000) -> AbsoluteEffect:
    """Absolute effect of a pooled RR/OR/RD (display scale) at the assumed comparator risk ``acr``."""
    r, rl, rh = (float(risk_with_intervention(measure, x, acr)) for x in (estimate, ci_low, ci_high))
    rl, rh = min(rl, rh), max(rl, rh)
    return AbsoluteEffect(
        measure,
        acr,
        per,
        per * acr,
        per * r,
        per * rl,
        per * rh,
        per * (r - acr),
        per * (rl - acr),
        per * (rh - acr),
        nnt(r - acr, rl - acr, rh - acr, direction),
    )


def smd_to_risk(smd, cer: float, direction: int = -1):
    """Furukawa & Leucht (2011): risk of response under intervention from an SMD.

    ``EER = Phi(Phi^-1(CER) + d)`` with ``d = -direction * smd`` ... the
    effect in the good direction: for symptom scores (``direction = -1``, a
    lower score is better) a negative g is a benefit, ``d = -g``.

    Parameters
    ----------
    smd : float or array
        Standardised mean difference, intervention minus comparator.
    cer : float
        Control event rate: the share of comparator patients responding.
    direction : int
        OUTCOME_DIRECTION of the continuous outcome (+1 higher is better).
    """
    if not 0 < cer < 1:
        raise ValueError(f"control event rate must be in (0, 1), got {cer}")
    d = direction * np.asarray(smd, float)
    return norm_cdf(norm_ppf(cer) + d)


def median_risk(events, n) -> float:
    """Median of the arms' risks ``events / n`` (arms with ``n > 0``); nan if none."""
    e, n = np.asarray(events, float), np.asarray(n, float)
    ok = np.isfinite(e) & np.isfinite(n) & (n > 0)
    return float(np.median(e[ok] / n[ok])) if ok.any() else math.nan


def optimal_information_size(acr: float | None = None, rrr: float = 0.25, alpha: float = 0.05, power: float = 0.8,
                             smd: float | None = None) -> int:
    """Total patients an adequately powered single trial needs (GRADE's OIS).

    Binary (``acr`` given): two proportions ``p1 = acr``, ``p2 = acr (1 - rrr)``,
    ``n = [z_a sqrt(2 pbar qbar) + z_b sqrt(p1 q1 + p2 q2)]^2 / (p1 - p2)^2``
    per group (Fleiss, Statistical Methods for Rates and Proportions, 3rd ed.,
    eq. 4.14 without continuity correction; statsmodels' power classes use
    Cohen's arcsine h instead, a different approximation). Continuous
    (``smd`` given): ``n = 2 (z_a + z_b)^2 / smd^2`` per group. Two-sided
    alpha; each group rounded up; returns the total of both groups.
    """
    za, zb = norm_ppf(1 - alpha / 2), norm_ppf(power)
    if smd is not None:
        n = 2 * (za + zb) ** 2 / smd**2
    else:
        if acr is None or not 0 < acr < 1:
            raise ValueError("optimal_information_size needs an acr in (0, 1) or an smd")
        p1, p2 = acr, acr * (1 - rrr)
        pbar = (p1 + p2) / 2
        root_n = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
        n = root_n**2 / (p1 - p2) ** 2
    return 2 * math.ceil(n - 1e-9)
