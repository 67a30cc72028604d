"""A bounded history of grid samples, addressed by absolute sample index.

The detector looks back over a rep (seconds) to time its phases; appending is
amortised O(1) and memory stays bounded however long the service runs.
"""

from __future__ import annotations

import numpy as np


class History:
    def __init__(self, columns: tuple[str, ...], keep: int):
        self.columns = columns
        self.col = {c: i for i, c in enumerate(columns)}
        self.keep = keep
        self.data = np.empty((2 * keep + 1024, len(columns)))
        self.start = 0  # absolute index of data[0]
        self.n = 0  # rows used

    @property
    def end(self) -> int:
        """Absolute index one past the newest sample."""
        return self.start + self.n

    @property
    def first(self) -> int:
        return self.start

    def append(self, columns) -> None:
        """Append rows given a column at a time (1-D arrays of one length, in column order),
        written straight into the buffer."""
        m = len(columns[0])
        self._make_room(m)
        block = self.data[self.n : self.n + m]
        for i, column in enumerate(columns):
            block[:, i] = column
        self.n += m

    def _make_room(self, m: int) -> None:
        """Room for m more rows: drop what is older than ``keep`` (or grow, if still short)."""
        if self.n + m <= len(self.data):
            return
        drop = max(0, self.n - self.keep)
        if self.n - drop + m > len(self.data):
            grown = np.empty((self.n - drop + m + self.keep, len(self.columns)))
            grown[: self.n - drop] = self.data[drop : self.n]
            self.data = grown
        else:
            self.data[: self.n - drop] = self.data[drop : self.n]
        self.start += drop
        self.n -= drop

    def get(self, name: str, a: int, b: int) -> np.ndarray:
        """Column ``name`` for absolute indices [a, b) (clipped to what is kept)."""
        a = max(a, self.start)
        return self.data[a - self.start : b - self.start, self.col[name]]

    def rows(self, a: int, b: int) -> np.ndarray:
        a = max(a, self.start)
        return self.data[a - self.start : b - self.start]

    def at(self, name: str, i: int) -> float:
        return float(self.data[i - self.start, self.col[name]])
