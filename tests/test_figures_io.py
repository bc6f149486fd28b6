"""pipeline_io.save_png: one draw, cropped to the drawn content, as savefig's tight box.

Compared with what ``savefig(bbox_inches="tight", pad_inches=0.1)`` writes of the same
figure. Tolerance: the crop edges are whole pixels rounded outwards, savefig's are the
box's fractional edges, so the sizes may differ by up to 2 pixels in each direction
(one per edge); the pixels are compared on the common part after aligning the two
images on their top-left drawn (non-white) pixel, each drawn pixel of one having a drawn
pixel of the other within one pixel (anti-aliased edges move by one with the box's
sub-pixel offset) for 99% of them."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
from pipeline_io import PNG_DPI, figure_defaults, save_png  # noqa: E402

#: pixels each dimension may differ by (one per edge, see the module docstring)
SIZE_TOLERANCE_PX = 2


def _figure(outside: bool):
    figure_defaults()
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [1, 3, 2], "s-")
    ax.set_xlabel("Publication year")
    ax.set_title("A title")
    fig.tight_layout()
    if outside:
        # text placed below the canvas, as a footnote under a short figure would be
        ax.annotate("a footnote under the canvas", xy=(0, 0), xycoords="figure fraction", xytext=(5, -30),
                    textcoords="offset points", va="top")
    return fig


def _reference(outside: bool) -> Image.Image:
    fig = _figure(outside)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, bbox_inches="tight")
    plt.close(fig)
    return Image.open(buf)


def _ink(img: Image.Image) -> np.ndarray:
    """Boolean mask of drawn (not white) pixels."""
    a = np.asarray(img.convert("RGB")).astype(int)
    return (a < 250).any(axis=2)


def _grow(mask: np.ndarray) -> np.ndarray:
    """The mask with every pixel's 8 neighbours added."""
    padded = np.pad(mask, 1)
    h, w = mask.shape
    return np.logical_or.reduce([padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
                                 for dy in (-1, 0, 1) for dx in (-1, 0, 1)])


@pytest.mark.parametrize("outside", [False, True], ids=["on the canvas", "text past the canvas"])
def test_save_png_matches_savefig_tight(tmp_path, outside):
    path = tmp_path / "fig.png"
    save_png(_figure(outside), path)
    got, ref = Image.open(path), _reference(outside)
    assert got.mode == "RGBA"
    assert abs(got.size[0] - ref.size[0]) <= SIZE_TOLERANCE_PX
    assert abs(got.size[1] - ref.size[1]) <= SIZE_TOLERANCE_PX
    assert got.info["dpi"] == pytest.approx((PNG_DPI, PNG_DPI), abs=0.1)
    assert "Software" not in got.info  # no version stamp: byte-identical across runs
    a, b = _ink(got), _ink(ref)
    # the same content: the drawn pixels span the same box, and nearly all coincide
    ya, xa = np.argwhere(a).min(axis=0)
    yb, xb = np.argwhere(b).min(axis=0)
    h = min(a.shape[0] - ya, b.shape[0] - yb)
    w = min(a.shape[1] - xa, b.shape[1] - xb)
    a, b = a[ya:ya + h, xa:xa + w], b[yb:yb + h, xb:xb + w]
    # every drawn pixel of each has a drawn pixel of the other within 1 pixel (anti-aliased
    # edges fall a pixel either way with the sub-pixel offset of the box)
    assert (a & _grow(b)).sum() >= 0.99 * a.sum()
    assert (b & _grow(a)).sum() >= 0.99 * b.sum()


def test_save_png_keeps_the_footnote_past_the_canvas(tmp_path):
    """The figure with text under its canvas is taller than the canvas (savefig's tight
    box, not a crop of the canvas that would cut the text off)."""
    path = tmp_path / "fig.png"
    fig = _figure(outside=True)
    canvas_height = fig.get_size_inches()[1] * PNG_DPI
    save_png(fig, path)
    assert Image.open(path).size[1] > canvas_height


def test_save_png_writes_identical_bytes_twice(tmp_path):
    save_png(_figure(False), tmp_path / "a.png")
    save_png(_figure(False), tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_save_png_closes_the_figure(tmp_path):
    fig = _figure(False)
    save_png(fig, tmp_path / "fig.png")
    assert fig.number not in plt.get_fignums()
