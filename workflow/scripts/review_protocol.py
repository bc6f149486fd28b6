"""Write the review's protocol section (title, question, authors, registration) for the report."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

from pipeline_io import setup_logging, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
write_json(snakemake.output[0], dict(snakemake.params.review))
log.info("wrote %s", snakemake.output[0])
