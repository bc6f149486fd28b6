"""The network meta-analysis of each outcome, as the review runs it: the network's contrasts
(:func:`depmeta.review.nodes.outcome_network`), whether there is enough to fit, the reference
node, the fit of each connected part (:func:`depmeta.stats.network.fit_network_parts`), and
the tables the workflow writes.
Frames in, frames out, no file I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from depmeta.review.analysis import display_scale
from depmeta.review.comparisons import comparison_set
from depmeta.review.nodes import node_comparisons, node_order, outcome_network
from depmeta.review.timeframes import timeframes_from_config
from depmeta.review.vocabulary import BINARY_OUTCOMES, OUTCOME_DIRECTION
from depmeta.stats.network import NetworkResult, StudyContrasts, fit_network_parts

__all__ = ["ESTIMATE_COLUMNS", "INTERVAL_NOTE", "NetworkOptions", "OutcomeNetwork", "SUMMARY_COLUMNS",
           "network_record", "network_tables", "outcome_networks"]

#: How the study contributions are computed, as the report and network.json say it.
CONTRIBUTION_NOTE = {
    "streams": "Papakonstantinou et al. 2018 streams of the aggregate hat matrix (shortest path first), "
               "split to studies by their weight in each direct comparison",
    "proportion": "study-level proportion contributions from the hat matrix (Chaimani et al. 2013)",
}
#: The network estimates' intervals under each ``network.test``, as network.json says it.
INTERVAL_NOTE = {
    "z": "metafor predict() under test = 'z': estimate ± z·se (CI), estimate ± z·sqrt(se² + tau²) (PI)",
    "t": "metafor predict() under rma.mv(test = 't'): estimate ± t·se (CI), estimate ± t·sqrt(se² + tau²) (PI), "
         "t with contrasts minus treatment effects df (df in network_summary.csv); the normal quantile where "
         "there are no such df",
}
#: Columns of network_estimates.csv and network_summary.csv.
ESTIMATE_COLUMNS = [
    "outcome", "measure", "treatment1", "treatment2", "comparison", "estimate", "se", "ci_low", "ci_high",
    "pi_low", "pi_high", "estimate_display", "ci_low_display", "ci_high_display", "pi_low_display",
    "pi_high_display", "direct_estimate", "direct_se", "direct_k", "indirect_estimate", "indirect_se",
    "split_z", "split_pval", "n_studies", "n_patients", "row_ids", "part", "direct_ci_low", "direct_ci_high",
    "indirect_ci_low", "indirect_ci_high", "direct_estimate_display", "direct_ci_low_display",
    "direct_ci_high_display", "indirect_estimate_display", "indirect_ci_low_display", "indirect_ci_high_display",
    "n_network_studies",
]
SUMMARY_COLUMNS = [
    "outcome", "measure", "method", "test", "df", "tau2", "tau", "n_studies", "n_treatments", "n_designs", "q_total",
    "q_total_df", "q_total_pval", "q_within", "q_within_df", "q_within_pval", "q_between", "q_between_df",
    "q_between_pval", "tau2_within", "q_between_random", "q_between_random_df", "q_between_random_pval",
    "components", "reference", "note",
]
_DISPLAYED = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "direct_estimate", "direct_ci_low",
              "direct_ci_high", "indirect_estimate", "indirect_ci_low", "indirect_ci_high")


@dataclass(frozen=True)
class NetworkOptions:
    """The ``network`` config section with what it takes from ``analysis``."""

    outcomes: tuple = ()
    nodes: str = "strategy"
    #: control arms as nodes (:data:`~depmeta.review.nodes.CONTROL_NODES`): each control type its own, or one
    controls: str = "separate"
    method: str = "REML"
    test: str = "t"
    reference: str = "control"
    contribution: str = "streams"
    level: float = 0.95
    population_preference: tuple = ("ITT", "mITT", "completers")
    timepoint: str = "latest"
    #: outcome -> TimeFrame (``analysis.timeframes``), as the pairwise analyses; None: none
    timeframes: dict | None = None
    binary_measure: str = "RR"
    add: float = 0.5
    min_studies: int = 2
    #: the protocol's comparisons (``analysis.comparisons``): a pair of nodes that is one of them
    #: names its estimates' ``comparison``
    comparisons: tuple = field(default_factory=comparison_set)

    @classmethod
    def from_config(cls, network: dict, analysis: dict) -> "NetworkOptions":
        return cls(outcomes=tuple(network["outcomes"]), nodes=network["nodes"],
                   controls=network.get("controls", cls.controls), method=network["method"],
                   test=network.get("test", cls.test), reference=network["reference"],
                   contribution=network["contribution"],
                   level=analysis.get("level", 0.95), population_preference=tuple(analysis["population_preference"]),
                   timeframes=timeframes_from_config(analysis["timeframes"]) if "timeframes" in analysis else None,
                   binary_measure=analysis.get("binary_measure", "RR"),
                   add=analysis["zero_cell"]["add"], min_studies=analysis["min_studies"],
                   comparisons=comparison_set(analysis.get("comparisons")))

    def measure(self, outcome: str) -> str:
        return self.binary_measure if outcome in BINARY_OUTCOMES else "SMD"


@dataclass(frozen=True)
class OutcomeNetwork:
    """One outcome's network: its contrasts, the rows not in it (``exclusions``: study_id,
    row_ids, reason), the nodes, and either the fits of its connected parts (largest first)
    with ``note`` on a disconnected network, or ``why`` it was not analysed."""

    outcome: str
    measure: str
    contrasts: tuple[StudyContrasts, ...]
    exclusions: pd.DataFrame
    nodes: tuple
    reference: str | None = None
    fits: tuple[NetworkResult, ...] = ()
    note: str = ""
    why: str = ""
    #: ``{(node1, node2): comparison}``: the protocol's comparisons among the nodes
    #: (:func:`~depmeta.review.nodes.node_comparisons`)
    named: dict = field(default_factory=dict)

    def patients(self, fit: NetworkResult) -> list[float]:
        """Patients randomised to each of the fit's nodes (the network graph's node sizes)."""
        return [sum(c.n[c.arms.index(t)] for c in self.contrasts if t in c.arms) for t in fit.treatments]


def _reference(opts: NetworkOptions, nodes: list[str]) -> str:
    """The configured reference where it is a node, else control, else placebo, else the first node
    (:func:`~depmeta.review.nodes.node_order`: the first active strategy, or the first control type)."""
    if opts.reference in nodes:
        return opts.reference
    return next((t for t in ("control", "placebo") if t in nodes), nodes[0])


def outcome_networks(arms: pd.DataFrame, reported: pd.DataFrame | None, opts: NetworkOptions,
                     set_apart: pd.DataFrame | None = None) -> list[OutcomeNetwork]:
    """Each configured outcome's network from the analysable arms (and the reported effects);
    ``set_apart`` (rows of the excluded-arms sheet) is listed in each outcome's exclusions."""
    out = []
    for outcome in opts.outcomes:
        measure = opts.measure(outcome)
        contrasts, excl = outcome_network(
            arms, outcome, measure, nodes=opts.nodes, population_preference=opts.population_preference,
            timepoint=opts.timepoint, reported=reported, add=opts.add, controls=opts.controls)
        parts = [excl]
        if set_apart is not None and len(set_apart):
            parts.insert(0, set_apart.loc[set_apart.outcome == outcome, ["study_id", "row_ids", "reason"]])
        nodes = node_order(opts.nodes, [t for c in contrasts for t in c.arms])
        if len(contrasts) < opts.min_studies or len(nodes) < 2:
            why = (f"not analysed: {len(contrasts)} usable {'study' if len(contrasts) == 1 else 'studies'} "
                   f"and {len(nodes)} nodes (min_studies is {opts.min_studies}; a network needs two nodes)")
            parts.append(pd.DataFrame({"study_id": [c.study for c in contrasts],
                                       "row_ids": [list(c.row_ids) for c in contrasts], "reason": why}))
            out.append(OutcomeNetwork(outcome, measure, tuple(contrasts), _concat(parts), tuple(nodes), why=why))
            continue
        named = node_comparisons(opts.comparisons, opts.nodes, nodes, opts.controls)
        reference = _reference(opts, nodes)
        fits, note = fit_network_parts(contrasts, method=opts.method, level=opts.level, treatments=nodes,
                                       reference=reference, larger_is_better=OUTCOME_DIRECTION[outcome] > 0,
                                       contribution=opts.contribution, test=opts.test)
        out.append(OutcomeNetwork(outcome, measure, tuple(contrasts), _concat(parts), tuple(nodes), reference,
                                  tuple(fits), note, named=named))
    return out


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True)


