"""Linde 2016's network of psychological and pharmacological treatments for depression in primary
care, as a review of its own: ``depmeta init`` laid out, then filled in from netmeta's ``Linde2016``
(../shared/datasets/netmeta/Linde2016.csv: response as log odds ratios with their standard errors,
one row per pair of arms, a multi-arm trial as every pair of its arms; 93 trials, 22 treatments).
The trials enter as contrasts only: the arm sheet is left its header.

Source of every number: Linde K, Rücker G, Sigterist-Scheurer M, et al. Comparative effectiveness
of psychological treatments for depressive disorders in primary care: network meta-analysis.
J Clin Epidemiol 2016, doi:10.1016/j.jclinepi.2015.10.010 (its supplementary data), as distributed
with R package netmeta (GPL-2), a secondary source: the trials' own reports were not read. The log
odds ratios are the review authors', derived from response counts. The dataset gives neither the
week nor the analysis population (both blank: the end of treatment, not reported); risk of bias is
not assessed here. The protocol lists the review's own drug classes and therapy types; the
network splits medication and combined arms by drug class (``network.nodes: drug_class``), with
every psychotherapy one node and placebo and usual care the node control (``network.controls: merged``)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pandas as pd

from depmeta.cli import init_review

SOURCE = "doi:10.1016/j.jclinepi.2015.10.010"
LOCATOR = ("netmeta Linde2016 (the review's pairwise log odds ratios of response; secondary source, "
           "dataset under GPL-2)")
DERIVED = "log odds ratio and its SE computed by the review's authors from response counts"
TITLE = "Psychological and pharmacological treatments for depressive disorders in primary care"
#: The dataset's treatment -> (arm_type, drug_class, therapy_type).
TREATMENTS = {
    "TCA": ("medication", "TCA", ""),
    "SSRI": ("medication", "SSRI", ""),
    "SNRI": ("medication", "SNRI", ""),
    "NRI": ("medication", "NRI", ""),
    "rMAO-A": ("medication", "MAOI", ""),
    "NaSSa": ("medication", "NaSSA", ""),
    "Low-dose SARI": ("medication", "SARI", ""),
    "Hypericum": ("medication", "hypericum", ""),
    "Ind drug": ("medication", "individualized", ""),
    "Face-to-face CBT": ("psychotherapy", "", "CBT"),
    "Face-to-face PST": ("psychotherapy", "", "PST"),
    "Face-to-face interpsy": ("psychotherapy", "", "IPT"),
    "Face-to-face psychodyn": ("psychotherapy", "", "psychodynamic"),
    "Other face-to-face": ("psychotherapy", "", "other"),
    "Remote CBT": ("psychotherapy", "", "remote_CBT"),
    "Self-help CBT": ("psychotherapy", "", "self_help_CBT"),
    "No contact CBT": ("psychotherapy", "", "minimal_contact_CBT"),
    "Face-to-face CBT + SSRI": ("combined", "SSRI", "CBT"),
    "Face-to-face PST + SSRI": ("combined", "SSRI", "PST"),
    "Face-to-face interpsy + SSRI": ("combined", "SSRI", "IPT"),
    "Placebo": ("placebo", "", ""),
    "UC": ("usual_care", "", ""),
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def write_review(dataset: Path, root: Path, folder: str = "reviews/linde2016") -> Path:
    """Write the review into ``root/folder`` (``depmeta init`` first), its protocol naming the
    sheets relative to ``root`` (where snakemake runs); returns the protocol's path."""
    protocol = init_review(root / folder)[0]
    data = pd.read_csv(dataset).rename(columns={"treat1.long": "long1", "treat2.long": "long2"})
    studies, contrasts, ids, seen = [], [], {}, {}
    for trial, rows in data.groupby("id", sort=False):
        first = rows.iloc[0]
        base = f"{_slug(first.author)}{first.year}"
        seen[base] = seen.get(base, 0) + 1
        sid = ids[trial] = base if seen[base] == 1 else f"{base}{'abcdefgh'[seen[base] - 1]}"
        studies.append({"study_id": sid, "label": f"{first.author} {first.year}", "year": first.year,
                        "age_group": "adult", "condition": "other", "design": "acute", "risk_of_bias": "not assessed",
                        "reference": f"{first.author} {first.year}, as included in Linde 2016 (netmeta Linde2016, "
                                     f"id {trial})", "doi": SOURCE.removeprefix("doi:")})
        for r in rows.itertuples():
            row = {"study_id": sid, "phase": "acute", "outcome": "response", "measure": "OR",
                   "log_estimate": repr(r.lnOR), "se": repr(r.selnOR), "n1": r.n1, "n2": r.n2, "source": SOURCE,
                   "locator": LOCATOR, "derived_note": DERIVED}
            for k, treat, long in ((1, r.treat1, r.long1), (2, r.treat2, r.long2)):
                arm_type, drug_class, therapy_type = TREATMENTS[treat]
                row.update({f"arm{k}_id": _slug(treat), f"arm{k}_type": arm_type, f"arm{k}_treatment": long,
                            f"arm{k}_drug_class": drug_class, f"arm{k}_therapy_type": therapy_type})
            contrasts.append(row)
    for name, rows in (("studies", studies), ("contrasts", contrasts)):
        template = pd.read_csv(root / folder / f"{name}.csv", dtype=str, keep_default_na=False)
        pd.DataFrame(rows, columns=template.columns).to_csv(root / folder / f"{name}.csv", index=False)
    arms = pd.read_csv(root / folder / "arms.csv", dtype=str, keep_default_na=False)
    arms.iloc[:0].to_csv(root / folder / "arms.csv", index=False)  # contrasts only: the arm sheet its header
    protocol.write_text(textwrap.dedent(f"""\
        review:
          title: "{TITLE}"
          subtitle: "A reanalysis of Linde et al. 2016 (J Clin Epidemiol) from its pairwise odds ratios"
          question: >-
            In adults with depressive disorders treated in primary care, how do psychological treatments,
            antidepressants and their combination compare with placebo, usual care and each other on response?
          authors: []
          registration: ""
        vocabulary:
          drug_classes: [TCA, SSRI, SNRI, MAOI, NaSSA, SARI, NRI, hypericum, individualized]
          therapy_types: [CBT, PST, IPT, psychodynamic, other, remote_CBT, self_help_CBT, minimal_contact_CBT]
        sheets:
          studies: {folder}/studies.csv
          arms: {folder}/arms.csv
          contrasts: {folder}/contrasts.csv
        analysis:
          outcomes: [response]
          binary_measure: OR
          comparisons:
            - combined_vs_medication
            - combined_vs_psychotherapy
            - psychotherapy_vs_medication
            - medication_vs_control
            - psychotherapy_vs_control
            - combined_vs_control
            - {{name: SSRI_vs_control, arm1: {{strategy: medication, drug_class: SSRI}}, arm2: {{strategy: control}}}}
            - {{name: psychotherapy_vs_SSRI, arm1: {{strategy: psychotherapy}},
               arm2: {{strategy: medication, drug_class: SSRI}}}}
        network:
          outcomes: [response]
          nodes: drug_class
          controls: merged  # placebo and usual care one node, as the reference (generate_linde2016_review.R)
        certainty:
          reporting_bias:
            level: not assessed
        report:
          pdf: false
        """))
    return protocol
