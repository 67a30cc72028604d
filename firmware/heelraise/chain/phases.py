"""Motion onset and stop instants, not threshold crossings at some fraction of the range.

A smooth human movement leaves rest with its speed growing about as the square
of time (minimum-jerk and its skewed cousins). Given the times at which the
speed crosses 1/16 and 1/4 of the phase's peak, ``v = c (t - t0)^2`` puts the
true onset at ``t0 = 2 t_1/16 - t_1/4`` (and the stop at the mirror image).
That cancels the lag a plain threshold has (a 1/16 threshold alone reads a 2 s
minimum-jerk raise 0.13 s short at each end) and uses only the clean part of the
gyro signal, well above tremor and sway.
"""

from __future__ import annotations

import numpy as np

LOW = 1.0 / 16.0
HIGH = 1.0 / 4.0


def _crossing_time(t, s, i_from, level, step):
    """From i_from going ``step`` (+1/-1), the time s first drops below level (interpolated)."""
    if step > 0:
        k = first_true(s[i_from + 1 :] < level)
        if k is None:
            return float(t[-1])
        j = i_from + 1 + k
        i = j - 1
    else:
        k = first_true(s[i_from - 1 :: -1] < level) if i_from > 0 else None
        if k is None:
            return float(t[0])
        j = i_from - 1 - k
        i = j + 1
    # s[i] >= level > s[j]: interpolate
    frac = (s[i] - level) / (s[i] - s[j]) if s[i] != s[j] else 0.0
    return float(t[i] + frac * (t[j] - t[i]))


def first_true(mask: np.ndarray) -> int | None:
    """Index of the first True (argmax stops there; flatnonzero would scan it all)."""
    if len(mask) == 0:
        return None
    k = int(mask.argmax())
    return k if mask[k] else None


def onset_time(t: np.ndarray, speed: np.ndarray, i_peak: int) -> float:
    """When the movement whose speed peaks at i_peak began (searching backwards)."""
    peak = speed[i_peak]
    t_hi = _crossing_time(t, speed, i_peak, HIGH * peak, -1)
    t_lo = _crossing_time(t, speed, i_peak, LOW * peak, -1)
    return 2 * t_lo - t_hi


def stop_time(t: np.ndarray, speed: np.ndarray, i_peak: int) -> float:
    """When the movement whose speed peaks at i_peak stopped (searching forwards)."""
    peak = speed[i_peak]
    t_hi = _crossing_time(t, speed, i_peak, HIGH * peak, +1)
    t_lo = _crossing_time(t, speed, i_peak, LOW * peak, +1)
    return 2 * t_lo - t_hi


# Minimum-jerk progress s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5, tabulated for inversion.
_TAU = np.linspace(0.0, 1.0, 2001)
_S = _TAU**3 * (10 - 15 * _TAU + 6 * _TAU**2)
FIT_LO, FIT_HI = 0.12, 0.88


def fit_span(t: np.ndarray, angle: np.ndarray, from_deg: float, to_deg: float):
    """Start and end of one movement from ``from_deg`` to ``to_deg``, fitted over its middle.

    Each sample's progress u = (angle - from) / (to - from) is mapped through the
    inverse minimum-jerk profile to normalised time tau, and tau = (t - t0) / T is
    fitted by least squares over the samples with u in [0.12, 0.88]. The middle of a
    movement is fast and clean; its ends are where sway and tremor live, so
    fitting the middle and extrapolating is robust where crossing times are not.
    Returns None when too few samples lie in the middle band.
    """
    span = to_deg - from_deg
    if abs(span) < 1e-6:
        return None
    u = (angle - from_deg) / span
    sel = (u >= FIT_LO) & (u <= FIT_HI)
    n = np.count_nonzero(sel)
    if n < 4:
        return None
    tau = np.interp(u[sel], _S, _TAU)
    t_sel = t[sel]
    t_first = t_sel[0]
    ts = t_sel - t_first  # well-conditioned least squares: tau = a * ts + b
    tm, um = ts.sum() / n, tau.sum() / n  # the means (np.mean costs more than the fit)
    dt = ts - tm
    var = float(dt @ dt)
    if var <= 0:
        return None
    a = float(dt @ (tau - um)) / var
    b = um - a * tm - a * t_first
    if a <= 0:
        return None
    return float(-b / a), float((1.0 - b) / a)
