"""Step 1 of the chain: any input rate (25 Hz to 1 kHz, jittered, with holes) onto a uniform grid.

Each grid value is the exact average of the piecewise-linear input over the
grid cell ``[T_k - h/2, T_k + h/2)`` centred on ``T_k = t0 + k h``: a box
anti-alias filter when the input is faster than the grid, linear
interpolation when it is slower. The integral of a cell that straddles two
chunks is carried between calls, so the output does not depend on how the
stream was chunked. Repeated timestamps keep their first sample. A hole longer
than ``max_gap_s`` is never bridged: the grid stops before it, reports it, and
resumes at the first whole cell after it.

A long input is integrated ``BLOCK_KNOTS`` samples at a time, the running
integral carried from block to block: the sums are the same, bit for bit, as
in one pass, without (N, 6) temporaries the size of the whole input.
"""

from __future__ import annotations

import numpy as np

#: samples integrated at a time: numpy's cost per call is then negligible, and a block's
#: knot values and running integrals (2 x 16384 x 6 floats, 1.5 MB) stay in the CPU's caches
BLOCK_KNOTS = 16384


class GridResampler:
    def __init__(self, grid_hz: float, max_gap_s: float):
        self.h = 1.0 / grid_hz
        self.max_gap_s = max_gap_s
        self.t0: float | None = None  # grid anchor
        self.k = 1  # next grid index to produce
        self.last_t: float | None = None
        self.last_v: np.ndarray | None = None
        self.pending = None  # integral from the next cell's lower edge to last_t
        self.samples_in = 0
        self._break_next = False

    def break_at_next(self) -> None:
        """The next sample follows a hole the source knows of: do not bridge it."""
        self._break_next = True

    def update(self, t_s: np.ndarray, *columns: np.ndarray):
        """Returns ``(t_grid, v_grid, gaps)``; gaps is a list of (start_s, end_s).

        ``columns``: one or more (N, c) arrays, side by side the columns of ``v_grid``
        (acc and gyro are passed as they come: they are never stacked into one array)."""
        if len(t_s) == 0:
            return _nothing(columns)
        if self.t0 is None:
            self.t0 = float(t_s[0])
            self.last_t = float(t_s[0])
            self.last_v = _row(columns, 0)
            self.pending = None  # the first cell starts half a cell after t0
            t_s, columns = t_s[1:], _rows(columns, slice(1, None))
        self.samples_in += len(t_s)
        if len(t_s) == 0:
            return _nothing(columns)
        dt = _steps(t_s, self.last_t)
        # Repeated timestamps: keep the first sample of each time.
        if dt.min() <= 0:
            keep = dt > 0
            # np.compress: 5x faster than c[keep] on rows of 3 (numpy 2.4), the same rows
            t_s, columns = t_s[keep], tuple(np.compress(keep, c, axis=0) for c in columns)
            if len(t_s) == 0:
                return _nothing(columns)
            dt = _steps(t_s, self.last_t)
        holes = np.flatnonzero(dt > self.max_gap_s) if dt.max() > self.max_gap_s else _NONE
        forced = False
        if self._break_next:
            self._break_next = False
            forced = True  # the source reported this hole itself: not reported again
            if len(holes) == 0 or holes[0] != 0:
                holes = np.concatenate((_FIRST, holes))
        if len(holes) == 0:
            tg, vg = self._segment(t_s, columns, dt)
            return tg, vg, []
        gaps: list[tuple[float, float]] = []
        # (Empty arrays to start with: every sample may be one after a hole.)
        outs_t, outs_v = [np.empty(0)], [np.empty((0, len(self.last_v)))]
        start = 0
        for hole in list(holes) + [None]:
            stop = len(t_s) if hole is None else hole
            if stop > start:
                part = slice(start, stop)
                tg, vg = self._segment(t_s[part], _rows(columns, part), dt[part])
                outs_t.append(tg)
                outs_v.append(vg)
            if hole is None:
                break
            if not (forced and hole == 0):  # a hole the source reported itself
                gaps.append((self.last_t, float(t_s[hole])))
            self._restart(float(t_s[hole]), _row(columns, hole))
            start = hole + 1
        return np.concatenate(outs_t), np.concatenate(outs_v), gaps

    def _restart(self, t: float, v: np.ndarray):
        """Resume after a hole: the first cell lies wholly after ``t``."""
        h = self.h
        self.k = int(np.ceil((t - self.t0) / h + 0.5))
        self.last_t, self.last_v = t, v.copy()
        lo = self.t0 + (self.k - 0.5) * h
        self.pending = None if lo > t else np.zeros_like(v)

    def _segment(self, t: np.ndarray, columns: tuple[np.ndarray, ...], dt: np.ndarray):
        """Grid cells completed by knots ``t`` (``dt`` from the previous knot; the first
        interval, from ``last_t``, is dt[0] unless a hole precedes the segment)."""
        h = self.h
        width = len(self.last_v)
        t_end = float(t[-1])
        k_last = int(np.floor((t_end - self.t0) / h - 0.5 + 1e-12))
        n = k_last - self.k + 1
        if n > 0:
            # Cell edges: the lower edge of the first cell, then every upper edge.
            edges = self.t0 + (np.arange(self.k, k_last + 2) - 0.5) * h
            c = np.empty((n + 1, width))  # integral from last_t to each edge
            if self.pending is not None:  # the first lower edge lies before this segment
                c[0] = -self.pending
                total = self._integrate(t, columns, dt, edges[1:], c[1:])
            else:
                total = self._integrate(t, columns, dt, edges, c)
            out_v = c[1:] - c[:-1]
            out_v /= h
            out_t = edges[:-1] + 0.5 * h
            self.k = k_last + 1
            self.pending = total - c[-1]  # from the next cell's lower edge to t_end
        else:
            out_v = np.empty((0, width))
            out_t = np.empty(0)
            next_lo = self.t0 + (self.k - 0.5) * h
            if next_lo <= t_end:
                if self.pending is not None:
                    self.pending = self.pending + self._integrate(t, columns, dt, _NO_TIMES, out_v)
                else:
                    c_next = np.empty((1, width))
                    total = self._integrate(t, columns, dt, np.array([next_lo]), c_next)
                    self.pending = total - c_next[0]
            else:
                self.pending = None
        self.last_t, self.last_v = t_end, _row(columns, -1)
        return out_t, out_v

    def _integrate(self, t, columns, dt, at_s: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Integrals of the signal from ``last_t`` to each of ``at_s`` (sorted, from last_t
        to t[-1]) into ``out``; returns the integral from last_t to t[-1].

        The knots (last_t, then ``t``) go BLOCK_KNOTS at a time: each block starts from the
        previous block's last knot and running integral, so the sums are those of one pass."""
        n = len(t)
        size = min(n, BLOCK_KNOTS)
        kt = np.empty(n + 1)  # knot times
        kt[0] = self.last_t
        kt[1:] = t
        kv = np.empty((size + 1, out.shape[1]))  # a block's knot values ...
        cum = np.empty_like(kv)  # ... and the integral from last_t to each of them
        kv[0] = self.last_v
        cum[0] = 0.0
        done = 0  # integrals written to out
        for a in range(0, n, size):
            b = min(n, a + size)  # this block: knots a..b, intervals dt[a:b]
            m = b - a
            if a > 0:
                kv[0], cum[0] = kv[size], cum[size]
            block_t, block_v, block_cum = kt[a : b + 1], kv[: m + 1], cum[: m + 1]
            _put_side_by_side(block_v[1:], _rows(columns, slice(a, b)))
            _running_integral(block_v, dt[a:b], block_cum)
            # The times before this block's last knot (in the last block: all that are left).
            upto = len(at_s) if b == n else int(at_s.searchsorted(kt[b]))
            if upto > done:
                _integral_at(at_s[done:upto], block_t, block_v, dt[a:b], block_cum, out[done:upto])
                done = upto
        return cum[m].copy()


def _running_integral(kv: np.ndarray, dt: np.ndarray, cum: np.ndarray) -> None:
    """cum[j] = cum[0] + the trapezoids of knots kv[0..j] (``dt`` apart), in place."""
    np.add(kv[1:], kv[:-1], out=cum[1:])
    cum[1:] *= 0.5 * dt[:, None]
    np.add.accumulate(cum, axis=0, out=cum)  # cumsum's own sums, without its wrapper


def _integral_at(tq, kt, kv, dt, cum, out) -> None:
    """Integral of the piecewise-linear signal from kt[0] to each tq (kt[0] <= tq <= kt[-1])
    into ``out``: ``cum[i] + x * (v0 + 0.5 * slope * x)`` from the knot i before tq."""
    i = kt.searchsorted(tq, side="right") - 1
    np.minimum(i, len(dt) - 1, out=i)
    x = (tq - kt[i])[:, None]
    v0 = kv[i]
    np.subtract(kv[i + 1], v0, out=out)
    out /= 2.0 * dt[i][:, None]  # half the slope, bit for bit 0.5 * slope
    out *= x
    out += v0
    out *= x
    out += cum[i]


def _put_side_by_side(out: np.ndarray, columns: tuple[np.ndarray, ...]) -> None:
    """out[:] = the (m, c) float arrays ``columns`` side by side."""
    left = 0
    for c in columns:
        right = left + c.shape[1]
        out[:, left:right] = c
        left = right


def _rows(columns: tuple[np.ndarray, ...], index) -> tuple[np.ndarray, ...]:
    return tuple(c[index] for c in columns)


def _row(columns: tuple[np.ndarray, ...], i: int) -> np.ndarray:
    """Sample i of the columns side by side, as a new array."""
    return np.concatenate([c[i] for c in columns])


def _nothing(columns: tuple[np.ndarray, ...]):
    """What update() returns when no sample is left to work on."""
    return np.empty(0), np.empty((0, sum(c.shape[1] for c in columns))), []


_NONE = np.empty(0, dtype=np.intp)
_FIRST = np.zeros(1, dtype=np.intp)
_NO_TIMES = np.empty(0)


def _steps(t: np.ndarray, before: float) -> np.ndarray:
    """t[k] - t[k-1], with ``before`` ahead of t[0]."""
    dt = np.empty(len(t))
    dt[0] = t[0] - before
    np.subtract(t[1:], t[:-1], out=dt[1:])
    return dt
