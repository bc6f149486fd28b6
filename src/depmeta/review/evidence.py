"""The published benchmarks and the claims set against this review's estimates. Each claim is
evaluated only on its own population, timepoint and scale: absolute-difference claims on the
risk differences, speed claims on each trial's earliest timepoint where it lies before the trial's
end of treatment, subgroup claims on the trials of that subgroup
(:data:`depmeta.review.checks.SUBGROUP_RULES`), claims about a named therapy type or drug class
on the arms of it (:func:`depmeta.review.checks.specific_sheets`). Frames in, frames out, no
file I/O."""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import pandas as pd

from depmeta.review.analysis import (
    AnalysisOptions,
    adult_study_ids,
    assemble_contrasts,
    pool_event_rates,
    pooled_with_rd,
)
from depmeta.review.checks import (
    SUBGROUP_RULES,
    ClaimEvidence,
    claim_arms,
    compare_benchmarks,
    early_contrasts,
    evaluate_claims,
    network_benchmarks,
    specific_sheets,
    subgroup_studies,
    uncoded_hazard_studies,
)

__all__ = ["claim_evidence", "evidence_tables"]


def claim_evidence(sheets: dict[str, pd.DataFrame], opts: AnalysisOptions,
                   pooled: dict[str, pd.DataFrame] | None = None, rates: bool = True, early: bool = True,
                   subgroups=tuple(SUBGROUP_RULES)) -> ClaimEvidence:
    """The estimates claims are set against, pooled from ``sheets``: the trials of the protocol's
    primary population (``opts.populations``; with RD rows), each trial's earliest timepoint before
    its end of treatment, each subgroup of :data:`~depmeta.review.checks.SUBGROUP_RULES`, and the
    event rates. Where the primary population holds trials outside adults and older adults (a
    protocol that pools all ages), the same are pooled again from its adult trials (``adult``), for
    the claims about adults; otherwise ``adult`` is None and every claim takes the primary estimates.

    ``pooled`` (rule analyse's summary, summary_rd and event_rates), where given, supplies the
    primary estimates and the event rates instead of pooling them again. ``rates``, ``early`` and
    ``subgroups`` (names) say which of the others to pool (the rest are left empty: ``None``, or
    no such subgroup)."""
    studies = sheets["studies"]
    labels = dict(zip(studies.study_id, studies.label))
    formed = assemble_contrasts(sheets, opts)
    contrasts, arms = formed.contrasts, formed.arms
    adult_ids = adult_study_ids(studies)
    primary_ids = set(arms.study_id) | (set(contrasts.study_id) if len(contrasts) else set())
    mixed = bool(primary_ids - adult_ids)

    def adults(frame, o=opts, ids=adult_ids):
        return pooled_with_rd(frame, o, ids) if mixed else None

    by_subgroup = {}
    for name in subgroups:
        ids = subgroup_studies(studies, name)
        by_subgroup[name] = (pooled_with_rd(contrasts, opts, ids), adults(contrasts, ids=ids & adult_ids))
    at_earliest = None
    if early:
        early_opts = opts.early()
        # only trials with a timepoint before their end of treatment speak of speed
        first = early_contrasts(assemble_contrasts(sheets, early_opts, hazard=False).contrasts, contrasts)
        at_earliest = (pooled_with_rd(first, early_opts), adults(first, early_opts))
    want_rates = rates and opts.event_rates
    if pooled is not None:
        summary = pd.concat([pooled["summary"], pooled["summary_rd"]], ignore_index=True)
        all_rates = pooled["event_rates"]
    else:
        summary = pooled_with_rd(contrasts, opts)
        all_rates = pool_event_rates(arms, labels, opts)[0] if want_rates else pd.DataFrame()
    adult = None
    if mixed:
        adult_rates = (pool_event_rates(arms[arms.study_id.isin(adult_ids)], labels, opts)[0] if want_rates
                       else pd.DataFrame())
        adult = (adults(contrasts), adult_rates)
    return ClaimEvidence(summary, all_rates, adult=adult, early=at_earliest, subgroups=by_subgroup)


def evidence_tables(sheets: dict[str, pd.DataFrame], pooled: dict[str, pd.DataFrame], claims: list[dict],
                    opts: AnalysisOptions, network: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """``claims``, ``benchmarks``, ``summary_early``, ``summary_subgroups`` and, where the
    network ran (``network``: its estimates, of the primary population), ``network_benchmarks``.

    ``sheets``: the validated studies, arms, contrasts, hazard ratios, excluded arms and
    benchmarks; ``pooled``: rule analyse's summary, summary_rd and event_rates (of the protocol's
    primary population); ``claims``: the validated claims. Claims naming a therapy type or
    drug class are set against :func:`claim_evidence` of the sheets with only those arms."""
    main = claim_evidence(sheets, opts, pooled)
    named = [c for c in claims if c.get("testable", True) and any(claim_arms(c))]
    keys = sorted({claim_arms(c) for c in named})
    specific = {}
    studies = sheets["studies"]
    adult_ids = adult_study_ids(studies)
    outside = opts.populations.study_reasons(studies)  # trials of a stratum enter no claim's estimate
    within = {None: set(studies.study_id), **{name: subgroup_studies(studies, name) for name in SUBGROUP_RULES}}
    for key in keys:
        # hazard ratios the arm filter leaves out, by comparison, population and subgroup, for the reasons
        notes = {}
        for comparison, ids in uncoded_hazard_studies(sheets, *key).items():
            for adult, subgroup in product((False, True), within):
                left_out = [i for i in ids if (i in adult_ids or not adult) and i in within[subgroup]
                            and i not in outside]
                if left_out:
                    one = len(left_out) == 1
                    notes[comparison, adult, subgroup] = (
                        f"the hazard {'ratio' if one else 'ratios'} of relapse of {', '.join(left_out)} "
                        f"{'is' if one else 'are'} left out: the arm sheet does not code {'its' if one else 'their'} "
                        "arms")
        # pooled as far as the claims naming these arms need
        mine = [c for c in named if claim_arms(c) == key]
        evidence = claim_evidence(specific_sheets(sheets, *key), opts,
                                  rates=any(c.get("measure") == "event_rate" for c in mine),
                                  early=any(c.get("timing") == "early" for c in mine),
                                  subgroups=[s for s in SUBGROUP_RULES if any(c.get("subgroup") == s for c in mine)])
        specific[key] = replace(evidence, relapse_notes=notes)
    subgroup_tables = [pair[0].assign(subgroup=name) for name, pair in main.subgroups.items() if len(pair[0])]
    tables = {
        "claims": evaluate_claims(claims, main.summary, main.rates, opts.level, adult=main.adult, early=main.early,
                                  subgroups=main.subgroups, specific=specific),
        "benchmarks": compare_benchmarks(sheets["benchmarks"], pooled["summary"], opts.level,
                                         adult_summary=None if main.adult is None else main.adult[0],
                                         comparisons=[c.name for c in opts.comparisons]),
        "summary_early": main.early[0],
        "summary_subgroups": pd.concat(subgroup_tables, ignore_index=True) if subgroup_tables else pd.DataFrame(),
    }
    if network is not None:
        # the published network meta-analyses beside this review's network (of its primary population)
        tables["network_benchmarks"] = network_benchmarks(sheets["benchmarks"], network)
    return tables
