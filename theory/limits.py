"""The toolkit's limits on input files and jobs, in one place, each with the reason for its value.

Every reader of a user-supplied file goes through ``read_bounded_bytes`` (or ``open_regular_file`` for
archives): the path is bounded before the filesystem is touched, only a regular file is read (never a
device, FIFO or directory: ``/dev/zero`` would never end), its size is checked before reading and at
most ``max_bytes`` are read.  JSON is parsed by ``loads_bounded_json``, which refuses nesting deeper
than the formats need.  Every refusal is an ``InputError`` naming the argument, one line, and never
echoes more than ``SHOWN_CHARS`` characters of what it was given.

Examples
--------
>>> shown("x" * 100_000)[-30:]
'xxxxxxx... (100000 characters)'
>>> len(shown("x" * 100_000)), len(shown_path("x" * 100_000))
(71, 225)
>>> loads_bounded_json('{"frame": [[1, 0]]}', "frame", max_depth=3)
{'frame': [[1, 0]]}
>>> loads_bounded_json("[" * 100_000, "frame")
Traceback (most recent call last):
...
theory.errors.InputError: argument frame: JSON nested more than 64 levels deep (the toolkit's formats need at most 4)
"""

from __future__ import annotations

import json
import math
import os
import stat
from typing import Any, BinaryIO

from theory.errors import InputError

# -- paths and messages ------------------------------------------------------------------------------
# Longest path accepted, in characters: Linux's PATH_MAX (4096 bytes); a longer name cannot be opened anyway.
MAX_PATH_CHARS = 4096
# At most this many characters of a path or value are echoed in a message (a 100 kB name stays one short line;
# with the "... (N characters)" tail its repr stays under theory.errors' own 80-character echo limit).
SHOWN_CHARS = 48
# At most this many characters of a file path are quoted inside a message (real paths fit; a 100 kB one is cut).
SHOWN_PATH_CHARS = 200

# -- JSON files (loss --weights, conjecture --frame) ---------------------------------------------------
# Largest JSON file read: 64 MiB parse into at most ~1.5 GiB of Python objects (empty lists being the worst case).
MAX_JSON_BYTES = 64 * 2**20
# Deepest JSON nesting accepted: weights files need 4 levels ({"target": {"W": [[...]]}}); 64 leaves room
# for metadata and stays far below Python's recursion limit (json.loads of 100,000 '[' raises RecursionError).
MAX_JSON_DEPTH = 64
# Depth the toolkit's own JSON formats use (for the message).
FORMAT_JSON_DEPTH = 4

# -- NPZ archives (loss --weights) -------------------------------------------------------------------
# Largest .npz file opened: 2 GiB, the loss job's memory limit (numerics.loss_job.MAX_JOB_BYTES); weights
# stored uncompressed in a larger file could not be used by any job.
MAX_NPZ_FILE_BYTES = 2 * 2**30
# Most uncompressed bytes read from the members an .npz reader uses, in total: the same 2 GiB (a 7.8 MB
# zip bomb declaring 7.45 GiB is refused from its directory, before anything is inflated).
MAX_NPZ_UNCOMPRESSED_BYTES = 2 * 2**30
# Most members an .npz may list: a weights file has 5 (a, W, b, V, activation); the zip directory is parsed
# into Python objects (~0.5 kB each), so a directory of millions of entries is refused before it is read.
MAX_NPZ_MEMBERS = 64
# Largest zip directory read (zipfile reads it whole, whatever the member count claims): 64 entries of <= 16 KiB.
MAX_NPZ_DIRECTORY_BYTES = 2**20
# A member inflating more than this factor (when larger than NPZ_RATIO_MIN_BYTES) is refused: float
# weights compress by a few-fold at most; a 1000-fold member is one repeated byte, the signature of a zip bomb.
MAX_NPZ_RATIO = 100
# Members below this size are exempt from the ratio test (small arrays of zeros compress a lot, harmlessly).
NPZ_RATIO_MIN_BYTES = 16 * 2**20
# Largest .npy header read (numpy's own default for allow_pickle=False readers).
MAX_NPY_HEADER_BYTES = 10_000
# Longest activation name in a weights file (the command line takes at most 1000 characters too).
MAX_ACTIVATION_CHARS = 1000

