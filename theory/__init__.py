"""Symbolic layer: activations, dual kernels, sphere averages, the mean-field objective.

``theory`` imports neither ``numerics`` nor ``conjecture``.
"""

from theory.errors import InputError

__all__ = ["InputError"]
