"""The bounds and defaults of the inputs ``twolayer derive`` and ``twolayer conjecture`` share, and derive's
normalisation note, in a module light enough to import when the command line is built (theory.derivation,
which imports sympy, is imported only when derive runs)."""

MAX_D = 10_000
MAX_M = 64          # the conjecture layer's bound; the finite-N pair averages grow like M^2
MIN_DPS, MAX_DPS = 10, 500
MAX_ORDER = 40
DEFAULT_TILT_NORM = 0.5     # ||m|| / abar of the regime II tilted family
DEFAULT_REGIME_III_LAW = "rademacher"  # the entry law of regime III when none is given

NORMALISATION_NOTE = ("ETF and regime II values are normalised to abar = E[a||w||^n] = 1 (a loss is Ltilde / abar^2, "
                      "a weight beta / abar, a tilt ||m|| / abar), as in twolayer conjecture; entries marked "
                      "'law scale' are at the entry law's own abar; entries with no mark do not depend on the law's "
                      "scale")
