"""Calibration against real hardware: board measurements, fitted overlays, held-out validation."""
