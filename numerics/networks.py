"""Two-layer networks as arrays, validated, read from JSON/NPZ files, or drawn from a named target law.

A target is (a, W) with a in R^N, W in R^{N x d}: f_N(x) = (1/N) sum_i a_i sigma(<w_i, x>).
A compressed (student) network is (b, V), b in R^M, V in R^{M x d}: g(x) = sum_j b_j sigma(<v_j, x>).

File format (both readers are whitelists: no pickle, no eval):

* JSON: ``{"activation": "relu", "target": {"a": [...], "W": [[...], ...]},
  "student": {"b": [...], "V": [[...], ...]}}`` (``activation`` optional, default ``relu``).
* NPZ: arrays named ``a``, ``W``, ``b``, ``V`` and optionally a 0-d string array ``activation``
  (written e.g. by ``numpy.savez(path, a=a, W=W, b=b, V=V, activation=np.array("relu"))``).

Both readers bound what a file may cost before reading it (theory.limits: path length, regular files
only, 64 MiB of JSON nested at most 64 deep, the sizes an NPZ declares in its zip directory and .npy
headers) and refuse values that are not real weights: booleans, complex numbers, strings, entries above
MAX_WEIGHT_ABS and neurons whose scale exceeds MAX_NEURON_SCALE (beyond which the loss overflows).

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
import math
import numbers
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theory import limits
from theory.activations import Activation, get_activation
from theory.errors import InputError
from theory.limits import MAX_NEURON_SCALE, MAX_WEIGHT_ABS, shown, shown_path


def _bad_entry(values: object, ndim: int) -> tuple[str, str] | None:
    """(what, where) of the first entry of a nested list that is not a real number (a boolean, a string,
    a complex number, None, ...), or None.  Rows that are not lists are left to the shape checks."""
    rows = values if ndim == 2 else (values,)
    for i, row in enumerate(rows):
        if not isinstance(row, (list, tuple)):
            continue
        for j, x in enumerate(row):
            t = type(x)
            if t is float or t is int:
                continue
            where = f"[{i}][{j}]" if ndim == 2 else f"[{j}]"
            if isinstance(x, (bool, np.bool_)):
                return "a boolean (true/false would be read as 1/0)", where
            if isinstance(x, numbers.Real):
                continue
            if isinstance(x, numbers.Complex):
                return "a complex number (the loss is defined for real weights)", where
            if isinstance(x, (list, tuple, np.ndarray)):
                continue  # a deeper nesting: the shape check names it
            return f"{'a string' if isinstance(x, str) else type(x).__name__}, not a number", where
    return None


def _real_array(values: object, argument: str, ndim: int, expected: str) -> np.ndarray:
    """``values`` as a float64 array after refusing booleans, complex numbers, strings and other non-reals
    (numpy would turn True into 1.0 and drop imaginary parts with only a warning)."""
    if not isinstance(values, np.ndarray):
        if isinstance(values, (list, tuple)):
            bad = _bad_entry(values, ndim)
            if bad is not None:
                raise InputError(argument, f"entry {bad[1]} is {bad[0]}; expected real numbers")
        try:
            values = np.asarray(values)
        except (TypeError, ValueError, OverflowError):
            raise InputError(argument, f"expected {expected}", got=shown(type(values).__name__)) from None
    kind = values.dtype.kind
    if kind == "b":
        raise InputError(argument, f"booleans are not weights (dtype {values.dtype}): expected real numbers")
    if kind == "c":
        raise InputError(argument, f"complex weights (dtype {values.dtype}) are not accepted: the loss is defined "
                                   f"for real weights and the imaginary parts would be dropped")
    if kind not in "iufO":
        raise InputError(argument, f"expected {expected}", got=f"dtype {values.dtype}")
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise InputError(argument, f"expected {expected} with |x| <= {MAX_WEIGHT_ABS:g}") from None


def row_norms(rows: np.ndarray) -> np.ndarray:
    """||row_i||_2 for every row (einsum: no N x d temporary, unlike np.linalg.norm)."""
    return np.sqrt(np.einsum("ij,ij->i", rows, rows))


def _check_values(arr: np.ndarray, argument: str) -> None:
    extremes = (float(arr.min()), float(arr.max()))  # two reductions, no temporaries; NaN propagates
    if not all(math.isfinite(v) for v in extremes):
        raise InputError(argument, "contains NaN or inf; weights must be finite")
    if max(abs(v) for v in extremes) > MAX_WEIGHT_ABS:
        big = np.abs(arr) > MAX_WEIGHT_ABS
        idx = np.unravel_index(int(np.argmax(big)), arr.shape)
        raise InputError(argument, f"entries must satisfy |x| <= {MAX_WEIGHT_ABS:g}, so that every computed value "
                                   f"stays finite; entry {list(map(int, idx))} is {float(arr[idx]):.3g}")


def as_vector(values: object, argument: str) -> np.ndarray:
    """A finite float64 vector of length >= 1 with |entries| <= MAX_WEIGHT_ABS, or InputError naming
    ``argument`` (booleans, complex numbers and strings are refused, not converted)."""
    arr = _real_array(values, argument, 1, "a list of real numbers")
    if arr.ndim != 1:
        raise InputError(argument, "expected a 1-d array", got=f"shape {arr.shape}")
    if arr.size == 0:
        raise InputError(argument, "needs at least one neuron (length >= 1)", got=0)
    _check_values(arr, argument)
    return arr


def as_matrix(values: object, argument: str) -> np.ndarray:
    """A finite float64 matrix with at least one row and one column and |entries| <= MAX_WEIGHT_ABS."""
    arr = _real_array(values, argument, 2, "a list of equal-length rows of real numbers")
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(argument, "expected a non-empty 2-d array (neurons x dimension)", got=f"shape {arr.shape}")
    _check_values(arr, argument)
    return arr


def _check_scales(coef: np.ndarray, rows: np.ndarray, coef_name: str, rows_name: str, act: Activation,
                  row_symbol: str) -> None:
    """Refuse a neuron whose scale max(|coef_i|, 1) ||row_i||^n exceeds MAX_NEURON_SCALE (theory.limits:
    beyond it Monte Carlo's 4th powers or the closed form's sums would overflow)."""
    n = int(act.degree)
    log_limit = math.log10(MAX_NEURON_SCALE)
    if n == 0:
        log_rows = np.zeros(rows.shape[0])
    else:
        with np.errstate(divide="ignore"):
            log_rows = n * np.log10(row_norms(rows))  # -inf for a zero row
        big = log_rows > log_limit
        if np.any(big):
            i = int(np.argmax(big))
            raise InputError(rows_name, f"row {i} has ||{row_symbol}||^{n} = 1e{log_rows[i]:.1f}, above the limit "
                                        f"{MAX_NEURON_SCALE:g} on a neuron's scale (beyond it the loss overflows)")
    log_scale = np.log10(np.maximum(np.abs(coef), 1.0)) + log_rows
    big = log_scale > log_limit
    if np.any(big):
        i = int(np.argmax(big))
        raise InputError(coef_name, f"neuron {i} has output scale |{coef_name[-1]}_i| ||{row_symbol}||^{n} = "
                                    f"1e{log_scale[i]:.1f}, above the limit {MAX_NEURON_SCALE:g} (beyond it the "
                                    f"loss overflows)")


def _check_zero_rows(arr: np.ndarray, name: str, act: Activation) -> None:
    if act.degree == 0 and np.any(row_norms(arr) == 0):
        raise InputError(name, "zero row: a degree-0 activation needs a direction for every neuron")


def validate_target(a, W, act: Activation) -> tuple[np.ndarray, np.ndarray]:
    """(a, W) as finite arrays of shapes (N,), (N, d); InputError names the offending array."""
    a_, W_ = as_vector(a, "target a"), as_matrix(W, "target W")
    if W_.shape[0] != a_.size:
        raise InputError("target W", f"expected {a_.size} rows (one per entry of a)", got=f"shape {W_.shape}")
    _check_zero_rows(W_, "target W", act)
    _check_scales(a_, W_, "target a", "target W", act, "w_i")
    return a_, W_


def validate_student(b, V, dim: int, act: Activation) -> tuple[np.ndarray, np.ndarray]:
    """(b, V) as finite arrays of shapes (M,), (M, dim); dimension mismatch is an InputError."""
    b_, V_ = as_vector(b, "student b"), as_matrix(V, "student V")
    if V_.shape[0] != b_.size:
        raise InputError("student V", f"expected {b_.size} rows (one per entry of b)", got=f"shape {V_.shape}")
    if V_.shape[1] != dim:
        raise InputError("student V", f"dimension mismatch: target has d = {dim} columns", got=f"{V_.shape[1]} columns")
    _check_zero_rows(V_, "student V", act)
    _check_scales(b_, V_, "student b", "student V", act, "v_j")
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


def _activation_name(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise InputError("weights", f"{shown(name)}: field 'activation' must be a string naming the activation, such as "
                                    f"\"relu\"", got=shown(type(value).__name__))
    if len(value) > limits.MAX_ACTIVATION_CHARS:
        raise InputError("weights", f"{shown(name)}: field 'activation' is {len(value)} characters long, above the limit "
                                    f"of {limits.MAX_ACTIVATION_CHARS}", got=shown(value))
    return value


# NPZ members read, with the field they hold and its number of dimensions (activation: a 0-d string).
_NPZ_FIELDS = {"a": ("target a", 1), "W": ("target W", 2), "b": ("student b", 1), "V": ("student V", 2),
               "activation": ("activation", 0)}
_NPZ_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, struct.error,
                    NotImplementedError, RuntimeError, KeyError)


def _check_zip_directory(fh, name: str) -> None:
    """Refuse an archive whose directory lists more than MAX_NPZ_MEMBERS members or is larger than
    MAX_NPZ_DIRECTORY_BYTES, from its end record, before zipfile parses the directory into objects."""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:  # not in this Python: zipfile's own parsing, bounded by the file size
        return
    try:
        rec = end_record(fh)
    except (OSError, struct.error, ValueError):
        rec = None
    if rec is None:
        raise InputError("weights", f"{shown(name)}: not a readable .npz archive (no zip directory)")
    members, size = rec[zipfile._ECD_ENTRIES_TOTAL], rec[zipfile._ECD_SIZE]
    if members > limits.MAX_NPZ_MEMBERS or size > limits.MAX_NPZ_DIRECTORY_BYTES:
        raise InputError("weights", f"{shown(name)}: the archive lists {members} members in a "
                                    f"{limits.size_text(size)} directory, above the limit of "
                                    f"{limits.MAX_NPZ_MEMBERS} members ({limits.size_text(limits.MAX_NPZ_DIRECTORY_BYTES)})")
    fh.seek(0)


def _npz_members(zf: zipfile.ZipFile, name: str) -> dict[str, zipfile.ZipInfo]:
    """The ZipInfo of each member read (a, W, b, V, activation), after checking the sizes its directory
    declares: each member's and their total uncompressed size, and its compression ratio."""
    infos = {i.filename: i for i in zf.infolist()}
    members = {}
    for key in _NPZ_FIELDS:
        info = infos.get(f"{key}.npy", infos.get(key))
        if info is not None:
            members[key] = info
    missing = [k for k in ("a", "W", "b", "V") if k not in members]
    if missing:
        raise InputError("weights", f"{shown(name)}: missing arrays {missing}; need a, W, b, V")
    total = 0
    for key, info in members.items():
        field = _NPZ_FIELDS[key][0]
        if info.flag_bits & 0x1:
            raise InputError("weights", f"{shown(name)}: member {info.filename!r} ({field}) is encrypted")
        total += info.file_size
        if total > limits.MAX_NPZ_UNCOMPRESSED_BYTES:
            declared = sum(i.file_size for i in members.values())
            raise InputError("weights", f"{shown(name)}: its arrays declare {limits.size_text(declared)} "
                                        f"uncompressed, above the limit of "
                                        f"{limits.size_text(limits.MAX_NPZ_UNCOMPRESSED_BYTES)} (nothing was inflated)")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.NPZ_RATIO_MIN_BYTES and ratio > limits.MAX_NPZ_RATIO:
            raise InputError("weights", f"{shown(name)}: member {info.filename!r} ({field}) inflates "
                                        f"{ratio:.0f}-fold to {limits.size_text(info.file_size)}, above the limit of "
                                        f"{limits.MAX_NPZ_RATIO}-fold for members over "
                                        f"{limits.size_text(limits.NPZ_RATIO_MIN_BYTES)} (a zip bomb? weights "
                                        f"compress a few-fold; save real weights with numpy.savez, uncompressed)")
    return members


