"""The exact population loss L_N of your own numpy arrays: a target (a, W) with N = 500 neurons and a
compressed network (b, V) with M = 4 neurons in d = 8, in float64 (with its rounding bound) and as a
certified arb enclosure (`twolayer loss --weights FILE --method all` on the same arrays)."""
import numpy as np

from numerics import exact_loss

rng = np.random.default_rng(1)
a, W = np.ones(500), rng.standard_normal((500, 8)) / np.sqrt(8)
b, V = np.full(4, 0.25), rng.standard_normal((4, 8))
report = exact_loss(target=(a, W), student=(b, V), activation="relu", method="all")
print(report)
float64, arb = report.results[0], report.results[1]
lower, upper = (float(x) for x in arb.enclosure)
print("float64 value within its rounding bound of the certified enclosure:",
      lower - float64.error_bound <= float64.value <= upper + float64.error_bound)
