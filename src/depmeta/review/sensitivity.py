"""Sensitivity analyses and small-study tests for every pooled comparison × outcome, as tidy DataFrames.

Frames in (the pipeline's per-study and summary tables), frames out; no file
I/O. The statistics are :mod:`depmeta.stats.sensitivity` and :mod:`depmeta.stats.bias`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from depmeta.review.analysis import display_scale
from depmeta.stats.bias import pet_peese, ranktest, regtest, trimfill
from depmeta.stats.pooling import pool
from depmeta.stats.sensitivity import (
    GOSH_MAX_EXHAUSTIVE_K,
    GOSH_SAMPLE,
    alternative_estimators,
    cumulative,
    gosh,
    influence,
    leave1out,
    outliers,
)

__all__ = ["ALTERNATIVE_TESTS", "SensitivityOptions", "SensitivityTables", "alternative_label", "main_label",
           "run_sensitivity"]

#: Tests of the alternative-estimator analyses, each with every estimator (the primary one too).
ALTERNATIVE_TESTS = ("z", "knha")


def main_label(method: str, test: str) -> str:
    """The ``analysis`` of the primary fit's row in ``alternatives.csv``."""
    return f"main analysis ({method}, {test})"


def alternative_label(method: str, test: str) -> str:
    """The ``analysis`` of an alternative estimator and test's row in ``alternatives.csv``."""
    return f"estimator {method}, {test}"


@dataclass(frozen=True)
class SensitivityOptions:
    """The ``sensitivity`` section of the config (with the analysis' method, test and level)."""

    method: str = "REML"
    test: str = "knha"
    level: float = 0.95
    min_k_small_study: int = 10
    min_k_gosh: int = 5
    gosh_max_exhaustive_k: int = GOSH_MAX_EXHAUSTIVE_K
    gosh_subsets: int = GOSH_SAMPLE
    seed: int = 20240601
    cumulative_order: tuple = ("year", "precision")
    alternative_methods: tuple = ("DL", "PM", "ML", "SJ", "HE", "EE")

    @classmethod
    def from_config(cls, section: dict, analysis: dict) -> "SensitivityOptions":
        """From the config's ``sensitivity`` section (schema-validated) and ``analysis`` section."""
        kw = {k: v for k, v in section.items() if k in cls.__dataclass_fields__}
        for key in ("cumulative_order", "alternative_methods"):
            if key in kw:
                kw[key] = tuple(kw[key])
        kw.update({k: analysis[k] for k in ("method", "test", "level") if k in analysis})
        return cls(**kw)


@dataclass(frozen=True)
class SensitivityTables:
    """Tables of :func:`run_sensitivity` (one DataFrame each) and the GOSH fits per analysis."""

    influence: pd.DataFrame
    leave1out: pd.DataFrame
    cumulative: pd.DataFrame
    small_study: pd.DataFrame
    alternatives: pd.DataFrame
    gosh: pd.DataFrame
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)


def _alt_row(key, label, fit, measure, note="", k=None):
    if fit is None:
        return {**key, "analysis": label, "k": k or 0, "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                "pval": np.nan, "tau2": np.nan, "i2": np.nan, "estimate_display": np.nan,
                "ci_low_display": np.nan, "ci_high_display": np.nan, "note": note}
    return {**key, "analysis": label, "k": fit.k, "estimate": fit.estimate, "ci_low": fit.ci_low,
            "ci_high": fit.ci_high, "pval": fit.pval, "tau2": fit.tau2, "i2": fit.i2,
            "estimate_display": float(display_scale(measure, fit.estimate)),
            "ci_low_display": float(display_scale(measure, fit.ci_low)),
            "ci_high_display": float(display_scale(measure, fit.ci_high)),
            "note": "; ".join(filter(None, (note, fit.note)))}


