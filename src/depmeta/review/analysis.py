"""From contrasts to pooled results: one meta-analysis per comparison × outcome,
and pooled event rates per strategy × outcome. Returns tidy DataFrames; no file
I/O (the workflow's scripts write them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from depmeta.review.comparisons import DEFAULT_COMPARISONS, comparison_set
from depmeta.review.contrasts import exclude_arms, form_contrasts, preference_key, studies_text
from depmeta.review.hazard import hazard_contrasts
from depmeta.review.populations import ADULT_GROUPS, Populations
from depmeta.review.scales import ScaleOptions, scale_rank, select_scales
from depmeta.review.sheets import prepare_arms, prepare_contrasts
from depmeta.review.timeframes import timeframes_from_config, within_timeframes
from depmeta.review.vocabulary import (
    BINARY_OUTCOMES,
    OUTCOMES,
    SCALE_PRIORITY,
    STRATEGIES,
    strategy_of,
)
from depmeta.stats.effects import RATIO_MEASURES, escalc
from depmeta.stats.pooling import pool

__all__ = ["AnalysisOptions", "followup_analyses", "run_meta_analyses", "pooled_summary", "pool_event_rates",
           "stratum_analyses", "risk_differences", "pooled_with_rd", "display_scale", "exclusions_table",
           "adult_study_ids"]



@dataclass(frozen=True)
class AnalysisOptions:
    """Analysis choices (the ``analysis`` section of ``config/config.yaml``)."""

    method: str = "REML"
    test: str = "knha"
    level: float = 0.95
    prediction_interval: str = "metafor"
    binary_measure: str = "RR"
    add: float = 0.5
    to: str = "only0"
    drop00: bool = True
    min_studies: int = 2
    #: the protocol's comparisons (``analysis.comparisons``): names of the default ones, their
    #: definitions, or :class:`~depmeta.review.comparisons.Comparison` objects; held as the latter
    comparisons: tuple = field(default_factory=comparison_set)
    outcomes: tuple = OUTCOMES
    population_preference: tuple = ("ITT", "mITT", "completers")
    timepoint: str = "latest"
    #: outcome -> :class:`~depmeta.review.timeframes.TimeFrame` (``analysis.timeframes``); None: every
    #: row of every phase and week, the ``timepoint`` week of each trial
    timeframes: dict | None = None
    #: outcome -> TimeFrame of the long-term follow-up analysed on its own (``analysis.followup``); empty: none
    followup: dict = field(default_factory=dict)
    event_rates: bool = True
    strategies: tuple = STRATEGIES
    scale_rule: str = "priority"
    scale_priority: tuple = SCALE_PRIORITY
    scale_rho: float = 0.5
    change_scores: str = "never"
    #: the primary population and the strata (``analysis.populations``; default: every age group primary)
    populations: Populations = field(default_factory=Populations)

    def __post_init__(self):
        object.__setattr__(self, "comparisons", comparison_set(self.comparisons))

    @property
    def comparison_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.comparisons)

    @classmethod
    def from_config(cls, section: dict) -> "AnalysisOptions":
        """Build from the config's ``analysis`` mapping (already schema-validated)."""
        zc = section.get("zero_cell", {})
        kw = {k: v for k, v in section.items() if k in cls.__dataclass_fields__}
        for key in ("comparisons", "outcomes", "population_preference", "strategies"):
            if key in kw:
                kw[key] = tuple(kw[key])
        kw.update({k: zc[k] for k in ("add", "to", "drop00") if k in zc})
        sc = section.get("scales", {})
        kw.update({f"scale_{k}": tuple(sc[k]) if k == "priority" else sc[k] for k in ("rule", "priority", "rho")
                   if k in sc})
        if "use" in section.get("change_scores", {}):
            kw["change_scores"] = section["change_scores"]["use"]
        if "timeframes" in kw:
            kw["timeframes"] = timeframes_from_config(kw["timeframes"])
        if "followup" in kw:
            kw["followup"] = timeframes_from_config(kw["followup"])
        if "populations" in kw:
            kw["populations"] = Populations.from_config(kw["populations"])
        return cls(**kw)

    @property
    def scales(self) -> ScaleOptions:
        """The choice among a trial's symptom rows (:mod:`depmeta.review.scales`)."""
        return ScaleOptions(self.scale_rule, self.scale_priority, self.scale_rho, self.change_scores)

    def record(self) -> dict:
        """The options as a JSON-able mapping (the time frames as the protocol states them; the
        comparisons by name, and those not of the strategies with their sides)."""
        frames = None if self.timeframes is None else {o: asdict(f) for o, f in self.timeframes.items()}
        followup = {o: asdict(f) for o, f in self.followup.items()}
        defined = {c.name: c.record() for c in self.comparisons if DEFAULT_COMPARISONS.get(c.name) != c}
        return {**self.__dict__, "timeframes": frames, "followup": followup,
                "comparisons": list(self.comparison_names),
                **({"comparison_definitions": defined} if defined else {}), "populations": self.populations.record()}

    def early(self) -> "AnalysisOptions":
        """The options of the analysis at each trial's earliest timepoint (claims about speed): the
        same phases, any week, the earliest."""
        frames = None if self.timeframes is None else {o: f.without_window("earliest")
                                                        for o, f in self.timeframes.items()}
        return replace(self, timepoint="earliest", timeframes=frames)


