"""Network graph (matplotlib): nodes on a circle, node area proportional to the
patients randomised to the node, edge width to the number of trials comparing
the two nodes directly. Returns a Figure; saving it is the caller's job.

Why not networkx: one circular layout and a handful of lines do not justify a
new dependency."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["network_graph", "NODE_COLOUR"]

#: Networks with more nodes than this are drawn on the larger canvas.
BIG_NETWORK = 7

NODE_COLOUR = {"medication": "#1b6ca8", "psychotherapy": "#d9822b", "combined": "#2e8540", "other_active": "#7b4f9d",
               "control": "#777777",
               "placebo": "#777777", "usual_care": "#999999", "waiting_list": "#aaaaaa", "no_treatment": "#bbbbbb",
               "clinical_management": "#666666", "other_control": "#888888"}


def network_graph(treatments, patients, trials, title: str = "", controls=()) -> plt.Figure:
    """Draw a network.

    Parameters
    ----------
    treatments : sequence of str
        Nodes, in drawing order (clockwise from the top).
    patients : sequence of float
        Patients per node (sets node area).
    trials : ndarray (n, n)
        Trials comparing node i with node j directly (sets edge width; labelled).
    title : str
        Figure title.
    controls : collection of str
        Nodes of control arms (a review's own control type has no colour of its own: grey).
    """
    n = len(treatments)
    angle = np.pi / 2 - 2 * np.pi * np.arange(n) / max(n, 1)
    if n == 2:
        angle = np.array([np.pi, 0.0])
    xy = np.c_[np.cos(angle), np.sin(angle)]
    # networks of split nodes (psychotherapy:CBT, ...) have many nodes: a larger canvas, smaller
    # nodes and type-on-its-own-line labels keep the labels apart
    big = n > BIG_NETWORK
    fig, ax = plt.subplots(figsize=(6.4, 5.2) if big else (4.6, 3.9))
    font = 8 if big else 9
    kmax = max(int(np.max(trials)) if np.size(trials) else 1, 1)
    for i in range(n):
        for j in range(i + 1, n):
            k = int(trials[i][j])
            if k:
                ax.plot(*xy[[i, j]].T, color="#555555", lw=1.2 + 7 * k / kmax, alpha=0.55, zorder=1,
                        solid_capstyle="round")
                # labels of neighbouring nodes' edges at the middle; of diagonals nearer the end of
                # fewer patients, so that two crossing diagonals do not share a label position and the
                # diagonals of a hub (many edges of one large node) do not crowd round it
                if (j - i) in (1, n - 1):
                    at = xy[i] + 0.5 * (xy[j] - xy[i])
                else:
                    hub, leaf = (i, j) if patients[i] >= patients[j] else (j, i)
                    at = xy[hub] + 0.68 * (xy[leaf] - xy[hub])
                ax.text(*at, str(k), ha="center", va="center", fontsize=font, zorder=3,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.9})
    p = np.asarray(patients, float)
    area = (150 + 1100 * p / max(p.max(), 1)) if big else (300 + 2200 * p / max(p.max(), 1))
    for i, t in enumerate(treatments):
        # a split node ("psychotherapy:CBT") in its strategy's colour
        colour = NODE_COLOUR.get(t, NODE_COLOUR.get(t.split(":")[0], NODE_COLOUR["control"] if t in controls
                                                    else "#4477aa"))
        ax.scatter(*xy[i], s=area[i], color=colour, zorder=2, edgecolor="white", lw=1.5)
        r_pts = np.sqrt(area[i]) / 2 + 6  # marker radius in points, plus a gap
        head, sep, sub = t.partition(":")
        name = f"{head}\n{sub}" if sep else t.replace("_", " ")
        ax.annotate(f"{name}{' ' if sep else chr(10)}(n = {p[i]:.0f})", xy=xy[i], xytext=tuple(xy[i] * r_pts),
                    textcoords="offset points", ha="center" if abs(xy[i][0]) < 0.3 else
                    ("left" if xy[i][0] > 0 else "right"), va="center" if abs(xy[i][1]) < 0.3 else
                    ("bottom" if xy[i][1] > 0 else "top"), fontsize=font)
    ax.set_xlim(-2.0, 2.0)
    ax.set_ylim(-1.7, 1.7)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