def _npy_header(zf: zipfile.ZipFile, key: str, info: zipfile.ZipInfo, name: str) -> tuple[tuple, np.dtype]:
    """(shape, dtype) declared by a member's .npy header, read before any data; the declared data must be
    real numbers (a string for activation), of the expected number of dimensions and present in the member."""
    field, ndim = _NPZ_FIELDS[key]
    fmt = np.lib.format
    with zf.open(info) as fp:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fp, max_header_size=limits.MAX_NPY_HEADER_BYTES)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(fp, max_header_size=limits.MAX_NPY_HEADER_BYTES)
        else:
            raise InputError("weights", f"{shown(name)}: member {info.filename!r} uses .npy format version "
                                        f"{version[0]}.{version[1]}; expected 1.0 or 2.0")
        header_end = fp.tell()
    if dtype.hasobject:
        raise InputError(field, "holds Python objects (pickled data is never read)", got=f"dtype {dtype}")
    if key == "activation":
        if dtype.kind not in "US" or math.prod(shape) != 1 or dtype.itemsize > 4 * limits.MAX_ACTIVATION_CHARS:
            raise InputError("weights", f"{shown(name)}: field 'activation' must be a 0-d string array such as "
                                        f"numpy.array(\"relu\")", got=f"dtype {dtype}, shape {tuple(shape)}")
    else:
        if dtype.kind == "c":
            raise InputError(field, f"complex weights (dtype {dtype}) are not accepted: the loss is defined for real "
                                    f"weights and the imaginary parts would be dropped")
        if dtype.kind == "b":
            raise InputError(field, f"booleans are not weights (dtype {dtype}): expected real numbers")
        if dtype.kind not in "iuf":
            raise InputError(field, "expected real numbers", got=f"dtype {dtype}")
        if len(shape) != ndim:
            raise InputError(field, f"expected a {ndim}-d array", got=f"shape {tuple(shape)}")
    declared = math.prod(shape) * dtype.itemsize
    held = info.file_size - header_end
    if declared > held:
        raise InputError(field, f"the .npy header declares shape {tuple(shape)} of {dtype} "
                                f"({limits.size_text(declared)}) but the member holds only {limits.size_text(max(held, 0))}")
    return tuple(int(n) for n in shape), dtype


