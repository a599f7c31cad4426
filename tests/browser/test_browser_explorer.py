"""The explorer end to end in a real headless browser: a `cosim app` server started here on a 1,000-point results
folder, Debian's Chromium driven through selenium. Explore is loaded, widgets change, the scatter redraws (timed), a
click on a point opens its breakdown on the Point page, a new sweep is run from the page, and screenshots are saved
(into ``$COSIM_SCREENSHOTS`` when set: ``COSIM_SCREENSHOTS=docs/images`` makes the README's images).

Without the browser the test is skipped with the reason; under CI (``CI`` set) it fails instead, since .ci/run
installs the browser."""

from __future__ import annotations

import os
import re
import statistics
from pathlib import Path

import pytest

import browser_harness as h

pytestmark = pytest.mark.heavy

HERE = Path(__file__).resolve().parent
SCATTER = h.keyed("explore_scatter")
POINTS = 1000
REDRAWS = 3
# Issue 14: a 1,000-point sweep's scatter redraws in under a second once evaluated. The fastest of the timed redraws
# (click to chart drawn) is held to it: other work on a shared machine only adds time. Medians of the whole round
# trip, the server's rerun and the browser's part are printed; benchmarks/app_redraw.py records them.
REDRAW_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def browser_ready():
    reason = h.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run under CI: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def results_1000(browser_ready, tmp_path_factory):
    """A results folder of 1,000 feasible design points written by cosim's sweep."""
    from cosim.api import sweep

    folder = tmp_path_factory.mktemp("explorer-1000", numbered=False)
    results = sweep(HERE / "sweep_1000.yaml", folder, overwrite=True).results
    assert len(results) == POINTS and results["feasible"].all()
    return folder


@pytest.fixture(scope="module")
def page(results_1000):
    """(browser, server URL): `cosim app --results FOLDER` and a headless Chromium, both stopped at the end."""
    with h.app_server(results_1000) as url:
        driver = h.chrome()
        try:
            yield driver, url
        finally:
            driver.quit()


def test_explore_redraw_click_and_point_breakdown(page, tmp_path):
    driver, url = page
    driver.get(url)
    h.wait(driver, lambda d: h.chart_svg(d, SCATTER), 180, "the Explore scatter")
    h.idle(driver)
    assert len(h.marks(driver, SCATTER)) == POINTS

    # display widgets redraw the evaluated points: log x off and on, then colour by a swept parameter
    timings = [h.redraw_time(driver, lambda: h.click(driver, f"{h.keyed('explore_logx')} label"), SCATTER)
               for _ in range(2 * REDRAWS)]
    assert len(h.marks(driver, SCATTER)) == POINTS
    h.redraw_time(driver, lambda: h.choose(driver, "explore_colour", "hw.memory.hbm_bandwidth_gbps"), SCATTER)
    legend = h.chart_text(driver, SCATTER)
    assert "hw.memory.hbm" in legend and "6000" in legend  # the legend's title (cut short by Vega) and a bandwidth
    h.redraw_time(driver, lambda: h.choose(driver, "explore_colour", "hardware"), SCATTER)
    assert "H200-SXM-141GB" in h.chart_text(driver, SCATTER)
    median = {k: statistics.median(t[k] for t in timings) for k in timings[0]}
    fastest = min(t["total_s"] for t in timings)
    print(f"redraw of {POINTS} points, median of {len(timings)}: " +
          ", ".join(f"{k} {v:.3f}" for k, v in median.items()) + f"; fastest {fastest:.3f} s")
    assert fastest < REDRAW_LIMIT_S, (fastest, timings)
    h.screenshot(driver, "explorer-explore", tmp_path)

    # a click on a point opens it on the Point page, with its breakdowns
    mark = h.topmost_mark(driver, SCATTER)
    assert mark is not None, "every mark of the scatter is covered by another"
    card = dict(item.split(": ", 1) for item in mark.get_attribute("aria-label").split("; "))
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).move_to_element(mark).click().perform()
    h.wait(driver, lambda d: d.current_url.rstrip("/").endswith("/point"), 120, "the Point page")
    # energy by component, latency by op, energy by op and component, the roofline: each titled by its axes
    wanted = ("energy (J)", "time (s)", "arithmetic intensity (FLOP/byte)")
    h.wait(driver, lambda d: all(any(w in text and n for text, n in h.drawn_charts(d)) for w in wanted), 180,
           "the Point page's breakdown and roofline charts")
    h.idle(driver)
    charts = h.drawn_charts(driver)
    assert len(charts) >= 4, charts
    by_op = [n for text, n in charts if "time (s)" in text and "attention" in text]
    assert by_op and by_op[0] >= 3, charts  # bars of the largest ops, attention among them
    title = driver.execute_script("return [...document.querySelectorAll('h3')].map(e => e.textContent).join('|')")
    for field in ("hardware", "wl.batch", "wl.context"):
        value = card[field] if field == "hardware" else f"{field[3:]}={card[field]}"
        assert value in title, (field, card, title)
    h.screenshot(driver, "explorer-point", tmp_path)


def test_explore_runs_a_new_sweep(page):
    driver, url = page
    driver.get(url)
    h.wait(driver, lambda d: h.chart_svg(d, SCATTER), 180, "the Explore scatter")
    h.click(driver, f"{h.keyed('explore_source')} label", "New sweep")
    # the page's default config (two GPUs × Llama-2-7B over five batch sizes), evaluated with a progress bar
    five = plotted(driver, lambda n: 0 < n != POINTS)
    h.click(driver, "[role='tab']", "Workloads")
    h.type_number(driver, "explore_wl:llama-2-7b:batch:points", 3)
    three = plotted(driver, lambda n: n not in (five, POINTS))
    assert three * 5 == five * 3, (five, three)
    text = h.chart_text(driver, SCATTER)
    assert "H100-SXM5-80GB" in text and "A100-SXM4-80GB" in text


def plotted(driver, expected) -> int:
    """Wait until the page says it plots a number of points that ``expected`` accepts and the scatter has as many
    marks; returns the number."""
    def shown(d):
        said = re.search(r"(\d+) feasible design points", d.execute_script("return document.body.innerText"))
        return said and expected(int(said[1])) and len(h.marks(d, SCATTER)) == int(said[1]) and int(said[1])

    n = h.wait(driver, shown, 300, "the scatter of the new sweep")
    h.idle(driver)
    return n