def display_scale(measure: str, x):
    """An effect on the analysis scale turned to the display scale: ratio measures
    (:data:`RATIO_MEASURES`) are pooled as logs and shown exponentiated."""
    x = np.asarray(x, float)
    return np.exp(x) if measure in RATIO_MEASURES else x


def _effect_sizes(sub: pd.DataFrame, outcome: str, opts: AnalysisOptions):
    """Effect sizes of one analysis: from the arms, or a reported effect already on the
    analysis's pooled scale and oriented (metafor's ``escalc(measure="GEN")``)."""
    if (sub.source_kind == "hazard_ratio").all():
        # published log hazard ratios, already oriented (depmeta.review.hazard)
        es = escalc("GEN", yi=sub.reported_yi, sei=sub.reported_se)
        return "HR", es.yi, es.vi, [None] * len(sub)
    measure = opts.binary_measure if outcome in BINARY_OUTCOMES else "SMD"
    yi = np.full(len(sub), np.nan)
    vi = np.full(len(sub), np.nan)
    reasons = [None] * len(sub)
    arm = (sub.source_kind == "arms").to_numpy()
    # a standardiser needs a pooled SD above 0 on at least one degree of freedom: arms of one
    # patient each leave none (and several such arms combined have an SD of 0)
    no_sd = np.zeros(len(sub), bool)
    if arm.any() and outcome not in BINARY_OUTCOMES:
        s = sub[arm]
        no_sd[arm] = ((s.n1 + s.n2 <= 2) | ~(s.sd1 > 0) | ~(s.sd2 > 0)).to_numpy()
    for i in np.flatnonzero(no_sd):
        reasons[i] = (f"SMD not estimable: arms of {sub.n1.iloc[i]:g} and {sub.n2.iloc[i]:g} patients with SDs "
                      f"{sub.sd1.iloc[i]:.3g} and {sub.sd2.iloc[i]:.3g} give no pooled SD")
    arm = arm & ~no_sd
    if arm.any():
        s = sub[arm]
        if outcome in BINARY_OUTCOMES:
            es = escalc(measure, ai=s.events1, n1i=s.n1, ci=s.events2, n2i=s.n2, add=opts.add, to=opts.to,
                        drop00=opts.drop00)
            for i, why in zip(np.flatnonzero(arm), es.reasons):
                reasons[i] = why
        else:
            es = escalc("SMD", m1i=s.mean1, sd1i=s.sd1, n1i=s.n1, m2i=s.mean2, sd2i=s.sd2, n2i=s.n2)
        yi[arm], vi[arm] = es.yi, es.vi
    rep = (sub.source_kind != "arms").to_numpy() & ~no_sd
    if rep.any():
        s = sub[rep]
        es = escalc("GEN", yi=s.reported_yi, sei=s.reported_se)
        yi[rep], vi[rep] = es.yi, es.vi
    return measure, yi, vi, reasons


