"""Network nodes and each outcome's network contrasts: which arms are one node (the node
schemes: strategies, arm types, therapy types, drug classes) and which slice of each trial
enters an outcome's network. Frames in, the engine's :class:`~depmeta.stats.network.StudyContrasts`
out; the model is :mod:`depmeta.stats.network`. No file I/O."""

from __future__ import annotations

import pandas as pd

from depmeta.review.comparisons import SIDE_KEYS, Side, comparison_set, is_blank, reported_arm_attributes
from depmeta.review.vocabulary import (
    ARM_TYPES,
    CONTROL_TYPES,
    DRUG_CLASSES,
    THERAPY_TYPES,
    strategy_of,
    weeks_text,
)
from depmeta.stats.network import contrasts_from_arms, contrasts_from_pairwise

__all__ = ["CONTROL_NODES", "NODE_ORDER", "NODE_SCHEMES", "check_node_options", "control_node", "node_comparisons",
           "node_of", "node_order", "outcome_network", "side_node"]


#: Node schemes (config ``network.nodes``).
NODE_SCHEMES = ("strategy", "arm_type", "therapy_type", "drug_class", "treatment")

#: How control arms are nodes (config ``network.controls``): ``separate``, each control type its own
#: node (placebo, usual_care, waiting_list, ...), or ``merged``, every control arm one node ``control``.
CONTROL_NODES = ("separate", "merged")


#: The display order of nodes: the active strategies, each control type (separate controls),
#: then the merged ``control``; a split strategy's sub-types follow it (:func:`node_order`).
NODE_ORDER = (*ARM_TYPES, "control")


#: The split schemes: the arm types whose arms are split, the arm-sheet column and its values.
SPLIT_SCHEMES = {
    "therapy_type": (("psychotherapy", "combined"), "therapy_type", THERAPY_TYPES),
    "drug_class": (("medication", "combined"), "drug_class", DRUG_CLASSES),
}


#: Sub-type of a split arm whose ``therapy_type`` / ``drug_class`` is blank: such arms form
#: their own node (``psychotherapy:unspecified``), so that the trial stays in the network.
UNSPECIFIED = "unspecified"


#: Separator of strategy and sub-type in a split node's name (``psychotherapy:CBT``).
NODE_SEP = ":"


def check_node_options(nodes: str, controls: str) -> None:
    """Refuse a node scheme and control choice that contradict each other: the ``arm_type``
    scheme is the strategies with each control type a node, so its controls are never merged."""
    if nodes not in NODE_SCHEMES:
        raise ValueError(f"nodes must be one of {NODE_SCHEMES}, not {nodes!r}")
    if controls not in CONTROL_NODES:
        raise ValueError(f"controls must be one of {CONTROL_NODES}, not {controls!r}")
    if nodes == "arm_type" and controls == "merged":
        raise ValueError("network.nodes arm_type makes each control type a node, and network.controls merged makes "
                         "them one: write nodes: strategy for merged controls, or controls: separate")


def node_of(arm_type: str, nodes: str = "strategy", therapy_type: str = "", drug_class: str = "",
            treatment: str = "", controls: str = "separate") -> str:
    """The network node of an arm under a node scheme.

    Parameters
    ----------
    arm_type : str
        The arm sheet's ``arm_type``.
    nodes : {"strategy", "arm_type", "therapy_type", "drug_class", "treatment"}
        ``strategy``: medication, psychotherapy, combined, other_active and the controls;
        ``arm_type``: the arm type itself (the same as ``strategy`` with separate controls);
        ``treatment``: the arm's treatment as the sheet writes it (netmeta's node per
        treatment; an arm without one: its arm type);
        ``therapy_type``: psychotherapy and combined arms split by ``therapy_type``
        (``psychotherapy:CBT``, ``combined:IPT``),
        the others as under ``strategy``; ``drug_class``: medication and combined arms split
        by ``drug_class`` (``medication:SSRI``, ``combined:TCA``), the others as under
        ``strategy``. A split arm with a blank sub-type goes to ``<strategy>:unspecified``.
    therapy_type, drug_class, treatment : str
        The arm's ``therapy_type``, ``drug_class`` and ``treatment`` (blank or NaN: none).
    controls : {"separate", "merged"}
        A control arm's node: its control type (``placebo``, ``waiting_list``; under
        ``treatment`` its treatment), or ``control`` for every control arm
        (:func:`check_node_options` refuses ``merged`` with ``arm_type``).

    Returns
    -------
    str
    """

    check_node_options(nodes, controls)
    if is_blank(arm_type):
        raise ValueError("an arm without an arm type has no node")
    if strategy_of(arm_type) == "control":
        if controls == "merged":
            return "control"
        if nodes != "treatment" or is_blank(treatment):
            return arm_type
    if nodes == "arm_type":
        return arm_type
    if nodes == "treatment":
        return arm_type if is_blank(treatment) else str(treatment).strip()
    if nodes in SPLIT_SCHEMES and arm_type in SPLIT_SCHEMES[nodes][0]:
        sub = therapy_type if nodes == "therapy_type" else drug_class
        return f"{arm_type}{NODE_SEP}{UNSPECIFIED if is_blank(sub) else str(sub).strip()}"
    return strategy_of(arm_type)


