"""What the pages share through the session: the results on show, the chosen design points, the results folder
given on the command line. Pages read and write these through the functions here, never by raw keys."""

from __future__ import annotations

import os
from typing import Any, Callable

PAGES = (("explore", "Explore"), ("point", "Point"), ("compare", "Compare"), ("serving", "Serving"),
         ("calibration", "Calibration"), ("results", "Results"), ("presets", "Presets"))
RESULTS_ENV = "COSIM_APP_RESULTS"  # the folder `cosim app --results DIR` opens
_RESULTS = "shared_results"  # (results DataFrame, objective, where it came from)
_POINT = "shared_point"  # the point_id of the point shown on the Point page
_COMPARE = "shared_compare"  # point_ids on the Compare page


# Widgets whose values outlive a visit to another page (Streamlit forgets a widget's value once a run does not draw
# it): the Explore and Serving settings. Buttons, uploads and chart selections cannot be set, so they are not kept.
KEPT = ("explore_presets", "explore_workloads", "explore_objective", "explore_hw_axes:", "explore_hw:",
        "explore_wl_axes:", "explore_wl:", "explore_x", "explore_y", "explore_colour", "explore_logx", "explore_logy",
        "explore_front", "explore_auto", "explore_source", "explore_folder", "serving_")
NOT_KEPT = ("serving_export",)
_KEPT_VALUES = "shared_kept_widgets"
_LAST_PAGE = "shared_last_page"


def run_page(name: str, draw: Callable[[], None]) -> None:
    """Draw page ``name`` with ``draw``, carrying the :data:`KEPT` widget values across pages: those Streamlit
    forgot while another page was shown are put back first, and this run's are remembered after (also when the
    page ends early or switches page)."""
    import streamlit as st

    kept = st.session_state.setdefault(_KEPT_VALUES, {})
    if st.session_state.get(_LAST_PAGE) != name:
        for key, value in kept.items():
            if key not in st.session_state:
                st.session_state[key] = value
    st.session_state[_LAST_PAGE] = name
    try:
        draw()
    finally:
        for key in list(st.session_state):
            if isinstance(key, str) and key.startswith(KEPT) and key not in NOT_KEPT:
                kept[key] = st.session_state[key]


def results_folder() -> str:
    """The results folder given with ``cosim app --results DIR`` ('' when none)."""
    return os.environ.get(RESULTS_ENV, "")


def set_results(results: Any, objective: str, origin: str) -> None:
    """Make ``results`` (a sweep's results table) the one the Point and Compare pages pick from."""
    import streamlit as st

    st.session_state[_RESULTS] = (results, objective, origin)


def current_results() -> tuple[Any, str, str] | None:
    """(results, objective, origin) last shown on Explore or Results; else the ``--results`` folder's; else None."""
    import streamlit as st

    if _RESULTS in st.session_state:
        return st.session_state[_RESULTS]
    folder = results_folder()
    if folder:
        from cosim.api import INPUT_ERRORS, read_results

        try:
            results = read_results(folder)[0]
        except INPUT_ERRORS:
            return None
        set_results(results, "latency", folder)
        return st.session_state[_RESULTS]
    return None


def results_or_hint() -> tuple[Any, str, str] | None:
    """:func:`current_results`, or None after telling the user where design points come from."""
    current = current_results()
    if current is None:
        import streamlit as st

        st.info("No design points yet: run a sweep on the Explore page or open a results folder on Results.")
    return current


def point_label(row: Any) -> str:
    """A short name of a design point: hardware, workload and the parameters that were swept."""
    params = [f"{key.split('.', 1)[1]}={_short(value)}" for key, value in row.items()
              if str(key).startswith(("hw.", "wl.")) and value is not None and value == value]
    return " · ".join([str(row["hardware"]), str(row["workload"]), *params])


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def choose_point(point_id: str) -> None:
    """Show ``point_id`` on the Point page."""
    import streamlit as st

    st.session_state[_POINT] = point_id


def chosen_point() -> str | None:
    import streamlit as st

    return st.session_state.get(_POINT)


def choose_compare(point_ids: list[str]) -> None:
    import streamlit as st

    st.session_state[_COMPARE] = list(point_ids)


def chosen_compare() -> list[str]:
    import streamlit as st

    return list(st.session_state.get(_COMPARE, []))


def feasible(results: Any) -> Any:
    """The feasible rows of a results table."""
    if results.empty or "feasible" not in results:
        return results.iloc[0:0]
    return results[results["feasible"].astype(bool)]