#: arm-level summaries carried into the per-study table (NaN where a contrast has none)
_ARM_FIELDS = ("events1", "events2", "mean1", "sd1", "mean2", "sd2")


def run_meta_analyses(contrasts: pd.DataFrame, labels: dict, opts: AnalysisOptions):
    """Pool every comparison × outcome.

    Returns
    -------
    summary : DataFrame, one row per comparison × outcome with data
        (``status`` is ``pooled``, or ``not pooled`` with the reason).
    per_study : DataFrame, one row per contrast with its effect size, CI and weight.
    excluded : DataFrame of contrasts not in a pooled estimate, with the reason.
    """
    return _meta_analyses(contrasts, labels, opts, per_study=True)


def pooled_summary(contrasts: pd.DataFrame, opts: AnalysisOptions) -> pd.DataFrame:
    """The summary of :func:`run_meta_analyses` alone (its per-study rows are not formed)."""
    return _meta_analyses(contrasts, {}, opts, per_study=False)[0]


def _meta_analyses(contrasts: pd.DataFrame, labels: dict, opts: AnalysisOptions, per_study: bool):
    summary, studies, excluded = [], [], []
    z = _zcrit(opts.level)
    # row positions of each comparison x outcome x (hazard ratio or not), in sheet order: one
    # pass over the table instead of three boolean masks per analysis
    groups: dict[tuple, list[int]] = {}
    if len(contrasts):
        hazards = (contrasts.source_kind == "hazard_ratio").tolist()
        for pos, key in enumerate(zip(contrasts.comparison, contrasts.outcome, hazards)):
            groups.setdefault(key, []).append(pos)
    for comp in opts.comparison_names:
        for outcome, hazard in [(o, h) for o in opts.outcomes for h in (False, True)]:
            positions = groups.get((comp, outcome, hazard))
            if not positions:
                continue
            sub = contrasts.iloc[positions].reset_index(drop=True)
            measure, yi, vi, reasons = _effect_sizes(sub, outcome, opts)
            # a variance of 0 (risks of 0 or 1 in both arms without a continuity correction) has no weight
            ok = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
            k = int(ok.sum())
            pooled = k >= opts.min_studies and k >= 1
            row = {
                "comparison": comp, "outcome": outcome, "measure": measure, "k": k,
                "n_patients": int(sub.loc[ok, "n1"].sum() + sub.loc[ok, "n2"].sum()),
                "studies": ";".join(sub.loc[ok, "study_id"]),
                "row_ids": [rid for ids in sub.loc[ok, "row_ids"] for rid in ids],
                "status": "pooled" if pooled else "not pooled",
                "reason": "" if pooled else f"{studies_text(k, 'usable')}; "
                                             f"min_studies is {opts.min_studies}",
            }
            if pooled:
                res = pool(yi[ok], vi[ok], method=opts.method, test=opts.test, level=opts.level,
                           pi=opts.prediction_interval)
                d = res.to_dict()
                weights = d.pop("weights")
                row.update(d)
                for f in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
                    row[f"{f}_display"] = float(display_scale(measure, d[f]))
            summary.append(row)
            if not per_study:
                continue
            w_iter = iter(weights if pooled else [])
            for i, r in enumerate(sub.to_dict("records")):
                rec = {
                    "comparison": comp, "outcome": outcome, "measure": measure,
                    "study_id": r["study_id"], "label": labels.get(r["study_id"], r["study_id"]),
                    "n1": r["n1"], "n2": r["n2"], **{f: r.get(f, np.nan) for f in _ARM_FIELDS},
                    "arms1": r["arms1"], "arms2": r["arms2"], "timepoint_weeks": r["timepoint_weeks"],
                    "analysis_population": r["analysis_population"], "derived": bool(r["derived"]),
                    "multi_arm": bool(r["multi_arm"]), "source_kind": r["source_kind"],
                    "scale": r.get("scale", ""), "score_type": r.get("score_type", ""),
                    "yi": yi[i], "vi": vi[i], "row_ids": r["row_ids"],
                }
                if ok[i]:
                    se = np.sqrt(vi[i])
                    rec.update(ci_low=yi[i] - z * se, ci_high=yi[i] + z * se,
                               weight=next(w_iter) if pooled else np.nan)
                    for f in ("yi", "ci_low", "ci_high"):
                        rec[f"{f}_display"] = float(display_scale(measure, rec[f]))
                    studies.append(rec)
                else:
                    excluded.append({"comparison": comp, "outcome": outcome, "measure": measure,
                                     "study_id": r["study_id"],
                                     "label": rec["label"], "row_ids": r["row_ids"],
                                     "reason": reasons[i] or ("sampling variance 0: no continuity correction where "
                                                              "both arms' risks are 0 or 1" if vi[i] == 0
                                                              else "effect size not estimable")})
    cols_x = ["comparison", "outcome", "measure", "study_id", "label", "row_ids", "reason"]
    return pd.DataFrame(summary), pd.DataFrame(studies), pd.DataFrame(excluded, columns=cols_x)


