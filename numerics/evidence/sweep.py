"""Sweeps: run a cell function over a list of parameter cells, store every result, resume after a kill.

    run_sweep(cell_fn, cells, kind=..., store=..., seed=...) -> SweepOutcome

* ``cell_fn(params: dict, seed: int) -> dict`` is a top-level, importable function (Dask workers import
  it by name); its result must be JSON-serialisable (numpy and mpmath numbers are converted) and may carry
  'verdict', 'values', 'bounds' and 'precision_digits' (the digits to which the values are claimed; used
  by ``twolayer reproduce`` to decide whether a re-run matches).
* ``cells`` is a list of JSON-able parameter dicts.  Each is canonicalised (sorted-key JSON), so the
  function receives exactly what the store records; duplicate cells are run once.
* Seeds: ``cell_seed(sweep_seed, params)`` = the first 63 bits of
  ``numpy.random.SeedSequence([sweep_seed, *sha256(canonical params) as 8 uint32 words]).generate_state(2)``.
  Cell id = first 16 hex digits of sha256(kind, canonical params, cell seed).
* ``store`` is a ``ResultStore`` or a path (an SQLite file, or a directory meaning ``<dir>/twolayer.sqlite``).
  Cells already in the store are reused, not recomputed; every finished cell is written in its own
  transaction as soon as it arrives, so a sweep killed with SIGKILL and restarted continues where it stopped.
* Where cells run:
  - ``scheduler="tcp://host:port"``: on that existing Dask cluster (``n_workers`` is ignored);
  - ``n_workers=0``: serially in this process;  ``n_workers=k >= 1``: on a fresh ``LocalCluster`` of k
    single-threaded worker processes;
  - both None (default): serially when at most ``SERIAL_MAX_PENDING`` cells are left or the machine has
    one core (starting a cluster costs seconds), otherwise a ``LocalCluster`` with one worker per core.
  Workers never touch the store; results flow back to this process, which writes them.
* Cell kinds are registered with ``register_cell_kind(kind, fn)`` (done automatically by ``run_sweep``;
  modules defining cell functions should also register at import time so that ``twolayer reproduce`` can
  find them in a fresh process: ``reproduce`` imports the module recorded for the cell, restricted to
  the toolkit's own packages, and then looks the kind up in this whitelist).

References: the project's issue 5 (evidence that can be cited); docs/evidence.md.

Examples
--------
>>> import tempfile
>>> from numerics.etf_cell import etf_cell
>>> out = run_sweep(etf_cell, [{"activation": "relu", "M": 2, "d": 2, "dps": 20}], kind="etf-value",
...                 store=tempfile.mkdtemp(), seed=1, quiet=True)
>>> out.computed, out.reused, out.records[0].result["verdict"]
(1, 0, 'agree')
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import socket
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from theory import limits
from theory.errors import InputError
from numerics.evidence.progress import ProgressBar
from numerics.evidence.provenance import canonical_json, collect_provenance, content_hash, to_jsonable, utc_now
from numerics.evidence.store import CellRecord, ResultStore

if TYPE_CHECKING:
    from theory.job_budget import JobEstimate

__all__ = [
    "CellRecord",
    "SweepOutcome",
    "run_sweep",
    "register_cell_kind",
    "get_cell_kind",
    "registered_kinds",
    "cell_seed",
    "cell_id_for",
    "SERIAL_MAX_PENDING",
    "add_sweep_arguments",
    "plan_sweep",
    "planned_workers",
    "prefer_serial",
    "sweep_kwargs",
    "sweep_options",
]

# With at most this many cells left (and no scheduler/n_workers given) the sweep runs in-process:
# a LocalCluster takes a few seconds to start, more than a handful of cheap cells.
SERIAL_MAX_PENDING = 8
# Packages from which ``reproduce`` may import a recorded cell function (whitelist).
TOOLKIT_PACKAGES = ("theory", "numerics", "conjecture")
# Seconds to wait for a Dask scheduler given by address to answer (``--connect-timeout``, bounded
# MIN..MAX_CONNECT_TIMEOUT_S; theory.limits).  A module attribute, read at call time, so callers can change it.
CONNECT_TIMEOUT_S = limits.DEFAULT_CONNECT_TIMEOUT_S
# Seconds for this process's client to reach the LocalCluster it has just started (not a user's scheduler).
LOCAL_CONNECT_TIMEOUT_S = 30
# Longest scheduler address accepted (a host name is at most 253 characters, plus scheme and port).
MAX_SCHEDULER_CHARS = 300

_REGISTRY: dict[str, Callable[[dict, int], dict]] = {}


@dataclass(frozen=True)
class SweepOutcome:
    """What one call of ``run_sweep`` did: the records of all its cells (in input order), how many it
    computed and how many it reused from the store, and its wall time.  ``provenance`` is the
    environment recorded for the run; ``sweep_id`` names the sweep's definition (kind, seed, cells)."""

    run_id: str
    records: tuple[CellRecord, ...]
    computed: int
    reused: int
    wall_seconds: float
    sweep_id: str = ""
    kind: str = ""
    seed: int = 0
    store_path: str = ""
    scheduler: str = "serial"
    provenance: dict = field(default_factory=dict, repr=False)

    @property
    def content_hash(self) -> str:
        """Hash of the records' ids, inputs and results (see ``numerics.evidence.store.results_hash``)."""
        from numerics.evidence.store import results_hash

        return results_hash([r.as_dict() for r in self.records])