def control_node(node: str, nodes: str) -> bool:
    """Whether a node of scheme ``nodes`` holds control arms: ``control``, or a control type
    (placebo, a review's own ``no_treatment``); under ``treatment``, where nodes are named by the
    trials, only ``control`` and the default control types are known to be controls."""
    if nodes == "treatment":
        return node == "control" or node in CONTROL_TYPES
    return NODE_SEP not in node and strategy_of(node) == "control"


def node_order(nodes: str, present) -> list[str]:
    """The nodes in ``present`` in the scheme's display order.

    Strategies in the order medication, psychotherapy, combined, control (and, for
    ``arm_type``, the control types); within a split strategy the sub-types in the arm
    sheet's order, ``unspecified`` last, any other sub-type after them alphabetically.
    A node the scheme does not know is kept, at the end.
    """
    present = list(dict.fromkeys(present))
    if nodes not in NODE_SCHEMES:
        raise ValueError(f"nodes must be one of {NODE_SCHEMES}, not {nodes!r}")
    if nodes == "treatment":
        # treatments alphabetically, the control types (or the merged control) after them
        return sorted(present, key=lambda t: (control_node(t, nodes), t.casefold(), t))
    base = NODE_ORDER
    subs = SPLIT_SCHEMES[nodes][2] if nodes in SPLIT_SCHEMES else ()

    def key(t):
        head, _, sub = t.partition(NODE_SEP)
        if head not in base:
            return (len(base), 0, 0, t)
        if not sub:
            return (base.index(head), 0, 0, "")
        if sub == UNSPECIFIED:
            return (base.index(head), 1, len(subs) + 1, "")
        return (base.index(head), 1, subs.index(sub) if sub in subs else len(subs), sub)

    return sorted(present, key=key)


def side_node(side: Side, scheme: str, controls: str = "separate") -> str | None:
    """The network node (:func:`node_of`) that is exactly this side of a comparison under node
    scheme ``scheme`` and ``controls``, or None where the side is part of a node or spans several."""
    keys = {k for k in SIDE_KEYS if getattr(side, k)}
    control = side.strategies() == {"control"}
    if control and controls == "merged":
        # every control arm is one node: only a side of all of them is that node
        return "control" if side.whole_strategy == "control" else None
    if control and scheme != "treatment":
        # each control type is a node: a side of one control type is that node
        return side.arm_type[0] if keys == {"arm_type"} and len(side.arm_type) == 1 else None
    if scheme == "treatment":
        if keys == {"treatment"} and len(side.treatment) == 1:
            return side.treatment[0]
        return side.arm_type[0] if keys == {"arm_type"} and len(side.arm_type) == 1 else None
    if scheme == "arm_type":
        if keys == {"arm_type"} and len(side.arm_type) == 1:
            return side.arm_type[0]
        # the active strategies are arm types of their own
        return side.whole_strategy or None
    if scheme in SPLIT_SCHEMES:
        split, column, _ = SPLIT_SCHEMES[scheme]
        if side.strategy in split:
            own = getattr(side, column)
            return f"{side.strategy}{NODE_SEP}{own[0]}" if keys == {column} and len(own) == 1 else None
    return side.whole_strategy or None


