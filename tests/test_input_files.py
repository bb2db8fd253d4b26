"""Malicious, huge or nonsensical input files: ``twolayer loss --weights`` and ``twolayer conjecture --frame``.

Every case is a regression test of a defect: each must end with exit status 2, one line on stderr naming
the argument (weights, frame, or the field of the weights file), no traceback, within a bounded time.
Cases where memory matters (a .npy header declaring 10^12 floats, zip bombs) run in a subprocess capped
at 4 GiB of address space, so an attempt to allocate what the file declares fails the test instead of the
machine.  The malicious files are built in tmp_path and stay small (sparse files for the size limits).
"""

from __future__ import annotations

import io
import json
import os
import resource
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conjecture.command_line import main
from conjecture.frames import load_user_frame
from numerics.networks import NetworkPair, read_network_file, write_network_file
from theory import limits
from theory.errors import InputError

REPO = Path(__file__).resolve().parent.parent
TIME_LIMIT_S = 20  # every refusal (a subprocess includes the toolkit's import time, a few seconds)
MEMORY_CAP = 4 << 30


# -- helpers ------------------------------------------------------------------------------------------------

def _cli(capsys, *argv) -> tuple[int, str, str, float]:
    capsys.readouterr()
    start = time.perf_counter()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own one-line errors
        code = exc.code
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    return code, out, err, seconds


# Fields of a weights file: an error in one names the argument (weights), the file and the field.
FIELDS = {"target a", "target W", "student b", "student V"}