def exclusions_table(excluded: pd.DataFrame, unused: pd.DataFrame, summary: pd.DataFrame,
                     labels: dict) -> pd.DataFrame:
    """Everything valid that is in no pooled estimate, with the reason (exclusions.csv):
    contrasts whose effect size is not estimable (``kind`` contrast), input rows no contrast
    uses (row: excluded arms among them) and comparisons with too few trials to pool (analysis)."""
    unused = unused.assign(label=unused.study_id.map(labels))
    out = pd.concat([
        excluded.assign(kind="contrast"),
        unused.assign(kind="row", measure="")[["comparison", "outcome", "measure", "study_id", "label", "row_ids",
                                               "reason", "kind"]],
    ], ignore_index=True)
    if len(summary):
        not_pooled = summary[summary.status != "pooled"]
        out = pd.concat([out, pd.DataFrame({
            "comparison": not_pooled.comparison, "outcome": not_pooled.outcome, "measure": not_pooled.measure,
            "study_id": not_pooled.studies,
            "label": not_pooled.studies.map(lambda s: "; ".join(labels.get(x, x) for x in s.split(";") if x)),
            "row_ids": not_pooled.row_ids, "reason": "comparison not pooled: " + not_pooled.reason,
            "kind": "analysis"})], ignore_index=True)
    return out


def risk_differences(contrasts: pd.DataFrame, opts: AnalysisOptions):
    """The binary outcomes pooled again as risk differences (RD), beside the
    configured ratio measure, so that claims stated as absolute differences are
    set against an absolute scale. Same contrasts, estimator and options; only
    the measure changes. Returns ``run_meta_analyses``' summary (measure ``RD``)."""
    binary = tuple(o for o in opts.outcomes if o in BINARY_OUTCOMES)
    if not binary:
        return pd.DataFrame()
    # arm-level contrasts, and reported risk differences; a reported ratio has no RD
    arm_level = contrasts[(contrasts.source_kind == "arms") | (contrasts.get("reported_measure") == "RD")] \
        if len(contrasts) else contrasts
    return pooled_summary(arm_level, replace(opts, binary_measure="RD", outcomes=binary))


def pooled_with_rd(contrasts: pd.DataFrame, opts: AnalysisOptions,
                   study_ids: set | None = None) -> pd.DataFrame:
    """Summary of :func:`run_meta_analyses` with the risk-difference rows of
    :func:`risk_differences` appended, optionally on a subset of studies (a
    subgroup, the adult trials): one row per comparison × outcome × measure."""
    sub = contrasts[contrasts.study_id.isin(study_ids)] if study_ids is not None and len(contrasts) else contrasts
    parts = [pooled_summary(sub, opts), risk_differences(sub, opts)]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _zcrit(level: float) -> float:
    from depmeta.stats.distributions import norm_ppf

    return float(norm_ppf(0.5 + level / 2))


