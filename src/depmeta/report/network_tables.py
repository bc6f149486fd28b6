"""Display tables of the network meta-analysis outputs (results/network/*.csv) for the
report: league table, P-score ranking, heterogeneity and inconsistency, direct vs
indirect split. Formatting only; every number comes from the pipeline's tables."""

from __future__ import annotations

import pandas as pd

from depmeta.report.labels import fmt_p
from depmeta.report.tables import fmt, fmt_ci, md_escape

__all__ = ["league_table", "pairs_table", "ranking_table", "inconsistency_table", "split_table", "node_label",
           "abbreviations", "LEAGUE_MAX_NODES"]

#: Largest network shown as a league table; a larger one (split nodes) is listed pair by pair
#: (``pairs_table``): beyond seven columns of "1.23 [0.95, 1.60]" cells the A4 PDF page is too narrow.
LEAGUE_MAX_NODES = 7
#: Short names in split node labels ("psychotherapy:CBT" -> "Psy CBT"), so that tables stay narrow.
STRATEGY_ABBREV = {"medication": "Med", "psychotherapy": "Psy", "combined": "Comb"}
TYPE_ABBREV = {"psychodynamic": "PDT", "supportive": "SUP", "unspecified": "unsp."}
_ABBREV_MEANING = {"Med": "medication", "Psy": "psychotherapy", "Comb": "combined treatment",
                   "PDT": "psychodynamic therapy", "SUP": "supportive therapy",
                   "unsp.": "type not recorded in the arm sheet"}


def node_label(node: str, short: bool = False) -> str:
    """A node's display name.

    'waiting_list' -> 'waiting list'; a split node 'psychotherapy:CBT' -> 'psychotherapy (CBT)',
    or with ``short`` 'Psy CBT' ('combined:psychodynamic' -> 'Comb PDT', 'medication:unspecified'
    -> 'Med unsp.'; :func:`abbreviations` spells them out).
    """
    head, sep, sub = node.partition(":")
    if not sep:
        return node.replace("_", " ")
    if short:
        return f"{STRATEGY_ABBREV.get(head, head)} {TYPE_ABBREV.get(sub, sub)}"
    return f"{head.replace('_', ' ')} ({sub})"


def abbreviations(treatments) -> str:
    """The abbreviations :func:`node_label` (``short``) uses for these nodes, as caption text ("" if none)."""
    heads, subs = [], []
    for t in treatments:
        head, sep, sub = t.partition(":")
        if sep:
            heads.append(STRATEGY_ABBREV.get(head, ""))
            subs.append(TYPE_ABBREV.get(sub, ""))
    used = [a for a in dict.fromkeys(heads + subs) if a in _ABBREV_MEANING]  # strategies first, then types
    return "; ".join(f"{a} {_ABBREV_MEANING[a]}" for a in used)


NBSP = "\u00a0"


def _cell(est, lo, hi) -> str:
    # no-break spaces: an estimate and its interval never wrap apart in a narrow column
    return "–" if pd.isna(est) else f"{fmt(est)} {fmt_ci(lo, hi)}".replace(" ", NBSP)


def league_table(estimates: pd.DataFrame, treatments: list[str], short: bool = False) -> pd.DataFrame:
    """League table of one outcome (and network part).

    Cell (row i, column j) compares the row's treatment with the column's: below the diagonal
    the network estimate, above it the direct estimate (with the number of trials); the
    diagonal names the treatment (so no row-label column is needed). Ratio measures on the
    ratio scale. ``short``: split nodes by their short names (:func:`node_label`).
    The cells are markdown (the diagonal in bold, the rest escaped): print the table with
    ``md_table(table, markdown=tuple(table.columns))``.
    """
    e = estimates.set_index(["treatment1", "treatment2"])
    rows = []
    for i, a in enumerate(treatments):
        row = {}
        for j, b in enumerate(treatments):
            col = node_label(b, short)
            if i == j:
                row[col] = f"**{md_escape(node_label(a, short))}**"
                continue
            r = e.loc[(a, b)]
            if i > j:
                row[col] = md_escape(_cell(r.estimate_display, r.ci_low_display, r.ci_high_display))
            elif pd.isna(r.direct_estimate):
                row[col] = "·"
            else:
                row[col] = md_escape(
                    f"{_cell(r.direct_estimate_display, r.direct_ci_low_display, r.direct_ci_high_display)}"
                    f" (k={int(r.direct_k)})")
        rows.append(row)
    return pd.DataFrame(rows)


def pairs_table(estimates: pd.DataFrame, treatments: list[str], short: bool = True) -> pd.DataFrame:
    """Every comparison of one outcome (and network part) once, for networks too large for a
    league table: the earlier node in ``treatments`` first, its network estimate and the direct
    estimate (with the number of trials; · none). Ratio measures on the ratio scale."""
    e = estimates.set_index(["treatment1", "treatment2"])
    rows = []
    for i, a in enumerate(treatments):
        for b in treatments[i + 1:]:
            r = e.loc[(a, b)]
            direct = "·" if pd.isna(r.direct_estimate) else (
                f"{_cell(r.direct_estimate_display, r.direct_ci_low_display, r.direct_ci_high_display)}"
                f" (k={int(r.direct_k)})")
            rows.append({"Comparison": f"{node_label(a, short)} vs {node_label(b, short)}",
                         "Network": _cell(r.estimate_display, r.ci_low_display, r.ci_high_display),
                         "Direct": direct})
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
    """Per outcome: trials, designs, tau², Q and its design-by-treatment decomposition, and the
    random-effects design-by-treatment test; "–" where a part has no degrees of freedom. (The tau²
    of that test's interaction model, ``tau2_within``, stays in the summary table: a thirteenth
    column would push the table off a portrait page.)"""
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
        for i, (part, name) in enumerate((("total", "Q (df)"), ("within", "Within"), ("between", "Between"),
                                           ("between_random", "Between, random"))):
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
                     "Comparison": f"{node_label(r.treatment1, True)} vs {node_label(r.treatment2, True)}",
                     "k": int(r.direct_k),
                     "Direct": _cell(r.direct_estimate_display, r.direct_ci_low_display, r.direct_ci_high_display),
                     "Indirect": _cell(r.indirect_estimate_display, r.indirect_ci_low_display,
                                       r.indirect_ci_high_display),
                     "Network": _cell(r.estimate_display, r.ci_low_display, r.ci_high_display),
                     "p": fmt_p(r.split_pval).replace(" ", NBSP)})
    return pd.DataFrame(rows)
