"""The design-point scatter panel Explore and Results share: metric and colour pickers, log axes, the Pareto
front, a hover card with every parameter, and click-to-open on the Point page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app import charts, state

DEFAULT_X, DEFAULT_Y = "throughput", "energy_per_item_j"
_NOT_METRICS = ("devices", "items", "pareto", "feasible")


def metrics(results: Any) -> list[str]:
    """The numeric result columns (not the swept parameters) a scatter can plot."""
    return [c for c in results.columns if results[c].dtype.kind in "if" and not str(c).startswith(("hw.", "wl."))
            and c not in _NOT_METRICS and results[c].notna().any()]


def colour_options(results: Any) -> list[str]:
    """Columns to colour by: device and task, then each swept parameter with more than one value."""
    fixed = [c for c in ("hardware", "preset", "workload", "task") if c in results]
    swept = [c for c in results.columns if str(c).startswith(("hw.", "wl.")) and results[c].nunique() > 1]
    return fixed + swept


def panel(results: Any, prefix: str) -> None:
    """Draw the panel for ``results``; a clicked point opens on the Point page."""
    rows = state.feasible(results)
    if rows.empty:
        st.warning("no feasible design points to plot")
        return
    names = metrics(rows)
    pick_x, pick_y, pick_c = st.columns(3)
    x = pick_x.selectbox("x metric", names, index=names.index(DEFAULT_X) if DEFAULT_X in names else 0,
                         key=f"{prefix}_x")
    y = pick_y.selectbox("y metric", names, index=names.index(DEFAULT_Y) if DEFAULT_Y in names else 1,
                         key=f"{prefix}_y")
    colours = colour_options(rows)
    colour = pick_c.selectbox("colour by", colours, key=f"{prefix}_colour")
    log_x, log_y, front = st.columns(3)
    log_x = log_x.checkbox("log x", value=True, key=f"{prefix}_logx")
    log_y = log_y.checkbox("log y", value=True, key=f"{prefix}_logy")
    front = front.checkbox("Pareto front", value=True, key=f"{prefix}_front")
    if (log_x and (rows[x] <= 0).any()) or (log_y and (rows[y] <= 0).any()):
        st.caption("points at or below zero are left out of a log axis")
        rows = rows[(rows[x] > 0 if log_x else True) & (rows[y] > 0 if log_y else True)]
    tooltip = ["hardware", "workload", *[c for c in rows.columns if str(c).startswith(("hw.", "wl."))], x, y,
               "latency_s", "power_w", "pareto"]
    tooltip = list(dict.fromkeys(tooltip))
    sent = [c for c in dict.fromkeys(["point_id", x, y, colour, "task", "pareto", *tooltip]) if c in rows]
    chart = charts.scatter(rows[sent], x, y, colour, log_x, log_y, tooltip, front)  # only the columns drawn
    event = st.altair_chart(chart, on_select="rerun", selection_mode=charts.SELECTION, key=f"{prefix}_scatter",
                            width="stretch")
    st.caption(f"{len(rows)} feasible design points; hover for a point's parameters, click one to open it")
    clicked = [p.get("point_id") for p in (event.selection.get(charts.SELECTION) or []) if p.get("point_id")]
    seen = f"{prefix}_handled_click"
    if clicked and st.session_state.get(seen) != clicked[0]:
        st.session_state[seen] = clicked[0]
        state.choose_point(clicked[0])
        st.switch_page("pages/point.py")


def point_labels(results: Any) -> dict[str, str]:
    """point_id -> a unique label (:func:`state.point_label`, infeasible points marked)."""
    ok = results["feasible"].astype(bool).tolist() if "feasible" in results else [True] * len(results)
    labels = {pid: ("infeasible: " if not good else "") + state.point_label(row)
              for pid, good, (_, row) in zip(results["point_id"], ok, results.iterrows())}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {pid: label if seen[label] == 1 else f"{label} [{pid}]" for pid, label in labels.items()}


def point_picker(results: Any, key: str, label: str = "Design point") -> str | None:
    """A selectbox over the points of ``results`` by label; returns the chosen point_id (the one chosen elsewhere,
    such as a click on the scatter, comes selected)."""
    if results.empty or "point_id" not in results:
        return None
    labels = point_labels(results)
    ids = list(labels)
    chosen = state.chosen_point()
    index = ids.index(chosen) if chosen in ids else 0
    picked = st.selectbox(label, list(labels.values()), index=index, key=key)
    return ids[list(labels.values()).index(picked)]
