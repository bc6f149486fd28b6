"""The workflow's jobs run in one process on a review (a protocol and its sheets), without
Snakemake: each job is its own script in ``workflow/scripts/`` run with the ``snakemake``
object Snakemake would hand it (inputs, outputs, params and log at the paths of the rules in
``workflow/rules/``), in the order the rules depend on each other, and the report is the Python
of ``report/report.qmd`` run cell by cell on the results (its markdown collected, not rendered).

:func:`run_review` answers one question: does the review validate (``depmeta validate``'s own
function), and if it does, does it go through every job? A job's exception propagates."""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import re
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import yaml

from conftest import ROOT
from depmeta.cli import load_protocol, validate_review
from depmeta.review.protocol import group_files

SCRIPTS = ROOT / "workflow" / "scripts"
SCHEMAS = ROOT / "workflow" / "schemas"
QMD = ROOT / "report" / "report.qmd"
EXTRACTION = ("studies", "arms", "contrasts", "excluded_arms")
NETWORK = ("estimates", "summary", "ranking", "contributions", "exclusions")


@dataclass
class Run:
    """What became of a review: the validation's messages (none for a valid review), the
    jobs it went through, and the report's markdown."""

    problems: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    report: str = ""


class JobFailed(RuntimeError):
    """A job's script stopped (``sys.exit``, ``SystemExit``): the run fails there."""


class Named(list):
    """A rule's inputs, outputs or params as a script reads them: by name (``input.summary``,
    ``input["summary"]``, ``keys()``, ``items()``) and by position."""

    def __init__(self, named: dict):
        super().__init__(named.values())
        self._named = dict(named)

    def __getattr__(self, name):
        try:
            return self.__dict__["_named"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key):
        return self._named[key] if isinstance(key, str) else list.__getitem__(self, key)

    def keys(self):
        return self._named.keys()

    def items(self):
        return self._named.items()


@dataclass
class Job:
    """One job of the workflow: its script, and the ``snakemake`` object's parts."""

    rule: str
    script: str
    input: dict
    output: dict
    params: dict = field(default_factory=dict)


def _schemas(*names: str) -> list[str]:
    return [str(SCHEMAS / f"{n}.schema.yaml") for n in names]


def jobs(config: dict, results: Path) -> list[Job]:
    """The jobs of a run of ``config`` (a protocol with the schema's defaults), in an order the
    rules allow, their files under ``results`` (the rules' ``results/``)."""
    r = results
    v = {n: str(r / "validated" / f"{n}.csv") for n in (*EXTRACTION, "risk_of_bias", "benchmarks")}
    t = {n: str(r / "tables" / f"{n}.csv") for n in (
        "contrasts", "per_study", "summary", "summary_rd", "summary_strata", "summary_followup", "exclusions",
        "event_rates", "event_rates_arms", "summary_early", "summary_subgroups", "claims", "benchmarks")}
    net = {k: str(r / "network" / f"network_{k}.csv") for k in NETWORK} | {"json": str(r / "network" / "network.json")}
    sens = {k: str(r / "sensitivity" / f"{k}.csv") for k in
            ("influence", "leave1out", "cumulative", "small_study", "alternatives")}
    network_on = config["network"]["enabled"]
    sheets, analysis = config["sheets"], config["analysis"]
    provenance = {g: str(r / "validated" / "provenance" / f"{g}.json") for g in ("extraction", "risk_of_bias",
                                                                               "evidence")}
    out = [
        Job("validate_extraction", "validate_sheets.py",
            {**group_files(sheets, "extraction"), "schemas": _schemas(*EXTRACTION)},
            {**{n: v[n] for n in EXTRACTION}, "provenance": provenance["extraction"]}, {"group": "extraction"}),
        Job("validate_risk_of_bias", "validate_sheets.py",
            {**group_files(sheets, "risk_of_bias"), "validated_studies": v["studies"],
             "schemas": _schemas("risk_of_bias", "studies")},
            {"risk_of_bias": v["risk_of_bias"], "provenance": provenance["risk_of_bias"]},
            {"group": "risk_of_bias", "studies_label": f"{sheets['workbook']} [sheet studies]"
             if sheets.get("workbook") else sheets["studies"]}),
        Job("validate_evidence", "validate_sheets.py",
            {**group_files(sheets, "evidence"), "schemas": _schemas("benchmarks", "claims")},
            {"benchmarks": v["benchmarks"], "claims": str(r / "validated" / "claims.json"),
             "provenance": provenance["evidence"]}, {"group": "evidence"}),
        Job("review_protocol", "review_protocol.py", {}, {"review": str(r / "review.json")},
            {"review": config["review"]}),
        Job("analyse", "analyse.py", {n: v[n] for n in EXTRACTION},
            {**{n: t[n] for n in ("contrasts", "per_study", "summary", "summary_rd", "summary_strata",
                                  "summary_followup", "exclusions", "event_rates", "event_rates_arms")},
             "results": str(r / "results.json")}, {"analysis": analysis}),
    ]
    if network_on:
        out.append(Job("network", "network.py", {n: v[n] for n in ("studies", "arms", "contrasts", "excluded_arms")},
                       {**net, "figures": str(r / "network" / "figures")},
                       {"network": config["network"], "analysis": analysis}))
    out += [
        Job("evidence", "evidence.py",
            {**({"network_estimates": net["estimates"]} if network_on else {}),
             **{n: v[n] for n in (*EXTRACTION, "benchmarks")}, "claims": str(r / "validated" / "claims.json"),
             **{n: t[n] for n in ("summary", "summary_rd", "event_rates")}},
            {**({"network_benchmarks": str(r / "network" / "network_benchmarks.csv")} if network_on else {}),
             **{n: t[n] for n in ("summary_early", "summary_subgroups", "claims", "benchmarks")}},
            {"analysis": analysis}),
        Job("figures", "figures.py", {n: t[n] for n in ("summary", "per_study", "event_rates")},
            {"figures": str(r / "figures")}, {"level": analysis["level"]}),
        Job("sensitivity", "sensitivity.py",
            {"per_study": t["per_study"], "summary": t["summary"], "studies": v["studies"],
             "risk_of_bias": v["risk_of_bias"]},
            {**sens, "gosh": str(r / "sensitivity" / "gosh.csv.gz"), "figures": str(r / "sensitivity" / "figures")},
            {"sensitivity": config["sensitivity"], "analysis": analysis}),
        Job("subgroups", "subgroups.py",
            {"per_study": t["per_study"], "summary": t["summary"], "studies": v["studies"], "arms": v["arms"]},
            {**{k: str(r / "subgroups" / f"{f}.csv") for k, f in (
                ("tests", "subgroup_tests"), ("groups", "subgroup_groups"), ("regression", "meta_regression"),
                ("moderators", "moderators"))}, "figures": str(r / "subgroups" / "figures")},
            {"subgroups": config["subgroups"], "analysis": analysis}),
        Job("coverage", "coverage.py", {}, {"coverage": str(r / "simulation" / "coverage.csv")},
            {"simulation": config["simulation"], "level": analysis["level"]}),
        Job("certainty", "certainty.py",
            {**({"estimates": net["estimates"], "summary_network": net["summary"],
                 "contributions": net["contributions"], "network_json": net["json"]} if network_on else {}),
             "summary": t["summary"], "per_study": t["per_study"], "event_rates_arms": t["event_rates_arms"],
             "studies": v["studies"], "arms": v["arms"], "contrasts": v["contrasts"],
             "risk_of_bias": v["risk_of_bias"], **sens, "schema": str(SCHEMAS / "studies.schema.yaml")},
            {k: str(r / "certainty" / f"{k}.csv") for k in ("grade", "cinema", "absolute", "sof")}
            | {"json": str(r / "certainty" / "certainty.json")},
            {"certainty": config["certainty"], "analysis": analysis}),
    ]
    return out


