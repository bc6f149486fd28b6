"""The HTML report in a real browser: headless Chromium opens it with no script or console
error and with every image loaded. Skips where Chromium is not installed (Debian package
`chromium`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

#: Runs Snakemake or renders the report: the full suite only (python -m pytest -m "not slow" skips it).
pytestmark = pytest.mark.slow

#: A script put first in <head>: it records errors (uncaught exceptions, resources that
#: fail to load, console.error) and, once the page has loaded, writes them and the state of
#: every <img> into the DOM, which `chromium --dump-dom` prints.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push('error: ' + (e.message || (e.target && (e.target.src || e.target.href)) || 'unknown'));
}, true);
(function () {
  var orig = console.error;
  console.error = function () {
    window.__errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return orig.apply(console, arguments);
  };
})();
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                   .map(function (i) { return i.alt || i.src.slice(0, 60); });
  var out = document.createElement('pre');
  out.id = '__probe';
  out.textContent = JSON.stringify({images: imgs.length, broken: broken, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""

#: Chromium's own console messages at error level in its log (besides the probe's record).
CONSOLE_ERROR = re.compile(r":(?:ERROR|FATAL):CONSOLE\(\d+\)\]|\"Uncaught ")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (Debian: apt-get install chromium); the browser test needs it")


def open_in_browser(html: Path, tmp_path: Path) -> tuple[dict, str]:
    """Load ``html`` (with the probe) in headless Chromium; the probe's record and the log."""
    text = html.read_text()
    head = re.search(r"<head[^>]*>", text)
    assert head, f"{html} has no <head>"
    page = tmp_path / "probe.html"
    page.write_text(text[:head.end()] + PROBE + text[head.end():])
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r'<pre id="__probe">(.*?)</pre>', proc.stdout, flags=re.S)
    assert m, "the page did not finish loading: " + proc.stderr[-2000:]
    record = json.loads(m.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                        .replace("&quot;", '"'))
    return record, proc.stderr


def test_probe_sees_a_broken_image_and_a_script_error(tmp_path):
    # Negative control: the probe does report what the real test asserts is absent.
    bad = tmp_path / "bad.html"
    bad.write_text("<html><head><title>x</title></head><body><img src='missing.png' alt='gone'>"
                   "<script>undefinedFunction();</script></body></html>")
    record, _ = open_in_browser(bad, tmp_path)
    assert record["broken"] == ["gone"]
    assert any("undefinedFunction" in e for e in record["errors"])


def test_report_opens_without_errors_and_every_image_loads(workflow_run, tmp_path):
    html = workflow_run / "results" / "report" / "report.html"
    record, log = open_in_browser(html, tmp_path)
    n_figures = len(list((workflow_run / "results" / "figures").glob("*.png")))
    assert record["images"] >= n_figures, record
    assert record["broken"] == [], record
    assert record["errors"] == [], record
    assert not CONSOLE_ERROR.search(log), [line for line in log.splitlines() if CONSOLE_ERROR.search(line)]
