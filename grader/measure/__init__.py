"""Measurement: machine facts, timing, memory, calibration."""
