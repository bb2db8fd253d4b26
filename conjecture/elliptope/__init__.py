"""Signed beta over the elliptope: a computer-assisted proof of the ETF conjecture for free output weights.

In regime I the signed-beta optimum depends on the frame only through q(G) = 1^T (kappa∘G)^+ 1 on the elliptope
E_M = {G ⪰ 0, G_jj = 1}; the claim is max q = q_ETF, attained only at G_ETF (docs/signed_beta.md).

    feature_distance  s(theta) = ||phi(v) - phi(w)|| / sqrt(2) for ReLU features, and its derivatives, in arb
    triangle_claims   the four box claims of the M = 3 proof (triangle, Taylor, local, corner) and not_psd witnesses
    prover            the branch-and-bound over the canonical bisection tree; writes the certificate JSON
    checker           the independent re-verification (``twolayer certificate check FILE``)
    stored            the certificate shipped with the package and its cached check, for the verdicts
"""