# -- registry ---------------------------------------------------------------------------------------
def _function_path(fn: Callable) -> str:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        raise InputError("cell_fn", "must be a top-level function of an importable module (Dask workers import it)",
                         got=getattr(fn, "__name__", fn))
    return f"{module}:{qualname}"


def register_cell_kind(kind: str, fn: Callable[[dict, int], dict]) -> Callable[[dict, int], dict]:
    """Register ``fn`` as the function computing cells of ``kind`` (whitelist used by ``reproduce``).

    Re-registering the same function is a no-op; a different function for a known kind is an error.
    Returns ``fn`` (usable as a decorator helper).
    """
    if not isinstance(kind, str) or not kind or not all(ch.isalnum() or ch in "-_.:" for ch in kind):
        raise InputError("kind", "expected a non-empty name of letters, digits, '-', '_', '.', ':'", got=kind)
    if not callable(fn):
        raise InputError("cell_fn", "expected a function fn(params: dict, seed: int) -> dict", got=fn)
    path = _function_path(fn)
    old = _REGISTRY.get(kind)
    if old is not None and _function_path(old) != path:
        raise InputError("kind", f"already registered to {_function_path(old)}", got=kind)
    _REGISTRY[kind] = fn
    return fn


def get_cell_kind(kind: str, function_path: str | None = None) -> Callable[[dict, int], dict]:
    """The registered function of ``kind``.  If unknown and ``function_path`` ('module:qualname') names a
    module inside the toolkit's packages, that module is imported (so it can register) and looked up again."""
    if kind not in _REGISTRY and function_path:
        module = function_path.split(":", 1)[0]
        if module.split(".", 1)[0] in TOOLKIT_PACKAGES and all(p.isidentifier() for p in module.split(".")):
            try:
                importlib.import_module(module)
            except ImportError:
                pass
    if kind not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise InputError("kind", f"no registered cell kind of this name (registered: {known})", got=kind)
    return _REGISTRY[kind]


def registered_kinds() -> dict[str, str]:
    """{kind: 'module:qualname'} of every registered cell kind."""
    return {k: _function_path(fn) for k, fn in sorted(_REGISTRY.items())}


# -- seeds and ids ------------------------------------------------------------------------------------
def _finite_json(obj: Any) -> bool:
    if isinstance(obj, float):
        return bool(np.isfinite(obj))
    if isinstance(obj, dict):
        return all(_finite_json(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite_json(v) for v in obj)
    return True


def _canonical_params(params: Any, index: int) -> dict:
    if not isinstance(params, dict):
        raise InputError("cells", f"cell {index} must be a dict of parameters", got=params)
    if not _finite_json(params):
        raise InputError("cells", f"cell {index} is not JSON-serialisable: NaN or infinity in its parameters",
                         got=params)
    try:
        return json.loads(canonical_json(params))
    except (TypeError, ValueError) as err:
        raise InputError("cells", f"cell {index} is not JSON-serialisable: {err}", got=params) from None


def cell_seed(sweep_seed: int, params: dict) -> int:
    """Deterministic 63-bit seed of one cell from the sweep seed and the cell's canonical params.

    Examples
    --------
    >>> cell_seed(1, {"a": 1, "b": 2}) == cell_seed(1, {"b": 2, "a": 1})
    True
    >>> cell_seed(1, {"a": 1}) != cell_seed(2, {"a": 1})
    True
    """
    digest = hashlib.sha256(canonical_json(params).encode("ascii")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 32, 4)]
    state = np.random.SeedSequence([int(sweep_seed), *words]).generate_state(2, dtype=np.uint32)
    return int((int(state[1]) << 32 | int(state[0])) >> 1)