def _one_per_study(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Keep one contrast per study (the largest by n1 + n2); list the others."""
    n = rows.n1.fillna(0) + rows.n2.fillna(0)
    order = rows.assign(_n=n).sort_values(["study_id", "_n"], ascending=[True, False], kind="stable")
    keep = ~order.study_id.duplicated()
    return rows.loc[order.index[keep]].sort_index(), order.loc[~keep, "row_ids"].astype(str).tolist()


def run_sensitivity(per_study: pd.DataFrame, summary: pd.DataFrame, studies: pd.DataFrame,
                    low_rob: set, opts: SensitivityOptions) -> SensitivityTables:
    """All sensitivity analyses and small-study tests for each pooled comparison × outcome.

    Parameters
    ----------
    per_study : DataFrame
        The pipeline's per-study table (``comparison, outcome, measure, study_id, label, yi, vi, n1, n2,
        row_ids``).
    summary : DataFrame
        The pipeline's summary table (``status == "pooled"`` rows are analysed).
    studies : DataFrame
        Validated studies (``study_id, year``), for the cumulative order by year.
    low_rob : set of str
        Study ids judged at low risk of bias overall.
    opts : SensitivityOptions

    Returns
    -------
    SensitivityTables
    """
    year = dict(zip(studies.study_id, pd.to_numeric(studies.year, errors="coerce")))
    tabs = {name: [] for name in ("influence", "leave1out", "cumulative", "small_study", "alternatives", "gosh")}
    pooled = summary[summary.status == "pooled"] if len(summary) else summary
    m, t, lv = opts.method, opts.test, opts.level
    for _, s in pooled.iterrows():
        # one analysis per comparison x outcome x measure: relapse can be pooled as RR and as HR
        rows = per_study[(per_study.comparison == s.comparison) & (per_study.outcome == s.outcome)
                         & (per_study.measure == s.measure)
                         & np.isfinite(per_study.yi) & np.isfinite(per_study.vi)].reset_index(drop=True)
        key = {"comparison": s.comparison, "outcome": s.outcome, "measure": s.measure}
        y, v, k = rows.yi.to_numpy(float), rows.vi.to_numpy(float), len(rows)
        ids, labels = rows.study_id.tolist(), rows.label.tolist()
        main = pool(y, v, method=m, test=t, level=lv)

        if k >= 3:
            inf = influence(y, v, method=m, test=t, level=lv)
            for i in range(k):
                tabs["influence"].append({**key, "study_id": ids[i], "label": labels[i], "yi": y[i], "vi": v[i],
                                          **{f: float(getattr(inf, f)[i]) for f in (
                                              "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat",
                                              "weight", "dfbetas")}, "influential": bool(inf.influential[i])})
        if k >= 2:
            l1 = leave1out(y, v, method=m, test=t, level=lv)
            for i in range(k):
                tabs["leave1out"].append({**key, "study_id": ids[i], "label": labels[i], "k": k - 1,
                                          **{f: float(getattr(l1, f)[i]) for f in (
                                              "estimate", "se", "ci_low", "ci_high", "pval", "tau2", "i2", "q",
                                              "q_pval")},
                                          "estimate_display": float(display_scale(s.measure, l1.estimate[i])),
                                          "ci_low_display": float(display_scale(s.measure, l1.ci_low[i])),
                                          "ci_high_display": float(display_scale(s.measure, l1.ci_high[i]))})
        for by in opts.cumulative_order:
            if by == "year":
                key_order = np.array([year.get(i, np.nan) for i in ids], float)
                if np.isnan(key_order).any():
                    key_order = np.where(np.isnan(key_order), np.inf, key_order)  # undated trials last
            else:
                key_order = v
            cu = cumulative(y, v, order=key_order, method=m, test=t, level=lv)
            for j, pos in enumerate(cu.order):
                tabs["cumulative"].append({**key, "order_by": by, "step": j + 1, "study_id": ids[pos],
                                           "label": labels[pos], "year": year.get(ids[pos], np.nan),
                                           "k": int(cu.k[j]), "estimate": cu.estimate[j], "ci_low": cu.ci_low[j],
                                           "ci_high": cu.ci_high[j], "pval": cu.pval[j], "tau2": cu.tau2[j],
                                           "i2": cu.i2[j],
                                           "estimate_display": float(display_scale(s.measure, cu.estimate[j])),
                                           "ci_low_display": float(display_scale(s.measure, cu.ci_low[j])),
                                           "ci_high_display": float(display_scale(s.measure, cu.ci_high[j]))})
        if k >= opts.min_k_gosh:
            g = gosh(y, v, method=m, max_exhaustive_k=opts.gosh_max_exhaustive_k, n_subsets=opts.gosh_subsets,
                     seed=opts.seed)
            tabs["gosh"].append(pd.DataFrame({**{c: key[c] for c in key}, "subset_k": g.k, "estimate": g.estimate,
                                              "i2": g.i2, "tau2": g.tau2, "q": g.q,
                                              "exhaustive": g.exhaustive}))

        tabs["small_study"].append(_small_study(key, y, v, k, opts))

        alt = tabs["alternatives"]
        alt.append(_alt_row(key, main_label(m, t), main, s.measure))
        # the primary estimator under the other tests first (e.g. REML with z under Knapp-Hartung), then the others
        methods = tuple(dict.fromkeys((m, *opts.alternative_methods)))
        for f in alternative_estimators(y, v, methods=methods, tests=ALTERNATIVE_TESTS, level=lv):
            if (f.method, f.test) != (m, t):
                alt.append(_alt_row(key, alternative_label(f.method, f.test), f, s.measure))
        if k >= 3:
            out = outliers(y, v, method=m, test=t, level=lv)
            note = "; ".join(np.array(labels)[out]) if out.any() else "no outliers"
            fit = pool(y[~out], v[~out], method=m, test=t, level=lv) if out.any() and (~out).sum() >= 1 else None
            alt.append(_alt_row(key, "outliers removed", fit if out.any() else main, s.measure,
                                f"removed: {note}" if out.any() else note))
        one, dropped = _one_per_study(rows)
        if dropped:
            idx = one.index.to_numpy()
            alt.append(_alt_row(key, "one effect per study", pool(y[idx], v[idx], method=m, test=t, level=lv),
                                s.measure, "dropped: " + "; ".join(dropped)))
        else:
            alt.append(_alt_row(key, "one effect per study", main, s.measure, "each trial contributes one effect"))
        low = np.array([i in low_rob for i in ids])
        if low.sum() >= 1:
            alt.append(_alt_row(key, "low risk of bias only",
                                pool(y[low], v[low], method=m, test=t, level=lv), s.measure,
                                f"{low.sum()} of {k} trials at low risk of bias"))
        else:
            alt.append(_alt_row(key, "low risk of bias only", None, s.measure,
                                f"not run: none of the {k} trials is rated at low risk of bias overall"))
        tf = tabs["small_study"][-1]
        if tf["status"] == "run":
            alt.append({**key, "analysis": "trim-and-fill", "k": k + int(tf["trimfill_k0"]),
                        "estimate": tf["trimfill_estimate"], "ci_low": tf["trimfill_ci_low"],
                        "ci_high": tf["trimfill_ci_high"], "pval": tf["trimfill_pval"], "tau2": tf["trimfill_tau2"],
                        "i2": np.nan, "estimate_display": float(display_scale(s.measure, tf["trimfill_estimate"])),
                        "ci_low_display": float(display_scale(s.measure, tf["trimfill_ci_low"])),
                        "ci_high_display": float(display_scale(s.measure, tf["trimfill_ci_high"])),
                        "note": f"{tf['trimfill_k0']} studies filled on the {tf['trimfill_side']}"})

    frames = {n: pd.DataFrame(r) for n, r in tabs.items() if n != "gosh"}
    frames["gosh"] = pd.concat(tabs["gosh"], ignore_index=True) if tabs["gosh"] else pd.DataFrame()
    return SensitivityTables(**frames)


SMALL_STUDY_COLUMNS = (
    "egger_stat", "egger_pval", "egger_limit", "egger_lm_stat", "egger_lm_df", "egger_lm_pval", "rank_tau",
    "rank_pval", "trimfill_k0", "trimfill_side", "trimfill_estimate", "trimfill_ci_low", "trimfill_ci_high",
    "trimfill_pval", "trimfill_tau2", "pet_estimate", "pet_pval", "peese_estimate", "pet_peese_selected",
    "pet_peese_estimate", "pet_peese_ci_low", "pet_peese_ci_high")


def _small_study(key, y, v, k, opts):
    row = {**key, "k": k, "status": "not run", "reason": ""}
    row.update({c: np.nan for c in SMALL_STUDY_COLUMNS})
    if k < opts.min_k_small_study:
        row["reason"] = (f"k = {k} < {opts.min_k_small_study}: too few trials for tests of funnel-plot asymmetry "
                         "(Cochrane Handbook 10.4.3.1)")
        return row
    if np.ptp(np.sqrt(v)) == 0:
        row["reason"] = "all trials have the same standard error"
        return row
    eg = regtest(y, v, model="rma", predictor="sei", method=opts.method, test=opts.test, level=opts.level)
    lm = regtest(y, v, model="lm", predictor="sei", level=opts.level)
    rk = ranktest(y, v)
    tf = trimfill(y, v, method=opts.method, test=opts.test)
    pp = pet_peese(y, v, level=opts.level)
    row.update(status="run", egger_stat=eg.stat, egger_pval=eg.pval, egger_limit=eg.est, egger_lm_stat=lm.stat,
               egger_lm_df=lm.df, egger_lm_pval=lm.pval, rank_tau=rk.kendall_tau, rank_pval=rk.pval,
               trimfill_k0=tf.k0, trimfill_side=tf.side, trimfill_estimate=tf.estimate,
               trimfill_ci_low=tf.pooled.ci_low, trimfill_ci_high=tf.pooled.ci_high, trimfill_pval=tf.pooled.pval,
               trimfill_tau2=tf.tau2, pet_estimate=pp.pet.est, pet_pval=pp.pet_pval, peese_estimate=pp.peese.est,
               pet_peese_selected=pp.selected, pet_peese_estimate=pp.estimate, pet_peese_ci_low=pp.ci_low,
               pet_peese_ci_high=pp.ci_high)
    return row
