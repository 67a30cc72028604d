"""The still-block calibrator gives the same updates however its rows arrive.

Whole blocks inside one call are judged together (reshaped, not accumulated row
by row); a block that arrives in pieces is accumulated across calls. Both must
see the same blocks, aligned to the absolute grid index, and the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.calibration import StillCalibrator

BLOCK = 100
STILL_GYR_DPS, STILL_ACC_G = 2.0, 0.02
BIAS_DPS = np.array([0.8, -1.5, 0.3])
UP = np.array([0.1, -0.2, 1.0]) / np.linalg.norm([0.1, -0.2, 1.0])


def grid(k0: int, n: int, moving: list[tuple[int, int]], seed: int = 3):
    """Grid rows k0 .. k0+n-1: still (noise only) except the rows in ``moving``."""
    rng = np.random.default_rng(seed)
    k = np.arange(k0, k0 + n)
    gyr = BIAS_DPS + rng.normal(0.0, 0.2, (n, 3))
    acc = UP + rng.normal(0.0, 0.002, (n, 3))
    for a, b in moving:
        rows = (k >= a) & (k < b)
        gyr[rows] += 40.0 * np.sin(np.arange(rows.sum()) / 5.0)[:, None]
        acc[rows] += 0.1
    return k, acc, gyr


def expected(k, acc, gyr) -> list[int]:
    """apply_from of every whole, still block, straight from the definition."""
    out = []
    for block in np.unique(k // BLOCK):
        rows = k // BLOCK == block
        if rows.sum() != BLOCK:
            continue
        x = np.hstack([gyr[rows], acc[rows]])
        sd = x.std(axis=0)
        if (
            sd[:3].max() < STILL_GYR_DPS
            and sd[3:].max() < STILL_ACC_G
            and abs(np.linalg.norm(x[:, 3:].mean(axis=0)) - 1.0) < 0.2
        ):
            out.append(int(block + 1) * BLOCK)
    return out


def feed(parts, sizes: int | None):
    """Feed each part (rows between gaps) in chunks of ``sizes`` rows (None: one go)."""
    cal = StillCalibrator(BLOCK, STILL_GYR_DPS, STILL_ACC_G)
    updates = []
    for i, (k, acc, gyr) in enumerate(parts):
        if i:
            cal.reset_block()  # the gap between parts, as the analyzer reports it
        step = sizes or len(k)
        for a in range(0, len(k), step):
            updates += cal.update(k[a : a + step], acc[a : a + step], gyr[a : a + step])
    return updates


def assert_same(got, want):
    assert [u.apply_from for u in got] == [u.apply_from for u in want]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.bias_dps, w.bias_dps, rtol=0, atol=1e-12)
        assert (g.up is None) == (w.up is None)
        if w.up is not None:
            np.testing.assert_allclose(g.up, w.up, rtol=0, atol=1e-12)
            assert g.g_ref == pytest.approx(w.g_ref, abs=1e-12)


@pytest.fixture(scope="module")
def parts():
    """Rows from grid index 37 (not on a block boundary), moving in blocks 4 and 5,
    a gap of 0.6 blocks in block 8, and a last block cut short."""
    k, acc, gyr = grid(37, 1213, moving=[(430, 570)])
    before, after = k < 830, k >= 890
    return [(k[before], acc[before], gyr[before]), (k[after], acc[after], gyr[after])]


def test_blocks_judged_together_match_the_definition(parts):
    updates = feed(parts, None)
    want = [x for p in parts for x in expected(*p)]
    assert [u.apply_from for u in updates] == want
    assert want == [200, 300, 400, 700, 800, 1000, 1100, 1200]  # blocks 4, 5, 8 are not still
    assert updates[0].up is not None and all(u.up is None for u in updates[1:])


@pytest.mark.parametrize("sizes", [1, 15, 37, 100, 250])
def test_rows_fed_in_pieces_give_the_same_updates(parts, sizes):
    assert_same(feed(parts, sizes), feed(parts, None))


def test_a_hole_in_the_indices_within_one_call(parts):
    """Rows with a hole in ``k`` (no reset in between): the cut block is never judged."""
    k, acc, gyr = (np.concatenate(x) for x in zip(*parts, strict=True))
    assert len(np.unique(np.diff(k))) == 2
    assert_same(feed([(k, acc, gyr)], None), feed(parts, None))
    assert_same(feed([(k, acc, gyr)], 1), feed(parts, None))
