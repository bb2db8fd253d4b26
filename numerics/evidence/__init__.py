"""The evidence machinery, kept apart from the mathematics: the result store, sweeps on Dask,
provenance, progress bars, report forms, run folders and ``reproduce``.

It imports ``theory`` (errors) and nothing from ``conjecture``; each result kind registers its own
cell function (``sweep.register_cell_kind``) and its report content (``reports.kinds.register_report_kind``)
from the layer that defines it.
"""