def cell_id_for(kind: str, params: dict, seed: int) -> str:
    """16 hex digits of sha256 over (kind, canonical params, cell seed)."""
    return hashlib.sha256(canonical_json([kind, params, int(seed)]).encode("ascii")).hexdigest()[:16]


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise InputError("seed", "expected an integer in [0, 2^63)", got=seed)
    return int(seed)


# -- execution ----------------------------------------------------------------------------------------
def execute_cell(fn: Callable[[dict, int], dict], params: dict, seed: int) -> tuple[dict, float, str]:
    """Run one cell: (JSON-able result, seconds, worker host:pid).  Runs on whichever worker gets it."""
    start = time.perf_counter()
    result = fn(params, seed)
    seconds = time.perf_counter() - start
    if not isinstance(result, dict):
        raise TypeError(f"cell function {_function_path(fn)} returned {type(result).__name__}, expected dict")
    return to_jsonable(result), seconds, f"{socket.gethostname()}:{os.getpid()}"


def _new_run_id() -> str:
    return "r" + time.strftime("%Y%m%d%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def _check_scheduler(scheduler: Any) -> str | None:
    if scheduler is None:
        return None
    expected = "expected a Dask scheduler address such as tcp://127.0.0.1:8786"
    if not isinstance(scheduler, str) or not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise InputError("scheduler", expected, got=limits.shown(scheduler))
    rest = scheduler.split("://", 1)[1]
    if not rest or len(scheduler) > MAX_SCHEDULER_CHARS or any(ch.isspace() or not ch.isprintable() for ch in rest):
        raise InputError("scheduler", expected + f" (at most {MAX_SCHEDULER_CHARS} characters)",
                         got=limits.shown(scheduler))
    return scheduler


def _check_workers(n_workers: Any, scheduler: str | None = None) -> int | None:
    """None, or an integer from 0 (serial, in-process) to the machine's cores (``os.cpu_count()``): a
    LocalCluster of more single-threaded processes than cores only competes for them (``--workers 1024``
    started 124 processes in 40 s).  With a scheduler the value is ignored; it is then bounded by
    MAX_WORKERS_ANY only."""
    if n_workers is None:
        return None
    hi = limits.MAX_WORKERS_ANY if scheduler is not None else limits.machine_cores()
    if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or int(n_workers) < 0:
        raise InputError("workers", f"expected an integer from 0 (serial, in-process) to {hi}",
                         got=limits.shown(n_workers))
    if int(n_workers) > hi:
        if scheduler is not None:
            raise InputError("workers", f"expected an integer from 0 to {hi}", got=int(n_workers))
        raise InputError("workers", f"at most {hi} local workers, this machine's cores (os.cpu_count()); for more, "
                                    f"start a Dask cluster and pass --scheduler", got=int(n_workers))
    return int(n_workers)


def _check_connect_timeout(seconds: Any) -> float:
    """None (the module's CONNECT_TIMEOUT_S, read now) or seconds in MIN..MAX_CONNECT_TIMEOUT_S."""
    if seconds is None:
        seconds = CONNECT_TIMEOUT_S
    return limits.check_finite_seconds(seconds, "connect-timeout", limits.MIN_CONNECT_TIMEOUT_S,
                                       limits.MAX_CONNECT_TIMEOUT_S)


def _plan(scheduler: str | None, n_workers: int | None, n_pending: int) -> tuple[str, int]:
    """('serial', 0), ('local', k) or ('remote', 0)."""
    if scheduler is not None:
        return "remote", 0
    if n_workers is not None:
        return ("serial", 0) if n_workers == 0 else ("local", n_workers)
    cores = os.cpu_count() or 1
    if n_pending <= SERIAL_MAX_PENDING or cores == 1:
        return "serial", 0
    return "local", cores


# A LocalCluster takes ~5 s to start on 2 cores (processes, imports, first compiles in every worker): a
# sweep whose one-worker estimate is below this runs in-process when the caller left the workers unset.
SERIAL_BELOW_ESTIMATED_S = 30.0


def prefer_serial(kwargs: dict, one_worker_seconds: float) -> dict:
    """``kwargs`` with ``n_workers=0`` when no workers or scheduler were given and the whole sweep is
    estimated at under SERIAL_BELOW_ESTIMATED_S on one worker (then in-process is faster than a cluster)."""
    if kwargs.get("scheduler") is None and kwargs.get("n_workers") is None and \
            one_worker_seconds < SERIAL_BELOW_ESTIMATED_S:
        return {**kwargs, "n_workers": 0}
    return kwargs


def plan_sweep(cells: list[dict], estimate, options: dict) -> tuple[dict, "JobEstimate"]:
    """The run_sweep options a sweep of ``cells`` will use (``prefer_serial`` applied) and its estimate for
    those workers; ``estimate(cells, workers)`` is the command's estimator.  ``--estimate`` and the run
    itself both call this, so the estimate shown is the one the budget checks."""
    options = prefer_serial(options, estimate(cells, 1).seconds)
    return options, estimate(cells, planned_workers(options, len(cells)))


def planned_workers(kwargs: dict, n_cells: int) -> int:
    """How many cells ``run_sweep(**kwargs)`` runs at once, for a job's time estimate: this machine's cores
    for a --scheduler (its own workers are unknown here), else the local plan (1 when serial)."""
    if kwargs.get("scheduler") is not None:
        return limits.machine_cores()
    mode, k = _plan(None, kwargs.get("n_workers"), n_cells)
    return max(1, k) if mode == "local" else 1


def _run_serial(fn, todo, on_done) -> None:
    for cid, params, seed in todo:
        on_done(cid, params, seed, *execute_cell(fn, params, seed))


ENVIRONMENT_KEYS = ("toolkit", "git", "python", "packages")


def worker_environment() -> dict:
    """What a worker runs: toolkit version, git state, Python and key package versions, host and pid."""
    from numerics.evidence.provenance import git_state, package_environment

    return {**package_environment(), "git": git_state(), "process": {"pid": os.getpid(), "host": socket.gethostname()}}


def _environment_key(env: dict) -> tuple:
    git = env.get("git") or {}
    py = env.get("python") or {}
    return (canonical_json(env.get("toolkit")), git.get("commit"), git.get("dirty"), py.get("version"),
            py.get("implementation"), canonical_json(env.get("packages")))


def _environment_differences(here: dict, workers: dict) -> list[str]:
    """Worker addresses whose toolkit version, git commit/dirty flag, Python version or package versions
    differ from this process's (the interpreter's path may differ)."""
    mine = _environment_key(here)
    return sorted(addr for addr, env in workers.items() if _environment_key(env) != mine)


def _run_dask(fn, todo, on_done, *, mode: str, scheduler: str | None, n_workers: int,
              on_workers=None, connect_timeout: float | None = None) -> str:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if mode == "local":
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)
        client = Client(cluster, timeout=LOCAL_CONNECT_TIMEOUT_S)
        where = f"LocalCluster({n_workers} workers)"
    else:
        timeout = _check_connect_timeout(connect_timeout)
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as err:
            detail = "" if "timed out" in str(err).lower() else f" ({limits.shown(err, 120)})"
            raise InputError("scheduler", f"no Dask scheduler answered at {limits.shown(scheduler)} within "
                                          f"{timeout:g} s{detail}; is it running? --connect-timeout sets the "
                                          f"wait") from None
        where = f"dask {scheduler}"
    try:
        if on_workers is not None:
            on_workers(client.run(worker_environment))
        by_key = {}
        futures = []
        for cid, params, seed in todo:
            fut = client.submit(execute_cell, fn, params, seed, key=f"twolayer-cell-{cid}-{uuid.uuid4().hex[:6]}",
                                pure=False)
            by_key[fut.key] = (cid, params, seed)
            futures.append(fut)
        try:
            for fut in as_completed(futures):
                cid, params, seed = by_key[fut.key]
                result, seconds, worker = fut.result()
                on_done(cid, params, seed, result, seconds, worker)
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return where


