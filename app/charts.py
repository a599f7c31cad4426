"""Altair charts the pages draw: the design-point scatter with its Pareto front, stacked breakdowns, the
per-op roofline scatter. Charts only present columns cosim computed."""

from __future__ import annotations

from typing import Any

import altair as alt

SELECTION = "point"  # the scatter's selection parameter: a clicked point's point_id


def field(name: str) -> str:
    """A column name as a Vega-Lite field (dots in ``hw.memory.x`` name the column, not nested data)."""
    return name.replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")


def _scale(log: bool) -> alt.Scale:
    return alt.Scale(type="log") if log else alt.Scale(type="linear", zero=False)


def scatter(rows: Any, x: str, y: str, color: str, log_x: bool, log_y: bool, tooltip: list[str],
            front: bool = True) -> alt.Chart:
    """Design points as dots (``x`` vs ``y``, coloured by ``color``, a hover card of ``tooltip``), selectable by
    click, with each task's Pareto points joined by a line when ``front`` and the table has a ``pareto`` column."""
    rows = rows.reset_index(drop=True)
    pick = alt.selection_point(name=SELECTION, fields=["point_id"], on="click", clear="dblclick")
    nominal = rows[color].dtype.kind not in "if" or rows[color].nunique() <= 8
    dots = alt.Chart(rows).mark_circle(size=70).encode(
        x=alt.X(field(x), type="quantitative", title=x, scale=_scale(log_x)),
        y=alt.Y(field(y), type="quantitative", title=y, scale=_scale(log_y)),
        color=alt.Color(field(color), type="nominal" if nominal else "quantitative", title=color),
        opacity=alt.condition(pick, alt.value(0.9), alt.value(0.35)),
        tooltip=[alt.Tooltip(field(c), title=c) for c in tooltip if c in rows.columns]).add_params(pick)
    if not front or "pareto" not in rows or not rows["pareto"].any():
        return dots.interactive()
    line = alt.Chart(rows[rows["pareto"].astype(bool)]).mark_line(color="black", strokeWidth=1.2,
                                                                      point=alt.OverlayMarkDef(filled=False)).encode(
        x=alt.X(field(x), type="quantitative", scale=_scale(log_x)),
        y=alt.Y(field(y), type="quantitative", scale=_scale(log_y)), detail="task:N",
        order=alt.Order(field(x), type="quantitative"))
    return alt.layer(dots, line).interactive()


def stacked_bars(frame: Any, category: str, value: str, stack: str, title: str, horizontal: bool = True) -> alt.Chart:
    """One bar per ``category``, stacked by ``stack``, of ``value`` (a long-form table)."""
    order = list(dict.fromkeys(frame[category]))
    cat = alt.Y(category, sort=order, title=None) if horizontal else alt.X(category, sort=order, title=None)
    val = alt.X(value, title=title, stack="zero") if horizontal else alt.Y(value, title=title, stack="zero")
    return alt.Chart(frame).mark_bar().encode(cat, val, color=alt.Color(stack, title=stack),
                                              tooltip=[category, stack, alt.Tooltip(value, format=".4g")])


def roofline(ops: Any) -> alt.Chart:
    """Each op at its arithmetic intensity (FLOP per byte) and achieved throughput (FLOP/s), log-log, coloured by
    what bounds it, sized by its share of the time."""
    return alt.Chart(ops).mark_circle(opacity=0.8).encode(
        x=alt.X("intensity", title="arithmetic intensity (FLOP/byte)", scale=alt.Scale(type="log")),
        y=alt.Y("achieved_flops_per_s", title="achieved throughput (FLOP/s)", scale=alt.Scale(type="log")),
        color=alt.Color("bound:N", title="bound by"), size=alt.Size("time_s", title="time (s)"),
        tooltip=["op", "kind", "bound", alt.Tooltip("intensity", format=".4g"),
                 alt.Tooltip("achieved_flops_per_s", format=".4g"), alt.Tooltip("time_s", format=".4g"),
                 "mapping"]).interactive()


def grouped_bars(frame: Any, group: str, category: str, value: str, title: str) -> alt.Chart:
    """Bars of ``value`` per ``category``, side by side for each ``group``."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(category, title=None), xOffset=group, y=alt.Y(value, title=title), color=alt.Color(group),
        tooltip=[group, category, alt.Tooltip(value, format=".4g")])


def measured_vs_predicted(frame: Any) -> alt.Chart:
    """Predicted against measured time per measurement (log-log), one series per model (``model`` column), error
    bars from ``low`` to ``high``, and the line where prediction equals measurement."""
    base = alt.Chart(frame)
    scale = alt.Scale(type="log")
    x = alt.X("time_measured_s", title="measured time (s)", scale=scale)
    points = base.mark_point(filled=True, opacity=0.8).encode(
        x, alt.Y("time_predicted_s", title="predicted time (s)", scale=scale), color=alt.Color("model:N"),
        shape=alt.Shape("op_kind:N"),
        tooltip=["label", "op_kind", "model", alt.Tooltip("time_measured_s", format=".4g"),
                 alt.Tooltip("time_predicted_s", format=".4g"), alt.Tooltip("error_pct", format=".1f")])
    bars = base.transform_filter("datum.high > datum.low").mark_rule(opacity=0.6).encode(
        x, alt.Y("low", scale=scale), alt.Y2("high"), color=alt.Color("model:N"))
    lo, hi = float(frame["time_measured_s"].min()), float(frame["time_measured_s"].max())
    diagonal = alt.Chart(alt.Data(values=[{"t": lo}, {"t": hi}])).mark_line(color="grey", strokeDash=[4, 4]).encode(
        x=alt.X("t:Q", scale=scale), y=alt.Y("t:Q", scale=scale))
    return alt.layer(diagonal, bars, points).interactive()


def lines(frame: Any, x: str, y: str, colour: str, title: str) -> alt.Chart:
    """``y`` against ``x`` (log x), one line per ``colour``."""
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X(field(x), type="quantitative", title=x, scale=alt.Scale(type="log")),
        y=alt.Y(field(y), type="quantitative", title=title), color=alt.Color(field(colour), type="nominal"),
        tooltip=[alt.Tooltip(field(c), title=c) for c in (colour, x, y)])


def cdf(frame: Any, value: str, colour: str, title: str) -> alt.Chart:
    """The empirical cumulative distribution of ``value``, one curve per ``colour`` (computed by Vega-Lite)."""
    return alt.Chart(frame[[value, colour]]).transform_window(
        rank="count()", sort=[{"field": value}], groupby=[colour]).transform_joinaggregate(
        total="count()", groupby=[colour]).transform_calculate(share="datum.rank / datum.total").mark_line(
        interpolate="step-after").encode(
        x=alt.X(f"{value}:Q", title=title, scale=alt.Scale(type="log")),
        y=alt.Y("share:Q", title="share of requests"), color=alt.Color(f"{colour}:N"))