def _pairs(net: OutcomeNetwork, fit: NetworkResult, part: int) -> pd.DataFrame:
    pf = fit.pairs_frame()
    pf.insert(0, "outcome", net.outcome)
    pf.insert(1, "measure", net.measure)
    pf.insert(4, "comparison", [net.named.get((a, b), "") for a, b in zip(pf.treatment1, pf.treatment2)])
    for f in _DISPLAYED:
        pf[f"{f}_display"] = display_scale(net.measure, pf[f])
    pf["n_studies"] = pf.direct_k
    pf["direct_k"] = pf.direct_k.where(pf.direct_k > 0)
    pf["part"] = part
    pf["n_network_studies"] = len(fit.studies)
    return pf


def network_tables(networks: list[OutcomeNetwork], method: str) -> dict[str, pd.DataFrame]:
    """``estimates``, ``summary``, ``ranking``, ``contributions`` and ``exclusions`` of the
    networks (the workflow's network_*.csv)."""
    estimates, summary, ranking, contributions, exclusions = [], [], [], [], []
    for net in networks:
        exclusions.append(net.exclusions.assign(outcome=net.outcome))
        base = {"outcome": net.outcome, "measure": net.measure, "method": method, "n_studies": len(net.contrasts),
                "n_treatments": len(net.nodes)}
        if not net.fits:
            summary.append({**base, "components": np.nan, "note": net.why})
            continue
        main = net.fits[0]
        notes = [net.note + (" Heterogeneity and Q are those of the largest part." if net.note else "")]
        notes += [f"{_capital(f.note)}" + (f" (part {p})." if len(net.fits) > 1 else ".")
                  for p, f in enumerate(net.fits, 1) if f.note]
        summary.append({**base, "test": main.test, "df": main.df,
                        "n_designs": sum(len(f.designs) for f in net.fits), "tau2": main.tau2,
                        "tau": main.tau,
                        **{f"q_{q}{s}": getattr(main, f"q_{q}{s}")
                           for q in ("total", "within", "between", "between_random") for s in ("", "_df", "_pval")},
                        "tau2_within": main.tau2_within,
                        "components": len(net.fits), "reference": net.reference,
                        "note": " ".join(filter(None, notes))})
        for part, fit in enumerate(net.fits, 1):
            estimates.append(_pairs(net, fit, part))
            ranking.append(fit.ranking_frame().assign(outcome=net.outcome, part=part))
            contributions.append(fit.contributions_frame().assign(outcome=net.outcome))
    rank_cols = ["outcome", "treatment", "pscore", "rank", "part"]
    contrib_cols = ["outcome", "treatment1", "treatment2", "study_id", "contribution"]
    excl_cols = ["outcome", "study_id", "row_ids", "reason"]
    return {
        "estimates": (pd.concat(estimates, ignore_index=True)[ESTIMATE_COLUMNS] if estimates
                      else pd.DataFrame(columns=ESTIMATE_COLUMNS)),
        "summary": pd.DataFrame(summary).reindex(columns=SUMMARY_COLUMNS),
        "ranking": pd.concat(ranking, ignore_index=True)[rank_cols] if ranking else pd.DataFrame(columns=rank_cols),
        "contributions": (pd.concat(contributions, ignore_index=True)[contrib_cols] if contributions
                          else pd.DataFrame(columns=contrib_cols)),
        "exclusions": (pd.concat(exclusions, ignore_index=True)[excl_cols] if exclusions
                       else pd.DataFrame(columns=excl_cols)),
    }


def network_record(net: OutcomeNetwork) -> dict:
    """An analysed network as network.json holds it: measure, reference, note, each part's
    treatments, studies, tau², designs, effects and their covariance, and the input rows."""
    return {
        "measure": net.measure, "reference": net.reference, "note": net.note,
        "parts": [{"treatments": list(f.treatments), "studies": list(f.studies), "tau2": f.tau2,
                   "designs": [list(d) for d in f.designs], "d": list(f.d), "cov_d": f.cov_d.tolist()}
                  for f in net.fits],
        "input_rows": {c.study: list(c.row_ids) for c in net.contrasts},
    }
