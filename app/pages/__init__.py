"""One module per explorer page, each a Streamlit script run by :mod:`app.main`'s navigation."""
