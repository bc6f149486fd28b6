"""Download a Metapsy database by shorthand and version (as metapsyData's getData):
the data index, the Zenodo records of its concept DOI, the files at the version's tag.
Writes the data, its codebook and the resolved release; needs a network."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import dataclasses  # noqa: E402
import urllib.request  # noqa: E402

from depmeta.review.metapsy import resolve_release  # noqa: E402
from pipeline_io import setup_logging, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])


def fetch(url: str) -> str:
    """The text at a URL (public endpoints only; no token)."""
    with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 (https URLs built in depmeta.review.metapsy)
        return resp.read().decode("utf-8")


release = resolve_release(snakemake.wildcards.shorthand, snakemake.wildcards.version, fetch)
log.info("resolved %s", release)
for key, url in (("data", release.data_url), ("variables", release.variables_url)):
    text = fetch(url)
    Path(snakemake.output[key]).write_text(text, encoding="utf-8")
    log.info("wrote %s (%d characters) from %s", snakemake.output[key], len(text), url)
write_json(snakemake.output.release, dataclasses.asdict(release))
