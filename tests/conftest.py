"""Test-session settings. Under CI (``CI`` set) hypothesis draws the same examples on every run, so a landing is
judged on the examples the developers ran; locally each run draws new ones and may find a new counter-example."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
