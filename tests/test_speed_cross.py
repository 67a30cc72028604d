"""The lever's cross products without ``np.cross``'s wrapper give its bits exactly."""

import numpy as np
import pytest
from heelraise.chain.pivot import cross3


@pytest.mark.parametrize("seed", range(3))
def test_cross3_is_np_cross_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    for _ in range(3000):
        scale = 10.0 ** rng.uniform(-6, 6, size=2)
        a, b = rng.normal(size=3) * scale[0], rng.normal(size=3) * scale[1]
        if rng.random() < 0.1:  # exact zeros and signed zeros as well
            a[rng.integers(3)] = rng.choice([0.0, -0.0])
        got, want = cross3(a, b), np.cross(a, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()
