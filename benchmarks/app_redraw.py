"""How fast the explorer's scatter of a 1,000-point sweep redraws in a real browser once the points are evaluated.

Writes the sweep of ``tests/browser/sweep_1000.yaml`` (or opens ``--results DIR``), starts `cosim app` on it, loads
Explore in headless Chromium (Debian's ``chromium`` and ``chromium-driver``) and toggles a display widget (log x) many
times. Each redraw is timed in the page's clock from the click to the chart's last change; the part after the last
server message before that change is the browser's own (receiving, laying out and drawing the chart), the rest is
the script's rerun on the server. Prints medians (min, max) over ``--runs`` redraws after ``--warmup`` redraws.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import browser_harness as h  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="a results folder to open (default: write the 1,000-point sweep)")
    parser.add_argument("--runs", type=int, default=11, help="timed redraws (default 11)")
    parser.add_argument("--warmup", type=int, default=2, help="redraws before timing (default 2)")
    args = parser.parse_args()
    reason = h.missing()
    if reason:
        sys.exit(f"app_redraw: {reason}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.results
        if folder is None:
            from cosim.api import sweep

            folder = Path(tmp) / "explorer-1000"
            sweep(ROOT / "tests" / "browser" / "sweep_1000.yaml", folder, overwrite=True)
        timings, points = measure(folder, args.runs, args.warmup)
    print(f"scatter redraw of {points} points (log x toggled), {len(timings)} redraws after {args.warmup} warm-up:")
    for key, what in (("total_s", "click to chart drawn"), ("server_s", "script rerun (server)"),
                      ("browser_s", "browser: receive, lay out, draw")):
        values = [t[key] for t in timings]
        print(f"  {what:32s} median {statistics.median(values):.3f} s (min {min(values):.3f}, max "
              f"{max(values):.3f})")


def measure(folder: Path, runs: int, warmup: int) -> tuple[list[dict], int]:
    """(timings of ``runs`` redraws, marks in the scatter) of the Explore scatter of ``folder``."""
    scatter = h.keyed("explore_scatter")
    with h.app_server(folder) as url:
        driver = h.chrome()
        try:
            driver.get(url)
            h.wait(driver, lambda d: h.chart_svg(d, scatter), 300, "the Explore scatter")
            h.idle(driver)
            toggle = f"{h.keyed('explore_logx')} label"
            timings = [h.redraw_time(driver, lambda: h.click(driver, toggle), scatter) for _ in range(warmup + runs)]
            return timings[warmup:], len(h.marks(driver, scatter))
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