def node_comparisons(comparisons, scheme: str, present=(), controls: str = "separate") -> dict[tuple[str, str], str]:
    """``{(node1, node2): comparison name}`` for each comparison both of whose sides are one node
    of the scheme and ``controls`` (:func:`side_node`): the network estimate of that ordered pair is the
    comparison's. Under the ``treatment`` scheme a side's treatment is matched to the nodes
    ``present`` without regard to case.

    With separate controls, a control side of several control types (``{strategy: control}``)
    is the one control node ``present`` it can hold where there is only one (a network whose
    only control arms are placebo gives medication vs control its medication vs placebo
    estimate); a pair already named by a comparison of that very node keeps its name."""
    by_fold = {t.casefold(): t for t in present}
    out, spanning = {}, []
    for c in comparison_set(comparisons):
        n1, n2 = side_node(c.arm1, scheme, controls), side_node(c.arm2, scheme, controls)
        if scheme == "treatment":
            n1, n2 = (by_fold.get(n.casefold(), n) if n else n for n in (n1, n2))
        if n1 and n2 and n1 != n2:
            out.setdefault((n1, n2), c.name)
        elif controls == "separate" and scheme != "treatment":
            spanning.append((c, n1, n2))
    for c, n1, n2 in spanning:
        n1, n2 = (n or _only_control_node(side, scheme, present) for n, side in ((n1, c.arm1), (n2, c.arm2)))
        if n1 and n2 and n1 != n2:
            out.setdefault((n1, n2), c.name)
    return out


def _only_control_node(side: Side, scheme: str, present) -> str | None:
    """The one control node ``present`` that a control side spanning several control types can
    hold, or None (not a control side, or none or several such nodes present)."""
    if side.strategies() != {"control"} or any(getattr(side, k) for k in SIDE_KEYS if k != "arm_type"):
        return None
    held = [n for n in present if control_node(n, scheme) and (not side.arm_type or n in side.arm_type)]
    return held[0] if len(held) == 1 else None


def _nodes_of(arms: pd.DataFrame, nodes: str, controls: str) -> list[str]:
    """Each arm row's node (``therapy_type`` / ``drug_class`` columns optional)."""
    blank = pd.Series("", index=arms.index)
    return [node_of(t, nodes, tt, dc, tr, controls) for t, tt, dc, tr in
            zip(arms.arm_type, arms.get("therapy_type", blank), arms.get("drug_class", blank),
                arms.get("treatment", blank))]


