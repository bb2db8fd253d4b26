"""Smooth activations for training-dynamics claims: a whitelist, each with its sympy expression and numpy
value and derivative (the derivative is written out by hand and checked against sympy in the tests).

    tanh          tanh(t)                 xtanh    t tanh(t)  (also 'x*tanh(x)')
    x2tanh        t^2 tanh(t)  ('x^2*tanh(x)')       sigmoid  1 / (1 + e^-t)       softplus  log(1 + e^t)

These are not part of ``theory.activations`` (whose activations are positively homogeneous or piecewise
polynomial, for the compression kernels); ``get_smooth_activation`` is used by the condensation claim only.

Examples
--------
>>> get_smooth_activation("x*tanh(x)").name
'xtanh'
>>> import numpy as np; float(get_smooth_activation("softplus").derivative(np.array(0.0)))
0.5
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

from theory.activations import T
from theory.errors import InputError


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def _dtanh(t):
    return 1.0 - np.tanh(t) ** 2


@dataclass(frozen=True)
class SmoothActivation:
    """A smooth activation: name, sympy expression in ``theory.activations.T``, numpy value and derivative."""

    name: str
    expr: sp.Expr
    value: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]


SMOOTH = {
    "tanh": SmoothActivation("tanh", sp.tanh(T), np.tanh, _dtanh),
    "xtanh": SmoothActivation("xtanh", T * sp.tanh(T), lambda t: t * np.tanh(t),
                              lambda t: np.tanh(t) + t * _dtanh(t)),
    "x2tanh": SmoothActivation("x2tanh", T**2 * sp.tanh(T), lambda t: t * t * np.tanh(t),
                               lambda t: 2 * t * np.tanh(t) + t * t * _dtanh(t)),
    "sigmoid": SmoothActivation("sigmoid", 1 / (1 + sp.exp(-T)), _sigmoid, lambda t: _sigmoid(t) * (1 - _sigmoid(t))),
    "softplus": SmoothActivation("softplus", sp.log(1 + sp.exp(T)), lambda t: np.logaddexp(0.0, t), _sigmoid),
}
ALIASES = {"x*tanh(x)": "xtanh", "x^2*tanh(x)": "x2tanh", "x**2*tanh(x)": "x2tanh", "t*tanh(t)": "xtanh",
           "t^2*tanh(t)": "x2tanh"}


def get_smooth_activation(spec: object) -> SmoothActivation:
    """The smooth activation spelled ``spec`` (a name of SMOOTH or an alias); InputError otherwise."""
    key = spec.strip().lower().replace(" ", "") if isinstance(spec, str) and len(spec) <= 100 else None
    key = ALIASES.get(key, key)
    if key not in SMOOTH:
        raise InputError("activation", f"unknown smooth activation; valid: {', '.join(SMOOTH)}", got=spec)
    return SMOOTH[key]