def run_sweep(cell_fn: Callable[[dict, int], dict], cells: Sequence[dict], *, kind: str, store, seed: int,
              scheduler: str | None = None, n_workers: int | None = None, quiet: bool = False,
              argv: list[str] | None = None, connect_timeout: float | None = None) -> SweepOutcome:
    """Run ``cell_fn`` on every cell not yet in ``store``; store each result as it arrives.

    See the module docstring for seeds, ids, resumption and where cells run.  A cell that raises stops
    the sweep (the run is marked 'failed' with the error, finished cells stay stored) and the error
    propagates; KeyboardInterrupt marks the run 'interrupted'.  ``n_workers`` is at most the machine's
    cores unless a ``scheduler`` is given; ``connect_timeout`` is how many seconds (1..600) to wait for
    that scheduler to answer (None: the module's CONNECT_TIMEOUT_S, 5 s).
    """
    register_cell_kind(kind, cell_fn)
    function = _function_path(cell_fn)
    sweep_seed = _check_seed(seed)
    scheduler = _check_scheduler(scheduler)
    n_workers = _check_workers(n_workers, scheduler)
    connect_timeout = _check_connect_timeout(connect_timeout)
    if isinstance(cells, (str, bytes, dict)) or not hasattr(cells, "__iter__"):
        raise InputError("cells", "expected a list of parameter dicts", got=type(cells).__name__)

    todo_all: list[tuple[str, dict, int]] = []
    seen: set[str] = set()
    for i, raw in enumerate(cells):
        params = _canonical_params(raw, i)
        s = cell_seed(sweep_seed, params)
        cid = cell_id_for(kind, params, s)
        if cid not in seen:
            seen.add(cid)
            todo_all.append((cid, params, s))
    cell_ids = [t[0] for t in todo_all]

    own_store = not isinstance(store, ResultStore)
    st = ResultStore(store) if own_store else store
    start = time.perf_counter()
    run_id = _new_run_id()
    sweep_id = "s" + content_hash([kind, sweep_seed, sorted(cell_ids)])[7:23]
    provenance = collect_provenance(argv=argv, seeds=[sweep_seed])
    try:
        st.mark_abandoned_runs()
        finished = st.finished_ids(cell_ids)
        pending = [t for t in todo_all if t[0] not in finished]
        mode, k = _plan(scheduler, n_workers, len(pending))
        where = {"serial": "serial", "local": f"LocalCluster({k} workers)", "remote": f"dask {scheduler}"}[mode]
        provenance["sweep"] = {"kind": kind, "function": function, "seed": sweep_seed, "n_cells": len(cell_ids),
                               "scheduler": where}
        st.begin_run(run_id=run_id, sweep_id=sweep_id, kind=kind, seed=sweep_seed, cell_ids=cell_ids,
                     scheduler=where, provenance=provenance)
        computed = 0
        bar = ProgressBar(len(cell_ids), label=f"{kind} cells", quiet=quiet, initial=len(cell_ids) - len(pending))

        def on_done(cid, params, s, result, seconds, worker) -> None:
            nonlocal computed
            st.add_cell(CellRecord(cid, kind, params, s, result, seconds, run_id, utc_now(), worker, function))
            computed += 1
            bar.update()

        def on_workers(envs: dict) -> None:
            # The cited environment must include the workers' (a remote cluster may run other versions).
            provenance["workers"] = envs
            provenance["worker_environment_differs"] = _environment_differences(provenance, envs)
            st.update_run_provenance(run_id, provenance)

        status, error = "complete", None
        try:
            if pending:
                if mode == "serial":
                    _run_serial(cell_fn, pending, on_done)
                else:
                    _run_dask(cell_fn, pending, on_done, mode=mode, scheduler=scheduler, n_workers=k,
                              on_workers=on_workers, connect_timeout=connect_timeout)
        except KeyboardInterrupt:
            status, error = "interrupted", "KeyboardInterrupt"
            raise
        except BaseException as err:
            status = "failed"
            error = "".join(traceback.format_exception_only(type(err), err)).strip()
            raise
        finally:
            bar.close()
            st.finish_run(run_id, status=status, computed=computed, reused=len(cell_ids) - len(pending),
                          wall_seconds=time.perf_counter() - start, error=error)
        records = tuple(st.get_cells(cell_ids))
        return SweepOutcome(
            run_id=run_id,
            records=records,
            computed=computed,
            reused=len(cell_ids) - len(pending),
            wall_seconds=time.perf_counter() - start,
            sweep_id=sweep_id,
            kind=kind,
            seed=sweep_seed,
            store_path=str(st.path),
            scheduler=where,
            provenance=provenance,
        )
    finally:
        if own_store:
            st.close()


