"""SimPy schedulers for units that work concurrently (sub-batch interleaving, …)."""