def pool_event_rates(arms: pd.DataFrame, labels: dict, opts: AnalysisOptions):
    """Pool arm-level event rates per strategy × binary outcome on the logit scale.

    Per study, the arms of one strategy are combined (events and n summed) in the
    study's preferred slice (population, then timepoint, as for contrasts); the
    logits (metafor's ``PLO`` with its 0.5 correction for 0 or n events) are
    pooled with the configured estimator and back-transformed.
    """
    preferred = preference_key(opts.population_preference, opts.timepoint)
    a = arms[arms.outcome.isin([o for o in opts.outcomes if o in BINARY_OUTCOMES])
             & arms.analysis_population.isin(opts.population_preference)].copy()
    a["strategy"] = a.arm_type.map(strategy_of)
    per_arm, summary = [], []
    for (strategy, outcome), rows in a.groupby(["strategy", "outcome"], sort=True):
        if strategy not in opts.strategies:
            continue
        picked = []
        for sid, srows in rows.groupby("study_id", sort=True):
            best = min(srows.groupby(["analysis_population", "timepoint_weeks"], dropna=False),
                       key=lambda kv: preferred(*kv[0]))[1]
            picked.append({"strategy": strategy, "outcome": outcome, "study_id": sid,
                           "label": labels.get(sid, sid), "events": float(best.events_used.sum()),
                           "n": float(best.n.astype(float).sum()), "arms": ";".join(best.arm_id),
                           "derived": bool(best.events_derived.any()),
                           "row_ids": list(best.row_id)})
        p = pd.DataFrame(picked)
        es = escalc("PLO", xi=p.events, ni=p.n, add=opts.add, to=opts.to, drop00=False)
        p["yi"], p["vi"] = es.yi, es.vi
        # a rate of 0 or 1 without a continuity correction (zero_cell.add 0, or to none) has no logit
        ok = np.isfinite(p.yi) & np.isfinite(p.vi)
        k = int(ok.sum())
        row = {"strategy": strategy, "outcome": outcome, "k": k, "n_patients": int(p.n[ok].sum()),
               "studies": ";".join(p.study_id[ok]), "row_ids": [r for ids in p.row_ids[ok] for r in ids]}
        p["weight"] = np.nan
        if k >= opts.min_studies:
            res = pool(p.yi[ok], p.vi[ok], method=opts.method, test=opts.test, level=opts.level,
                       pi=opts.prediction_interval)
            d = res.to_dict()
            p.loc[ok, "weight"] = d.pop("weights")
            row.update(d, status="pooled", reason="")
            for f in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
                row[f"{f}_rate"] = float(1 / (1 + np.exp(-d[f]))) if np.isfinite(d[f]) else np.nan
        else:
            usable = "" if k == len(p) else "usable"
            row.update(status="not pooled", reason=f"{studies_text(k, usable)}; min_studies is {opts.min_studies}")
        p["rate"] = p.events / p.n
        summary.append(row)
        per_arm.append(p)
    per_arm_df = pd.concat(per_arm, ignore_index=True) if per_arm else pd.DataFrame()
    return pd.DataFrame(summary), per_arm_df


def adult_study_ids(studies: pd.DataFrame) -> set:
    """The trials in adults and older adults (``age_group`` in :data:`~depmeta.review.populations.ADULT_GROUPS`)."""
    return set(studies.study_id[studies.age_group.isin(ADULT_GROUPS)])


