"""Two-layer networks as arrays, validated, read from JSON/NPZ files, or drawn from a named target law.

A target is (a, W) with a in R^N, W in R^{N x d}: f_N(x) = (1/N) sum_i a_i sigma(<w_i, x>).
A compressed (student) network is (b, V), b in R^M, V in R^{M x d}: g(x) = sum_j b_j sigma(<v_j, x>).

File format (both readers are whitelists: no pickle, no eval):

* JSON: ``{"activation": "relu", "target": {"a": [...], "W": [[...], ...]},
  "student": {"b": [...], "V": [[...], ...]}}`` (``activation`` optional, default ``relu``).
* NPZ: arrays named ``a``, ``W``, ``b``, ``V`` and optionally a 0-d string array ``activation``
  (written e.g. by ``numpy.savez(path, a=a, W=W, b=b, V=V, activation=np.array("relu"))``).

References: MODEL.md section 1.

Examples
--------
>>> import numpy as np
>>> net = NetworkPair.from_arrays(np.ones(3), np.eye(3), [0.5], [[1.0, 0.0, 0.0]])
>>> net.n_target, net.n_student, net.dim
(3, 1, 3)
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theory.activations import Activation, get_activation
from theory.errors import InputError


def as_vector(values: object, argument: str) -> np.ndarray:
    """A finite float64 vector of length >= 1, or InputError naming ``argument``."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(argument, "expected a list of real numbers", got=type(values).__name__) from None
    if arr.ndim != 1:
        raise InputError(argument, "expected a 1-d array", got=f"shape {arr.shape}")
    if arr.size == 0:
        raise InputError(argument, "needs at least one neuron (length >= 1)", got=0)
    if not np.all(np.isfinite(arr)):
        raise InputError(argument, "contains NaN or inf; weights must be finite")
    return arr


def as_matrix(values: object, argument: str) -> np.ndarray:
    """A finite float64 matrix with at least one row and one column."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(argument, "expected a list of equal-length rows of real numbers",
                         got=type(values).__name__) from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(argument, "expected a non-empty 2-d array (neurons x dimension)", got=f"shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(argument, "contains NaN or inf; weights must be finite")
    return arr


def _check_zero_rows(arr: np.ndarray, name: str, act: Activation) -> None:
    if act.degree == 0 and np.any(np.linalg.norm(arr, axis=1) == 0):
        raise InputError(name, "zero row: a degree-0 activation needs a direction for every neuron")


def validate_target(a, W, act: Activation) -> tuple[np.ndarray, np.ndarray]:
    """(a, W) as finite arrays of shapes (N,), (N, d); InputError names the offending array."""
    a_, W_ = as_vector(a, "target a"), as_matrix(W, "target W")
    if W_.shape[0] != a_.size:
        raise InputError("target W", f"expected {a_.size} rows (one per entry of a)", got=f"shape {W_.shape}")
    _check_zero_rows(W_, "target W", act)
    return a_, W_


def validate_student(b, V, dim: int, act: Activation) -> tuple[np.ndarray, np.ndarray]:
    """(b, V) as finite arrays of shapes (M,), (M, dim); dimension mismatch is an InputError."""
    b_, V_ = as_vector(b, "student b"), as_matrix(V, "student V")
    if V_.shape[0] != b_.size:
        raise InputError("student V", f"expected {b_.size} rows (one per entry of b)", got=f"shape {V_.shape}")
    if V_.shape[1] != dim:
        raise InputError("student V", f"dimension mismatch: target has d = {dim} columns", got=f"{V_.shape[1]} columns")
    _check_zero_rows(V_, "student V", act)
    return b_, V_


@dataclass(frozen=True)
class NetworkPair:
    """A target (a, W) and a compressed network (b, V) sharing one activation and input dimension."""

    a: np.ndarray
    W: np.ndarray
    b: np.ndarray
    V: np.ndarray
    activation: Activation

    @classmethod
    def from_arrays(cls, a, W, b, V, activation: str | Activation = "relu") -> "NetworkPair":
        """Validate shapes and finiteness; InputError names the offending array."""
        act = get_activation(activation) if isinstance(activation, str) else activation
        a_, W_ = validate_target(a, W, act)
        b_, V_ = validate_student(b, V, W_.shape[1], act)
        return cls(a_, W_, b_, V_, act)

    @property
    def n_target(self) -> int:
        return int(self.a.size)

    @property
    def n_student(self) -> int:
        return int(self.b.size)

    @property
    def dim(self) -> int:
        return int(self.W.shape[1])


def _section(doc: dict, key: str, path: str) -> dict:
    part = doc.get(key)
    if not isinstance(part, dict):
        raise InputError("weights", f"{path}: expected an object {key!r} with its arrays", got=type(part).__name__)
    return part


def read_network_file(path: str | Path) -> NetworkPair:
    """Read a NetworkPair from a ``.json`` or ``.npz`` file (format in the module docstring).

    Unreadable or malformed files raise InputError (argument ``weights``).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("weights", "file not found or not a regular file", got=str(p))
    suffix = p.suffix.lower()
    if suffix == ".json":
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError("weights", f"{p.name}: not valid JSON ({type(err).__name__})", got=str(p)) from None
        if not isinstance(doc, dict):
            raise InputError("weights", f"{p.name}: expected a JSON object with 'target' and 'student'")
        target, student = _section(doc, "target", p.name), _section(doc, "student", p.name)
        activation = doc.get("activation", "relu")
        for key, part in (("a", target), ("W", target), ("b", student), ("V", student)):
            if key not in part:
                raise InputError("weights", f"{p.name}: missing array {key!r}")
        return NetworkPair.from_arrays(target["a"], target["W"], student["b"], student["V"], activation)
    if suffix == ".npz":
        try:
            with np.load(p, allow_pickle=False) as data:
                missing = [k for k in ("a", "W", "b", "V") if k not in data.files]
                if missing:
                    raise InputError("weights", f"{p.name}: missing arrays {missing}; need a, W, b, V")
                arrays = {k: np.array(data[k]) for k in ("a", "W", "b", "V")}
                activation = str(data["activation"]) if "activation" in data.files else "relu"
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            raise InputError("weights", f"{p.name}: not a readable .npz archive ({type(err).__name__})",
                             got=str(p)) from None
        return NetworkPair.from_arrays(arrays["a"], arrays["W"], arrays["b"], arrays["V"], activation)
    raise InputError("weights", "expected a .json or .npz file", got=str(p))


