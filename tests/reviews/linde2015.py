"""Linde 2015's network of antidepressant classes against placebo in primary care, as a review of
its own: ``depmeta init`` laid out, then filled in from metadat's ``dat.linde2015`` (arm-level
response, remission and dropout counts of 66 trials; ../shared/datasets/metadat/linde2015.csv).

Source of every number: Linde K, Kriston L, Rücker G, et al. Efficacy and acceptability of
pharmacological treatments for depressive disorders in primary care: systematic review and
network meta-analysis. Ann Fam Med 2015;13(1):69-79, doi:10.1370/afm.1687, as extracted by the
review's authors and distributed with R package metadat (a secondary source: the trials' own
reports were not read). The dataset gives neither the week nor the analysis population, so
both are left blank (the end of treatment; not reported); risk of bias is not assessed here.
The protocol lists the review's own drug classes (NaSSA, low-dose SARI, NRI and hypericum beside
the default ones)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pandas as pd

from depmeta.cli import init_review

SOURCE = "doi:10.1370/afm.1687"
LOCATOR = "metadat dat.linde2015 (the review's arm-level extraction)"
TITLE = "Pharmacological treatments for depressive disorders in primary care"
#: The dataset's treatment -> (arm_type, drug_class, treatment named in the arm sheet).
TREATMENTS = {
    "TCA": ("medication", "TCA", "tricyclic antidepressant"),
    "SSRI": ("medication", "SSRI", "selective serotonin reuptake inhibitor"),
    "SNRI": ("medication", "SNRI", "serotonin-norepinephrine reuptake inhibitor"),
    "rMAO-A": ("medication", "MAOI", "reversible inhibitor of monoamine oxidase A"),
    "NaSSa": ("medication", "NaSSA", "noradrenergic and specific serotonergic antidepressant"),
    "Low-dose SARI": ("medication", "SARI", "low-dose serotonin antagonist and reuptake inhibitor"),
    "NRI": ("medication", "NRI", "norepinephrine reuptake inhibitor"),
    "Hypericum": ("medication", "hypericum", "hypericum (St John's wort) extract"),
    "Placebo": ("placebo", "", "placebo"),
}
OUTCOMES = {"resp": "response", "remi": "remission", "loss": "dropout"}
DEFINITIONS = {"response": "response as defined by each trial (Linde 2015)",
               "remission": "remission as defined by each trial (Linde 2015)",
               "dropout": "lost to follow-up for any reason (Linde 2015)"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def write_review(dataset: Path, root: Path, folder: str = "reviews/linde2015") -> Path:
    """Write the review into ``root/folder`` (``depmeta init`` first), its protocol naming the
    sheets relative to ``root`` (where snakemake runs); returns the protocol's path."""
    protocol = init_review(root / folder)[0]
    data = pd.read_csv(dataset)
    studies, arms, seen = [], [], {}
    for r in data.itertuples():
        base = f"{_slug(r.author)}{r.year}"
        seen[base] = seen.get(base, 0) + 1
        sid = base if seen[base] == 1 else f"{base}{'abcdefgh'[seen[base] - 1]}"
        studies.append({"study_id": sid, "label": f"{r.author} {r.year}", "year": r.year, "age_group": "adult",
                        "condition": "other", "design": "acute", "risk_of_bias": "not assessed",
                        "reference": f"{r.author} {r.year}, as included in Linde 2015 (dat.linde2015, id {r.id})",
                        "doi": SOURCE.removeprefix("doi:")})
        for j in (1, 2, 3):
            kind = getattr(r, f"treatment{j}")
            if not isinstance(kind, str) or not kind:
                continue
            arm_type, drug_class, treatment = TREATMENTS[kind]
            for column, outcome in OUTCOMES.items():
                events = getattr(r, f"{column}{j}")
                if pd.isna(events):
                    continue
                arms.append({"study_id": sid, "arm_id": f"{_slug(kind)}{j}", "arm_type": arm_type,
                             "treatment": treatment, "drug_class": drug_class, "phase": "acute", "outcome": outcome,
                             "outcome_definition": DEFINITIONS[outcome], "n": int(getattr(r, f"n{j}")),
                             "events": int(events), "source": SOURCE, "locator": LOCATOR})
    for name, rows in (("studies", studies), ("arms", arms)):
        template = pd.read_csv(root / folder / f"{name}.csv", dtype=str, keep_default_na=False)
        pd.DataFrame(rows, columns=template.columns).to_csv(root / folder / f"{name}.csv", index=False)
    protocol.write_text(textwrap.dedent(f"""\
        review:
          title: "{TITLE}"
          subtitle: "A reanalysis of Linde et al. 2015 (Ann Fam Med) from its arm-level data"
          question: >-
            In adults with depressive disorders treated in primary care, how do classes of
            antidepressants compare with placebo and with each other on response, remission and dropout?
          authors: []
          registration: ""
        vocabulary:
          drug_classes: [TCA, SSRI, SNRI, MAOI, NaSSA, SARI, NRI, hypericum]
        sheets:
          studies: {folder}/studies.csv
          arms: {folder}/arms.csv
        analysis:
          outcomes: [response, remission, dropout]
          comparisons:
            - medication_vs_control
            - {{name: TCA_vs_placebo, arm1: {{strategy: medication, drug_class: TCA}}, arm2: {{arm_type: placebo}}}}
            - {{name: SSRI_vs_placebo, arm1: {{strategy: medication, drug_class: SSRI}}, arm2: {{arm_type: placebo}}}}
            - {{name: hypericum_vs_placebo, arm1: {{strategy: medication, drug_class: hypericum}},
               arm2: {{arm_type: placebo}}}}
            - {{name: SSRI_vs_TCA, arm1: {{strategy: medication, drug_class: SSRI}},
               arm2: {{strategy: medication, drug_class: TCA}}}}
        network:
          outcomes: [response, remission, dropout]
          nodes: drug_class
        certainty:
          reporting_bias:
            level: not assessed
        subgroups:
          moderators: [drug_class]
          regression_moderators: [year]
        report:
          pdf: false
        """))
    return protocol
