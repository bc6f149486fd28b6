"""Psychotherapies against control conditions for depression, trials of 2018 and 2019, as a
review of its own: ``depmeta init`` laid out, then filled in from the Metapsy database of
psychotherapy trials (``depression-psyctr``; ../shared/datasets/metapsy/depression-psyctr.csv,
semicolon-separated with decimal commas) by a mapping of its columns to the sheets.

Source of every number: the Metapsy depression-psyctr database, doi:10.5281/zenodo.7254845 (a
secondary source: each row is the database's extraction of the trial report named in its
``full_ref``, which was not read here; the arm sheet's ``notes`` and the study sheet's
``reference`` carry that reference, the ``locator`` the database row's ``.id``).

Subset, by a stated rule: every row of a trial published in 2018 or 2019 (the database's
``year``) whose outcome is continuous: arm-level means, SDs and Ns (``outcome_type`` ``msd``:
an arm row per instrument), change from baseline (``change``: a row with ``score_type``
``change``; none in these years) or a reported Hedges' g (``other statistic`` with ``precalc_g``:
a row of the contrasts sheet). All comparators of the database are control conditions (waiting
list, care as usual, other control). Mapping:

- one arm per distinct ``multi_arm1``/``multi_arm2`` (``condition_arm1``/``condition_arm2`` in a
  two-arm trial); a control arm shared by several comparisons of a multi-arm trial is one arm,
  its rows entered once (the database repeats them, and they agree);
- ``condition_arm1`` -> the review's own therapy types (config ``vocabulary.therapy_types``:
  CBT, BA, PST, IPT, psychodynamic, life_review, third_wave, other), ``condition_arm2`` -> the
  arm types waiting_list, usual_care, other_control;
- ``time_weeks`` -> ``timepoint_weeks``, blank where the database gives NA or 0 (every row is the
  post-treatment assessment, ``time`` post: the end of treatment); ``itt`` 1 -> ITT, 0 -> completers;
- ``instrument`` -> ``scale`` in capitals (``hdrs-17`` -> HDRS-17); the protocol keeps the default
  priority list (clinician-rated first), so a trial with several instruments enters with one;
- a reported g is turned to this project's sign (negative: fewer symptoms with psychotherapy, the
  database's ``precalc_g`` is positive then), its arm sizes the randomised ``rand_arm1/2``.
  Johnson 2019's two reported g's give no week (``time_weeks`` NA): they are left out of the
  subset (and of its reference).

:func:`effect_sizes` lists what the pipeline should pool, for the metafor reference
(tests/reference/generate_metapsy_subset.R computes the same from the database on its own).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pandas as pd

from depmeta.cli import init_review

SOURCE = "doi:10.5281/zenodo.7254845"
TITLE = "Psychotherapies versus control conditions for depression: trials of 2018 and 2019"
YEARS = (2018, 2019)
THERAPY = {"cbt": ("CBT", "cognitive behavioural therapy"), "bat": ("BA", "behavioural activation"),
           "pst": ("PST", "problem-solving therapy"), "ipt": ("IPT", "interpersonal psychotherapy"),
           "dyn": ("psychodynamic", "psychodynamic therapy"), "lrt": ("life_review", "life review therapy"),
           "3rd": ("third_wave", "third-wave therapy"), "other psy": ("other", "other psychotherapy")}
CONTROL = {"wl": ("waiting_list", "waiting list"), "cau": ("usual_care", "care as usual"),
           "other ctr": ("other_control", "other control condition")}
AGE = {"adul": "adult", "yadul": "adult", "old": "older_adult", "olderold": "older_adult"}
CONDITION = {"mdd": "MDD", "chr": "chronic_MDD"}


def read_database(path: Path) -> pd.DataFrame:
    """The database as metapsyData reads it: ';' separated, decimal commas, NA."""
    return pd.read_csv(path, sep=";", decimal=",", na_values=["NA"], keep_default_na=False, encoding="utf-8")


def subset(data: pd.DataFrame) -> pd.DataFrame:
    """The rows of the review (module docstring): trials of 2018-2019, continuous outcomes."""
    continuous = data.outcome_type.isin(["msd", "change"]) | (
        (data.outcome_type == "other statistic") & data.precalc_g.notna())
    return data[data.year.isin(YEARS) & continuous]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower().replace("+", " plus ")).strip("_")


def _weeks(value) -> str:
    return "" if pd.isna(value) or value == 0 else f"{value:g}"


def write_review(dataset: Path, root: Path, folder: str = "reviews/metapsy_subset") -> Path:
    """Write the review into ``root/folder`` (``depmeta init`` first), its protocol naming the
    sheets relative to ``root`` (where snakemake runs); returns the protocol's path."""
    protocol = init_review(root / folder)[0]
    rows = subset(read_database(dataset))
    studies, arms, reported = {}, {}, []
    for r in rows.rename(columns={".id": "row_id"}).itertuples():
        sid = _slug(r.study).replace("_", "")
        ref = f"{r.full_ref} (as extracted in the Metapsy depression-psyctr database, {SOURCE}: a secondary source)"
        studies.setdefault(sid, {
            "study_id": sid, "label": r.study, "year": int(r.year), "age_group": AGE[r.age_group],
            "condition": CONDITION.get(r.diagnosis, "other"), "design": "acute", "risk_of_bias": "not assessed",
            "reference": ref, "doi": SOURCE.removeprefix("doi:"),
            "notes": f"Metapsy diagnosis code {r.diagnosis!r}, recruitment {r.recruitment!r}"})
        therapy, therapy_text = THERAPY[r.condition_arm1]
        control, control_text = CONTROL[r.condition_arm2]
        arm1 = r.multi_arm1 if isinstance(r.multi_arm1, str) else r.condition_arm1
        arm2 = r.multi_arm2 if isinstance(r.multi_arm2, str) else r.condition_arm2
        common = {"study_id": sid, "phase": "acute", "outcome": "symptoms",
                  "timepoint_weeks": _weeks(r.time_weeks), "analysis_population": "ITT" if r.itt == 1 else "completers",
                  "source": SOURCE, "locator": f"depression-psyctr row {r.row_id}",
                  "notes": f"Trial report: {r.full_ref}"}
        if r.outcome_type == "other statistic":
            reported.append({**common, "arm1_id": _slug(arm1), "arm1_type": "psychotherapy",
                             "arm2_id": _slug(arm2), "arm2_type": control, "n1": int(r.rand_arm1),
                             "n2": int(r.rand_arm2), "measure": "SMD", "estimate": -r.precalc_g,
                             "se": r.precalc_g_se,
                             "scale": r.instrument.upper(),
                             "locator": f"{common['locator']} (precalc_g {r.precalc_g:g}: positive favours "
                                        "psychotherapy, entered with the sign turned)"})
            continue
        change = r.outcome_type == "change"
        for side, arm, arm_type, treatment, therapy_type in (
                (1, arm1, "psychotherapy", f"{therapy_text} ({arm1})", therapy), (2, arm2, control, control_text, "")):
            prefix = "mean_change" if change else "mean"
            values = {"n": int(getattr(r, f"n_change_arm{side}" if change else f"n_arm{side}")),
                      "mean": getattr(r, f"{prefix}_arm{side}"),
                      "sd": getattr(r, f"sd_change_arm{side}" if change else f"sd_arm{side}")}
            key = (sid, _slug(arm), r.instrument, change)
            if key in arms:
                if any(arms[key][k] != v for k, v in values.items()):
                    raise ValueError(f"{r.study}: arm {arm} on {r.instrument} differs between comparisons")
                continue
            arms[key] = {**common, "arm_id": _slug(arm), "arm_type": arm_type, "treatment": treatment,
                         "therapy_type": therapy_type, "scale": r.instrument.upper(),
                         "score_type": "change" if change else "endpoint",
                         "outcome_definition": f"{r.instrument} ({r.rating})", **values}
    for name, data in (("studies", list(studies.values())), ("arms", list(arms.values()))):
        template = pd.read_csv(root / folder / f"{name}.csv", dtype=str, keep_default_na=False)
        pd.DataFrame(data, columns=template.columns).to_csv(root / folder / f"{name}.csv", index=False)
    columns = ["study_id", "arm1_id", "arm1_type", "arm2_id", "arm2_type", "phase", "outcome", "timepoint_weeks",
               "analysis_population", "n1", "n2", "measure", "estimate", "se", "scale", "source", "locator", "notes"]
    reported = [r for r in reported if r["timepoint_weeks"]]  # those without a week are left out (see above)
    pd.DataFrame(reported, columns=columns).to_csv(root / folder / "contrasts.csv", index=False)
    protocol.write_text(textwrap.dedent(f"""\
        review:
          title: "{TITLE}"
          subtitle: "Continuous outcomes of the Metapsy depression-psyctr database, one scale per trial"
          question: >-
            In people with depression, do psychological treatments reduce depressive symptoms at the end
            of treatment more than waiting list, care as usual or other control conditions?
          authors: []
          registration: ""
        vocabulary:
          therapy_types: [CBT, BA, PST, IPT, psychodynamic, life_review, third_wave, other]
        sheets:
          studies: {folder}/studies.csv
          arms: {folder}/arms.csv
          contrasts: {folder}/contrasts.csv
        analysis:
          outcomes: [symptoms]
          comparisons: [psychotherapy_vs_control]
          population_preference: [ITT, completers]
          timeframes:  # every row is the post-treatment assessment, whatever the week of its trial
            symptoms: {{phases: [acute], choose: latest}}
          scales:
            rule: priority
        network:
          outcomes: [symptoms]
          nodes: therapy_type
        certainty:
          reporting_bias:
            level: not assessed
        subgroups:
          moderators: [age_group, therapy_type]
          regression_moderators: [year]
        report:
          pdf: false
        """))
    return protocol
