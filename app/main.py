"""The explorer's entry script: ``streamlit run app/main.py`` (``cosim app`` does this). Pages live in
``app/pages``, one module each; ``COSIM_APP_RESULTS`` (set by ``cosim app --results DIR``) opens a results folder."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # `streamlit run` puts only this script's folder on the path
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from app.state import PAGES  # noqa: E402

st.set_page_config(page_title="cosim explorer", layout="wide")
pages = [st.Page(f"pages/{module}.py", title=title, url_path=module, default=module == "explore")
         for module, title in PAGES]
st.navigation(pages).run()