def stratum_analyses(sheets: dict[str, pd.DataFrame], opts: AnalysisOptions) -> pd.DataFrame:
    """The pooled analyses of each stratum of the protocol (``analysis.populations.strata``) on its
    own: its trials through the same exclusion step, contrasts and pooling as the primary
    population's (:func:`assemble_contrasts` with the stratum's age groups as the population).
    One row per stratum × comparison × outcome × measure (``stratum`` first); empty without strata."""
    parts = []
    for name in opts.populations.strata:
        formed = assemble_contrasts(sheets, replace(opts, populations=opts.populations.only(name)))
        summary = pooled_summary(formed.contrasts, opts)
        if len(summary):
            parts.append(summary.assign(stratum=name)[["stratum", *summary.columns]])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def followup_analyses(sheets: dict[str, pd.DataFrame], opts: AnalysisOptions) -> pd.DataFrame:
    """The pooled analyses of the long-term follow-up (``analysis.followup``), each outcome it names
    on the rows of its follow-up window through the same exclusion step, contrasts and pooling as
    the primary analyses (:func:`assemble_contrasts` with those frames); hazard ratios are not
    among them (relapse over a follow-up is its own outcome), nor rows without a week (their
    trial's end of treatment). One row per comparison × outcome × measure, with the weeks the trials
    contribute (``followup_weeks``); empty without follow-up."""
    outcomes = tuple(o for o in opts.outcomes if o in opts.followup)
    if not outcomes:
        return pd.DataFrame()
    later = replace(opts, outcomes=outcomes, timeframes=dict(opts.followup))
    sheets = {name: (df[df.timepoint_weeks.notna() | ~df.outcome.isin(outcomes)]
                     if name in ("arms", "contrasts") and df is not None and "timepoint_weeks" in df else df)
              for name, df in sheets.items()}
    formed = assemble_contrasts(sheets, later, hazard=False)
    summary = pooled_summary(formed.contrasts, later)
    if not len(summary):
        return summary
    weeks = {}
    for (comp, outcome), d in formed.contrasts.groupby(["comparison", "outcome"]):
        w = d.timepoint_weeks.dropna()
        weeks[(comp, outcome)] = ("" if not len(w) else f"{w.min():g} weeks" if w.min() == w.max()
                                  else f"{w.min():g}–{w.max():g} weeks")
    return summary.assign(followup_weeks=[weeks.get(k, "") for k in zip(summary.comparison, summary.outcome)])


@dataclass(frozen=True)
class ContrastSet:
    """The contrasts one run analyses, formed from the validated sheets.

    ``arms``: the arm rows analysed (prepared, excluded arms set apart); ``contrasts``: one
    row per study × comparison × outcome (published hazard ratios appended, measure HR);
    ``unused``: rows that enter no contrast, with the reason (excluded arms included);
    ``n_excluded_arms`` and ``n_hazard``: how many of those are set-apart arms and how
    many contrasts are hazard ratios."""

    arms: pd.DataFrame
    contrasts: pd.DataFrame
    unused: pd.DataFrame
    n_excluded_arms: int
    n_hazard: int


