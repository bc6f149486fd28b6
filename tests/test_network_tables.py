"""Display tables of the network outputs (depmeta.report.network_tables): split node labels, league table,
the list of pairs for large networks and the heterogeneity and inconsistency table."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from depmeta.report.network_tables import (
    abbreviations,
    inconsistency_table,
    league_table,
    node_label,
    pairs_table,
    split_table,
)
from depmeta.report.tables import md_table


def _estimates(trts):
    rows = []
    for a, b in itertools.permutations(trts, 2):
        i, j = trts.index(a), trts.index(b)
        est = 0.1 * (i - j)
        direct = est if abs(i - j) == 1 else np.nan
        rows.append({"treatment1": a, "treatment2": b, "estimate_display": np.exp(est),
                     "ci_low_display": np.exp(est - 0.2), "ci_high_display": np.exp(est + 0.2),
                     "direct_estimate_display": np.exp(direct), "direct_ci_low_display": np.exp(direct - 0.3),
                     "direct_ci_high_display": np.exp(direct + 0.3), "direct_estimate": direct,
                     "direct_k": 2 if abs(i - j) == 1 else 0, "indirect_estimate": np.nan, "outcome": "response"})
    return pd.DataFrame(rows)


def test_node_labels_of_split_nodes():
    assert node_label("waiting_list") == "waiting list" == node_label("waiting_list", short=True)
    assert node_label("psychotherapy:CBT") == "psychotherapy (CBT)"
    assert node_label("psychotherapy:CBT", short=True) == "Psy CBT"
    assert node_label("combined:psychodynamic", short=True) == "Comb PDT"
    assert node_label("medication:unspecified", short=True) == "Med unsp."
    assert abbreviations(["control", "medication"]) == ""
    assert abbreviations(["psychotherapy:CBT", "combined:psychodynamic", "control"]) == (
        "Psy psychotherapy; Comb combined treatment; PDT psychodynamic therapy")


def test_league_table_uses_short_names_and_pairs_table_lists_each_pair_once():
    trts = ["medication", "psychotherapy:CBT", "psychotherapy:IPT", "control"]
    est = _estimates(trts)
    lt = league_table(est, trts, short=True)
    assert list(lt.columns) == ["medication", "Psy CBT", "Psy IPT", "control"]
    assert lt.iloc[1]["Psy CBT"] == "**Psy CBT**"
    # below the diagonal the network estimate of the row's treatment vs the column's
    assert lt.iloc[3]["medication"].startswith("1.35")
    assert lt.iloc[0]["Psy CBT"].endswith("\\] (k=2)") and lt.iloc[0]["control"] == "·"  # markdown, escaped
    # through md_table as markdown: the diagonal in bold, the numbers shown as they are
    import pypandoc

    html = pypandoc.convert_text(md_table(lt, markdown=tuple(lt.columns)), "html", format="markdown")
    assert "<strong>Psy CBT</strong>" in html and "**" not in html
    assert "(k=2)" in html and "1.35" in html
    pt = pairs_table(est, trts)
    assert len(pt) == 6 and pt.Comparison.iloc[0] == "medication vs Psy CBT"
    assert pt.Network.iloc[0].startswith("0.90") and pt.Direct.iloc[0].endswith("(k=2)")
    assert pt.set_index("Comparison").Direct["Psy CBT vs control"] == "·"
    assert split_table(est, trts).empty


def test_inconsistency_table_shows_the_random_effects_test_and_dashes_without_df():
    nbsp = "\u00a0"
    summary = pd.DataFrame({
        "outcome": ["response", "symptoms", "relapse"], "n_studies": [15, 3, 1], "n_designs": [6, 2, np.nan],
        "tau2": [0.042, 0.006, np.nan], "q_total": [50.5, 1.39, np.nan], "q_total_df": [16, 1, np.nan],
        "q_total_pval": [1.9e-5, 0.238, np.nan], "q_within": [37.7, 1.39, np.nan], "q_within_df": [9, 1, np.nan],
        "q_within_pval": [2e-5, 0.238, np.nan], "q_between": [12.8, 0.0, np.nan], "q_between_df": [7, 0, np.nan],
        "q_between_pval": [0.077, np.nan, np.nan], "tau2_within": [0.086, 0.0064, np.nan],
        "q_between_random": [2.01, 0.0, np.nan], "q_between_random_df": [7, 0, np.nan],
        "q_between_random_pval": [0.959, np.nan, np.nan]})
    t = inconsistency_table(summary)
    assert list(t.Outcome) == ["response", "symptoms"]  # relapse not analysed: no row
    assert list(t.columns[-2:]) == ["Between, random", "p" + nbsp * 3]
    r, s = t.iloc[0], t.iloc[1]
    assert r["Between, random"] == f"2.01{nbsp}(7)" and r["p" + nbsp * 3] == "0.959"
    assert (s["Between"], s["Between, random"], s["p" + nbsp * 3]) == ("–", "–", "–")
