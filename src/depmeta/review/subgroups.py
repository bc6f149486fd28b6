"""Subgroup analyses and meta-regression of the pooled comparisons: which
study characteristics (age group, chronicity, baseline severity, therapy type,
drug class, risk of bias; year) go with larger or smaller effects.

Frames in, frames out: the numerical work is :mod:`depmeta.stats.regression`; this
module assigns each contrast its moderator values from the study and arm
sheets and tabulates the results. No file I/O. Studies without a usable value
of a moderator are listed (``not_coded``), never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from depmeta.review.analysis import display_scale
from depmeta.review.comparisons import control_arm_types
from depmeta.stats.regression import meta_regression, permutation_test, subgroup_analysis

__all__ = [
    "CATEGORICAL",
    "NUMERIC",
    "SubgroupOptions",
    "contrast_moderators",
    "run_subgroups",
]

#: Categorical moderators and where their value comes from.
CATEGORICAL = {
    "age_group": "studies.age_group",
    "chronicity": "studies.chronicity",
    "baseline_severity": "studies.baseline_severity (a category: mild, moderate, severe, ...)",
    "therapy_type": "arms.therapy_type of the arms in the contrast",
    "drug_class": "arms.drug_class of the arms in the contrast",
    "format": "arms.format of the psychotherapy arms in the contrast",
    "control_type": "arms.arm_type of the control arms in the contrast (placebo, usual_care, waiting_list, ...)",
    "risk_of_bias": "studies.risk_of_bias",
}
#: Numeric moderators for meta-regression.
NUMERIC = {
    "year": "studies.year",
    "baseline_severity": "studies.baseline_severity (a number on one scale)",
}
#: Values that mean "no value" for a moderator.
NOT_CODED = {"", "not_reported", "not reported", "not assessed", "nan"}
#: Severity categories a study sheet could hold in ``baseline_severity``.
SEVERITY_LEVELS = ("mild", "mild_to_moderate", "moderate", "moderate_to_severe", "severe")
#: Which arms a moderator describes: the therapy type only exists where a
#: contrast has a psychotherapy arm, the drug class where it has a medication arm.
_APPLIES = {
    "therapy_type": ("psychotherapy", "combined"),
    "drug_class": ("medication", "combined"),
    "format": ("psychotherapy", "combined"),
}


@dataclass(frozen=True)
class SubgroupOptions:
    """Choices of the subgroup analyses (config section ``subgroups``)."""

    moderators: tuple = tuple(CATEGORICAL)
    regression_moderators: tuple = ("year", "baseline_severity")
    tau2_models: tuple = ("separate", "common")
    min_per_group: int = 2
    min_studies_regression: int = 4
    method: str = "REML"
    test: str = "knha"
    regression_test: str = "knha"
    level: float = 0.95
    permutations: int = 1000
    exact_limit: int = 1000
    seed: int = 20240601

    @classmethod
    def from_config(cls, section: dict, analysis: dict) -> "SubgroupOptions":
        """From the ``subgroups`` config section; estimator, test and level from ``analysis``."""
        s = dict(section or {})
        return cls(
            moderators=tuple(s.get("moderators", cls.moderators)),
            regression_moderators=tuple(s.get("regression_moderators", cls.regression_moderators)),
            tau2_models=tuple(s.get("tau2", cls.tau2_models)),
            min_per_group=int(s.get("min_per_group", cls.min_per_group)),
            min_studies_regression=int(s.get("min_studies_regression", cls.min_studies_regression)),
            method=analysis.get("method", cls.method),
            test=analysis.get("test", cls.test),
            regression_test=s.get("regression_test", cls.regression_test),
            level=float(analysis.get("level", cls.level)),
            permutations=int(s.get("permutations", cls.permutations)),
            exact_limit=int(s.get("exact_limit", cls.exact_limit)),
            seed=int(s.get("seed", cls.seed)),
        )


def _coded(value) -> str | None:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
    return None if text in NOT_CODED else text


def _severity_category(value) -> str | None:
    text = _coded(value)
    return text if text in SEVERITY_LEVELS else None


def _number(value) -> float | None:
    try:
        x = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def contrast_moderators(per_study: pd.DataFrame, studies: pd.DataFrame, arms: pd.DataFrame) -> pd.DataFrame:
    """Moderator values of every contrast in ``per_study``.

    Parameters
    ----------
    per_study : DataFrame
        ``results/tables/per_study.csv`` (``comparison, outcome, measure, study_id, arms1, arms2``; arms
        of a pooled multi-arm side joined with ``;``).
    studies, arms : DataFrame
        The validated study and arm sheets.

    Returns
    -------
    DataFrame
        ``per_study``'s keys plus one column per moderator in :data:`CATEGORICAL` (the value,
        or ``None`` when not coded or not applicable) and ``year``, ``baseline_severity_score``
        (float or NaN); ``therapy_type``/``drug_class`` join the distinct values of the arms
        concerned with ``+`` (e.g. ``CBT+IPT``).
    """
    st = studies.set_index("study_id")
    arm_info = arms.assign(arm_id=arms.arm_id.astype(str)).groupby(["study_id", "arm_id"])
    types = arm_info.arm_type.first()
    values = {col: arm_info[col].agg(lambda s: sorted({v for v in map(_coded, s) if v}))
              for col in _APPLIES if col in arms.columns}
    rows = []
    for _, r in per_study.iterrows():
        sid = r.study_id
        if sid not in st.index:
            raise ValueError(f"per_study: study_id {sid!r} (comparison {r.comparison}, outcome {r.outcome}) "
                             "is not in the study sheet")
        s = st.loc[sid]
        out = {"comparison": r.comparison, "outcome": r.outcome, "measure": r.get("measure", ""),
               "study_id": sid,
               "label": r.get("label", sid), "yi": float(r.yi), "vi": float(r.vi)}
        out["age_group"] = _coded(s.get("age_group"))
        out["chronicity"] = _coded(s.get("chronicity"))
        out["risk_of_bias"] = _coded(s.get("risk_of_bias"))
        out["baseline_severity"] = _severity_category(s.get("baseline_severity"))
        out["year"] = _number(s.get("year"))
        out["baseline_severity_score"] = _number(s.get("baseline_severity"))
        arm_ids = [a for side in ("arms1", "arms2") for a in str(r.get(side, "")).split(";") if a]
        for col, kinds in _APPLIES.items():
            found = set()
            applicable = False
            for a in arm_ids:
                if types.get((sid, a)) in kinds:
                    applicable = True
                    found.update(values.get(col, {}).get((sid, a), []))
            out[col] = "+".join(sorted(found)) if found else None
            out[f"{col}_applicable"] = applicable
        # the control type: the arm types of the contrast's control arms (placebo, waiting_list, ...)
        controls = sorted(control_arm_types(sid, arm_ids, types))
        out["control_type"] = "+".join(controls) if controls else None
        out["control_type_applicable"] = bool(controls)
        rows.append(out)
    return pd.DataFrame(rows)


def _counts(labels, ks) -> str:
    return "; ".join(f"{g} ({k})" for g, k in zip(labels, ks))


def run_subgroups(moderated: pd.DataFrame, summary: pd.DataFrame, opts: SubgroupOptions):
    """Subgroup tests and meta-regressions of every pooled comparison × outcome.

    Parameters
    ----------
    moderated : DataFrame
        :func:`contrast_moderators` output.
    summary : DataFrame
        ``results/tables/summary.csv`` (which comparison × outcome were pooled, and the measure).
    opts : SubgroupOptions

    Returns
    -------
    groups, tests, regression : DataFrame
        One row per analysis × moderator × tau² model × group; per analysis × moderator ×
        tau² model (the between-group test, or why there is none); per analysis × numeric
        moderator (the meta-regression with its permutation p-value, or why there is none).
    """
    groups, tests, regs = [], [], []
    pooled = summary[summary.status == "pooled"] if len(summary) else summary
    for _, a in pooled.iterrows():
        # one analysis per comparison x outcome x measure: relapse can be pooled as RR and as HR
        rows = moderated[(moderated.comparison == a.comparison) & (moderated.outcome == a.outcome)
                         & (moderated.measure == a.measure)]
        key = {"comparison": a.comparison, "outcome": a.outcome, "measure": a.measure}
        for mod in opts.moderators:
            if mod not in CATEGORICAL:
                raise ValueError(f"config subgroups.moderators: unknown moderator {mod!r}; "
                                 f"choose from {sorted(CATEGORICAL)}")
            _subgroups_one(rows, key, mod, opts, groups, tests)
        for mod in opts.regression_moderators:
            if mod not in NUMERIC:
                raise ValueError(f"config subgroups.regression_moderators: unknown moderator {mod!r}; "
                                 f"choose from {sorted(NUMERIC)}")
            regs.append(_regression_one(rows, key, mod, opts))
    return pd.DataFrame(groups), pd.DataFrame(tests), pd.DataFrame(regs)


def _subgroups_one(rows, key, mod, opts, groups, tests):
    applicable = rows.get(f"{mod}_applicable", pd.Series(True, index=rows.index)).astype(bool)
    coded = rows[applicable & rows[mod].notna()]
    missing = rows[applicable & rows[mod].isna()]
    base = {**key, "moderator": mod, "k": len(coded),
            "not_coded": ";".join(missing.study_id), "studies": ";".join(coded.study_id)}
    if not applicable.any():
        for model in opts.tau2_models:
            tests.append({**base, "tau2_model": model, "status": "not applicable",
                          "note": f"no arm in this comparison has a {mod.replace('_', ' ')}"})
        return
    if not len(coded):
        why = ("baseline severity is recorded as text (inclusion criteria or means on different scales), "
               "not as a category" if mod == "baseline_severity" else "no study has a value")
        for model in opts.tau2_models:
            tests.append({**base, "tau2_model": model, "status": "not coded", "note": why})
        return
    labels, ks = np.unique(coded[mod].astype(str), return_counts=True)
    kept = ks[ks >= opts.min_per_group]
    for model in opts.tau2_models:
        if model == "common" and len(kept) and kept.sum() <= len(kept):
            # one study per group (min_per_group 1): no degree of freedom is left for the common tau²
            tests.append({**base, "tau2_model": model, "n_groups": len(kept), "groups": _counts(labels, ks),
                          "status": "not tested",
                          "note": f"a common τ² needs more studies than groups ({kept.sum()} in {len(kept)})"})
            continue
        res = subgroup_analysis(coded.yi, coded.vi, coded[mod].astype(str), tau2=model, method=opts.method,
                                test=opts.test, level=opts.level, min_per_group=opts.min_per_group)
        small = "; ".join(f"{g} ({k})" for g, k in res.too_small)
        row = {**base, "tau2_model": model, "n_groups": len(res.groups), "groups": _counts(labels, ks),
               "too_small": small}
        if len(res.groups) >= 2:
            row.update(status="tested", q_between=res.q_between, q_between_df=res.q_between_df,
                       q_between_pval=res.q_between_pval,
                       note=(f"groups with fewer than {opts.min_per_group} studies left out: {small}"
                             if small else ""))
        else:
            row.update(status="not tested",
                       note=(f"fewer than two groups with at least {opts.min_per_group} studies"
                             + (f" (too small: {small})" if small else "")))
        tests.append(row)
        for j, g in enumerate(res.groups):
            members = coded[coded[mod].astype(str) == g]
            groups.append({
                **key, "moderator": mod, "tau2_model": model, "group": g, "k": int(res.k[j]),
                "studies": ";".join(members.study_id), "estimate": res.estimate[j], "se": res.se[j],
                "ci_low": res.ci_low[j], "ci_high": res.ci_high[j], "tau2": res.tau2[j],
                "q_within": res.q_within[j],
                "estimate_display": display_scale(key["measure"], res.estimate[j]),
                "ci_low_display": display_scale(key["measure"], res.ci_low[j]),
                "ci_high_display": display_scale(key["measure"], res.ci_high[j]),
            })


def _regression_one(rows, key, mod, opts):
    col = "year" if mod == "year" else "baseline_severity_score"
    coded = rows[rows[col].notna()]
    missing = rows[rows[col].isna()]
    out = {**key, "moderator": mod, "k": len(coded), "method": opts.method, "test": opts.regression_test,
           "studies": ";".join(coded.study_id), "not_coded": ";".join(missing.study_id)}
    if mod == "baseline_severity" and not len(coded):
        return {**out, "status": "not available",
                "note": "baseline severity is recorded as text (inclusion criteria or means on different "
                        "scales, HRSD, MADRS, BDI, CDRS-R), with no common numeric value"}
    if len(coded) < opts.min_studies_regression:
        return {**out, "status": "not fitted",
                "note": f"{len(coded)} studies with a value; at least {opts.min_studies_regression} needed"}
    x = coded[col].to_numpy(float)
    if np.ptp(x) == 0:
        return {**out, "status": "not fitted", "note": f"every study has the same {mod.replace('_', ' ')}"}
    y, v = coded.yi.to_numpy(float), coded.vi.to_numpy(float)
    fit = meta_regression(y, v, x, [mod], method=opts.method, test=opts.regression_test, level=opts.level)
    perm = permutation_test(y, v, x, [mod], method=opts.method, test=opts.regression_test,
                            iterations=opts.permutations, exact_limit=opts.exact_limit, seed=opts.seed)
    return {
        **out, "status": "fitted", "intercept": fit.coef[0], "slope": fit.coef[1], "slope_se": fit.se[1],
        "slope_ci_low": fit.ci_low[1], "slope_ci_high": fit.ci_high[1], "slope_stat": fit.stat[1],
        "slope_df": fit.df, "slope_pval": fit.pval[1], "qm": fit.qm, "qm_df": fit.qm_df, "qm_pval": fit.qm_pval,
        "perm_pval": perm.qm_pval, "perm_exact": perm.exact, "perm_iterations": perm.iterations,
        "perm_seed": perm.seed, "tau2": fit.tau2, "r2": fit.r2, "qe": fit.qe, "qe_df": fit.qe_df,
        "qe_pval": fit.qe_pval, "i2": fit.i2, "x_min": float(x.min()), "x_max": float(x.max()),
        "note": "",
    }


