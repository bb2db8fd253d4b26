"""The theorem checks beyond compression: each claim, its source, what it says and which cell kind checks it.

Examples
--------
>>> sorted(CLAIMS)
['condensation', 'memorization', 'ntk-memorization']
>>> CLAIMS["memorization"].kind
'memorization-exact'
"""

from __future__ import annotations

from dataclasses import dataclass

from numerics.evidence.reports.model import PaperSource


@dataclass(frozen=True)
class Claim:
    """A citable claim: its name on the command line, the paper, the statement checked, the cell kind,
    the module defining the cell, and the docs page."""

    name: str
    source: str
    statement: str
    kind: str
    module: str
    docs: str


BUBECK = ("Bubeck, Eldan, Lee, Mikulincer, 'Network size and weights size for memorization with two-layers "
          "neural networks', NeurIPS 2020, arXiv:2006.02855 (abstract; Baum 1988)")
ZHOU = ("Zhou, Zhou, Luo, Zhang, Xu, 'Towards understanding the condensation of two-layer neural networks at "
        "initial training', arXiv:2105.11686")

# Most seeds (repetitions) a claim's configuration runs with (--seeds).
MAX_SEEDS = 64

# The papers, as the citation block of each claim's report cites them.
BUBECK_2020 = PaperSource(
    "Bubeck, Eldan, Lee, Mikulincer, NeurIPS 2020, arXiv:2006.02855", "bubeck2020network",
    ("@inproceedings{bubeck2020network,",
     "  title = {Network size and weights size for memorization with two-layers neural networks},",
     "  author = {Bubeck, S{\\'e}bastien and Eldan, Ronen and Lee, Yin Tat and Mikulincer, Dan},",
     "  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},",
     "  year = {2020},",
     "  eprint = {2006.02855},",
     "  archivePrefix = {arXiv}",
     "}"))
ZHOU_2021 = PaperSource(
    "Zhou, Zhou, Luo, Zhang, Xu, arXiv:2105.11686", "zhou2021condensation",
    ("@misc{zhou2021condensation,",
     "  title = {Towards understanding the condensation of two-layer neural networks at initial training},",
     "  author = {Zhou, Hanxu and Zhou, Qixuan and Luo, Tao and Zhang, Yaoyu and Xu, Zhi-Qin John},",
     "  year = {2021},",
     "  eprint = {2105.11686},",
     "  archivePrefix = {arXiv}",
     "}"))

CLAIMS: dict[str, Claim] = {c.name: c for c in (
    Claim("memorization", BUBECK,
          "ceil(n/d) threshold neurons memorise binary labels of n points in general position in R^d; "
          "4 ceil(n/d) ReLUs fit arbitrary real labels (exact constructions, weight sizes)",
          "memorization-exact", "numerics.memorization_check", "docs/claims.md#memorization"),
    Claim("ntk-memorization", BUBECK,
          "the neural tangent kernel memorises up to error eps with O((n/d) log(1/eps)) neurons for well-dispersed "
          "data (checked as a scaling fit of the least m reaching training error eps, NTK gradient features)",
          "ntk-memorization", "numerics.ntk_scaling", "docs/claims.md#ntk-memorization"),
    Claim("condensation", ZHOU,
          "at small initialisation the input weights (with bias) condense onto at most 2p orientations, "
          "p the multiplicity of the activation at 0",
          "condensation", "numerics.condensation_check", "docs/claims.md#condensation"),
)}
