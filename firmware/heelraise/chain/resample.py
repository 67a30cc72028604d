"""Step 1 of the chain: any input rate (25 Hz to 1 kHz, jittered, with holes) onto a uniform grid.

Each grid value is the exact average of the piecewise-linear input over the
grid cell ``[T_k - h/2, T_k + h/2)`` centred on ``T_k = t0 + k h``: a box
anti-alias filter when the input is faster than the grid, linear
interpolation when it is slower. The integral of a cell that straddles two
chunks is carried between calls, so the output does not depend on how the
stream was chunked. Repeated timestamps keep their first sample. A hole longer
than ``max_gap_s`` is never bridged: the grid stops before it, reports it, and
resumes at the first whole cell after it.
"""

from __future__ import annotations

import numpy as np


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

    def update(self, t_s: np.ndarray, values: np.ndarray):
        """Returns ``(t_grid, v_grid, gaps)``; gaps is a list of (start_s, end_s)."""
        gaps: list[tuple[float, float]] = []
        if len(t_s) == 0:
            return np.empty(0), np.empty((0, values.shape[1])), gaps
        if self.t0 is None:
            self.t0 = float(t_s[0])
            self.last_t = float(t_s[0])
            self.last_v = values[0].copy()
            self.pending = None  # the first cell starts half a cell after t0
            t_s, values = t_s[1:], values[1:]
        self.samples_in += len(t_s)
        if len(t_s) == 0:
            return np.empty(0), np.empty((0, values.shape[1])), gaps
        dt = _steps(t_s, self.last_t)
        # Repeated timestamps: keep the first sample of each time.
        if dt.min() <= 0:
            keep = dt > 0
            t_s, values = t_s[keep], values[keep]
            if len(t_s) == 0:
                return np.empty(0), np.empty((0, values.shape[1])), gaps
            dt = _steps(t_s, self.last_t)
        holes = np.flatnonzero(dt > self.max_gap_s) if dt.max() > self.max_gap_s else _NONE
        forced = False
        if self._break_next:
            self._break_next = False
            forced = True  # the source reported this hole itself: not reported again
            if len(holes) == 0 or holes[0] != 0:
                holes = np.concatenate((_FIRST, holes))
        if len(holes) == 0:
            tg, vg = self._segment(t_s, values, dt)
            return tg, vg, gaps
        # (Empty arrays to start with: every sample may be one after a hole.)
        outs_t, outs_v = [np.empty(0)], [np.empty((0, values.shape[1]))]
        start = 0
        for hole in list(holes) + [None]:
            stop = len(t_s) if hole is None else hole
            if stop > start:
                tg, vg = self._segment(t_s[start:stop], values[start:stop], dt[start:stop])
                outs_t.append(tg)
                outs_v.append(vg)
            if hole is None:
                break
            if not (forced and hole == 0):  # a hole the source reported itself
                gaps.append((self.last_t, float(t_s[hole])))
            self._restart(float(t_s[hole]), values[hole])
            start = hole + 1
        return np.concatenate(outs_t), np.concatenate(outs_v), gaps

    def _restart(self, t: float, v: np.ndarray):
        """Resume after a hole: the first cell lies wholly after ``t``."""
        h = self.h
        self.k = int(np.ceil((t - self.t0) / h + 0.5))
        self.last_t, self.last_v = t, v.copy()
        lo = self.t0 + (self.k - 0.5) * h
        self.pending = None if lo > t else np.zeros_like(v)

    def _segment(self, t: np.ndarray, v: np.ndarray, dt: np.ndarray):
        """Grid cells completed by knots ``t`` (``dt`` from the previous knot; the first
        interval, from ``last_t``, is dt[0] unless a hole precedes the segment)."""
        h = self.h
        kt = np.empty(len(t) + 1)
        kt[0] = self.last_t
        kt[1:] = t
        kv = np.empty((len(t) + 1, v.shape[1]))
        kv[0] = self.last_v
        kv[1:] = v
        cum = np.empty_like(kv)
        cum[0] = 0.0
        np.cumsum(0.5 * (kv[1:] + kv[:-1]) * dt[:, None], axis=0, out=cum[1:])
        t_end = kt[-1]
        k_last = int(np.floor((t_end - self.t0) / h - 0.5 + 1e-12))
        n = k_last - self.k + 1
        if n > 0:
            # Cell edges: the lower edge of the first cell, then every upper edge.
            edges = self.t0 + (np.arange(self.k, k_last + 2) - 0.5) * h
            if self.pending is not None:  # the first lower edge lies before this segment
                c = np.empty((n + 1, kv.shape[1]))
                c[0] = -self.pending
                c[1:] = self._integral_at(edges[1:], kt, kv, dt, cum)
            else:
                c = self._integral_at(edges, kt, kv, dt, cum)
            out_v = (c[1:] - c[:-1]) / h
            out_t = edges[:-1] + 0.5 * h
            self.k = k_last + 1
            self.pending = cum[-1] - c[-1]  # from the next cell's lower edge to t_end
        else:
            out_v = np.empty((0, kv.shape[1]))
            out_t = np.empty(0)
            next_lo = self.t0 + (self.k - 0.5) * h
            if next_lo <= t_end:
                if self.pending is not None:
                    self.pending = self.pending + cum[-1]
                else:
                    c_next = self._integral_at(np.array([next_lo]), kt, kv, dt, cum)[0]
                    self.pending = cum[-1] - c_next
            else:
                self.pending = None
        self.last_t, self.last_v = float(t_end), kv[-1].copy()
        return out_t, out_v

    @staticmethod
    def _integral_at(tq, kt, kv, dt, cum):
        """Integral of the piecewise-linear signal from kt[0] to each tq (kt[0] <= tq <= kt[-1])."""
        i = np.searchsorted(kt, tq, side="right") - 1
        np.minimum(i, len(dt) - 1, out=i)
        x = (tq - kt[i])[:, None]
        v0 = kv[i]
        slope = (kv[i + 1] - v0) / dt[i][:, None]
        return cum[i] + x * (v0 + 0.5 * slope * x)


_NONE = np.empty(0, dtype=np.intp)
_FIRST = np.zeros(1, dtype=np.intp)


def _steps(t: np.ndarray, before: float) -> np.ndarray:
    """t[k] - t[k-1], with ``before`` ahead of t[0]."""
    dt = np.empty(len(t))
    dt[0] = t[0] - before
    np.subtract(t[1:], t[:-1], out=dt[1:])
    return dt
