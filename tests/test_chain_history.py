"""The bounded history: rows addressed by absolute index, whatever was dropped or grown."""

import numpy as np
from heelraise.chain.history import History


def _columns(a, b):
    k = np.arange(a, b, dtype=float)
    return (k, 10.0 * k)


def test_rows_keep_their_absolute_index_across_drops():
    h = History(("k", "ten_k"), keep=100)
    n = 0
    for m in (7, 150, 1, 300, 64, 1000, 3):  # smaller and larger than the buffer
        h.append(_columns(n, n + m))
        n += m
        assert h.end == n
        assert h.end - h.first >= min(n, 100)  # at least `keep` rows are always there
        rows = h.rows(h.first, h.end)
        assert np.array_equal(rows[:, 0], np.arange(h.first, h.end))
        assert np.array_equal(h.get("ten_k", n - 5, n), 10.0 * np.arange(n - 5, n))
        assert h.at("k", n - 1) == n - 1


def test_memory_stays_bounded():
    h = History(("k", "ten_k"), keep=100)
    for i in range(0, 100_000, 50):
        h.append(_columns(i, i + 50))
    assert len(h.data) <= 2 * 100 + 1024
    assert h.end == 100_000 and h.at("ten_k", 99_999) == 999_990.0
