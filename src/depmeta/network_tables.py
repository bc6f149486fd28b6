"""Display tables of the network meta-analysis outputs (results/network/*.csv) for the
report: league table, P-score ranking, heterogeneity and inconsistency, direct vs
indirect split. Formatting only; every number comes from the pipeline's tables."""

from __future__ import annotations

import pandas as pd

from depmeta.plots import fmt_p
from depmeta.reporting import fmt, fmt_ci

__all__ = ["league_table", "ranking_table", "inconsistency_table", "split_table", "node_label"]


def node_label(node: str) -> str:
    """'waiting_list' -> 'waiting list'."""
    return node.replace("_", " ")


NBSP = "\u00a0"


def _cell(est, lo, hi) -> str:
    # no-break spaces: an estimate and its interval never wrap apart in a narrow column
    return "–" if pd.isna(est) else f"{fmt(est)} {fmt_ci(lo, hi)}".replace(" ", NBSP)


def league_table(estimates: pd.DataFrame, treatments: list[str]) -> pd.DataFrame:
    """League table of one outcome (and network part).

    Cell (row i, column j) compares the row's treatment with the column's: below the diagonal
    the network estimate, above it the direct estimate (with the number of trials); the
    diagonal names the treatment (so no row-label column is needed). Ratio measures on the
    ratio scale.
    """
    e = estimates.set_index(["treatment1", "treatment2"])
    rows = []
    for i, a in enumerate(treatments):
        row = {}
        for j, b in enumerate(treatments):
            if i == j:
                row[node_label(b)] = f"**{node_label(a)}**"
                continue
            r = e.loc[(a, b)]
            if i > j:
                row[node_label(b)] = _cell(r.estimate_display, r.ci_low_display, r.ci_high_display)
            elif pd.isna(r.direct_estimate):
                row[node_label(b)] = "·"
            else:
                row[node_label(b)] = (f"{_cell(r.direct_estimate_display, r.direct_ci_low_display, r.direct_ci_high_display)}"
                                      f" (k={int(r.direct_k)})")
        rows.append(row)
    return pd.DataFrame(rows)


def ranking_table(ranking: pd.DataFrame, outcomes: list[str], order: list[str]) -> pd.DataFrame:
    """P-scores (rank) per treatment (in node ``order``), one column per outcome."""
    trts = [t for t in order if t in set(ranking.treatment)]
    out = []
    for t in trts:
        row = {"Treatment": node_label(t)}
        for o in outcomes:
            r = ranking[(ranking.outcome == o) & (ranking.treatment == t)]
            row[o] = "–" if not len(r) else f"{r.pscore.iloc[0]:.2f} ({int(r['rank'].iloc[0])})"
        out.append(row)
    return pd.DataFrame(out)


def inconsistency_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per outcome: trials, designs, tau², Q and its design-by-treatment decomposition."""
    def q(r, part):
        if pd.isna(r[f"q_{part}"]) or r[f"q_{part}_df"] == 0:
            return "–", "–"
        return f"{r[f'q_{part}']:.2f} ({int(r[f'q_{part}_df'])})".replace(" ", NBSP), \
            fmt_p(r[f"q_{part}_pval"]).replace(" ", NBSP)

    rows = []
    for _, r in summary.iterrows():
        if pd.isna(r.tau2):
            continue
        row = {"Outcome": r.outcome, "Trials": int(r.n_studies), "Designs": int(r.n_designs),
               "τ²": f"{r.tau2:.3f}"}
        # short headers (the caption explains them); the p columns told apart by trailing no-break spaces
        for i, (part, name) in enumerate((("total", "Q (df)"), ("within", "Within"), ("between", "Between"))):
            row[name], row["p" + NBSP * i] = q(r, part)
        rows.append(row)
    return pd.DataFrame(rows)


def split_table(estimates: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Comparisons with direct and indirect evidence (each pair once, in node order)."""
    pos = {t: i for i, t in enumerate(order)}
    e = estimates[estimates.indirect_estimate.notna()
                  & (estimates.treatment1.map(pos) < estimates.treatment2.map(pos))]
    rows = []
    for _, r in e.iterrows():
        rows.append({"Outcome": r.outcome,
                     "Comparison": f"{node_label(r.treatment1)} vs {node_label(r.treatment2)}",
                     "k": int(r.direct_k),
                     "Direct": _cell(r.direct_estimate_display, r.direct_ci_low_display, r.direct_ci_high_display),
                     "Indirect": _cell(r.indirect_estimate_display, r.indirect_ci_low_display,
                                       r.indirect_ci_high_display),
                     "Network": _cell(r.estimate_display, r.ci_low_display, r.ci_high_display),
                     "p": fmt_p(r.split_pval).replace(" ", NBSP)})
    return pd.DataFrame(rows)
