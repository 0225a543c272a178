#!/usr/bin/env python3
"""Writes Sources/CBertKernels/gelu_table.c: the piecewise polynomial of the normal CDF that the AVX-512 GELU
(bk_gelu16 in vecmath_avx512.h) evaluates, GELU(x) = x Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2.

Usage: python3 tools/fit_gelu_table.py [OUT]      (OUT defaults to Sources/CBertKernels/gelu_table.c)

[-8, 8) is cut into 32 intervals of width 1/2; on interval i (x in [-8 + i/2, -8 + (i+1)/2)), with
t = 2x + 16 - i in [0, 1), Phi = c0 + c1 t + ... + c5 t^5. Each interval's coefficients are the least-squares
fit at 400 Chebyshev points (near minimax), rounded to float; c0 is then re-chosen, as a float, to centre the
remaining error. Interval 0 (Phi < 3.2e-14 there) is all zeros, so GELU is -0 below -7.5 (the exact value is
under 1.1e-13 in size there). Above 8 the kernel clamps t to the last interval's end, where c0 = 1 and c1..c5 are
below 1e-12, so Phi rounds to 1 and GELU(x) = x exactly. Deterministic; numpy only; building bertc never runs this.
"""
import math
import os
import sys

import numpy as np

DEGREE, INTERVALS, LOW, WIDTH = 5, 32, -8.0, 0.5


def phi(x):
    return np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])


def fit():
    coef = np.zeros((DEGREE + 1, INTERVALS))
    grid = np.linspace(0.0, 1.0, 4001)
    worst = 0.0
    for i in range(1, INTERVALS):
        start = LOW + i * WIDTH
        t = (np.cos(np.linspace(0.0, np.pi, 400)) + 1.0) / 2.0
        a = np.stack([t ** k for k in range(DEGREE + 1)], 1)
        c, *_ = np.linalg.lstsq(a, phi(start + t * WIDTH), rcond=None)
        c = np.float32(c).astype(np.float64)
        want = phi(start + grid * WIDTH)
        rest = want - sum(c[k] * grid ** k for k in range(1, DEGREE + 1))
        c[0] = np.float32((rest.max() + rest.min()) / 2.0)
        coef[:, i] = c
        worst = max(worst, float(np.abs(sum(c[k] * grid ** k for k in range(DEGREE + 1)) - want).max()))
    return np.float32(coef), worst


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Sources", "CBertKernels", "gelu_table.c")
    coef, worst = fit()
    rows = []
    for k in range(DEGREE + 1):
        values = ["%.9ef" % v for v in coef[k]]
        lines = [", ".join(values[j:j + 4]) for j in range(0, INTERVALS, 4)]
        rows.append("    {" + ",\n     ".join(lines) + "}")
    text = (
        "/* Written by tools/fit_gelu_table.py (do not edit): Phi(x), the normal CDF, on 32 intervals of width 1/2\n"
        " * over [-8, 8), a degree-%d polynomial each in t = 2x + 16 - i in [0, 1); bk_gelu_phi[k][i] is c_k of\n"
        " * interval i. Max |error| of the float coefficients in exact arithmetic: %.2g. Read by bk_gelu16. */\n"
        '#include "bk_internal.h"\n\n'
        "const float bk_gelu_phi[%d][%d] __attribute__((aligned(64))) = {\n%s};\n"
    ) % (DEGREE, worst, DEGREE + 1, INTERVALS, ",\n".join(rows))
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out)
    print("wrote %s (max |error| %.3g)" % (out, worst))


if __name__ == "__main__":
    main()