def _refused(result, argument: str, *needles: str) -> str:
    """Assert exit 2, one short line on stderr naming ``argument`` (for a field of a weights file: 'argument
    weights: FILE: FIELD: ...'), no traceback, within TIME_LIMIT_S."""
    code, out, err, seconds = result
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and out == ""
    if argument in FIELDS:
        assert "argument weights:" in lines[0] and f": {argument}: " in lines[0], lines[0]
    else:
        assert f"argument {argument}:" in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert len(lines[0]) < 600, len(lines[0])
    assert seconds < TIME_LIMIT_S, seconds
    return lines[0]


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _capped(tmp_path, *argv) -> tuple[int, str, str, float]:
    """``twolayer ARGV`` in a subprocess with RLIMIT_AS = 4 GiB (a real allocation of what a file declares fails)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    code = "import sys; from conjecture.command_line import main; sys.exit(main(sys.argv[1:]))"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=tmp_path, env=env,
                          preexec_fn=_cap_memory, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _npy_header(shape: tuple, descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.fixture
def arrays(rng):
    return {"a": rng.standard_normal(30), "W": rng.standard_normal((30, 4)), "b": rng.standard_normal(3),
            "V": rng.standard_normal((3, 4))}


def _json_doc(arrays, **changes) -> dict:
    doc = {"activation": "relu", "target": {"a": arrays["a"].tolist(), "W": arrays["W"].tolist()},
           "student": {"b": arrays["b"].tolist(), "V": arrays["V"].tolist()}}
    for key, value in changes.items():
        if key == "activation":
            doc["activation"] = value
        else:
            doc["target" if key in "aW" else "student"][key] = value
    return doc


def _write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _reference_value(arrays) -> float:
    from numerics.population_loss import exact_population_loss

    return exact_population_loss(arrays["a"], arrays["W"], arrays["b"], arrays["V"], "relu").value


def _loss_value(out: str) -> float:
    return json.loads(out)[0]["value"]


# -- legitimate files still work -------------------------------------------------------------------------------

def test_legitimate_weights_json_and_npz_still_work(tmp_path, capsys, arrays):
    expected = _reference_value(arrays)
    pair = NetworkPair.from_arrays(arrays["a"], arrays["W"], arrays["b"], arrays["V"], "relu")
    files = [write_network_file(tmp_path / "net.json", pair), write_network_file(tmp_path / "net.npz", pair)]
    np.savez_compressed(tmp_path / "packed.npz", activation=np.array("relu"), **arrays)  # deflated, a few-fold
    np.savez(tmp_path / "ints.npz", a=np.arange(1, 31), W=arrays["W"].astype(np.float32), b=arrays["b"],
             V=arrays["V"])  # integer and float32 arrays are real numbers too
    files += [tmp_path / "packed.npz", tmp_path / "ints.npz"]
    for path in files:
        code, out, err, seconds = _cli(capsys, "loss", "--weights", str(path), "--json")
        assert code == 0 and err == "", (path, err)
        value = _loss_value(out)
        if path.name == "ints.npz":
            assert np.isfinite(value) and value >= 0
        else:
            assert value == pytest.approx(expected, rel=1e-12)
    assert read_network_file(files[0]).activation.name == "relu"


def test_legitimate_frames_still_work(tmp_path):
    etf = np.array([[1.0, 0.0, 0.0], [-0.5, np.sqrt(3) / 2, 0.0], [-0.5, -np.sqrt(3) / 2, 0.0]])
    f = _write_json(tmp_path / "etf.json", {"frame": etf.tolist()})
    assert np.allclose(load_user_frame(f), etf)
    antipodal = _write_json(tmp_path / "antipodal.json", [[1, 0, 0], [-1, 0, 0], [0, 1, 0]])
    assert np.allclose(load_user_frame(antipodal)[0], -load_user_frame(antipodal)[1])  # antipodal rows are kept


def test_legitimate_antipodal_frame_runs_through_the_cli(tmp_path, capsys):
    f = _write_json(tmp_path / "antipodal.json", [[1, 0, 0], [-1, 0, 0], [0, 1, 0]])
    code, out, err, _ = _cli(capsys, "conjecture", "--frame", str(f), "--M", "3", "--d", "3", "--starts", "2",
                             "--polish-dps", "0", "--no-sdp", "--out", str(tmp_path / "out"),
                             "--store", str(tmp_path / "store"), "--quiet", "--json")
    assert code == 0, err
    cells = json.loads(out)["cells"]
    assert [(c["M"], c["d"]) for c in cells] == [(3, 3)]


# -- huge or malicious NPZ ----------------------------------------------------------------------------------------

def test_npz_header_declaring_1e12_floats_is_refused_before_allocating(tmp_path, arrays):
    path = tmp_path / "header.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.npy", _npy_header((10**12,)) + bytes(64))  # declares 8 TB, holds 64 bytes
        for key in ("W", "b", "V"):
            zf.writestr(f"{key}.npy", _npy(arrays[key]))
    assert path.stat().st_size < 10_000
    line = _refused(_capped(tmp_path, "loss", "--weights", str(path)), "target a",
                    "declares shape (1000000000000,)", "holds only 64 B")
    assert "MemoryError" not in line


def test_npz_zip_bomb_declaring_gigabytes_is_refused_from_the_directory(tmp_path, arrays):
    """A member whose directory entry declares 3.75 GiB (the 7.8 MB -> 7.45 GiB bomb, in a 2 kB file)."""
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in ("a", "W", "b", "V"):
            zf.writestr(f"{key}.npy", _npy(arrays[key]))
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the central directory's entries: name at +46, uncompressed size at +24
    while data[entry + 46:entry + 46 + 5] != b"W.npy":
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<L", data, entry + 24, 0xF000_0000)  # uncompressed size: 3.75 GiB
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).getinfo("W.npy").file_size == 0xF000_0000
    _refused(_capped(tmp_path, "loss", "--weights", str(path)), "weights",
             "declare 3.75 GiB uncompressed", "above the limit of 2 GiB", "nothing was inflated")


def test_npz_zip_bomb_of_zeros_is_refused_by_its_ratio(tmp_path, arrays):
    """192 MiB of zeros deflated to < 1 MB: refused from the sizes in its directory, before inflating."""
    path = tmp_path / "zeros.npz"
    rows = 192 * 2**20 // (8 * 4)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("W.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((rows, 4)))
            chunk = bytes(1 << 24)
            for _ in range(rows * 32 // len(chunk)):
                fh.write(chunk)
        for key in ("a", "b", "V"):
            zf.writestr(f"{key}.npy", _npy(arrays[key]))
    assert path.stat().st_size < 2 * 2**20
    _refused(_capped(tmp_path, "loss", "--weights", str(path)), "weights",
             "member 'W.npy' (target W) inflates", "-fold", "zip bomb")


def test_npz_with_a_huge_directory_is_refused_before_parsing_it(tmp_path, capsys, arrays):
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for key in ("a", "W", "b", "V"):
            zf.writestr(f"{key}.npy", _npy(arrays[key]))
        for i in range(limits.MAX_NPZ_MEMBERS + 10):
            zf.writestr(f"junk{i}.npy", b"")
    _refused(_cli(capsys, "loss", "--weights", str(path)), "weights",
             f"lists {limits.MAX_NPZ_MEMBERS + 14} members", f"limit of {limits.MAX_NPZ_MEMBERS} members")


def test_npz_file_larger_than_the_limit_is_refused_unread(tmp_path, capsys):
    path = tmp_path / "big.npz"
    with open(path, "wb") as fh:  # sparse: 3 GiB declared, nothing written
        fh.truncate(3 * 2**30)
    _refused(_cli(capsys, "loss", "--weights", str(path)), "weights", "is 3 GiB, above the limit of 2 GiB")


def test_npz_shapes_over_the_loss_memory_estimate_are_refused_before_reading(tmp_path, capsys, monkeypatch, rng):
    """The shapes the headers declare are checked against numerics.loss_cli's memory estimate first."""
    import numerics.loss_job

    np.savez(tmp_path / "wide.npz", a=rng.standard_normal(1000), W=rng.standard_normal((1000, 8)),
             b=np.ones(2), V=rng.standard_normal((2, 8)))
    monkeypatch.setattr(numerics.loss_job, "MAX_JOB_BYTES", 64 * 2**10)

    def no_data_read(*args, **kwargs):
        raise AssertionError("array data read before the memory check")

    monkeypatch.setattr(np.lib.format, "read_array", no_data_read)
    _refused(_cli(capsys, "loss", "--weights", str(tmp_path / "wide.npz")), "weights",
             "N = 1000, M = 2, d = 8", "for the weights alone", "nothing was read")


