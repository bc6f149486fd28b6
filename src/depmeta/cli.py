"""The ``depmeta`` command: start a review and check it before running the workflow.

- ``depmeta init DIR`` writes a new review: ``DIR/protocol.yaml`` (every optional part off but the contrasts sheet,
  placeholders ``<...>`` that fail validation until filled, the reporting-bias judgement
  among them), ``DIR/studies.csv``, ``DIR/arms.csv`` and ``DIR/contrasts.csv`` (effects
  reported as contrasts; the header and one comment row with an example each), and the same
  sheets as ``DIR/sheets.xlsx`` with a note on every column
  and drop-down lists for the coded ones.
- ``depmeta validate PROTOCOL`` checks the protocol and its sheets with the workflow's own
  rules (:mod:`depmeta.review.protocol`, :mod:`depmeta.review.reading`,
  :mod:`depmeta.review.validation`) and prints every problem once, by file, row and column;
  exit status 1 when there is one. Paths in the protocol are relative to the folder the
  command runs in, as for ``snakemake``.

The command sits above the three floors: it reads and writes files and calls the review
rules; nothing imports it.
"""

from __future__ import annotations

import argparse
import copy
import io
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from depmeta.review.protocol import GROUP_FILES, check_protocol, group_files
from depmeta.review.reading import read_group
from depmeta.review.validation import BOOK_SHEETS, GROUPS, validate_group

__all__ = ["failed_run_message", "failed_run_summary", "init_review", "main", "remove_outdated",
           "set_aside_outdated", "validate_review"]

#: The workflow's schemas (the protocol's and each sheet's), in the project the package runs from.
SCHEMAS = Path(__file__).resolve().parents[2] / "workflow" / "schemas"


def _schema(name: str) -> dict:
    return yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text())


# --- validate -------------------------------------------------------------------------


def _with_defaults(validator_class):
    """A validator that fills in each object's defaults while it validates (as Snakemake's
    ``validate(..., set_default=True)``), so the checks see the protocol the workflow runs."""
    properties = validator_class.VALIDATORS["properties"]

    def fill(validator, props, instance, schema):
        if isinstance(instance, dict):
            for key, sub in props.items():
                if "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from properties(validator, props, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": fill})


def load_protocol(path: str | Path) -> tuple[dict | None, list[str]]:
    """The protocol with the schema's defaults filled in, and its problems (file, key, fix)."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"{path}: no such file"]
    except yaml.YAMLError as err:
        return None, [f"{path}: not valid YAML ({err})"]
    if not isinstance(config, dict) or "review" not in config:
        return None, [f"{path}: not a protocol: it has no `review:` section (title, question, authors); "
                      "`depmeta init DIR` writes one to start from"]
    schema = _schema("config")
    validator = _with_defaults(jsonschema.validators.validator_for(schema))(schema)
    problems = [f"{path}: {'.'.join(map(str, err.absolute_path)) or '(top level)'}: {err.message}"
                for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        return None, problems
    return config, [f"{path}: {message}" for message in check_protocol(config)]


def _as_read_back(df: pd.DataFrame) -> pd.DataFrame:
    """A validated sheet as the workflow's next job reads it: written as CSV, read as strings."""
    buffer = io.StringIO()
    df.to_csv(buffer, index=False)
    return pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)


