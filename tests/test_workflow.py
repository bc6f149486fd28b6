"""The whole workflow, run by Snakemake on a copy of the project: the test config end to
end (report contents checked against the pipeline's own tables), a corrupted sheet, a
workbook instead of CSV files, and the linters."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import ROOT, copy_project, snakemake
from depmeta.report.labels import comparison_label
from depmeta.report.tables import fmt
from depmeta.review.vocabulary import weeks_id

#: Runs Snakemake or renders the report: the full suite only (python -m pytest -m "not slow" skips it).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(workflow_run):
    """The test config run once for the whole session (tests/conftest.py)."""
    return workflow_run


def test_report_html_is_self_contained_and_shows_pooled_numbers(run):
    # intervals are joined by no-break spaces so that they never wrap
    html = (run / "results" / "report" / "report.html").read_text().replace("\u00a0", " ")
    summary = pd.read_csv(run / "results" / "tables" / "summary.csv")
    pooled = summary[summary.status == "pooled"]
    assert len(pooled) >= 2
    for _, r in pooled.iterrows():
        assert f"{fmt(r.estimate_display)} [{fmt(r.ci_low_display)}, {fmt(r.ci_high_display)}]" in html
        assert comparison_label(r.comparison) in html
    n_forest = len(list((run / "results" / "figures").glob("forest_*.png")))
    assert n_forest == len(pooled)
    assert html.count("data:image/png;base64") >= n_forest + 2  # forests + summary + event rates
    assert not re.search(r'<img[^>]+src="(?!data:)', html), "an image is not embedded"
    assert "DL estimator" in html and "prediction interval" in html.lower()
    assert "fallback" in html or "Quarto" in html  # the renderer is stated


def test_report_cross_references_are_numbered(run):
    html = (run / "results" / "report" / "report.html").read_text()
    assert "Figure 1" in html and "Table 1" in html
    assert "@fig-" not in html and "@tbl-" not in html


def test_report_shows_every_published_risk_of_bias_judgement(run):
    import html as html_lib

    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", (run / "results" / "report" / "report.html").read_text()))
    text = re.sub(r"\s+", " ", text)
    start = text.index("Published risk-of-bias judgements")
    section = text[start:text.index("Excluded and unused data", start)]
    rob = pd.read_csv(run / "data" / "risk_of_bias.csv", dtype=str, keep_default_na=False)
    studies = pd.read_csv(run / "data" / "studies.csv", dtype=str, keep_default_na=False)
    labels = dict(zip(studies.study_id, studies.label))
    assert f"found for {rob.study_id.nunique()} of the {len(studies)} trials" in section
    for r in rob.itertuples():
        assert labels[r.study_id] in section and r.judgement.replace("_", " ") in section
        assert r.source in section


def test_adolescent_trials_are_a_stratum_of_their_own(run):
    """The test protocol makes adults and older adults the primary population and the adolescents a
    stratum: no primary estimate holds an adolescent row, each adolescent row is listed as unused with
    the reason, the stratum is pooled on its own and has its section in the report."""
    studies = pd.read_csv(run / "data" / "studies.csv", dtype=str, keep_default_na=False)
    young = set(studies.study_id[studies.age_group == "adolescent"])
    assert young, "the embedded sheet has adolescent trials"
    tables = run / "results" / "tables"
    for name in ("summary", "event_rates"):
        used = {sid for ids in pd.read_csv(tables / f"{name}.csv").studies.dropna() for sid in ids.split(";")}
        assert used and not used & young
    net = pd.read_csv(run / "results" / "network" / "network_estimates.csv")
    assert not {row.split(":")[0] for ids in net.row_ids.dropna() for row in ids.split(";")} & young
    exclusions = pd.read_csv(tables / "exclusions.csv")
    apart = exclusions[exclusions.study_id.isin(young)]
    assert set(apart.study_id) == young
    assert set(apart.reason) == {"adolescents: analysed as their own stratum (analysis.populations)"}
    strata = pd.read_csv(tables / "summary_strata.csv")
    assert set(strata.stratum) == {"adolescents"}
    assert {sid for ids in strata.studies.dropna() for sid in ids.split(";")} <= young
    claims = pd.read_csv(tables / "claims.csv")
    assert claims.evidence.str.startswith("primary population").all()
    assert set(pd.read_csv(tables / "benchmarks.csv").evidence) == {"primary population"}
    html = (run / "results" / "report" / "report.html").read_text()
    assert ">Adolescents<" in html or "Adolescents</h1>" in html
    pooled = strata[strata.status == "pooled"]
    if len(pooled):
        assert "tbl-stratum-adolescents" in html


def test_sheet_strings_show_as_text_in_the_report(tmp_path):
    work = copy_project(tmp_path)
    studies = pd.read_csv(work / "data" / "studies.csv", dtype=str, keep_default_na=False)
    label = "DeRubeis <script>alert(1)</script> & *2005* [x]"
    studies.loc[studies.study_id == "derubeis2005", "label"] = label
    studies.to_csv(work / "data" / "studies.csv", index=False)
    proc = snakemake(work, "results/report/report.html", "results/report/report.pdf",
                     "--configfile", "tests/config/config.yaml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = (work / "results" / "report" / "report.html").read_text()
    assert "alert(1)" in html and "<script>alert" not in html
    assert html.count("<script") == 1  # the report's own table script, nothing from the sheet
    import html as html_lib

    text = re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))
    assert text.count(label) >= 2  # the study table and the risk-of-bias table, as typed
    pdf = work / "results" / "report" / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        pdf_text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "<script>alert(1)</script>" in re.sub(r"\s+", " ", pdf_text)


def test_report_pdf_has_pages(run):
    pdf = (run / "results" / "report" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 3


def test_tables_trace_back_to_input_rows(run):
    import json

    results = json.loads((run / "results" / "results.json").read_text())
    arms = pd.read_csv(run / "data" / "arms.csv", dtype=str, keep_default_na=False)
    known = {f"{r.study_id}:{r.arm_id}:{r.outcome}:{weeks_id(float(r.timepoint_weeks or 'nan'))}:"
             f"{r.analysis_population}" for r in arms.itertuples()}
    for analysis in results["analyses"]:
        assert analysis["row_ids"] and set(analysis["row_ids"]) <= known
    assert results["options"]["method"] == "DL"


def test_report_shows_the_subgroup_tests_and_meta_regressions(run):
    import html as html_lib

    from depmeta.report.labels import fmt_p

    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", (run / "results" / "report" / "report.html").read_text()))
    text = " ".join(text.split())
    tests = pd.read_csv(run / "results" / "subgroups" / "subgroup_tests.csv")
    tested = tests[tests.status == "tested"]
    assert len(tested) and "Subgroups and meta-regression" in text
    for p in tested.q_between_pval:
        assert fmt_p(p) in text
    reg = pd.read_csv(run / "results" / "subgroups" / "meta_regression.csv")
    fitted = reg[reg.status == "fitted"]
    assert len(fitted) == len(list((run / "results" / "subgroups" / "figures").glob("bubble_*.png")))
    for p in fitted.perm_pval:
        assert fmt_p(p) in text
    assert (reg[reg.moderator == "baseline_severity"].status == "not available").all()


def test_corrupted_sheet_names_the_cell_and_writes_nothing(tmp_path):
    work = copy_project(tmp_path)
    arms = (work / "data" / "arms.csv").read_text().splitlines()
    header = arms[0].split(",")
    cells = arms[3].split(",")
    cells[header.index("n")] = "-5"
    arms[3] = ",".join(cells)
    (work / "data" / "arms.csv").write_text("\n".join(arms) + "\n")
    earlier = work / "results" / "report" / "report.html"  # a report of an earlier run
    earlier.parent.mkdir(parents=True)
    earlier.write_text("<html>an earlier report</html>")
    os.utime(earlier, (time.time() - 3600,) * 2)
    proc = snakemake(work)
    assert proc.returncode != 0
    message = "data/arms.csv, row 4, column 'n': -5 is below the minimum 1"
    out = proc.stdout + proc.stderr
    assert out.count(message) == 1, out[-3000:]
    # the message is the end of the run's output, before Snakemake's own closing lines
    tail = proc.stderr.strip().splitlines()[-10:]
    assert any(message in line for line in tail) and "The run stopped:" in proc.stderr
    assert not (work / "results" / "validated" / "arms.csv").exists()
    assert not (work / "results" / "tables").exists()
    assert not earlier.exists() and (earlier.parent / "report.outdated.html").exists()


def test_workbook_is_read_like_the_csv_sheets(tmp_path):
    work = copy_project(tmp_path)
    with pd.ExcelWriter(work / "data" / "sheets.xlsx") as book:
        for name in ("studies", "arms", "contrasts", "risk_of_bias"):
            pd.read_csv(work / "data" / f"{name}.csv", dtype=str, keep_default_na=False).to_excel(
                book, sheet_name=name, index=False)
    proc = snakemake(work, "results/validated/arms.csv", "results/validated/risk_of_bias.csv",
                     "--configfile", "config/config.yaml", "--config",
                     "sheets={'workbook': 'data/sheets.xlsx'}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name, column in (("arms", "n"), ("risk_of_bias", "judgement")):
        via_book = pd.read_csv(work / "results" / "validated" / f"{name}.csv")
        direct = pd.read_csv(work / "data" / f"{name}.csv")
        assert len(via_book) == len(direct) > 0
        assert (via_book[column].to_numpy() == direct[column].to_numpy()).all()


def test_snakemake_lint_is_clean():
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr, proc.stdout


def test_snakefmt_check_is_clean():
    snakefmt = shutil.which("snakefmt")
    if snakefmt is None:
        pytest.fail("snakefmt is not installed; install the project with its [workflow] extra")
    proc = subprocess.run(
        [snakefmt, "--check", "Snakefile", "workflow"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_report_opens_with_the_answer_and_prints_every_downgrade(run):
    import html as html_lib
    import json

    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", (run / "results" / "report" / "report.html").read_text()))
    text = re.sub(r"\s+", " ", text)
    answer = text.index("What the trials show")
    sof_at = text.index("Summary of findings", answer)
    assert answer < sof_at < text.index("Event rates per strategy")
    sof = pd.read_csv(run / "results" / "certainty" / "sof.csv")
    grade = pd.read_csv(run / "results" / "certainty" / "grade.csv")
    assert len(sof) and set(grade.domain) == {"risk of bias", "inconsistency", "indirectness", "imprecision",
                                               "publication bias"}
    for r in sof.itertuples():
        assert f"{r.measure} {fmt(r.estimate_display)} ({fmt(r.ci_low_display)} to {fmt(r.ci_high_display)})" in text
        for note in json.loads(r.footnotes):
            assert note["downgrade"] > 0 or note["overridden"] or note["level"] == "not assessed"
            assert re.sub(r"\s+", " ", note["reason"]) in text, note
        if isinstance(r.not_assessed, str) and r.primary:
            assert f"{r.certainty}; {r.not_assessed} not assessed" in text  # the state beside the rating
    # the test config's reviewer override is applied and its reason printed
    assert "registries of this comparison were searched (test override)" in text
    cinema = pd.read_csv(run / "results" / "certainty" / "cinema.csv")
    assert cinema.overridden.sum() == 1


def test_network_outputs_follow_the_contract_and_reach_the_report(run):
    import json

    net = run / "results" / "network"
    est = pd.read_csv(net / "network_estimates.csv")
    summary = pd.read_csv(net / "network_summary.csv")
    assert list(summary.outcome) == ["response", "remission", "dropout"]
    assert (summary.method == "DL").all() and (summary.components == 1).all()
    assert (summary.q_within + summary.q_between - summary.q_total).abs().max() < 1e-9
    for outcome, rows in est.groupby("outcome"):
        n = summary.set_index("outcome").n_treatments[outcome]
        assert len(rows) == n * (n - 1)
        fwd = rows.set_index(["treatment1", "treatment2"]).estimate
        rev = rows.set_index(["treatment2", "treatment1"]).estimate
        assert (fwd + rev.loc[fwd.index]).abs().max() < 1e-12
    cm = est[(est.outcome == "response") & (est.treatment1 == "combined") & (est.treatment2 == "medication")].iloc[0]
    assert cm.comparison == "combined_vs_medication"
    assert abs(cm.estimate_display - __import__("math").exp(cm.estimate)) < 1e-12
    arms = pd.read_csv(run / "data" / "arms.csv", dtype=str, keep_default_na=False)
    known = {f"{r.study_id}:{r.arm_id}:{r.outcome}:{weeks_id(float(r.timepoint_weeks or 'nan'))}:"
             f"{r.analysis_population}" for r in arms.itertuples()}
    ids = {i for cell in est.row_ids.dropna() for i in cell.split(";")}
    assert ids and ids <= known
    rank = pd.read_csv(net / "network_ranking.csv")
    assert rank.groupby("outcome")["rank"].min().eq(1).all()
    contrib = pd.read_csv(net / "network_contributions.csv")
    assert (contrib.groupby(["outcome", "treatment1", "treatment2"]).contribution.sum() - 1).abs().max() < 1e-9
    doc = json.loads((net / "network.json").read_text())
    assert set(doc["figures"]) == set(summary.outcome)
    assert all((net / "figures" / f).exists() for files in doc["figures"].values() for f in files)
    html = (run / "results" / "report" / "report.html").read_text()
    assert "Network meta-analysis" in html and "League table, response" in html
    # the benchmarks with the network estimates beside them (rule evidence), apart from the pairwise ones
    bench = pd.read_csv(net / "network_benchmarks.csv")
    assert bench.ours_network_estimate.notna().any()
    pairwise = pd.read_csv(run / "results" / "tables" / "benchmarks.csv")
    assert list(pairwise.benchmark_id) == list(bench.benchmark_id)
    assert not [c for c in pairwise if c.startswith("ours_network_")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    shown = text[text.index("Published benchmarks"):]
    assert "Network here" in shown
    hit = bench[bench.ours_network_estimate.notna()].iloc[0]
    assert f"{fmt(hit.ours_network_estimate)} [{fmt(hit.ours_network_ci_low)}, {fmt(hit.ours_network_ci_high)}]" \
        in shown or f"{hit.ours_network_measure} {fmt(hit.ours_network_estimate)}" in shown


def test_analyse_and_network_do_not_wait_for_each_other(tmp_path):
    work = copy_project(tmp_path)
    proc = snakemake(work, "--configfile", "tests/config/config.yaml", "-n", "-F")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    inputs = dict(re.findall(r"rule (\w+):\n\s+input: ([^\n]*)", proc.stdout + proc.stderr))
    assert {"analyse", "network", "report"} <= set(inputs)
    # neither reads the other's outputs, so the two run in parallel
    paths = {rule: [p.strip() for p in text.split(",")] for rule, text in inputs.items()}
    assert not [p for p in paths["analyse"] if p.startswith(("results/network", "results/tables"))]
    assert not [p for p in paths["network"] if p.startswith("results/tables")]
    # the benchmarks are set beside both by rule evidence, which neither waits for
    assert "results/validated/benchmarks.csv" not in inputs["network"] + inputs["analyse"]
    assert "results/network/network_estimates.csv" in inputs["evidence"]
    assert "results/network/network_benchmarks.csv" in inputs["report"]

def test_therapy_type_nodes_run_through_network_certainty_and_report(tmp_path):
    """network.nodes: therapy_type on the test config (HTML only, to keep it fast): split nodes in the
    network outputs, no comparison names, certainty falling back to the pairwise estimates."""
    import html as html_lib
    import json

    from depmeta.report.summary_of_findings import answer_items
    from depmeta.review.nodes import control_node

    work = copy_project(tmp_path)
    (work / "nodes.yaml").write_text(
        "network: {enabled: true, method: DL, nodes: therapy_type, outcomes: [response, remission], "
        "reference: control, contribution: streams}\nreport: {pdf: false}\n")
    proc = snakemake(work, "--configfile", "tests/config/config.yaml", "nodes.yaml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    net = work / "results" / "network"
    est = pd.read_csv(net / "network_estimates.csv", keep_default_na=False)
    nodes = set(est.treatment1)
    # each control type its own node (network.controls: separate, the default)
    controls = {n for n in nodes if control_node(n, "therapy_type")}
    assert {"medication", "psychotherapy:CBT", "combined:CBT"} <= nodes and controls and "control" not in controls
    assert nodes <= {"medication"} | controls | {n for n in nodes if n.split(":")[0] in ("psychotherapy", "combined")
                                                 and ":" in n}
    # comparison names only for the protocol's comparisons whose sides are nodes: the test protocol compares
    # the active treatments, and psychotherapy and combined treatment are split, so none is named
    assert set(est.comparison) == {""}
    assert not (work / "results" / "report" / "report.pdf").exists()
    # certainty: no network estimate of the configured comparisons (none with control), so none is rated
    # and the summary of findings holds pairwise rows only
    cinema = pd.read_csv(work / "results" / "certainty" / "cinema.csv") \
        if (work / "results" / "certainty" / "cinema.csv").stat().st_size > 1 else pd.DataFrame()
    assert not len(cinema)
    sof = pd.read_csv(work / "results" / "certainty" / "sof.csv")
    assert len(sof) and set(sof.evidence) == {"pairwise"}
    main = [c for c in ("combined_vs_medication", "combined_vs_psychotherapy", "psychotherapy_vs_medication")
            if c in set(sof.comparison)]
    answers = answer_items(sof, main)
    text = re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ",
                                                       (work / "results" / "report" / "report.html").read_text())))
    assert "pairwise meta-analyses (no network estimate compares these treatments)" in text
    assert answers and all(re.sub(r"\s+", " ", answer) in text for _, answer in answers)
    assert "split by the type of psychotherapy" in text and "rest on the pairwise meta-analyses" in text
    # the network section names the protocol's comparisons that have no network estimate, and why (the
    # renderer prints the apostrophe as a typographic one, so the sentence is matched from its second word)
    assert ("comparisons (combined vs medication, psychotherapy vs medication and combined vs psychotherapy) has a "
            "network estimate, because a side of each is not one node") in text
    # the network section: one league table (or list of pairs) per outcome, split nodes abbreviated
    doc = json.loads((net / "network.json").read_text())
    assert set(doc["figures"]) == {"response", "remission"}
    assert "Psy CBT" in text and "Psy psychotherapy" in text
