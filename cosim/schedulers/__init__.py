"""SimPy schedulers for units that work concurrently (sub-batch interleaving, …)."""

import hw_models  # noqa: F401,E402  (sets Numba's kernel cache folder before the compiled schedules load)