def outcome_from_store(store, run_id: str) -> SweepOutcome:
    """Rebuild the ``SweepOutcome`` of a stored run (its cells as stored now), e.g. to re-write reports."""
    own = not isinstance(store, ResultStore)
    st = ResultStore(store, create=False) if own else store
    try:
        run = st.get_run(run_id)
        records = tuple(st.iter_cells(run_id=run.run_id))
        return SweepOutcome(run.run_id, records, run.computed, run.reused, float(run.wall_seconds or 0.0),
                            run.sweep_id, run.kind, run.seed, str(st.path), run.scheduler or "", run.provenance)
    finally:
        if own:
            st.close()



def _int_option(lo: int, hi: int):
    """An argparse ``type`` for an integer option in [lo, hi] whose error never echoes a huge value."""
    import argparse

    def parse(text: str) -> int:
        s = str(text).strip()
        digits = s[1:] if s[:1] in "+-" else s
        if not digits.isdigit() or len(digits) > len(str(hi)) or not lo <= int(s) <= hi:
            raise argparse.ArgumentTypeError(f"expected an integer from {lo} to {hi} (got {limits.shown(text)!r})")
        return int(s)

    parse.__name__ = "integer"
    return parse


def add_sweep_arguments(parser, *, default_seed: int = 0, workers_default: str | None = None) -> None:
    """Add the common sweep options to an argparse (sub)parser: --store, --seed, --scheduler,
    --connect-timeout, --workers, --quiet.

    Use ``run_sweep(fn, cells, kind=..., **sweep_kwargs(args))`` in the handler.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_sweep_arguments(p)
    >>> kw = sweep_kwargs(p.parse_args(["--workers", "0", "--seed", "3"]))
    >>> kw["seed"], kw["n_workers"], kw["scheduler"], kw["quiet"], kw["connect_timeout"]
    (3, 0, None, False, 5.0)
    """
    parser.add_argument("--store", metavar="PATH", default=None,
                        help="result store: SQLite file or project directory (default: $TWOLAYER_STORE, else ./twolayer-results)")
    parser.add_argument("--seed", type=_int_option(0, 2**63 - 1), default=default_seed,
                        help=f"sweep seed, 0..2^63-1; cell seeds derive from it (default: {default_seed})")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="send the cells to this existing Dask cluster")
    parser.add_argument("--connect-timeout", default=None, metavar="SECONDS",
                        help=f"seconds to wait for --scheduler to answer, {limits.MIN_CONNECT_TIMEOUT_S}.."
                             f"{limits.MAX_CONNECT_TIMEOUT_S} (default: {CONNECT_TIMEOUT_S})")
    parser.add_argument("--workers", type=_int_option(0, limits.MAX_WORKERS_ANY), default=None, metavar="K",
                        help="0: serial in-process; K >= 1: LocalCluster with K workers, at most this machine's "
                             "cores (os.cpu_count()) without --scheduler (default: "
                             + (workers_default or f"in-process for <= {SERIAL_MAX_PENDING} pending cells or, where the "
                                                   f"command estimates its job, under {SERIAL_BELOW_ESTIMATED_S:g} s "
                                                   "of estimated work; else one worker per core") + ")")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def sweep_kwargs(args) -> dict:
    """run_sweep keyword arguments from options added by ``add_sweep_arguments`` (argv recorded as given);
    --scheduler, --workers and --connect-timeout are checked here, before the caller does any work."""
    import sys

    return sweep_options(store=args.store, seed=args.seed, scheduler=args.scheduler, workers=args.workers,
                         connect_timeout=getattr(args, "connect_timeout", None), quiet=bool(args.quiet),
                         argv=["twolayer", *sys.argv[1:]])


def sweep_options(*, store=None, seed: int = 0, scheduler: str | None = None, workers: int | None = None,
                  connect_timeout: float | None = None, quiet: bool = True, argv: list[str] | None = None) -> dict:
    """run_sweep keyword arguments from plain values (the Python API's sweep options), each checked now:
    the seed, the scheduler address, the workers (at most the cores without a scheduler), the timeout."""
    scheduler = _check_scheduler(scheduler)
    return {"store": store, "seed": _check_seed(seed), "scheduler": scheduler,
            "n_workers": _check_workers(workers, scheduler), "connect_timeout": _check_connect_timeout(connect_timeout),
            "quiet": bool(quiet), "argv": argv}
