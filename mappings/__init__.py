"""Mapping spaces and search kernels (tilings, loop orders, placement)."""
