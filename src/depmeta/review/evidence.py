"""The published benchmarks and the claims set against this review's estimates. Each claim is
evaluated only on its own population, timepoint and scale: absolute-difference claims on the
risk differences, speed claims on each trial's earliest timepoint where it lies before the trial's
end of treatment, subgroup claims on the
trials of that subgroup (:data:`depmeta.review.checks.SUBGROUP_RULES`). Frames in, frames
out, no file I/O."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from depmeta.review.analysis import AnalysisOptions, adult_study_ids, assemble_contrasts, pooled_with_rd
from depmeta.review.checks import (
    SUBGROUP_RULES,
    compare_benchmarks,
    early_contrasts,
    evaluate_claims,
    network_benchmarks,
    subgroup_studies,
)

__all__ = ["evidence_tables"]


def evidence_tables(sheets: dict[str, pd.DataFrame], pooled: dict[str, pd.DataFrame], claims: list[dict],
                    opts: AnalysisOptions, network_adults: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """``claims``, ``benchmarks``, ``summary_early``, ``summary_subgroups`` and, where the
    network ran (``network_adults``: its estimates from the adult trials), ``network_benchmarks``.

    ``sheets``: the validated studies, arms, contrasts, hazard ratios, excluded arms and
    benchmarks; ``pooled``: rule analyse's summary, summary_rd, summary_adults, event_rates
    and event_rates_adults; ``claims``: the validated claims."""
    studies = sheets["studies"]
    adult_ids = adult_study_ids(studies)
    contrasts = assemble_contrasts(sheets, opts).contrasts
    early_opts = replace(opts, timepoint="earliest")
    # only trials with a timepoint before their end of treatment speak of speed
    early = early_contrasts(assemble_contrasts(sheets, early_opts, hazard=False).contrasts, contrasts)
    summary_early = pooled_with_rd(early, early_opts)
    early_adults = pooled_with_rd(early, early_opts, adult_ids)
    subgroups, subgroup_tables = {}, []
    for name in SUBGROUP_RULES:
        ids = subgroup_studies(studies, name)
        subgroups[name] = (pooled_with_rd(contrasts, opts, ids), pooled_with_rd(contrasts, opts, ids & adult_ids))
        if len(subgroups[name][0]):
            subgroup_tables.append(subgroups[name][0].assign(subgroup=name))
    adult_with_rd = pooled_with_rd(contrasts, opts, adult_ids)
    tables = {
        "claims": evaluate_claims(claims, pd.concat([pooled["summary"], pooled["summary_rd"]], ignore_index=True),
                                  pooled["event_rates"], opts.level,
                                  adult=(adult_with_rd, pooled["event_rates_adults"]),
                                  early=(summary_early, early_adults), subgroups=subgroups),
        "benchmarks": compare_benchmarks(sheets["benchmarks"], pooled["summary"], opts.level,
                                         adult_summary=pooled["summary_adults"]),
        "summary_early": summary_early,
        "summary_subgroups": pd.concat(subgroup_tables, ignore_index=True) if subgroup_tables else pd.DataFrame(),
    }
    if network_adults is not None:
        # the published (adult) network meta-analyses beside this review's network of the adult trials
        tables["network_benchmarks"] = network_benchmarks(sheets["benchmarks"], network_adults)
    return tables