def outcome_network(arms: pd.DataFrame, outcome: str, measure: str, nodes: str = "strategy",
                    population_preference=("ITT", "mITT", "completers"), timepoint: str = "latest",
                    reported: pd.DataFrame | None = None, add: float = 0.5, controls: str = "separate"):
    """The studies' contrasts for one outcome's network, from the prepared arm sheet.

    Per study one slice (rows sharing timepoint, analysis population and
    phase) holding at least two nodes is used: the preferred analysis
    population first (as :func:`depmeta.review.contrasts.form_contrasts`), then the
    slice with the most nodes (so that a multi-arm trial enters with all its
    randomised arms at one timepoint), then the latest (or earliest)
    timepoint; arms of the same node (:func:`node_of`) in it are combined (events and n summed;
    means and SDs by :func:`depmeta.review.contrasts.combine_means`). A study without two
    such arms may contribute the rows of the contrasts sheet (``reported``) on the network's
    measure (:func:`_reported_contrasts`).

    Parameters
    ----------
    arms : DataFrame
        :func:`depmeta.review.sheets.prepare_arms` output.
    outcome : str
    measure : {"RR", "OR", "RD", "SMD", "MD"}
    nodes : {"strategy", "arm_type", "therapy_type", "drug_class"}
        Node scheme (:func:`node_of`); the split schemes read the arm sheet's
        ``therapy_type`` / ``drug_class`` (a reported effect: its own ``arm1_drug_class``, ...,
        else those of its arms in ``arms``; blank or not found gives ``<strategy>:unspecified``).
    population_preference, timepoint
        As in the ``analysis`` config.
    reported : DataFrame, optional
        The contrasts sheet as :func:`depmeta.review.sheets.prepare_contrasts` gives it (``measure``,
        ``yi``, ``sei`` on the pooled scale, ``arm1_type``, ``arm2_type``, ...).
    add : float
        Zero-cell correction (see :func:`contrasts_from_arms`).
    controls : {"separate", "merged"}
        Control arms as nodes (:func:`node_of`).

    Returns
    -------
    contrasts : tuple of StudyContrasts
    exclusions : DataFrame
        ``study_id, row_ids, reason`` of rows not in the network.
    """
    from depmeta.review.contrasts import combine_means, preference_key

    preferred = preference_key(list(population_preference), timepoint)
    a = arms[arms.outcome == outcome].copy()
    excl = []
    outside = a[~a.analysis_population.isin(population_preference)]
    for r in outside.itertuples():
        excl.append((r.study_id, [r.row_id], f"analysis population {r.analysis_population} not in "
                                             "population_preference"))
    a = a[a.analysis_population.isin(population_preference)]
    a["node"] = _nodes_of(a, nodes, controls)
    cont = measure in ("SMD", "MD")
    arm_rows, used_studies = [], set()
    for sid, srows in a.groupby("study_id", sort=True):
        # preferred population first, then the slice with the most nodes (all randomised arms of
        # a multi-arm trial at one timepoint), then the latest (earliest) timepoint
        slices = sorted(((preferred(pop, tp), i, rows) for i, ((tp, pop, phase), rows) in
                         enumerate(srows.groupby(["timepoint_weeks", "analysis_population", "phase"], sort=False,
                                                 dropna=False))),
                        key=lambda s: (s[0][0], -s[2].node.nunique(), s[0][1], s[1]))
        best = next((rows for _, _, rows in slices if rows.node.nunique() >= 2), None)
        if best is None:
            for r in srows.itertuples():
                excl.append((sid, [r.row_id], f"no slice of the study (timepoint, population, phase) holds two "
                                              f"network nodes for {outcome}"))
            continue
        if cont and best[["mean", "sd"]].isna().any().any():
            for r in srows.itertuples():
                excl.append((sid, [r.row_id], "an arm of the study's slice lacks a mean or SD"))
            continue
        used_studies.add(sid)
        for r in srows[~srows.row_id.isin(best.row_id)].itertuples():
            b0 = best.iloc[0]
            excl.append((sid, [r.row_id], f"not used: the study's {outcome} network contrast uses "
                                          f"{b0.analysis_population} at {weeks_text(b0.timepoint_weeks)} ({b0.phase})"))
        for node, g in best.groupby("node", sort=False):
            rec = {"study": sid, "treatment": node, "n": float(g.n.astype(float).sum()), "row_ids": list(g.row_id)}
            if cont:
                _, rec["mean"], rec["sd"] = combine_means(g.n.astype(float), g["mean"].astype(float),
                                                          g.sd.astype(float))
            else:
                rec["events"] = float(g.events_used.sum())
            arm_rows.append(rec)
    f = pd.DataFrame.from_records(arm_rows, columns=["study", "treatment", "n", "events", "mean", "sd", "row_ids"])
    if cont and len(f):
        # arms of one patient each, combined, have an SD of 0, and a trial of one patient per node no
        # degree of freedom: neither gives a standardiser
        no_sd = f.groupby("study").apply(lambda g: bool((g.sd <= 0).any() or g.n.sum() <= len(g)),
                                         include_groups=False)
        for sid in no_sd.index[no_sd]:
            g = f[f.study == sid]
            excl.append((sid, list(g.row_ids.sum()), f"SMD not estimable: nodes of {', '.join(f'{n:g}' for n in g.n)} "
                                                     f"patients with SDs {', '.join(f'{x:.3g}' for x in g.sd)} "
                                                     "give no pooled SD"))
        f = f[~f.study.isin(no_sd.index[no_sd])]
    out, dropped = contrasts_from_arms(f.study, f.treatment, measure, f.n, events=f.get("events"),
                                       mean=f.get("mean"), sd=f.get("sd"), row_ids=f.row_ids, add=add) \
        if len(f) else ((), [])
    for sid, why in dropped:
        excl.append((sid, list(f.row_ids[f.study == sid].sum()), why))
    if reported is not None and len(reported):
        out = tuple(out) + _reported_contrasts(reported[reported.outcome == outcome], arms, outcome, measure,
                                               nodes, used_studies, preferred, population_preference, excl,
                                               controls)
    exclusions = pd.DataFrame.from_records(excl, columns=["study_id", "row_ids", "reason"])
    return tuple(out), exclusions


