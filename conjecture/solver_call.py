"""One place where a cvxpy problem is solved and a solver failure becomes a status string.

A relaxation never trusts this status alone: each caller checks its answer by optimality conditions
or an interval certificate, and a failed or inaccurate solve degrades the verdict.
"""

from __future__ import annotations

import cvxpy as cp

SOLVER_ERROR = "solver error"


def solve_status(problem: cp.Problem, solver: str) -> str:
    """Solve ``problem`` with ``solver``; return cvxpy's status, or 'solver error: ...' when the solver raises.

    Examples
    --------
    >>> x = cp.Variable()
    >>> solve_status(cp.Problem(cp.Minimize(cp.square(x - 1))), "CLARABEL")
    'optimal'
    """
    try:
        problem.solve(solver=solver)
    except cp.error.SolverError as err:
        return f"{SOLVER_ERROR}: {err}"
    return problem.status
