"""Calibration: measure a board, fit model parameters to the measurements, validate predictions against them."""