def run_job(job: Job, logs: Path) -> None:
    """Run a job's script as Snakemake's ``script:`` directive runs it, in this process."""
    for path in job.output.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    smk = type("Snakemake", (), {})()
    smk.input, smk.output, smk.params = Named(job.input), Named(job.output), Named(job.params)
    smk.log, smk.scriptdir = Named({"log": str(logs / f"{job.rule}.log")}), str(SCRIPTS)
    path = list(sys.path)
    try:
        runpy.run_path(str(SCRIPTS / job.script), init_globals={"snakemake": smk}, run_name="__main__")
    except SystemExit as stop:  # a job that stops with a message fails the run as an exception would
        raise JobFailed(f"job {job.rule} stopped: {stop}") from stop
    finally:
        sys.path[:] = path  # each script puts its folder and src/ first
        for handler in logging.getLogger("depmeta.workflow").handlers:
            handler.close()


_PARSED: dict[str, object] = {}
_SAFE_LOAD = yaml.safe_load


def _parsed_once(stream):
    """``yaml.safe_load`` of a text read before in this process: the same document, parsed once
    (each job reads the schemas it writes and reads through; parsing them is most of a small
    review's time)."""
    if not isinstance(stream, str):
        return _SAFE_LOAD(stream)
    if stream not in _PARSED:
        _PARSED[stream] = _SAFE_LOAD(stream)
    return copy.deepcopy(_PARSED[stream])


def run_review(protocol: Path, results: Path) -> Run:
    """Validate the review of ``protocol`` as ``depmeta validate`` does; a valid one then goes
    through every job of the workflow into ``results`` (a folder named ``results``, as the
    tables' schemas are found by their path under it; logs beside it) and the report's Python.
    Paths in the protocol are relative to the current folder, as for Snakemake."""
    if results.name != "results":
        raise ValueError(f"{results}: the results folder must be named 'results'")
    with mock.patch.object(yaml, "safe_load", _parsed_once):
        return _run_review(protocol, results)


def _run_review(protocol: Path, results: Path) -> Run:
    problems, _ = validate_review(protocol)
    run = Run(problems=problems)
    if problems:
        return run
    config, _ = load_protocol(protocol)
    for job in jobs(config, results):
        run_job(job, results.parent / "logs")
        run.jobs.append(job.rule)
    run.report = report(results)
    run.jobs.append("report")
    return run


def report_cells(qmd: Path = QMD) -> list[str]:
    """The Python cells of the report's source, in order."""
    return re.findall(r"^```\{python\}\n(.*?)^```", qmd.read_text(), flags=re.S | re.M)


def report(results: Path) -> str:
    """The report's markdown: every cell of ``report.qmd`` run in one namespace, its
    parameters set as the renderers set them; a figure it displays must be there."""
    def display(image):
        assert Path(image.filename).is_file(), image.filename

    class Image:
        def __init__(self, filename):
            self.filename = filename

    namespace = {"__name__": "report"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in report_cells():
            if "#| tags: [parameters]" in cell:
                cell += f"\nresults_dir = {str(results)!r}\nmetapsy = False\nRENDERER = 'tests'\n"
            cell = cell.replace("from IPython.display import Image, display", "")
            namespace.update(display=display, Image=Image)
            exec(compile(cell, str(QMD), "exec"), namespace)
    return out.getvalue()