def _check_declared_job(shapes: dict[str, tuple], name: str) -> None:
    """Refuse, before reading any data, shapes that disagree or whose weights alone exceed the loss
    command's memory limit (numerics.loss_job.job_memory, MAX_JOB_BYTES)."""
    from numerics import loss_job

    (N,), (NW, d), (M,), (MV, dV) = shapes["a"], shapes["W"], shapes["b"], shapes["V"]
    if NW != N:
        raise InputError("target W", f"expected {N} rows (one per entry of a)", got=f"shape {shapes['W']}")
    if MV != M:
        raise InputError("student V", f"expected {M} rows (one per entry of b)", got=f"shape {shapes['V']}")
    if dV != d:
        raise InputError("student V", f"dimension mismatch: target has d = {d} columns", got=f"{dV} columns")
    need = sum(part[0] for part in loss_job.job_memory(N, M, d, (), drawn=False))
    if need > loss_job.MAX_JOB_BYTES:
        raise InputError("weights", f"{shown(name)}: N = {N}, M = {M}, d = {d} need about "
                                    f"{limits.size_text(need)} for the weights alone, above the loss job's limit of "
                                    f"{limits.size_text(loss_job.MAX_JOB_BYTES)} (nothing was read)")


def _read_npz(text: str, name: str) -> NetworkPair:
    fh, _ = limits.open_regular_file(text, "weights", limits.MAX_NPZ_FILE_BYTES)
    with fh:
        _check_zip_directory(fh, name)
        try:
            with zipfile.ZipFile(fh) as zf:
                members = _npz_members(zf, name)
                headers = {k: _npy_header(zf, k, info, name) for k, info in members.items()}
                _check_declared_job({k: h[0] for k, h in headers.items()}, name)
                arrays = {}
                for key, info in members.items():
                    with zf.open(info) as fp:
                        arrays[key] = np.lib.format.read_array(fp, allow_pickle=False,
                                                               max_header_size=limits.MAX_NPY_HEADER_BYTES)
        except InputError:
            raise
        except _NPZ_READ_ERRORS as err:
            raise InputError("weights", f"{shown(name)}: not a readable .npz archive ({type(err).__name__}: "
                                        f"{shown(err, 60)})") from None
    activation = "relu"
    if "activation" in arrays:
        value = arrays.pop("activation").reshape(()).item()
        if isinstance(value, bytes):
            try:
                value = value.decode("ascii")
            except UnicodeDecodeError:
                raise InputError("weights", f"{shown(name)}: field 'activation' is not ASCII text") from None
        activation = _activation_name(value, name)
    return NetworkPair.from_arrays(arrays["a"], arrays["W"], arrays["b"], arrays["V"], activation)


