"""Registers the report content of every claim kind (``twolayer claims``): memorisation, NTK scaling and
condensation, each declared in its own module."""

from __future__ import annotations

from numerics import memorization_report  # noqa: F401
from numerics import condensation_report  # noqa: F401
from numerics import ntk_report  # noqa: F401
