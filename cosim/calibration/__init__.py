"""Calibration: board measurements, parameter fits, overlays, validation and published validation sets."""