def simplex_etf_rows(M: int, d: int) -> np.ndarray:
    """The simplex ETF of ``theory.etf.simplex_etf`` (same rows, same Helmert basis) in float64 directly.

    Row j has coordinate k - 1 (k = 1..M-1) equal to sqrt(M / (M - 1)) h_k[j], with the Helmert vector
    h_k = (1, ..., 1, -k, 0, ..., 0) / sqrt(k (k + 1)); columns M-1..d-1 are zero.  Each entry is a few
    float operations (within 2 ulps of the sympy value), so M in the thousands costs milliseconds, where
    the exact sympy construction grows like M^3 (a minute at M = 80).

    >>> V = simplex_etf_rows(4, 5)
    >>> bool(np.allclose(V @ V.T, (4 * np.eye(4) - 1) / 3))
    True
    """
    if isinstance(M, bool) or not isinstance(M, int) or M < 1:
        raise InputError("M", "expected an integer >= 1", got=M)
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise InputError("d", "expected an integer >= 1", got=d)
    if M > d + 1:
        raise InputError("M", f"the simplex ETF needs M <= d + 1 = {d + 1}", got=M)
    V = np.zeros((M, d))
    if M == 1:
        V[0, 0] = 1.0
        return V
    k = np.arange(1, M, dtype=float)
    below = np.sqrt(M / ((M - 1) * k * (k + 1)))  # rows j < k
    at = -np.sqrt(M * k / ((M - 1) * (k + 1)))    # row j == k
    j = np.arange(M)[:, None]
    kk = np.arange(1, M)[None, :]
    V[:, : M - 1] = np.where(j < kk, below[None, :], np.where(j == kk, at[None, :], 0.0))
    return V


def write_network_file(path: str | Path, pair: NetworkPair) -> Path:
    """Write ``pair`` as JSON or NPZ (by suffix), in the format ``read_network_file`` reads."""
    p = Path(path)
    if p.suffix.lower() == ".npz":
        np.savez(p, a=pair.a, W=pair.W, b=pair.b, V=pair.V, activation=np.array(pair.activation.name))
    else:
        doc = {"activation": pair.activation.name,
               "target": {"a": pair.a.tolist(), "W": pair.W.tolist()},
               "student": {"b": pair.b.tolist(), "V": pair.V.tolist()}}
        p.write_text(json.dumps(doc), encoding="utf-8")
    return p
