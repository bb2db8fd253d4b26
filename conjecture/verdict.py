"""Verdicts on the ETF conjecture for one (M, d, regime, activation, beta sign) cell.

PROVEN          a certified lower bound (interval arithmetic) meets the ETF value within PROOF_RTOL
SUPPORTED       no configuration found beats the ETF value by more than the stated tolerance after the stated search
REFUTED         a frame with rational coordinates and rational beta whose value, enclosed by interval arithmetic,
                is below the ETF value
NOT_APPLICABLE  M > d + 1: the simplex ETF does not exist (the best configuration found is described instead)
INCONCLUSIVE    the evidence is contradictory or a solver failed and nothing else decides (degraded honestly)
"""

from __future__ import annotations

import enum

# PROVEN needs the certified bound within 1e-30 (relative) of the ETF value: at least the 30 digits to which the
# ETF value itself is reported. The tangent-line certificate reaches ~1e-60.
PROOF_RTOL = 1e-30
# SUPPORTED: the best value found is >= ETF value - SEARCH_RTOL * |ETF value|. float64 evaluation of F loses
# about 1e-16 * cond(K) relative accuracy; 1e-9 (docs/model.md's figure) leaves room for cond(K) up to 1e6.
SEARCH_RTOL = 1e-9


class Verdict(str, enum.Enum):
    """The five outcomes (a str enum, so it serialises to JSON as its name).

    Examples
    --------
    >>> Verdict("PROVEN").value
    'PROVEN'
    """

    PROVEN = "PROVEN"
    SUPPORTED = "SUPPORTED"
    REFUTED = "REFUTED"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INCONCLUSIVE = "INCONCLUSIVE"


def decide(*, etf_exists: bool, certified_gap_rel: float | None, search_gap_rel: float | None, refutation_certified: bool) -> tuple[Verdict, str]:
    """Combine the evidence into a verdict and a one-line reason.

    certified_gap_rel: (ETF value - certified lower bound) / |ETF value| (None if no valid certificate);
    search_gap_rel: (best value found - ETF value) / |ETF value| (None if no search ran).

    Examples
    --------
    >>> decide(etf_exists=True, certified_gap_rel=1e-60, search_gap_rel=0.0, refutation_certified=False)[0]
    <Verdict.PROVEN: 'PROVEN'>
    >>> decide(etf_exists=True, certified_gap_rel=None, search_gap_rel=-1e-3, refutation_certified=False)[0]
    <Verdict.INCONCLUSIVE: 'INCONCLUSIVE'>
    """
    if not etf_exists:
        return Verdict.NOT_APPLICABLE, "M > d + 1: no simplex ETF in R^d"
    if refutation_certified:
        return Verdict.REFUTED, "a rational frame beats the ETF value (interval-certified)"
    if certified_gap_rel is not None and certified_gap_rel <= PROOF_RTOL:
        if search_gap_rel is not None and search_gap_rel < -SEARCH_RTOL:
            return Verdict.INCONCLUSIVE, "certificate and search disagree (bug or solver failure): not claiming PROVEN"
        return Verdict.PROVEN, f"certified lower bound within {max(certified_gap_rel, 0.0):.1e} (relative) of the ETF value"
    if search_gap_rel is None:
        return Verdict.INCONCLUSIVE, "no valid certificate and no search"
    if search_gap_rel >= -SEARCH_RTOL:
        why = "no certificate" if certified_gap_rel is None else f"certificate gap {certified_gap_rel:.1e} > {PROOF_RTOL:g}"
        return Verdict.SUPPORTED, f"search found nothing below the ETF value - {SEARCH_RTOL:g} relative ({why})"
    return Verdict.INCONCLUSIVE, f"search found {search_gap_rel:.2e} below the ETF value but the refutation could not be certified"