def test_npz_declared_shapes_that_disagree_are_refused_before_reading(tmp_path, capsys, arrays):
    np.savez(tmp_path / "rows.npz", a=arrays["a"][:29], W=arrays["W"], b=arrays["b"], V=arrays["V"])
    _refused(_cli(capsys, "loss", "--weights", str(tmp_path / "rows.npz")), "target W", "expected 29 rows")


def test_npz_object_arrays_are_never_unpickled(tmp_path, capsys, arrays):
    with zipfile.ZipFile(tmp_path / "obj.npz", "w") as zf:
        zf.writestr("a.npy", _npy_header((2,), "|O") + b"\x80\x04N.")  # an object header and a pickle
        for key in ("W", "b", "V"):
            zf.writestr(f"{key}.npy", _npy(arrays[key]))
    _refused(_cli(capsys, "loss", "--weights", str(tmp_path / "obj.npz")), "target a", "never read")


# -- huge or malicious JSON ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [100_000, 100])
def test_json_nested_deep_is_refused(tmp_path, capsys, depth):
    path = tmp_path / "deep.json"
    path.write_text("[" * depth + "]" * depth)
    _refused(_cli(capsys, "loss", "--weights", str(path)), "weights", "nested more than 64 levels")
    _refused(_cli(capsys, "conjecture", "--frame", str(path), "--out", str(tmp_path / "out")), "frame",
             "nested more than 64 levels")
    wrapped = tmp_path / "deep_in_object.json"
    wrapped.write_text('{"frame": ' + "[" * depth + "]" * depth + "}")
    _refused(_cli(capsys, "conjecture", "--frame", str(wrapped), "--out", str(tmp_path / "out")), "frame",
             "nested more than 64 levels")


def test_json_larger_than_64_mib_is_refused_unread(tmp_path, capsys):
    path = tmp_path / "big.json"
    with open(path, "wb") as fh:  # sparse
        fh.truncate(limits.MAX_JSON_BYTES + 1)
    _refused(_cli(capsys, "loss", "--weights", str(path)), "weights", "above the limit of 64 MiB")
    _refused(_cli(capsys, "conjecture", "--frame", str(path), "--out", str(tmp_path / "out")), "frame",
             "above the limit of 64 MiB")


def test_frame_from_a_character_device_is_refused_unread(tmp_path, capsys):
    """``conjecture --frame /dev/zero`` read zeros forever; here the same device (char 1:5) made in tmp_path."""
    zero = tmp_path / "zero.json"
    try:
        os.mknod(zero, 0o600 | __import__("stat").S_IFCHR, os.makedev(1, 5))
    except (PermissionError, OSError) as err:
        pytest.skip(f"cannot create a device node here: {err}")
    line = _refused(_cli(capsys, "conjecture", "--frame", str(zero), "--out", str(tmp_path / "out")), "frame")
    assert "expected a regular file; " in line and "is a character device" in line or "cannot open the file" in line
    line = _refused(_cli(capsys, "loss", "--weights", str(zero)), "weights")
    assert "character device" in line or "cannot open the file" in line


def test_frame_from_a_fifo_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "frame.json"
    os.mkfifo(fifo)  # no writer: a plain open() would block forever
    _refused(_cli(capsys, "conjecture", "--frame", str(fifo), "--out", str(tmp_path / "out")), "frame",
             "expected a regular file; ", "frame.json' is a FIFO")
    net = tmp_path / "net.npz"
    os.mkfifo(net)
    _refused(_cli(capsys, "loss", "--weights", str(net)), "weights", "is a FIFO")


