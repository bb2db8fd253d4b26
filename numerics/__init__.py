"""Numerics layer: exact finite-N losses, high-precision and interval checks of the predicted rates.

Imports ``theory`` only.
"""
