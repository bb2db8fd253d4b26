"""The modules that register each result kind's report content (numerics.evidence.reports.kinds), in the
order their sections appear.  Importing them by name keeps the layers apart: ``conjecture.report`` is
named here, never imported by numerics at import time.  The dispatcher and ``reproduce`` both use this."""

REPORT_KIND_MODULES = (
    "numerics.etf_report",
    "numerics.rate_report",
    "conjecture.report",
    "numerics.claims_report",
)
