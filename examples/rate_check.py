"""A rate check: the smoke profile of `twolayer verify` (seconds), its findings and where its report is."""
import tempfile

from numerics import verify

outcome = verify(profile="smoke", out=tempfile.mkdtemp(prefix="verify-"), workers=0)
for finding in outcome.findings:
    print(f"{finding.name}: {finding.verdict}")
print("report:", outcome.paths["html"])
