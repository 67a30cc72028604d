"""Order statistics of the short arrays the chain judges a candidate by, as numpy gives them.

``np.percentile`` and ``np.median`` spend 30 to 40 us a call in their wrappers (axes,
dtypes, masked-array checks) to sort a few dozen values: these do numpy's arithmetic on
the same sorted neighbours, so they give the same bits (``tests/test_speed_stats.py``).
"""

from __future__ import annotations

import math

import numpy as np


def p90(x: np.ndarray) -> float:
    """``float(np.percentile(x, 90))``, its linear method's arithmetic written out (the
    same sorted neighbours and the same interpolation, so the same bits), without its
    wrapper's 30 to 40 us a call: each candidate's residuals are judged by it."""
    n = len(x)
    if n == 0:
        return float(np.percentile(x, 90))
    v = (n - 1) * 0.9  # where the 90th percentile lies among the sorted values
    i = min(math.floor(v), n - 1)
    j = min(i + 1, n - 1)
    # Partitioned at the places numpy's percentile asks for (equal values, +0 and -0, land
    # where they land there)
    ordered = np.partition(x, (0, i, j, n - 1))
    if math.isnan(ordered[-1]):
        return math.nan  # a NaN sorts last: numpy's percentile is NaN
    a, b = float(ordered[i]), float(ordered[j])
    g = v - i if v < n - 1 else 1.0
    d = b - a
    return b - d * (1 - g) if g >= 0.5 else a + d * g


def median(x) -> float:
    """``float(np.median(x))`` of a 1-D sequence: partitioned at the places numpy's median
    asks for, the middle value, or the mean of the two middle ones (as numpy's mean takes
    it); NaN if any value is."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n == 0:
        return float(np.median(x))
    m = n // 2
    ordered = np.partition(x, (m - 1, m, n - 1) if n % 2 == 0 else (m, n - 1))
    if math.isnan(ordered[-1]):
        return math.nan
    # numpy's mean sums from 0 (so -0 comes out +0), then divides by the count
    if n % 2:
        return 0.0 + float(ordered[m])
    return (0.0 + float(ordered[m - 1]) + float(ordered[m])) / 2
