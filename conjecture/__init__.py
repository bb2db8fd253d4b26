"""Conjecture layer: frame search, convex relaxations, certificates, verdicts and reports.

Imports ``theory`` and ``numerics``; nothing imports ``conjecture``.
"""
