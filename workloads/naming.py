"""'Did you mean' suggestions for unknown names (presets, workloads, parameter paths)."""

from __future__ import annotations

import difflib


def suggest(name: str, choices: list[str]) -> str:
    """A 'did you mean' fragment for an unknown name (choices as spelled, compared case-insensitively), or ''."""
    lowered = [c.lower() for c in choices]
    close = difflib.get_close_matches(name.lower(), lowered, n=3, cutoff=0.5)
    if not close and name:  # a short prefix ('H10') is too unlike the full name for difflib
        close = [c for c in lowered if c.startswith(name.lower())][:3]
    lookup = {c.lower(): c for c in choices}
    return f"did you mean {', '.join(repr(lookup[c]) for c in close)}? " if close else ""
