"""The order statistics written out give ``np.percentile(x, 90)`` and ``np.median(x)`` bit
for bit: any length, ties, infinities and NaN."""

import math
import warnings

import numpy as np
import pytest
from heelraise.chain.stats import median, p90


@pytest.mark.parametrize("seed", range(3))
def test_p90_is_numpys_percentile(seed):
    rng = np.random.default_rng(seed)
    for n in [*range(1, 40), 64, 151, 400]:
        for kind in range(6):
            x = rng.exponential(size=n) * 10.0 ** rng.uniform(-3, 2)
            if kind == 1:
                x = np.round(x, 1)  # ties
            elif kind == 2:
                x[rng.integers(n)] = np.nan
            elif kind == 3:
                x[rng.integers(n, size=2)] = np.inf
            elif kind == 4:
                x = -x
            elif kind == 5:
                x[:] = x[0]
            kept = x.copy()
            with np.errstate(invalid="ignore"):
                want = float(np.percentile(x, 90))
            got = p90(x)
            assert np.array_equal(x, kept, equal_nan=True)  # the input left as it was
            assert type(got) is float
            if math.isnan(want):
                assert math.isnan(got)
            else:
                assert np.float64(got).tobytes() == np.float64(want).tobytes(), (n, kind)


@pytest.mark.parametrize("seed", range(3))
def test_median_is_numpys_median(seed):
    rng = np.random.default_rng(seed)
    for n in [*range(0, 25), 64, 151]:
        for kind in range(5):
            x = rng.normal(size=n) * 10.0 ** rng.uniform(-3, 2)
            if kind == 1:
                x = np.round(x, 1)
            elif kind == 2 and n:
                x[rng.integers(n)] = np.nan
            elif kind == 3 and n:
                x[rng.integers(n, size=2)] = rng.choice([np.inf, -np.inf])
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # the mean of nothing
                want = float(np.median(x))
                got = median(list(x) if kind == 4 else x)
            assert type(got) is float
            if math.isnan(want):
                assert math.isnan(got)
            else:
                assert np.float64(got).tobytes() == np.float64(want).tobytes(), (n, kind)
