"""A real `cosim app` server driven by Debian's headless Chromium through selenium.

The browser and its driver are the ones the system packages install (``chromium``, ``chromium-driver``); their paths
are handed to selenium, so Selenium Manager never runs and nothing is downloaded. ``COSIM_CHROMIUM`` and
``COSIM_CHROMEDRIVER`` point elsewhere. Used by the end-to-end test and by ``benchmarks/app_redraw.py``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("COSIM_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COSIM_CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL_HINT = "apt-get install chromium chromium-driver (as .ci/run does)"
CHART = "[data-testid='stVegaLiteChart']"

# Timestamps (performance.now(), ms) of every websocket message from the server and of every change inside a Vega
# chart, recorded in the page from before Streamlit's own scripts run.
_TIMERS = """
(function () {
  const Native = window.WebSocket;
  window.__cosimMessages = [];
  window.__cosimChartChanges = [];
  function Recording(...args) {
    const socket = new Native(...args);
    socket.addEventListener('message', () => window.__cosimMessages.push(performance.now()));
    return socket;
  }
  Recording.prototype = Native.prototype;
  Object.assign(Recording, Native);
  window.WebSocket = Recording;
  new MutationObserver((records) => {
    for (const r of records) {
      const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (node && node.closest && node.closest("[data-testid='stVegaLiteChart']")) {
        window.__cosimChartChanges.push(performance.now());
        return;
      }
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""


def missing() -> str | None:
    """Why the browser test cannot run here (None when it can): a missing package, browser or driver."""
    for module, extra in (("selenium", "test"), ("streamlit", "app")):
        if importlib.util.find_spec(module) is None:
            return f"python package {module!r} is not installed (pip install -e '.[{extra}]')"
    for what, path in (("Chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{what} not found at {path}: {INSTALL_HINT}"
    return None


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(results: Path | None = None, timeout_s: float = 120.0):
    """Run `cosim app` on a free localhost port until the block ends; yields its base URL.

    Waits for Streamlit's health endpoint; a server that exits or never answers raises with its output."""
    port = free_port()
    cmd = [sys.executable, "-m", "cosim.cli", "app", "--port", str(port)]
    if results is not None:
        cmd += ["--results", str(results)]
    log = tempfile.TemporaryFile(mode="w+")
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", STREAMLIT_SERVER_HEADLESS="true")
    # its own session: `cosim app` runs Streamlit as a child, and the whole group is stopped at the end
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"`{' '.join(cmd)}` exited with {proc.returncode}:\n{_read(log)}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            if time.monotonic() > deadline:
                raise RuntimeError(f"`{' '.join(cmd)}` did not answer on {url} in {timeout_s:.0f} s:\n{_read(log)}")
            time.sleep(0.25)
        yield url
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group: SIGTERM (Streamlit shuts down cleanly), then SIGKILL to what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _read(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]


def chrome(width: int = 1400, height: int = 1000):
    """Headless Chromium from the system packages, with timing hooks installed in every page it opens."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _TIMERS})
    return driver


def wait(driver, condition, timeout_s: float = 60.0, what: str = "the page"):
    """Poll ``condition(driver)`` until it returns something truthy; the timeout message says what was awaited.
    An exception the app shows on the page ends the wait at once, with its text."""
    from selenium.webdriver.support.ui import WebDriverWait

    def check(d):
        shown = app_exception(d)
        if shown:
            raise AssertionError(f"the app shows an exception while waiting for {what}:\n{shown}")
        return condition(d)

    return WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(check, f"waited {timeout_s:.0f} s for {what}")


def app_exception(driver) -> str:
    """The text of the exceptions Streamlit shows on the page ('' when none)."""
    return driver.execute_script(
        "return [...document.querySelectorAll(\"[data-testid='stException']\")].map(e => e.innerText).join('\\n');")


def idle(driver, timeout_s: float = 120.0) -> None:
    """Wait until the Streamlit script run is over (no 'running' status, no stale elements)."""
    script = ("return !document.querySelector(\"[data-testid='stStatusWidget'] [data-testid='stStatusWidgetRunningIcon']\")"
              " && !document.querySelector(\"[data-stale='true']\")"
              " && !!document.querySelector(\"[data-testid='stApp']\")")
    time.sleep(0.3)  # a rerun that a click starts takes a moment to be announced
    wait(driver, lambda d: d.execute_script(script), timeout_s, "the app to finish running")


def keyed(key: str) -> str:
    """The CSS selector of the element Streamlit made for widget or chart ``key`` (its ``st-key-…`` class)."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def click(driver, selector: str, text: str | None = None, timeout_s: float = 60.0) -> None:
    """Click the first element matching ``selector`` (whose text contains ``text``, when given) once it is there."""
    from selenium.webdriver.common.by import By

    def found(d):
        hits = [e for e in d.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()
                and (text is None or text in e.text)]
        return hits[0] if hits else None

    element = wait(driver, found, timeout_s, f"{selector!r}" + (f" with {text!r}" if text else ""))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def choose(driver, key: str, option: str, timeout_s: float = 60.0) -> None:
    """Pick ``option`` in the selectbox ``key``."""
    click(driver, f"{keyed(key)} [role='combobox']", timeout_s=timeout_s)
    click(driver, "[role='listbox'] [role='option']", option, timeout_s)


def type_number(driver, key: str, value: float) -> None:
    """Type ``value`` into the number input ``key`` and commit it with Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.CSS_SELECTOR, f"{keyed(key)} input")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value), Keys.ENTER)


def chart_svg(driver, scope: str = ""):
    """The SVG of the first Vega chart under ``scope`` (a CSS selector) once it has marks, or None."""
    return driver.execute_script(
        "const c = document.querySelector(arguments[0]);"
        "const s = c && c.querySelector('svg.marks');"
        "return s && s.querySelector('.role-mark path, .role-mark rect') ? s : null;",
        f"{scope} {CHART}".strip())


def chart_text(driver, scope: str = "") -> str | None:
    """Axis titles, tick labels and legends of the chart: they change when an axis, scale or colour changes."""
    return driver.execute_script(
        "const c = document.querySelector(arguments[0]); const s = c && c.querySelector('svg.marks');"
        "return s ? s.textContent : null;", f"{scope} {CHART}".strip())


def marks(driver, scope: str = ""):
    """The data marks of the chart's first layer (one per point of a scatter, one per bar of a bar chart)."""
    from selenium.webdriver.common.by import By

    layer = driver.find_elements(By.CSS_SELECTOR, f"{scope} {CHART} g.role-mark".strip())
    return layer[0].find_elements(By.CSS_SELECTOR, ":scope > path, :scope > rect") if layer else []


def drawn_charts(driver) -> list[tuple[str, int]]:
    """(text, number of data marks) of every Vega chart on the page that has been drawn."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(c => c.querySelector('svg.marks'))"
        ".filter(s => s).map(s => [s.textContent, s.querySelectorAll('.role-mark > path, .role-mark > rect').length]);",
        CHART)


def topmost_mark(driver, scope: str = ""):
    """A data mark of the chart that a click at its centre reaches (no other mark drawn over it), from the middle
    of the list outwards; scrolled into view. None when every mark is covered."""
    return driver.execute_script("""
      const chart = document.querySelector(arguments[0]);
      chart.scrollIntoView({block: 'center'});
      const layer = chart.querySelector('g.role-mark');
      const marks = layer ? [...layer.children] : [];
      const mid = Math.floor(marks.length / 2);
      for (let k = 0; k < marks.length; k++) {
        const m = marks[(mid + k) % marks.length];
        const r = m.getBoundingClientRect();
        if (r.width > 0 && document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === m) return m;
      }
      return null;""", f"{scope} {CHART}".strip())


def redraw_time(driver, act, scope: str = "", timeout_s: float = 60.0, settle_s: float = 0.5) -> dict:
    """Do ``act()`` (a widget change) and time the chart's redraw in the page's own clock.

    ``total_s``: from the action to the chart's last change; ``server_s``: to the last server message before that
    change (the script's rerun); ``browser_s`` = the rest: the page receiving, laying out and drawing the chart."""
    before = chart_text(driver, scope)
    start = driver.execute_script("window.__cosimMessages = []; window.__cosimChartChanges = [];"
                                  "return performance.now();")
    act()
    wait(driver, lambda d: chart_text(d, scope) not in (None, before), timeout_s, "the chart to redraw")
    idle(driver, timeout_s)
    time.sleep(settle_s)
    messages, changes = driver.execute_script("return [window.__cosimMessages, window.__cosimChartChanges];")
    end = max(changes)
    served = max((m for m in messages if m <= end), default=start)
    return {"total_s": (end - start) / 1e3, "server_s": (served - start) / 1e3, "browser_s": (end - served) / 1e3}


def screenshot(driver, name: str, fallback: Path) -> Path:
    """Save a PNG of the page: into $COSIM_SCREENSHOTS when set (the README's images), else into ``fallback``."""
    folder = Path(os.environ.get("COSIM_SCREENSHOTS") or fallback)
    if not folder.is_absolute():
        folder = ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    height = driver.execute_script(
        "const m = document.querySelector(\"[data-testid='stMain']\") || document.body; return m.scrollHeight;")
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, max(800, min(int(height) + 40, 4000)))
    time.sleep(0.5)
    driver.save_screenshot(str(path))
    return path