def analysable_arms(sheets: dict[str, pd.DataFrame], timeframes: dict | None = None,
                    scales: ScaleOptions | None = None, populations: Populations | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The one exclusion step every analysis starts from: the arm sheet prepared, the rows of the trials
    outside the protocol's primary population set apart (``populations``, with the study sheet
    ``sheets["studies"]``; reason: the trial's stratum, :mod:`depmeta.review.populations`; None: every
    trial), the rows of the excluded-arms sheet (reason "excluded: ..."; a row of it that names an
    outcome sets apart only the arm's rows of that outcome, whose definition falls outside the
    outcome's), then the rows outside their outcome's time frame
    (:func:`~depmeta.review.timeframes.within_timeframes`), then the symptom rows of scales or change
    scores a trial's contrasts do not use (:func:`depmeta.review.scales.select_scales`, with ``scales``,
    the defaults where None), in :func:`depmeta.review.contrasts.form_contrasts`' ``unused`` form.
    Pairwise, network and event-rate analyses all read the arms returned here (and the reported effects
    of :func:`analysable_reported`)."""
    arms, stratum = (populations or Populations()).split(prepare_arms(sheets["arms"]), sheets.get("studies"), "arms")
    whole, by_outcome = _excluded_rows(sheets["excluded_arms"])
    arms, excluded = exclude_arms(arms, whole)
    arms, outside_definition = _exclude_outcomes(arms, by_outcome)
    arms, outside = within_timeframes(arms, timeframes, "arms", lambda r: r["row_id"])
    arms, other_scales = select_scales(arms, scales)
    parts = [p for p in (stratum, excluded, outside_definition, outside, other_scales) if len(p)]
    return arms, (pd.concat(parts, ignore_index=True) if parts else excluded)


def _excluded_rows(excluded: pd.DataFrame | None) -> tuple[pd.DataFrame | None, dict]:
    """The excluded-arms sheet split: its rows that set apart a whole arm (``outcome`` blank), and
    (study, arm, outcome) -> reason of those that set apart one outcome of an arm."""
    if excluded is None or not len(excluded) or "outcome" not in excluded:
        return excluded, {}
    named = excluded.outcome.astype(str).str.strip() != ""
    return excluded[~named], {(r.study_id, r.arm_id, r.outcome): r.reason for r in excluded[named].itertuples()}


def _exclude_outcomes(rows: pd.DataFrame, why: dict, arm_columns=("arm_id",), sheet: str = "arms"
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``rows`` (arms, or reported effects with ``arm1_id``/``arm2_id``) of an arm and
    outcome the excluded-arms sheet sets apart (``why``: :func:`_excluded_rows`), in
    :func:`depmeta.review.contrasts.form_contrasts`' ``unused`` form (reason "excluded: ...")."""
    cols = ["study_id", "row_ids", "sheet", "sheet_row", "comparison", "outcome", "reason"]
    if not why or rows is None or not len(rows):
        return rows, pd.DataFrame(columns=cols)
    reasons = [next((why[k] for a in arm_columns if (k := (r["study_id"], r[a], r["outcome"])) in why), None)
               for r in rows.to_dict("records")]
    drop = np.array([w is not None for w in reasons], bool)
    out = [{"study_id": r["study_id"], "row_ids": [r["row_id"]], "sheet": sheet, "sheet_row": int(r["sheet_row"]),
            "comparison": "", "outcome": r["outcome"], "reason": f"excluded: {w}"}
           for r, w in zip(rows.to_dict("records"), reasons) if w is not None]
    return rows[~drop], pd.DataFrame.from_records(out, columns=cols)


