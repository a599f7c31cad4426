"""Objectives a mapping search minimises."""

OBJECTIVES = ("latency", "energy", "edp")
OBJECTIVE_CODES = {name: i for i, name in enumerate(OBJECTIVES)}


def objective_code(name: str) -> int:
    """The kernel code of an objective name; ValueError lists the allowed names."""
    try:
        return OBJECTIVE_CODES[name]
    except KeyError:
        raise ValueError(f"unknown objective {name!r}; allowed: {', '.join(OBJECTIVES)}") from None
