"""Explorer tests run the app's pages with Streamlit's testing API (``streamlit.testing.v1.AppTest``); the helpers
that read a page are in ``app_checks``."""

import pytest

from app_checks import MAIN, TIMEOUT


@pytest.fixture
def app(monkeypatch, tmp_path):
    """The explorer at its entry page, with no results folder given on the command line."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("COSIM_APP_RESULTS", raising=False)
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT)
    return at


@pytest.fixture(scope="session")
def results_folder(tmp_path_factory):
    """A results folder written by cosim's sweep: feasible points and infeasible ones (a 70B model in 40 GB)."""
    from cosim.api import sweep

    folder = tmp_path_factory.mktemp("results")
    config = {"name": "folder", "hardware": [{"preset": "A100-SXM4-40GB"}, {"preset": "H100-SXM5-80GB"}],
              "workloads": [{"model": "llama-2-7b", "grid": {"batch": [1, 8]}},
                            {"model": "llama-2-70b", "params": {"batch": 1}}]}
    sweep(config, folder, with_ops=True)
    return folder