def analysable_reported(sheets: dict[str, pd.DataFrame], population_preference=("ITT", "mITT", "completers"),
                        timepoint: str = "latest", timeframes: dict | None = None,
                        populations: Populations | None = None, scale_priority: tuple = SCALE_PRIORITY
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The contrasts sheet's reported effects the analyses may use (prepared:
    :func:`depmeta.review.sheets.prepare_contrasts`), and those set apart with the reason: those of
    trials outside the primary population (``populations``, as :func:`analysable_arms`), those of an
    excluded arm or of an arm's outcome the excluded-arms sheet names (the same exclusion step as
    :func:`analysable_arms`), those outside their outcome's time frame (``timeframes``), and all but one
    of a trial's reported effects for the same two arms, outcome and measure (several scales,
    populations or timepoints): the preferred analysis population, then the latest
    (``timepoint="earliest"``: the earliest) timepoint, then the first scale of ``scale_priority``
    (``analysis.scales.priority``, as for the arm rows: :func:`depmeta.review.scales.scale_rank`), then
    the first in the sheet. Hazard ratios are chosen among by :func:`depmeta.review.hazard.hazard_contrasts`
    (population, then the longest follow-up). Pairwise, network and every other analysis read what is
    kept here."""
    reported, excluded = prepare_contrasts(sheets["contrasts"]), sheets["excluded_arms"]
    cols = ["study_id", "row_ids", "sheet", "sheet_row", "comparison", "outcome", "reason"]
    if reported is None or not len(reported):
        return reported, pd.DataFrame(columns=cols)
    reported, stratum = (populations or Populations()).split(reported, sheets.get("studies"), "contrasts")
    excluded, by_outcome = _excluded_rows(excluded)
    reported, definition = _exclude_outcomes(reported, by_outcome, ("arm1_id", "arm2_id"), "contrasts")
    reported, outside = within_timeframes(reported, timeframes, "contrasts", lambda r: r["row_id"])
    parts = [p for p in (stratum, definition, outside) if len(p)]
    outside = pd.concat(parts, ignore_index=True) if parts else outside
    why = {} if excluded is None else {(r.study_id, r.arm_id): r.reason for r in excluded.itertuples()}
    apart = {i: f"excluded: {h}" for i, r in zip(reported.index, reported.itertuples())
             if (h := why.get((r.study_id, r.arm1_id)) or why.get((r.study_id, r.arm2_id))) is not None}
    preferred = preference_key(population_preference, timepoint)
    best: dict[tuple, tuple] = {}  # key -> (order, index) of the row used; the sheet order breaks ties
    keys = {}
    for i, r in zip(reported.index, reported.itertuples()):
        if i in apart or r.measure == "HR":
            continue
        keys[i] = key = (r.study_id, frozenset((r.arm1_id, r.arm2_id)), r.outcome, r.measure)
        scale = "" if pd.isna(r.scale) else r.scale
        order = (*preferred(r.analysis_population, r.timepoint_weeks), scale_rank(scale, scale_priority))
        if key not in best or order < best[key][0]:
            best[key] = (order, i)
    for i, key in keys.items():
        if best[key][1] != i:
            used = reported.loc[best[key][1]]
            scale = f", scale {used.scale}" if str(used.get("scale") or "").strip() else ""
            apart[i] = (f"not used: another reported effect of this trial for the same arms, outcome and measure "
                        f"is used ({used.row_id}{scale})")
    out = [{"study_id": reported.at[i, "study_id"], "row_ids": [reported.at[i, "row_id"]],
            "sheet": "contrasts", "sheet_row": int(reported.at[i, "sheet_row"]), "comparison": "",
            "outcome": reported.at[i, "outcome"], "reason": apart[i]} for i in reported.index if i in apart]
    apart_rows = pd.DataFrame.from_records(out, columns=cols)
    return reported.drop(index=list(apart)), (pd.concat([outside, apart_rows], ignore_index=True) if len(outside)
                                              else apart_rows)


def assemble_contrasts(sheets: dict[str, pd.DataFrame], opts: AnalysisOptions, hazard: bool = True) -> ContrastSet:
    """Arms prepared and set apart, contrasts formed, hazard ratios appended.

    ``sheets`` holds the typed ``arms``, ``contrasts`` and ``excluded_arms`` sheets; the
    contrasts sheet's hazard ratios (measure HR) are pooled apart (:func:`hazard_contrasts`).
    The populations, time frames and timepoint rule are ``opts``' (:meth:`AnalysisOptions.early` for
    claims about speed); ``hazard=False`` leaves the hazard ratios out (they have no timepoint
    of their own)."""
    arms, excluded = analysable_arms(sheets, opts.timeframes, opts.scales, opts.populations)
    reported, excluded_reported = analysable_reported(sheets, opts.population_preference, opts.timepoint,
                                                      opts.timeframes, opts.populations, opts.scale_priority)
    hazards = reported[reported.measure == "HR"] if reported is not None and len(reported) else None
    if hazards is not None:
        reported = reported[reported.measure != "HR"]
    contrasts, unused = form_contrasts(
        arms, reported, comparisons=opts.comparisons, outcomes=list(opts.outcomes),
        population_preference=opts.population_preference, timepoint=opts.timepoint,
        binary_measure=opts.binary_measure, rho=opts.scale_rho,
    )
    hr, hr_unused = (hazard_contrasts(hazards, opts.comparisons, opts.population_preference, arms)
                     if hazard else (pd.DataFrame(), pd.DataFrame()))
    if len(hr):
        contrasts = pd.concat([contrasts, hr], ignore_index=True)
    parts = [u for u in (unused, hr_unused, excluded, excluded_reported) if len(u)]
    unused = pd.concat(parts, ignore_index=True) if parts else unused
    n_excluded = int(excluded.reason.str.startswith("excluded:").sum()) if len(excluded) else 0
    return ContrastSet(arms=arms, contrasts=contrasts, unused=unused, n_excluded_arms=n_excluded, n_hazard=len(hr))
