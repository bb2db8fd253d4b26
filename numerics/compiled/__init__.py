"""Compiled code and its certificate: the C kernel for J_n (``_jkernel.c``), its ctypes loader (``kernel``),
the producer of its asin polynomial (``asin_fit``) and the independent bound on its error (``asin_bound``)."""