# -- weight values -------------------------------------------------------------------------------------
# Largest |entry| of a, W, b, V: squares stay below 1e200, so a row norm over any d (< 1e100 columns) is finite.
MAX_WEIGHT_ABS = 1e100
# Largest neuron scale max(|a_i|, 1) ||w_i||^n (n the activation's degree, likewise for b_j, v_j): Monte Carlo
# raises f - g to the 4th power, and (M 1e60 |z|^3)^4 summed over 1e8 samples, M <= 1e8, |z| <= 40, stays
# below 1.8e308; the closed form's terms (<= (M 1e60)^2 kappa(1)) and their rounding bounds stay finite too.
MAX_NEURON_SCALE = 1e60

# -- user frames (conjecture --frame) -------------------------------------------------------------------
# Most rows / columns of a user frame: 16 times the conjecture command's M, d <= 64; the duplicate-row test
# forms the M x M Gram matrix.
MAX_FRAME_ROWS = 1024
MAX_FRAME_DIM = 1024
# Two frame rows repeat when <v_i, v_j> > 1 - DUPLICATE_ROW_TOL: the kernel matrix K then has two equal rows
# (cond K ~ 1e307) and the optimal output weights are not defined.  Antipodal rows (<v_i, v_j> = -1) are kept.
DUPLICATE_ROW_TOL = 1e-12

# -- sweeps (etf-sweep, conjecture, verify) ---------------------------------------------------------------
# Seconds to wait for a Dask scheduler to answer, by default and at most/least (--connect-timeout).
DEFAULT_CONNECT_TIMEOUT_S = 5
MIN_CONNECT_TIMEOUT_S = 1
MAX_CONNECT_TIMEOUT_S = 600
# Hard bound on --workers with a scheduler (its workers are the cluster's; the value is ignored then).
MAX_WORKERS_ANY = 1024


def machine_cores() -> int:
    """The cores of this machine (``os.cpu_count()``, 1 when unknown): the most local workers a sweep starts."""
    return os.cpu_count() or 1


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``str(value)``, cut to ``limit`` characters with the full length said (messages stay one short line)."""
    s = str(value)
    s = s.replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} characters)"


def shown_path(path: object) -> str:
    """A path as quoted in a message: repr of at most SHOWN_PATH_CHARS characters."""
    return repr(shown(os.fspath(path) if isinstance(path, (str, os.PathLike)) else path, SHOWN_PATH_CHARS))


def size_text(n: float) -> str:
    """Bytes in words: '512 B', '64 MiB', '7.45 GiB', '7.3e+03 TiB'."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            v = n / scale
            return f"{v:.3g} {unit}" if v < 1e4 else f"{v:.2g} {unit}"
    return f"{int(n)} B"


def check_path(path: object, argument: str) -> str:
    """``path`` as a str, refused (InputError naming ``argument``) when it is not a path, is empty, holds a
    NUL byte or is longer than MAX_PATH_CHARS; checked before the filesystem is touched."""
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(argument, "expected a file path", got=shown(type(path).__name__))
    text = os.fspath(path)
    if isinstance(text, bytes):
        try:
            text = os.fsdecode(text)
        except UnicodeDecodeError:
            raise InputError(argument, "the file name is not valid text", got=shown(text)) from None
    if not text:
        raise InputError(argument, "expected a file path, got an empty string")
    if len(text) > MAX_PATH_CHARS or len(os.fsencode(text)) > MAX_PATH_CHARS:
        raise InputError(argument, f"the file name is {len(text)} characters long, above the limit of "
                                   f"{MAX_PATH_CHARS} (PATH_MAX)", got=shown(text))
    if "\0" in text:
        raise InputError(argument, "the file name contains a NUL byte", got=shown(text))
    return text


