"""The reader's step counts binned (a logger's steps within a few us of each other) give
np.unique's steps and counts: the same median rate, block after block."""

import numpy as np
import pytest
from heelraise.recording import StepCounts


def unique_counts(blocks):
    """The steps and counts as np.unique gives them over every block at once."""
    dt = np.concatenate([b[b > 0] for b in blocks])
    return np.unique(np.rint(dt * 1e9).astype(np.int64), return_counts=True)


@pytest.mark.parametrize("seed", range(4))
def test_binned_step_counts_are_np_uniques(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        blocks = []
        for _ in range(int(rng.integers(1, 5))):
            n = int(rng.integers(1, 3000))
            kind = rng.integers(4)
            if kind == 0:  # 1 kHz with jitter: binned
                dt = 0.001 + rng.normal(0, 2e-6, n)
            elif kind == 1:  # a few far-apart steps: sorted
                dt = rng.choice([0.01, 0.02, 0.0100001], n)
            elif kind == 2:  # anything
                dt = rng.exponential(1.0, n)
            else:  # repeated timestamps among 400 Hz steps
                dt = np.where(rng.random(n) < 0.1, 0.0, 0.0025 + rng.normal(0, 1e-7, n))
            blocks.append(dt)
        counts = StepCounts()
        for b in blocks:
            counts.add(b)
        steps, n_each = unique_counts(blocks)
        assert counts.steps_ns.tolist() == steps.tolist()
        assert counts.counts.tolist() == n_each.tolist()
        dt = np.concatenate([b[b > 0] for b in blocks])
        assert counts.median_s() == pytest.approx(float(np.median(np.rint(dt * 1e9))) * 1e-9)
