"""A training engine for two-layer networks: numpy, analytic gradients, full-batch Adam or gradient descent.

    f(x) = sum_j a_j sigma(w_j . x + b_j),   L = (1 / 2n) sum_k (f(x_k) - y_k)^2

(no output bias).  Parameters are drawn i.i.d. N(0, scale^2) from the given seed, so a run is reproducible
bit for bit on one machine.  ``train`` records the parameters at ``record`` evenly spaced steps.
``taylor_slopes`` is the gradient check: for a random direction v, |L(t + h v) - L(t) - h <grad, v>| must fall
like h^2 (slope 2 in log-log), which it does only if the gradient is right.

Examples
--------
>>> import numpy as np
>>> from theory.smooth_activations import get_smooth_activation
>>> rng = np.random.default_rng(0); X = rng.uniform(-1, 1, (20, 3)); y = np.sin(X).sum(1)
>>> p = init_params(rng, 3, 8, 0.5)
>>> s = taylor_slopes(p, X, y, get_smooth_activation("tanh"), rng)
>>> bool(min(s) > 1.9)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


@dataclass(frozen=True)
class Params:
    """W (m x d), b (m), a (m)."""

    W: np.ndarray
    b: np.ndarray
    a: np.ndarray

    def flat(self) -> np.ndarray:
        return np.concatenate([self.W.ravel(), self.b, self.a])

    @staticmethod
    def unflat(v: np.ndarray, m: int, d: int) -> "Params":
        return Params(v[:m * d].reshape(m, d), v[m * d:m * d + m], v[m * d + m:])

    def input_weights(self) -> np.ndarray:
        """(w_j, b_j) rows, m x (d + 1): the orientations the condensation claim is about."""
        return np.hstack([self.W, self.b[:, None]])


@dataclass(frozen=True)
class TrainingRun:
    """Recorded steps, parameters at those steps, and the loss at each recorded step."""

    steps: tuple[int, ...]
    params: tuple[Params, ...]
    losses: tuple[float, ...]


def init_params(rng: np.random.Generator, d: int, m: int, scale: float) -> Params:
    """All parameters i.i.d. N(0, scale^2): W, then b, then a."""
    return Params(rng.normal(0.0, scale, (m, d)), rng.normal(0.0, scale, m), rng.normal(0.0, scale, m))


def loss_and_grad(p: Params, X: np.ndarray, y: np.ndarray, act) -> tuple[float, Params]:
    """L and its analytic gradient (see the module docstring)."""
    Z = X @ p.W.T + p.b
    H = act.value(Z)
    r = (H @ p.a - y) / len(y)
    G = (r[:, None] * act.derivative(Z)) * p.a
    return 0.5 * len(y) * float(r @ r), Params(G.T @ X, G.sum(0), H.T @ r)


def taylor_slopes(p: Params, X, y, act, rng, hs=(1e-2, 5e-3, 2.5e-3, 1.25e-3)) -> list[float]:
    """log2 ratios of successive Taylor remainders |L(p + h v) - L(p) - h g.v| as h halves (2 when g is right)."""
    m, d = p.W.shape
    L0, g = loss_and_grad(p, X, y, act)
    v = rng.standard_normal(p.flat().size)
    v *= np.linalg.norm(p.flat()) / np.linalg.norm(v)
    rem = [abs(loss_and_grad(Params.unflat(p.flat() + h * v, m, d), X, y, act)[0] - L0 - h * g.flat() @ v) for h in hs]
    return [float(np.log2(rem[i] / rem[i + 1])) for i in range(len(rem) - 1)]


def train(p: Params, X: np.ndarray, y: np.ndarray, act, *, steps: int, lr: float, optimizer: str = "adam",
          record: int = 10, stop_preactivation: float | None = None) -> TrainingRun:
    """Full-batch training from ``p``; parameters recorded at ``record`` evenly spaced steps (and step 0).
    With ``stop_preactivation`` = c, training stops at the first step t >= 1 where max_{j,k} |w_j . x_k + b_j|
    >= c, which is then recorded as the last step (the end of the small pre-activation stage)."""
    m, d = p.W.shape
    theta = p.flat().copy()
    mom = np.zeros_like(theta)
    vel = np.zeros_like(theta)
    marks = sorted({0, *np.linspace(0, steps, record + 1).astype(int).tolist()})
    out_steps, out_params, out_losses = [], [], []
    for t in range(steps + 1):
        cur = Params.unflat(theta, m, d)
        L, g = loss_and_grad(cur, X, y, act)
        stop = (stop_preactivation is not None and t >= 1
                and float(np.abs(X @ cur.W.T + cur.b).max()) >= stop_preactivation)
        if t in marks or stop:
            out_steps.append(t)
            out_params.append(Params(cur.W.copy(), cur.b.copy(), cur.a.copy()))
            out_losses.append(L)
        if t == steps or stop:
            break
        gv = g.flat()
        if optimizer == "gd":
            theta -= lr * gv
            continue
        b1, b2 = ADAM_BETAS
        mom = b1 * mom + (1 - b1) * gv
        vel = b2 * vel + (1 - b2) * gv * gv
        theta -= lr * (mom / (1 - b1 ** (t + 1))) / (np.sqrt(vel / (1 - b2 ** (t + 1))) + ADAM_EPS)
    return TrainingRun(tuple(out_steps), tuple(out_params), tuple(out_losses))
