"""Render report/report.qmd to self-contained HTML (and PDF through Typst).

With ``quarto`` on PATH the Quarto CLI renders it; otherwise the project's
fallback renderer ``qmdrender`` (src/qmdrender: jupytext + nbclient + pandoc
from pypandoc-binary + the typst package) renders the same source. The report
states which renderer made it."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

from depmeta.report.front_matter import title_block  # noqa: E402
from pipeline_io import setup_logging  # noqa: E402

log = setup_logging(snakemake.log[0])
qmd = Path(snakemake.input.qmd).resolve()
results_dir = str(Path(snakemake.params.results_dir).resolve())
outputs = {k: Path(v).resolve() for k, v in snakemake.output.items()}
src = str(Path(snakemake.scriptdir).parents[1] / "src")
env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
params = {"results_dir": results_dir, "metapsy": bool(getattr(snakemake.params, "metapsy", False))}
# The title block comes from the review's protocol, never from the report's source.
metadata = title_block(json.loads(Path(snakemake.input.review).read_text()))

quarto = shutil.which("quarto")
if quarto:
    version = subprocess.run([quarto, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    log.info("rendering with Quarto %s", version)
    with tempfile.TemporaryDirectory(dir=qmd.parent) as tmp:
        cmd = [quarto, "render", str(qmd), "--output-dir", tmp, "--to", "html,typst" if "pdf" in outputs else "html"]
        for key, value in params.items():
            cmd += ["-P", f"{key}:{value}"]
        meta_file = Path(tmp) / "title.yml"
        meta_file.write_text(json.dumps(metadata))  # JSON is YAML
        cmd += ["--metadata-file", str(meta_file)]
        log.info("%s", " ".join(cmd))
        proc = subprocess.run(cmd, cwd=qmd.parent, env=dict(env, RENDERER=f"Quarto {version}"),
                              capture_output=True, text=True)
        log.info("%s", proc.stdout + proc.stderr)
        if proc.returncode:
            sys.exit(f"quarto render failed (see {snakemake.log[0]})")
        for key, suffix in (("html", ".html"), ("pdf", ".pdf")):
            if key in outputs:
                shutil.move(str(Path(tmp) / (qmd.stem + suffix)), outputs[key])
else:
    from qmdrender import render  # noqa: E402

    log.info("quarto not on PATH: rendering with the project's fallback renderer")
    os.environ["PYTHONPATH"] = env["PYTHONPATH"]
    info = render(qmd, outputs.get("html"), outputs.get("pdf"), params={**params}, metadata=metadata)
    log.info("rendered: %s", info)