def test_directory_is_refused(tmp_path, capsys):
    (tmp_path / "d.json").mkdir()
    _refused(_cli(capsys, "loss", "--weights", str(tmp_path / "d.json")), "weights", "is a directory")
    _refused(_cli(capsys, "conjecture", "--frame", str(tmp_path / "d.json"), "--out", str(tmp_path / "out")),
             "frame", "is a directory")


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_file_name_of_100_kb_is_refused_and_not_echoed(tmp_path, capsys, suffix):
    name = str(tmp_path / ("x" * 100_000)) + suffix
    line = _refused(_cli(capsys, "loss", "--weights", name), "weights", "characters long", "limit of 4096")
    assert len(line) < 300 and "x" * 100 not in line
    line = _refused(_cli(capsys, "conjecture", "--frame", name, "--out", str(tmp_path / "out")), "frame",
                    "limit of 4096")
    assert len(line) < 300 and "x" * 100 not in line


def test_file_name_component_too_long_for_the_filesystem(tmp_path, capsys):
    name = str(tmp_path / ("y" * 1000)) + ".json"  # under PATH_MAX, but one component over NAME_MAX
    line = _refused(_cli(capsys, "loss", "--weights", name), "weights", "cannot open the file", "File name too long")
    assert len(line) < 400 and "y" * 300 not in line


# -- nonsense in weights files ------------------------------------------------------------------------------------