def validate_review(protocol: str | Path) -> tuple[list[str], dict]:
    """Every problem of a review (its protocol, then each group of sheets as the workflow
    validates them), and the number of valid rows per sheet."""
    config, problems = load_protocol(protocol)
    if config is None:
        return problems, {}
    schemas = {name: _schema(name) for names in GROUP_FILES.values() for name in names}
    counts, studies = {}, None
    for group, sheets in GROUPS.items():
        files = group_files(config["sheets"], group)
        absent = [f"{path}: no such file (sheets.{name} in {protocol})" for name, path in files.items()
                  if not Path(path).is_file()]
        if absent:
            problems += absent
            continue
        raw, labels, _, read_problems = read_group(sheets, files, BOOK_SHEETS)
        claims_doc = None
        if "claims" in files:
            try:
                claims_doc = yaml.safe_load(Path(files["claims"]).read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as err:
                problems.append(f"{files['claims']}: not valid YAML ({err})")
                continue
        if group == "risk_of_bias" and "risk_of_bias" in labels and studies is None:
            continue  # the studies did not validate: their problems are listed already
        checked = validate_group(group, raw, schemas, labels, read_problems, claims_doc=claims_doc,
                                 claims_label=files.get("claims", "claims"), validated_studies=studies,
                                 studies_label=labels.get("studies", "studies"), vocabulary=config["vocabulary"])
        if checked.problems:
            problems += [str(p) for p in checked.problems]
            continue
        counts.update({labels.get(name, name): len(df) for name, df in checked.sheets.items() if name in labels})
        if checked.claims:
            counts[files["claims"]] = len(checked.claims)
        if group == "extraction":
            studies = _as_read_back(checked.sheets["studies"])
    return problems, counts


# --- init -----------------------------------------------------------------------------

PROTOCOL = """\
# The protocol of a review: what it is (review:) and how it is analysed (every other section).
# Every key is described in config/README.md; keys left out take the defaults listed there.
# Replace each <...> placeholder; `depmeta validate {protocol}` says what is still missing.
review:
  title: "<title of the review>"
  subtitle: ""
  question: "<the review question: population, interventions, comparators, outcomes>"
  authors: ["<author>"]
  registration: ""          # e.g. a PROSPERO number or a DOI

sheets:                     # paths relative to the folder snakemake runs in
  studies: {folder}/studies.csv
  arms: {folder}/arms.csv
  workbook: ""              # or {folder}/sheets.xlsx instead of the CSV files
  contrasts: {folder}/contrasts.csv   # effects reported as contrasts (OR, RR, HR, RD, MD, SMD), if any
  risk_of_bias: ""          # optional sheets, off: data/README.md describes each
  excluded_arms: ""
  benchmarks: ""            # published pooled results to set beside the review's (off)
  claims: ""                # claims to check against the pooled evidence (off)

analysis:
  outcomes: [response, remission, relapse, symptoms, dropout]
  comparisons: [combined_vs_medication, combined_vs_psychotherapy, psychotherapy_vs_medication,
                medication_vs_control, psychotherapy_vs_control, combined_vs_control]
  # against one control type, as the network keeps each apart, e.g. (as items of the list above):
  #   {{name: medication_vs_placebo, arm1: {{strategy: medication}}, arm2: {{arm_type: placebo}}}}
  populations:              # age groups pooled (primary) and pooled apart (strata), e.g.
    primary: [adult, adolescent, older_adult]   # [adult, older_adult] with strata {{adolescents: [adolescent]}}
    strata: {{}}
  timeframes:               # per outcome: phases analysed, window of weeks from randomization, week chosen
    response: {{phases: [acute], from_weeks: 6, to_weeks: 16, choose: nearest, target_weeks: 12}}
    remission: {{phases: [acute], from_weeks: 6, to_weeks: 16, choose: nearest, target_weeks: 12}}
    symptoms: {{phases: [acute], from_weeks: 6, to_weeks: 16, choose: nearest, target_weeks: 12}}
    dropout: {{phases: [acute], from_weeks: 6, to_weeks: 16, choose: nearest, target_weeks: 12}}
    relapse: {{phases: [continuation, maintenance], choose: latest}}

network:
  controls: separate        # each control type (placebo, usual_care, waiting_list, ...) its own node; or merged

certainty:
  reporting_bias:
    level: suspected        # undetected, suspected or strongly suspected
    reason: "<why: how the search was made, and whether unpublished trials were sought>"

metapsy:
  enabled: false
"""

#: One example row per sheet, written as a comment (first cell starting with "#").
EXAMPLES = {
    "studies": {"study_id": "# example: smith2019", "label": "Smith 2019", "year": "2019", "country": "UK",
                "population": "adults with major depression in primary care", "age_group": "adult",
                "condition": "MDD", "chronicity": "episodic", "baseline_severity": "HRSD-17 mean 21",
                "design": "acute", "risk_of_bias": "not assessed",
                "reference": "Smith J, et al. Title of the trial report. Journal 2019;1:1-10",
                "doi": "10.1000/example"},
    "arms": {"study_id": "# example: smith2019", "arm_id": "sertraline", "arm_type": "medication",
             "treatment": "sertraline 50-200 mg/d", "drug_class": "SSRI", "phase": "acute", "outcome": "response",
             "outcome_definition": "HRSD-17 reduced by at least 50%", "timepoint_weeks": "12",
             "analysis_population": "ITT", "n": "60", "events": "31", "source": "doi:10.1000/example",
             "locator": "Table 2"},
    "contrasts": {"study_id": "# example: jones2020", "arm1_id": "cbt", "arm1_type": "psychotherapy",
                  "arm1_treatment": "group CBT, 12 sessions", "arm1_therapy_type": "CBT", "arm2_id": "tau",
                  "arm2_type": "usual_care", "phase": "acute", "outcome": "response", "timepoint_weeks": "12",
                  "analysis_population": "ITT", "n1": "120", "n2": "118", "measure": "OR", "estimate": "1.62",
                  "ci_low": "1.05", "ci_high": "2.50", "ci_level": "95",
                  "adjustment": "cluster-randomized: odds ratio from a mixed model with practice as random effect",
                  "source": "doi:10.1000/example2", "locator": "Table 3"},
}


def _write_workbook(path: Path, sheets: dict[str, dict]) -> None:
    """The sheets as a workbook: a note on every column (its schema's description) and
    drop-down lists of the coded values."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from depmeta.review.vocabulary import OPEN_LISTS

    # the open lists' defaults (as the new protocol has them) for the arm sheet's column and the
    # contrasts sheet's arm1_/arm2_ columns
    listed = {}
    for column, default, fixed in OPEN_LISTS.values():
        for name in (column, *(("arm1_type", "arm2_type") if column == "arm_type" else
                               (f"arm1_{column}", f"arm2_{column}"))):
            listed[name] = [*fixed, *default]
    book = Workbook()
    book.remove(book.active)
    for name, schema in sheets.items():
        ws = book.create_sheet(name)
        for j, (column, prop) in enumerate(schema["properties"].items(), start=1):
            cell = ws.cell(row=1, column=j, value=column)
            cell.comment = Comment(prop.get("description", column), "depmeta")
            ws.cell(row=2, column=j, value=EXAMPLES[name].get(column, ""))
            ws.column_dimensions[get_column_letter(j)].width = max(12, len(column) + 2)
            values = [v for v in prop.get("enum", listed.get(column, [])) if v != ""]
            if values:
                rule = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
                rule.error, rule.errorTitle = f"One of: {', '.join(values)}", column
                ws.add_data_validation(rule)
                rule.add(f"{get_column_letter(j)}3:{get_column_letter(j)}5000")
        ws.freeze_panes = "A2"
    book.save(path)


def init_review(folder: str | Path) -> list[Path]:
    """Write a new review into ``folder`` (which must not hold one); the files written."""
    folder = Path(folder)
    targets = [folder / n for n in ("protocol.yaml", "studies.csv", "arms.csv", "contrasts.csv", "sheets.xlsx")]
    present = [str(t) for t in targets if t.exists()]
    if present:
        raise FileExistsError(f"{', '.join(present)} already there: nothing written (choose a new folder)")
    folder.mkdir(parents=True, exist_ok=True)
    schemas = {name: _schema(name) for name in ("studies", "arms", "contrasts")}
    for name, schema in schemas.items():
        columns = list(schema["properties"])
        pd.DataFrame([{c: EXAMPLES[name].get(c, "") for c in columns}]).to_csv(folder / f"{name}.csv", index=False)
    _write_workbook(folder / "sheets.xlsx", schemas)
    targets[0].write_text(PROTOCOL.format(folder=folder.as_posix(), protocol=targets[0].as_posix()))
    return targets


# --- a failed run ---------------------------------------------------------------------


def failed_run_summary(logs: str | Path, since: float) -> str:
    """What stopped a run, once: the errors the workflow's jobs logged during it (``logs``: the
    jobs' log folder; ``since``: when the run started), each under its log file's name."""
    blocks = []
    for log in sorted(Path(logs).glob("*.log")):
        if log.stat().st_mtime < since:
            continue
        lines, keep = [], False
        for line in log.read_text(errors="replace").splitlines():
            head = line.split(" ", 3)
            if len(head) >= 3 and head[2] in ("INFO", "WARNING", "ERROR"):
                keep = head[2] == "ERROR"
                line = head[3] if keep and len(head) > 3 else line
            if keep:
                lines.append(line)
        if lines:
            blocks.append(f"{log}:\n" + "\n".join(f"  {line}" for line in lines))
    if not blocks:
        return "The run stopped; the error is in the output above (a job that failed without logging it)."
    return "The run stopped:\n" + "\n".join(blocks)


def set_aside_outdated(files, since: float) -> list[Path]:
    """Rename each of ``files`` made before a run that failed to ``NAME.outdated.EXT``, so that
    no report is left looking current; the renamed files."""
    moved = []
    for f in map(Path, files):
        if f.is_file() and f.stat().st_mtime < since:
            target = _outdated(f)
            f.replace(target)
            moved.append(target)
    return moved


def _outdated(f: Path) -> Path:
    return f.with_name(f"{f.stem}.outdated{f.suffix}")


def failed_run_message(logs: str | Path, since: float, report_files) -> str:
    """What a failed run prints last: :func:`failed_run_summary`, and the reports of an earlier
    run set aside (:func:`set_aside_outdated`)."""
    moved = set_aside_outdated(report_files, since)
    return "\n".join(["", failed_run_summary(logs, since),
                      *(f"{p}: the report of an earlier run, set aside" for p in moved)])


def remove_outdated(report_files) -> None:
    """After a run that succeeded: the reports set aside by an earlier failed run are removed."""
    for f in map(Path, report_files):
        _outdated(f).unlink(missing_ok=True)


# --- the command ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="depmeta", description="Start a review, and check it before running it.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_init = sub.add_parser("init", help="write a new review (protocol and empty sheets) into DIR")
    p_init.add_argument("dir")
    p_val = sub.add_parser("validate", help="check a review's protocol and sheets; messages only")
    p_val.add_argument("protocol")
    args = parser.parse_args(argv)
    if args.command == "init":
        try:
            written = init_review(args.dir)
        except FileExistsError as err:
            print(f"depmeta init: {err}", file=sys.stderr)
            return 1
        print("wrote " + ", ".join(str(p) for p in written))
        print(f"next: fill in {written[0]} and the sheets, then `depmeta validate {written[0]}` and "
              f"`snakemake --configfile {written[0]}`")
        return 0
    problems, counts = validate_review(args.protocol)
    if problems:
        print(f"{len(problems)} problem(s):", file=sys.stderr)
        for message in problems:
            print(f"  - {message}", file=sys.stderr)
        return 1
    print(f"{args.protocol}: valid (" + ", ".join(f"{name}: {n} rows" for name, n in counts.items()) + ")")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
