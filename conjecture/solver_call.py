"""One place where a cvxpy problem is solved and a solver failure becomes a status string.

A relaxation never trusts this status alone: each caller checks its answer by optimality conditions
or an interval certificate, and a failed or inaccurate solve degrades the verdict.
"""

from __future__ import annotations

# cvxpy (about 1 s to import) is imported by the functions that build problems, not at module import

SOLVER_ERROR = "solver error"


def solve_status(problem, solver: str) -> str:
    """Solve ``problem`` with ``solver``; return cvxpy's status, or 'solver error: ...' when the solver raises.

    Any exception from the solve (cvxpy's SolverError, but also a ValueError or ArithmeticError raised inside a
    solver's own interface, e.g. SCS refusing a problem without constraints) is a failed solve, never a crash:
    the caller sees a status starting with ``SOLVER_ERROR``, no variable values, and degrades its verdict.
    KeyboardInterrupt and SystemExit are not caught.

    Examples
    --------
    >>> import cvxpy as cp
    >>> x = cp.Variable()
    >>> solve_status(cp.Problem(cp.Minimize(cp.square(x - 1))), "CLARABEL")
    'optimal'
    >>> solve_status(cp.Problem(cp.Minimize(cp.square(x - 1))), "NO_SUCH_SOLVER").startswith(SOLVER_ERROR)
    True
    """
    try:
        problem.solve(solver=solver)
    except Exception as err:  # noqa: BLE001 - any solver failure is reported, not raised
        detail = " ".join(str(err).split()) or "no message"
        return f"{SOLVER_ERROR}: {type(err).__name__}: {detail[:200]}"
    status = problem.status
    return status if isinstance(status, str) else f"{SOLVER_ERROR}: no status"