def test_complex_npz_weights_are_refused_without_a_warning(tmp_path, capsys, arrays):
    np.savez(tmp_path / "complex.npz", a=arrays["a"] + 1e-3j, W=arrays["W"], b=arrays["b"], V=arrays["V"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: the refusal comes first
        line = _refused(_cli(capsys, "loss", "--weights", str(tmp_path / "complex.npz")), "target a",
                        "complex weights")
    assert "certified" not in line
    with pytest.raises(InputError, match="student V: complex"):
        NetworkPair.from_arrays(arrays["a"], arrays["W"], arrays["b"], arrays["V"].astype(complex))


@pytest.mark.parametrize("fmt", ["json", "npz"])
def test_weights_of_1e308_are_refused(tmp_path, capsys, arrays, fmt):
    huge = np.full(30, 1e308)
    if fmt == "json":
        path = _write_json(tmp_path / "huge.json", _json_doc(arrays, a=huge.tolist()))
    else:
        path = tmp_path / "huge.npz"
        np.savez(path, a=huge, W=arrays["W"], b=arrays["b"], V=arrays["V"])
    line = _refused(_cli(capsys, "loss", "--weights", str(path), "--method", "all", "--mc-samples", "1000"),
                    "target a", "|x| <= 1e+100", "1e+308")
    assert "nan" not in line


def test_neuron_scales_that_would_overflow_are_refused(tmp_path, capsys, arrays):
    """Entries under 1e100 whose products overflow: |a_i| ||w_i|| and ||w_i||^3 are bounded by 1e60."""
    W = arrays["W"].copy()
    W[3] *= 1e55
    path = _write_json(tmp_path / "scale.json", _json_doc(arrays, a=(arrays["a"] * 1e10).tolist(), W=W.tolist()))
    _refused(_cli(capsys, "loss", "--weights", str(path)), "target a", "neuron 3", "above the limit 1e+60")
    V = arrays["V"].copy()
    V[1] *= 1e30
    path = _write_json(tmp_path / "cube.json", _json_doc(arrays, V=V.tolist(), activation="relu^3"))
    _refused(_cli(capsys, "loss", "--weights", str(path), "--method", "mc", "--mc-samples", "100"), "student V",
             "row 1", "||v_j||^3")
    # just inside the limits every method's output stays finite
    ok = arrays["W"] / np.linalg.norm(arrays["W"], axis=1, keepdims=True) * 1e29
    path = _write_json(tmp_path / "edge.json", _json_doc(arrays, a=np.full(30, 1e30).tolist(), W=ok.tolist()))
    code, out, err, _ = _cli(capsys, "loss", "--weights", str(path), "--method", "all", "--mc-samples", "1000",
                             "--json")
    assert code == 0, err
    assert all(np.isfinite(r["value"]) and np.isfinite(r.get("error_bound", 0.0)) for r in json.loads(out)
               if "value" in r)


@pytest.mark.parametrize("field,value,argument", [
    ("a", [True] + [0.5] * 29, "target a"),
    ("V", [[False, 1.0, 0.0, 0.0]] * 3, "student V"),
])
def test_json_booleans_are_not_weights(tmp_path, capsys, arrays, field, value, argument):
    path = _write_json(tmp_path / "bool.json", _json_doc(arrays, **{field: value}))
    _refused(_cli(capsys, "loss", "--weights", str(path)), argument, "is a boolean")


def test_npz_bool_dtype_is_not_weights(tmp_path, capsys, arrays):
    np.savez(tmp_path / "bool.npz", a=arrays["a"], W=arrays["W"], b=arrays["b"] > 0, V=arrays["V"])
    _refused(_cli(capsys, "loss", "--weights", str(tmp_path / "bool.npz")), "student b", "booleans are not weights")


@pytest.mark.parametrize("value,needle", [
    (["0.5"] * 30, "a string, not a number"),
    ([10**400] + [0.5] * 29, "|x| <= 1e+100"),
    ([None] * 30, "NoneType, not a number"),
])
def test_json_non_numbers_are_refused(tmp_path, capsys, arrays, value, needle):
    path = _write_json(tmp_path / "strings.json", _json_doc(arrays, a=value))
    _refused(_cli(capsys, "loss", "--weights", str(path)), "target a", needle)


@pytest.mark.parametrize("activation", [["relu"], {"name": "relu"}, 1, None, "relu" * 1000])
def test_activation_must_be_a_string(tmp_path, capsys, arrays, activation):
    path = _write_json(tmp_path / "act.json", _json_doc(arrays, activation=activation))
    _refused(_cli(capsys, "loss", "--weights", str(path)), "weights", "field 'activation'")


def test_npz_activation_must_be_a_string(tmp_path, capsys, arrays):
    np.savez(tmp_path / "act.npz", activation=np.array([1.0, 2.0]), **arrays)
    _refused(_cli(capsys, "loss", "--weights", str(tmp_path / "act.npz")), "weights", "field 'activation'")


def test_json_nan_tokens_are_refused(tmp_path, capsys):
    path = tmp_path / "nan.json"
    path.write_text('{"target": {"a": [NaN], "W": [[1]]}, "student": {"b": [1], "V": [[1]]}}')
    _refused(_cli(capsys, "loss", "--weights", str(path)), "weights", "NaN is not a JSON number")


# -- frames ---------------------------------------------------------------------------------------------------------

def test_frame_with_duplicate_rows_is_refused(tmp_path, capsys):
    path = _write_json(tmp_path / "dup.json", [[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    line = _refused(_cli(capsys, "conjecture", "--frame", str(path), "--out", str(tmp_path / "out")), "frame",
                    "rows 0 and 2 repeat", "singular", "antipodal rows are allowed")
    assert "e+307" not in line
    nearly = np.array([[1.0, 0.0], [np.cos(1e-7), np.sin(1e-7)]])  # <v_0, v_1> = 1 - 5e-15 > 1 - 1e-12
    _write_json(tmp_path / "near.json", nearly.tolist())
    with pytest.raises(InputError, match="repeat"):
        load_user_frame(tmp_path / "near.json")
    apart = np.array([[1.0, 0.0], [np.cos(1e-3), np.sin(1e-3)]])  # <v_0, v_1> = 1 - 5e-7: distinct rows
    _write_json(tmp_path / "apart.json", apart.tolist())
    assert load_user_frame(tmp_path / "apart.json").shape == (2, 2)


def test_frame_too_large_is_refused(tmp_path, capsys):
    rows = np.eye(limits.MAX_FRAME_ROWS + 1)[:, :2].tolist()
    path = _write_json(tmp_path / "rows.json", rows)
    _refused(_cli(capsys, "conjecture", "--frame", str(path), "--out", str(tmp_path / "out")), "frame",
             f"at most {limits.MAX_FRAME_ROWS} rows")


@pytest.mark.parametrize("content,needle", [
    ("[[true, false], [false, true]]", "not booleans"),
    ("[[1e400, 0], [0, 1]]", "NaN or infinite"),  # 1e400 parses as inf
    ("[[" + "9" * 400 + ", 0], [0, 1]]", "too large for a float64"),  # an int no float64 holds
])
def test_frame_entries_must_be_finite_numbers(tmp_path, capsys, content, needle):
    path = tmp_path / "frame.json"
    path.write_text(content)
    _refused(_cli(capsys, "conjecture", "--frame", str(path), "--out", str(tmp_path / "out")), "frame", needle)
