"""Numerics layer: exact finite-N losses, high-precision and interval checks of the predicted rates.

Imports ``theory`` only.

The public API (docs/api.md) is what ``__all__`` lists; every other module is internal.  Names are
imported on first use, so ``import numerics`` stays light.
"""

from __future__ import annotations

from theory.lazy_exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports("numerics", {
    "exact_loss": "numerics.loss_api", "LossReport": "numerics.loss_api",
    "verify": "numerics.verify_report", "VerifyOutcome": "numerics.verify_report",
    "etf_sweep": "numerics.etf_sweep_api", "EtfSweepReport": "numerics.etf_sweep_api",
    "reproduce": "numerics.evidence.reproduce", "ResultStore": "numerics.evidence.store",
    "run_claim": "numerics.claims_api", "ClaimRun": "numerics.claims_api", "CLAIMS": "numerics.claims",
})