def _read_json(text: str, name: str) -> NetworkPair:
    doc = limits.read_bounded_json(text, "weights")
    if not isinstance(doc, dict):
        raise InputError("weights", f"{shown(name)}: expected a JSON object with 'target' and 'student'")
    target, student = _section(doc, "target", shown(name)), _section(doc, "student", shown(name))
    activation = _activation_name(doc.get("activation", "relu"), name)
    for key, part in (("a", target), ("W", target), ("b", student), ("V", student)):
        if key not in part:
            raise InputError("weights", f"{shown(name)}: missing array {key!r}")
    return NetworkPair.from_arrays(target["a"], target["W"], student["b"], student["V"], activation)


def read_network_file(path: str | Path) -> NetworkPair:
    """Read a NetworkPair from a ``.json`` or ``.npz`` file (format in the module docstring).

    Every limit of ``theory.limits`` applies: the path's length, a regular file only (never a device or
    FIFO), at most MAX_JSON_BYTES of JSON nested at most MAX_JSON_DEPTH deep; for NPZ the sizes each
    member declares (zip directory and .npy header) are checked before any data is inflated, against
    MAX_NPZ_UNCOMPRESSED_BYTES, MAX_NPZ_RATIO and the loss command's memory estimate.  Entries must be real
    numbers (no booleans, complex numbers or strings) with |x| <= MAX_WEIGHT_ABS and neuron scales
    <= MAX_NEURON_SCALE.  Unreadable or malformed files raise InputError with argument ``weights``; the
    message names the file and, for a bad array, its field: ``net.json: target a: ...``.
    """
    text = limits.check_path(path, "weights")
    p = Path(text)
    suffix = p.suffix.lower()
    if suffix not in (".json", ".npz"):
        raise InputError("weights", f"expected a .json or .npz file, got {shown_path(text)}")
    try:
        return _read_json(text, p.name) if suffix == ".json" else _read_npz(text, p.name)
    except InputError as err:
        if err.argument == "weights":
            raise
        # a field of the file (target a, student V, activation, ...): the argument at fault is the file
        raise InputError("weights", f"{shown(p.name)}: {err.argument}: {err.message}", got=err.got) from None


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
