"""The download button every view has: the YAML sweep config that reproduces it with ``cosim sweep``."""

from __future__ import annotations

from typing import Any

import streamlit as st


def config_button(config: dict[str, Any], key: str, label: str = "Export the sweep config (YAML)",
                  serving: bool = False) -> None:
    """A download of ``config`` (a sweep config; ``serving``: a serving config) as YAML, checked by cosim first (a
    problem is shown instead of the button)."""
    from cosim.api import INPUT_ERRORS, config_yaml

    command = "cosim serve" if serving else "cosim sweep"
    try:
        text = config_yaml(config, serving)
    except INPUT_ERRORS as exc:
        st.error(f"cannot export the config: {exc}")
        return
    name = str(config.get("name") or "sweep")
    st.download_button(label, text, file_name=f"{name}.yaml", mime="application/x-yaml", key=key,
                       help=f"run it with: {command} {name}.yaml")
    with st.expander(f"the {'serving' if serving else 'sweep'} config (YAML)"):
        st.code(text, language="yaml")
