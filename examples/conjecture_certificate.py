"""Check the ETF conjecture at M = 4, d = 3 (ReLU, regime I) and show the verdicts and certificate hash.

The same numbers as `twolayer conjecture --M 4 --d 3` (same seed 0); cells go to the default store.
"""
from conjecture import check

cell = check(M=4, d=3)
print(cell.verdict_nonneg, cell.verdict_signed)
print(cell.certificate)
print(cell.certificate_hash)
