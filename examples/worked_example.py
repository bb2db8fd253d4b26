"""The README's worked example: the ETF value for M = 7 neurons in d = 11, ReLU, Gaussian target weights,
at 40 digits (`twolayer derive --activation relu --d 11 --M 7 --dps 40`)."""
from theory import derive

result = derive(activation="relu", d=11, M=7, dps=40)
for name in ("c_d at d", "1^T K^-1 1", "F_ETF"):
    print(f"{name} = {result.value_text(name)}  ({result.entry(name).normalisation or 'law-free'})")