def _reported_contrasts(rep: pd.DataFrame, arms: pd.DataFrame, outcome: str, measure: str, nodes: str,
                        used_studies: set, preferred, population_preference, excl: list,
                        controls: str = "separate") -> tuple:
    """The network contrasts of one outcome's reported effects (the contrasts sheet), and the
    rows left out appended to ``excl`` with the reason.

    Rules: a row enters only on the network's measure (hazard ratios are not network rows:
    time to event is an analysis of its own, pooled pair by pair); a study with arm-level data
    in the network keeps those; per study one slice (timepoint, follow-up, population, phase;
    the preferred population, then the most arms, then the latest or earliest timepoint); a
    trial of more than two arms enters only when its rows give every pair of its arms (their
    estimates and variances checked to add up by the validation), from which
    :func:`~depmeta.stats.network.contrasts_from_pairwise` back-calculates the arms' variances
    and the covariance of the contrasts against one arm, as netmeta does; and its arms must be
    different nodes (contrasts, unlike arms, cannot be merged)."""
    rep = rep[rep.measure != "HR"]  # time to event: an analysis of its own (depmeta.review.hazard)
    for r in rep[rep.measure != measure].itertuples():
        excl.append((r.study_id, [r.row_id], f"not used in the network: a {r.measure}, and the {outcome} "
                                             f"network is on the {measure} scale"))
    rep = rep[rep.measure == measure]
    for r in rep[rep.study_id.isin(used_studies)].itertuples():
        excl.append((r.study_id, [r.row_id], "reported effect not used: the study has arm-level data"))
    rep = rep[~rep.study_id.isin(used_studies)]
    for r in rep[~rep.analysis_population.isin(population_preference)].itertuples():
        excl.append((r.study_id, [r.row_id], f"analysis population {r.analysis_population} not in "
                                             "population_preference"))
    rep = rep[rep.analysis_population.isin(population_preference)]
    if not len(rep):
        return ()
    attrs = reported_arm_attributes(rep, arms)
    node = {k: [node_of(a[0], nodes, a[2], a[1], a[3], controls) for a in attrs[k]] for k in (1, 2)}
    rep = rep.assign(node1=node[1], node2=node[2])
    keep = []
    for sid, srows in rep.groupby("study_id", sort=True):
        slices = sorted(((preferred(pop, tp), -len(set(rows.arm1_id) | set(rows.arm2_id)), i, rows) for i, (
            (tp, fu, pop, phase), rows) in enumerate(srows.groupby(
                ["timepoint_weeks", "followup_months", "analysis_population", "phase"], sort=False, dropna=False))),
            key=lambda s: (s[0][0], s[1], s[0][1], s[2]))
        best = slices[0][3]
        b0 = best.iloc[0]
        for r in srows[~srows.row_id.isin(best.row_id)].itertuples():
            excl.append((sid, [r.row_id], f"not used: the study's {outcome} network contrasts use "
                                          f"{b0.analysis_population} at {weeks_text(b0.timepoint_weeks)} ({b0.phase})"))
        ids = list(best.row_id)
        arm_node = dict(zip(best.arm1_id, best.node1)) | dict(zip(best.arm2_id, best.node2))
        p = len(arm_node)
        shared = sorted({n for n in arm_node.values() if list(arm_node.values()).count(n) > 1})
        if p == 2 and shared:
            excl.append((sid, ids, "reported effect compares two arms of the same network node"))
        elif shared:
            together = ", ".join(a for a, n in arm_node.items() if n in shared)
            excl.append((sid, ids, f"arms {together} of the trial are one network node ({', '.join(shared)}): "
                                   "reported contrasts cannot be merged as arm-level data can (give arm-level "
                                   "data, or choose a finer network.nodes)"))
        elif len(best) < p * (p - 1) // 2:
            excl.append((sid, ids, f"the trial's {p} arms are not given as every pair (only "
                                   f"{', '.join(f'{a} vs {b}' for a, b in zip(best.arm1_id, best.arm2_id))}): the "
                                   "covariance of its contrasts is unknown (give every pair, as netmeta needs, "
                                   "or arm-level data); its pairs enter the pairwise analyses"))
        else:
            keep.append(best)
    if not keep:
        return ()
    sel = pd.concat(keep)
    return contrasts_from_pairwise(sel.study_id, sel.node1, sel.node2, sel.yi, sei=sel.sei, n1=sel.n1.astype(float),
                                   n2=sel.n2.astype(float), row_ids=sel.row_id)