def open_regular_file(path: object, argument: str, max_bytes: int) -> tuple[BinaryIO, int]:
    """Open ``path`` for binary reading and return (file, size): only a regular file of at most ``max_bytes``.

    The file is opened without blocking (a FIFO with no writer does not hang) and checked with ``fstat`` on
    the open descriptor (no race between the check and the read): a device such as /dev/zero, a FIFO, a
    socket or a directory is refused, as is a file larger than ``max_bytes``.
    """
    text = check_path(path, argument)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(text, flags)
    except FileNotFoundError:
        raise InputError(argument, f"file not found: {shown_path(text)}") from None
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise InputError(argument, f"cannot open the file {shown_path(text)}: {why}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a character device" if stat.S_ISCHR(st.st_mode)
                    else "a block device" if stat.S_ISBLK(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                    else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise InputError(argument, f"expected a regular file; {shown_path(text)} is {kind}")
        if st.st_size > max_bytes:
            raise InputError(argument, f"the file {shown_path(text)} is {size_text(st.st_size)}, above the limit "
                                       f"of {size_text(max_bytes)}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return fh, int(st.st_size)


def read_bounded_bytes(path: object, argument: str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` (see ``open_regular_file``); a file that
    grows past the limit while being read is refused too."""
    fh, _ = open_regular_file(path, argument, max_bytes)
    try:
        with fh:
            data = fh.read(max_bytes + 1)
    except OSError as err:
        raise InputError(argument, f"cannot read the file {shown_path(path)}: "
                                   f"{err.strerror or type(err).__name__}") from None
    if len(data) > max_bytes:
        raise InputError(argument, f"the file {shown_path(path)} is larger than the limit of {size_text(max_bytes)}")
    return data


def read_bounded_text(path: object, argument: str, max_bytes: int = MAX_JSON_BYTES) -> str:
    """``read_bounded_bytes`` decoded as UTF-8 (a leading byte-order mark is dropped)."""
    data = read_bounded_bytes(path, argument, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(argument, f"{shown_path(path)} is not a UTF-8 text file (byte {err.start}); "
                                   f"expected JSON") from None


def json_depth_exceeds(obj: Any, max_depth: int) -> bool:
    """Whether ``obj`` (parsed JSON) nests lists/objects more than ``max_depth`` levels deep (iterative,
    stops at the first container past the limit)."""
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (list, dict)):
                stack.append((child, depth + 1))
    return False


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def loads_bounded_json(text: str, argument: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads(text)`` with nesting bounded by ``max_depth`` and NaN/Infinity tokens refused; any
    failure is an InputError naming ``argument`` (never a RecursionError or a traceback)."""
    too_deep = InputError(argument, f"JSON nested more than {max_depth} levels deep (the toolkit's formats "
                                    f"need at most {FORMAT_JSON_DEPTH})")
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise too_deep from None
    except json.JSONDecodeError as err:
        raise InputError(argument, f"not valid JSON ({shown(err.msg, 60)} at line {err.lineno} column "
                                   f"{err.colno})") from None
    except ValueError as err:  # a NaN / Infinity token, or a number literal too long for int()
        raise InputError(argument, f"not valid JSON ({shown(err, 60)})") from None
    if isinstance(doc, (list, dict)) and json_depth_exceeds(doc, max_depth):
        raise too_deep
    return doc


def read_bounded_json(path: object, argument: str, *, max_bytes: int = MAX_JSON_BYTES,
                      max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Read and parse a JSON file under every limit above (size, regular file, UTF-8, depth)."""
    return loads_bounded_json(read_bounded_text(path, argument, max_bytes), argument, max_depth)


def check_finite_seconds(value: object, argument: str, lo: float, hi: float) -> float:
    """A finite number of seconds in [lo, hi] (a bool or a non-number is refused)."""
    if isinstance(value, bool):
        raise InputError(argument, f"expected a number of seconds from {lo:g} to {hi:g}", got=value)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(argument, f"expected a number of seconds from {lo:g} to {hi:g}", got=shown(value)) from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise InputError(argument, f"expected a number of seconds from {lo:g} to {hi:g}", got=shown(value))
    return x


