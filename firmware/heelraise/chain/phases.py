"""Motion onset and stop instants, without assuming a speed profile.

Near rest a movement's speed grows as some power of the time since it began,
``v = c (t - t0)^p``, with ``p`` depending on how the person moves: 1 for a brisk or
constant-acceleration start (a trapezoid's ramp, a cosine), 2 for minimum jerk, 3 or
more for a slow creep. The rule measures ``p`` instead of assuming it: over the samples
where the (smoothed) speed lies between ``L`` and ``4L`` of the phase's peak, nearest
rest, ``v^(1/p)`` is a straight line in time for the right ``p``; for each ``p`` on a
grid from 1 to 4 a least-squares line gives ``t0`` (where it reaches zero), and the
``p`` whose power law fits those samples best wins. That is exact for any power law (a
linear ramp, a parabola, a cubic creep) and only reads the part of the gyro signal
above sensor noise and balance ripple. The stop is the same rule mirrored in time.

The rate is smoothed with a box a quarter of the flank being timed (half the peak
down to ``L``), longer as balance ripple near rest grows beyond ``L``, up to a 0.2 s box
(which nulls 5, 10, ... 25 Hz ripple).

Between two movements (the top hold's slow sag flowing into the lowering) the speed
may never fall that low; there the instant is the speed's minimum between them (the
valley), and no extrapolation reaches back past it or past a turn of the rate's sign.
After a short hold the top's sag may hold the speed above L, ripple on it, over the
whole hold: the band then spans the plateau and its law's zero lies before the rise's
stop; the sag's level (the plateau's median) is taken off and the onset fitted again
(where the lowering's own speed rises out of the sag).
A stop still under way at the end of what was seen is extrapolated past it.

A bell's far side bends its speed already between L and 4L (a 3 s lowering read 0.1 s
short on a plain power law), so :func:`phase_span` times each end again given the
other's instant, fitting ``c (t - t0)^p share^q`` with ``share`` the part of the
movement still to come and q on a grid from 0 (no bend: a ramp, a steady middle) up,
over a wider band (L to 5L) since the bend is modelled.

A lowering is decided while its speed is still dying away, 0.05 to 0.3 s before it ends:
a stop seen only down to between L and the band's top gets the same fit over what was
seen (not a straight line, which read minimum-jerk stops 0.1 s short), and may lie past
the end of what was seen by up to twice the deceleration seen.

:func:`fit_span` is the older, sway-robust check on the angle: a minimum-jerk line
through the movement's middle (the detector uses it only where that shape fits).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PhaseSettings:
    """Step 5's phase-timing numbers (the onset / stop rule above); fractions are of the
    phase's peak speed."""

    #: fraction of the peak speed of the lowest level L (the fit reads L to 4L): low enough
    #: that a power law holds (a bell's far side bends it higher up), high enough to stand
    #: above the ripple left after smoothing
    low_level: float = 1.0 / 12.0
    #: s per s of the flank timed (from half the peak down to L): the box the rate is
    #: smoothed with (sensor noise, sway), times the ripple (below) when there is more
    smooth_fraction: float = 0.4
    #: s: a box this long nulls 5, 10, ... 25 Hz balance ripple (and measures it)
    ripple_box_s: float = 0.2
    #: the unit of ripple: its RMS near rest at this fraction of the lowest level read
    quiet_fraction: float = 1.0
    #: the speed grows from rest as t^p with p in [1, 4]: 1 is a jump in acceleration (a
    #: trapezoid's ramp), 2 minimum jerk, 3-4 a slow creep; below 1 is not a body's motion
    min_exponent: float = 1.0
    max_exponent: float = 4.0
    #: fraction of the peak speed by which the speed must climb back above its minimum
    #: for that minimum to be a valley between two movements (not ripple)
    valley_rise: float = 1.0 / 16.0
    #: weight of the preference for minimum jerk's exponent 2 (the residual is scaled by
    #: 1 + prior log2(p/2)^2): ripple can fake a small gain at an odd exponent; a clear
    #: ramp (p = 1) or creep (p = 3) still wins on its residual
    prior: float = 1.0
    #: how a bell's other side may bend the speed near this end, as (share of the movement
    #: still to come)^q: 0 for a ramp or a steady middle (no bend), up to 3 for a slow creep,
    #: in steps of 0.25 (steps of 0.5 read clean 3 s bells up to 0.11 s off: p and q trade)
    far_exponents: tuple = tuple(0.25 * k for k in range(13))
    #: passes of timing each end again with the other end's instant and exponent (a bell's
    #: far side bends its speed up to 4L: a 3 s lowering read 0.1 s short without them)
    bend_passes: int = 2
    #: multiples of L: the top of the band fitted on a plain power law (an end timed
    #: alone): above 4L a bell's far side bends the speed (minimum jerk read 0.06 s late)
    plain_top: float = 4.0
    #: ... and once the far side's bend is fitted too (5L, 5/12 of the peak): more of the
    #: flank pins the exponent down (4L read slow lowerings 0.01 s worse; 6L read a floor
    #: pair's weaker side 0.01 s worse)
    band_top: float = 5.0
    #: multiples of the deceleration seen (from the band's top down to the last sample):
    #: how far past the end of what was seen a stop may be extrapolated. A lowering is
    #: decided 0.05 to 0.3 s before it ends (its speed under 1/16 of the peak, the long
    #: tail of a skewed bell longer): 1 cut those short
    past_reach: float = 2.0
    #: fraction of the lowering's peak speed: the heel rising again at this (the rate
    #: averaged over ``ripple_box_s``) ends the lowering at the latest (the next rise)
    rising_share: float = 1.0 / 16.0
    #: s: an onset's law reaching zero this long before the turn of the rate's sign means
    #: its band held the top's sag (a short hold, its sag above L), not the lowering's flank
    plateau_gap_s: float = 0.05
    #: ... and the speed held at half the sag's level or more over this share of the
    #: plateau (a flank creeping out of rest rises through it: under 1/2 for t^1, 1/3 for t^2)
    plateau_share: float = 0.75
    #: multiples of L: a sag this fast or faster (a tenth of the lowering's peak) is the
    #: top's; a slower "plateau" is the lowering's own slow start under sway
    plateau_level: float = 1.25
    #: band fits remembered (exact samples -> result): a candidate's flanks are fitted
    #: again at each chain run until it is decided, and once more when its rep is retimed
    fits_remembered: int = 256


PHASE = PhaseSettings()
_EXPONENTS = np.linspace(PHASE.min_exponent, PHASE.max_exponent, 13)
# What _band_fit works out from the exponent grids, the same for every band: worked out once.
_INVERSE = 1.0 / _EXPONENTS[None, :, None]  # (1, p, 1)
_WEIGHT = 1.0 + PHASE.prior * np.log2(_EXPONENTS / 2.0) ** 2
_FAR_Q = np.array(PHASE.far_exponents, dtype=float)[:, None]  # (q, 1)
# ... but numpy takes ``x ** q`` for a scalar q of 0.5, 1 or 2 as sqrt, a copy or a square,
# which can differ from pow's in the last place: those rows as the scalar power gives them.
_SCALAR_Q = [(i, q) for i, q in enumerate(PHASE.far_exponents) if q in (0.5, 1.0, 2.0)]


def first_true(mask: np.ndarray) -> int | None:
    """Index of the first True (argmax stops there; flatnonzero would scan it all)."""
    if len(mask) == 0:
        return None
    k = int(mask.argmax())
    return k if mask[k] else None


def _box(s: np.ndarray, h: int) -> np.ndarray:
    """Centred moving average over 2h + 1 samples (fewer at the ends)."""
    n = len(s)
    if h < 1 or n < 3:
        return s
    c = np.concatenate(([0.0], np.cumsum(s)))
    i = np.arange(n)
    a = np.maximum(i - h, 0)
    b = np.minimum(i + h + 1, n)
    return (c[b] - c[a]) / (b - a)


def _half_run(s: np.ndarray, i_peak: int) -> tuple[int, int]:
    """The run of samples around i_peak at or above half of s[i_peak]."""
    above = s >= 0.5 * s[i_peak]
    k = first_true(~above[i_peak::-1])
    lo = i_peak - k + 1 if k is not None else 0
    k = first_true(~above[i_peak:])
    hi = i_peak + k - 1 if k is not None else len(s) - 1
    return lo, hi


def _smoothed(t: np.ndarray, s: np.ndarray, i_peak: int, step: int) -> tuple[np.ndarray, int, int]:
    """``s`` smoothed as much as its noise needs, and the smoothed speed's peak.

    A ``ripple_box_s`` box (nulls 5, 10, ... 25 Hz balance ripple) gives the speed bell
    and what is left over near rest (the ripple); the box used is ``smooth_fraction`` of
    the flank being timed (half the peak down to L: short against a brisk ramp), longer
    in proportion to the ripple (its RMS over ``quiet_fraction`` of L) when that is
    larger, up to ``ripple_box_s``; and the half-width of that box, in samples."""
    n = len(s)
    if n < 3:
        return s, i_peak, 0
    dt = (t[-1] - t[0]) / (n - 1)
    probe = _box(s, int(round(0.5 * PHASE.ripple_box_s / dt)))
    i_top = _probe_peak(probe, i_peak)
    if probe[i_top] <= 0:
        return s, i_peak, 0
    lo, hi = _half_run(probe, i_top)
    peak = float(probe[i_top])
    a, b = max(0, lo - (hi - lo)), min(n, hi + (hi - lo) + 1)  # the bell and its flanks
    rest = np.abs(probe[a:b]) < 2.0 * PHASE.low_level * peak  # the flanks: near rest
    left = (s[a:b] - probe[a:b])[rest]
    ripple = float(np.sqrt(np.mean(left**2))) if len(left) else 0.0
    # A box in proportion to the bell's width and to the ripple beside the lowest level
    # read, up to the ripple box: a box bends a movement's start (a brisk ramp) as much
    # as it takes the ripple off, so a clean signal gets none.
    noise = ripple / (PHASE.quiet_fraction * PHASE.low_level * peak)
    # The flank timed: from half the peak down to the lowest level read, on the probe.
    edge = lo if step < 0 else hi
    k = first_true(probe[edge::step] < PHASE.low_level * peak) if step > 0 else None
    if step < 0:
        k = first_true(probe[edge::-1] < PHASE.low_level * peak)
    flank_s = (k if k is not None else (edge if step < 0 else n - 1 - edge)) * dt
    box_s = PHASE.smooth_fraction * flank_s
    width_s = min(box_s * max(1.0, noise), max(box_s, PHASE.ripple_box_s))
    h = int(round(0.5 * width_s / dt))
    out = _box(s, h)
    return out, lo + int(np.argmax(out[lo : hi + 1])), h


def _probe_peak(probe: np.ndarray, i_peak: int) -> int:
    """The smoothed speed's own peak near i_peak (a ripple spike is not the peak)."""
    lo, hi = _half_run(probe, i_peak) if probe[i_peak] > 0 else (i_peak, i_peak)
    return lo + int(np.argmax(probe[lo : hi + 1]))


def _valley(s: np.ndarray, i_peak: int, step: int) -> int:
    """From the peak going ``step`` (+1/-1): where the speed is lowest before it turns the
    other way (s <= 0) or, before an onset, climbs back by ``valley_rise`` of the peak (the
    movement before, flowing into this one). After a stop only the turn counts: a slow
    tail's ripple is not a new movement."""
    seg = s[i_peak::step] if step > 0 else s[i_peak::-1]
    if len(seg) < 2:
        return i_peak
    run_min = np.minimum.accumulate(seg)
    # Only once the speed has fallen to 4L (the movement mostly over) can it be a valley.
    low = run_min < 4.0 * PHASE.low_level * seg[0]
    ends = seg <= 0.0
    if step < 0:  # an onset: a slow movement may flow into this one (a top hold's sag)
        ends |= low & (seg > run_min + PHASE.valley_rise * seg[0])
    k = first_true(ends[1:])
    if k is None:
        j = len(seg) - 1  # no turn, no valley: up to the end of what was seen
    elif seg[k + 1] <= 0.0:
        j = k + 1  # the speed changed sign there: the movement cannot reach past it
    else:
        j = int(np.argmin(seg[: k + 2]))  # the low point between two movements
    return i_peak + step * j


def _crossing(t, s, i_peak, i_end, level, step) -> float | None:
    """Going ``step`` from i_peak, no further than i_end: the interpolated time s first falls
    below level; None if it does not before i_end."""
    if step > 0:
        seg = s[i_peak : i_end + 1]
    else:
        seg = s[i_peak : (i_end - 1 if i_end > 0 else None) : -1]
    k = first_true(seg < level)
    if k is None or k == 0:
        return None
    i, j = i_peak + step * (k - 1), i_peak + step * k
    frac = (s[i] - level) / (s[i] - s[j]) if s[i] != s[j] else 0.0
    return float(t[i] + frac * (t[j] - t[i]))


def _band_fit(t: np.ndarray, s: np.ndarray, idx: np.ndarray, exponents=None, far=None):
    """:func:`_fit_band` of the samples ``idx``, remembered: the chain times the same
    candidate's flanks again at each run while it is being decided, and once more when
    its rep is timed again, on the same samples bit for bit."""
    if len(idx) < 3:
        return None
    key_far = None if far is None else np.asarray(far, dtype=float).tobytes()
    key_p = None if exponents is None else tuple(float(p) for p in exponents)
    tt, ss = (np.asarray(x[idx], dtype=float).tobytes() for x in (t, s))
    return _fit_band_seen(tt, ss, key_p, key_far)


@functools.lru_cache(maxsize=PHASE.fits_remembered)
def _fit_band_seen(tt: bytes, ss: bytes, exponents, far):
    """:func:`_fit_band` of samples given as the bytes of their float64 arrays."""
    far_share = None if far is None else np.frombuffer(far)
    return _fit_band(np.frombuffer(tt), np.frombuffer(ss), exponents, far_share)


def _fit_band(tt: np.ndarray, ss: np.ndarray, exponents=None, far=None):
    """Where ``v = c |t - t0|^p`` fitted to the samples (tt, ss) reaches zero: for each
    exponent on the grid, s^(1/p) is a straight line in t (least squares), and the
    exponent whose power law leaves the smallest residual in s (weighted by ``prior``)
    wins. With ``far`` (per sample, the share of the movement still to come
    before its other end, see :func:`_far_share`) the law is ``c |t - t0|^p far^q``, a
    bell bent by its other side, with q on the grid of ``far_exponents`` too (q = 0 is
    the plain power law). Returns (t0, residual) or None."""
    t_mean = tt.mean()
    tm = tt - t_mean
    var = float(tm @ tm)
    if var <= 0:
        return None
    if exponents is None:
        ps, inverse, weight = _EXPONENTS, _INVERSE, _WEIGHT
    else:
        ps = np.asarray(exponents, dtype=float)
        inverse = 1.0 / ps[None, :, None]
        weight = 1.0 + PHASE.prior * np.log2(ps / 2.0) ** 2
    # Every bend exponent q (a row of ff each) and every exponent p at once, one array of
    # (q, p, sample): the same sums, element by element, as one (q, p) at a time (far**0 is
    # 1 exactly, the plain power law's row).
    if far is None:
        ff = np.ones((1, len(ss)))
    else:
        ff = far**_FAR_Q
        for i, q in _SCALAR_Q:
            ff[i] = far**q
    base = np.maximum(ss / ff, 0.0)
    y = base[:, None, :] ** inverse
    ym = np.add.reduce(y, axis=2) / len(ss)  # y.mean(axis=2), bit for bit, without its wrapper
    a = ((y - ym[:, :, None]) @ tm) / var
    line = np.maximum(a[:, :, None] * tm + ym[:, :, None], 0.0)
    res = np.add.reduce((ff[:, None, :] * line ** ps[None, :, None] - ss) ** 2, axis=2)
    res *= weight
    ok = a != 0
    if ok.all() and np.isfinite(res).all():
        # The best (q, p) is the first of equals in (q, p) order, as the loop below finds it.
        i, k = divmod(int(np.argmin(res)), res.shape[1])
        return float(t_mean - ym[i, k] / a[i, k]), float(res[i, k])
    ks = np.argmin(res, axis=1).tolist()  # the first of equals, as a loop over p would
    best = None
    for i, (k, all_ok) in enumerate(zip(ks, ok.all(axis=1).tolist(), strict=True)):
        # The first q of equals, as a loop over q would.
        if not all_ok:  # a flat line has no zero: the best of the others
            usable = np.flatnonzero(ok[i])
            k = int(usable[np.argmin(res[i, usable])]) if len(usable) else None
        if k is not None and (best is None or res[i, k] < best[0]):
            best = (float(res[i, k]), float(t_mean - ym[i, k] / a[i, k]))
    return None if best is None else (best[1], best[0])


def _far_share(t: np.ndarray, idx: np.ndarray, far) -> np.ndarray | None:
    """A bell ``(t - t0)^p (t1 - t)^q`` seen near t0 is the power law ``(t - t0)^p`` bent
    by ``((t1 - t) / (t1 - t0))^q`` (mirrored near t1): that share at ``idx``, given
    ``far`` = (the other end's instant, this end's first guess)."""
    if far is None:
        return None
    t_other, t_this = far
    width = t_other - t_this
    if width == 0:
        return None
    share = (t_other - t[idx]) / width
    return share if np.all(share > 0) else None


def _past_edge(t: np.ndarray, i_band: int, edge: int, t0: float) -> float:
    """An instant extrapolated past the end of what was seen, no further past it than
    ``past_reach`` times the deceleration seen (from the band's top to the end) took: a few
    samples of a flattening rate can put a fitted line's zero anywhere."""
    seen = float(t[edge]) - float(t[i_band])
    reach = PHASE.past_reach * abs(seen)
    return float(np.clip(t0, float(t[edge]) - reach, float(t[edge]) + reach))


def _boundary(
    t: np.ndarray, speed: np.ndarray, i_peak: int, step: int, far=None, smooth=None, plateau=False
):
    """The onset (step -1) or stop (+1) of the movement whose speed peaks at i_peak, and
    whether a power-law fit gave it. With ``far`` (see :func:`_far_share`) the bell's other
    side may bend the law (:func:`_band_fit`). ``smooth``: what :func:`_smoothed` gives
    for these arguments, when already known."""
    s, i_peak, h = smooth or _smoothed(t, np.asarray(speed, dtype=float), i_peak, step)
    if step > 0 and h and len(s) - h > i_peak + 1:
        # The box is one-sided in its last h samples (biased towards the faster past): a
        # stop is read from what it saw whole.
        t, s = t[: len(s) - h], s[: len(s) - h]
    peak = s[i_peak]
    edge = 0 if step < 0 else len(s) - 1
    if peak <= 0:
        return float(t[i_peak]), False
    i_v = _valley(s, i_peak, step)
    t_v = float(t[i_v])
    level = PHASE.low_level * peak
    # The run from the peak out to the valley, and in it the band [L, 4L] (5L once the bend
    # is fitted) nearest the end.
    run = np.arange(i_peak, i_v + step, step)
    k1 = first_true(s[run] < level)
    k3 = first_true(s[run] < (PHASE.plain_top if far is None else PHASE.band_top) * level)
    if k1 is None:
        if i_v == edge and k3 is not None:
            # Seen only down to between L and the band's top (decided as the speed died
            # away): the same fit over what was seen, bent by the far side (a straight
            # line, the shortest extrapolation, read minimum-jerk lowerings 0.1 s short).
            band = run[k3:]
            fit = _band_fit(t, s, band, far=_far_share(t, band, far))
            if fit is not None and (fit[0] - float(t[edge])) * step >= 0:
                return _past_edge(t, run[k3], edge, fit[0]), False
        # The speed never fell that low: the valley, or the end of what was seen.
        return t_v, False
    band = run[k3:k1]
    fit = _band_fit(t, s, band, far=_far_share(t, band, far))
    if fit is None or (fit[0] - float(t[run[k1 - 1]])) * step < 0:
        return (_crossing(t, s, i_peak, i_v, level, step) or t_v), False
    t0 = fit[0]
    if step < 0 and not plateau and s[i_v] <= 0.0 and t0 < t_v - PHASE.plateau_gap_s:
        # The law's zero lies well before the turn of the rate's sign (the rise's stop), yet
        # the speed was above zero all the way back to it: the band held a plateau (a short
        # hold's sag, above L, ripple on it), not the flank. The sag's level taken off, the
        # onset is where the lowering's own speed rises out of it.
        top = s[i_v : run[k3] + 1]
        sag = float(np.median(top))
        # The plateau: from the turn to where the speed last rises out of the sag's level;
        # the speed held there (a creeping flank rises through it instead).
        j = int(np.flatnonzero(top <= sag)[-1])
        held = top[: j + 1] >= 0.5 * sag
        long = float(t[i_v + j] - t_v) >= PHASE.ripple_box_s  # more than one ripple swing
        fast = PHASE.plateau_level * level < sag < PHASE.plain_top * level
        if fast and long and held.mean() >= PHASE.plateau_share:
            return _boundary(t, speed, i_peak, step, far, (s - sag, i_peak, h), plateau=True)
    if i_v == edge and s[i_v] > 0.0:
        # Still moving at the end of what was seen (a stop is decided as the speed dies
        # away): the extrapolation may lie past it.
        return _past_edge(t, run[k3], edge, t0), True
    # Never back past the valley (the movement before, or the turn after).
    return (max(t0, t_v) if step < 0 else min(t0, t_v)), True


def phase_span(t: np.ndarray, speed: np.ndarray, i_peak: int) -> tuple[float, float]:
    """Onset and stop of the movement whose speed peaks at i_peak, each allowing for how
    the other end bends the speed bell (:func:`_far_share`): each end is first timed on
    its own, then again given the other end's instant, ``bend_passes`` times (only while
    both ends come from a fit)."""
    speed = np.asarray(speed, dtype=float)
    # Each end's smoothing does not depend on the other end: worked out once, for every pass.
    on, off = (_smoothed(t, speed, i_peak, step) for step in (-1, +1))
    t0, fitted0 = _boundary(t, speed, i_peak, -1, smooth=on)
    t1, fitted1 = _boundary(t, speed, i_peak, +1, smooth=off)
    for _ in range(PHASE.bend_passes):
        if not (fitted0 and fitted1) or t1 <= t0:
            break
        n0, fitted0 = _boundary(t, speed, i_peak, -1, far=(t1, t0), smooth=on)
        t1, fitted1 = _boundary(t, speed, i_peak, +1, far=(t0, t1), smooth=off)
        t0 = n0
    return t0, t1


def rising_again_s(t: np.ndarray, rate: np.ndarray, i_from: int, lower_peak_dps: float) -> float:
    """When the heel is clearly rising again after a lowering (the latest its stop can be):
    the first instant from ``i_from`` on at which the pitch ``rate``, averaged over
    ``ripple_box_s`` (the balance ripple nulled), climbs to ``rising_share`` of the
    lowering's peak speed ``lower_peak_dps`` (where the average saw its whole box); +inf
    if it does not. On the raw rate a
    ripple swing alone crossed that level as the heel settled, cutting slow lowerings'
    stops 0.1 to 0.5 s short."""
    n = len(rate)
    if n < 2 or i_from >= n:
        return float("inf")
    dt = (t[-1] - t[0]) / (n - 1)
    h = int(round(0.5 * PHASE.ripple_box_s / dt))
    smooth = _box(np.asarray(rate, dtype=float), h)
    # Only where the box saw its whole width: in the last h samples it is one-sided and
    # lets the ripple through.
    k = first_true(smooth[i_from : n - h] >= PHASE.rising_share * lower_peak_dps)
    return float("inf") if k is None else float(t[i_from + k])


def onset_time(t: np.ndarray, speed: np.ndarray, i_peak: int) -> float:
    """When the movement whose speed peaks at i_peak began (searching backwards)."""
    return _boundary(t, speed, i_peak, -1)[0]


def stop_time(t: np.ndarray, speed: np.ndarray, i_peak: int) -> float:
    """When the movement whose speed peaks at i_peak stopped (searching forwards)."""
    return _boundary(t, speed, i_peak, +1)[0]


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
    Returns (t0, t1, rms) with ``rms`` the RMS of tau the line leaves (how well the
    minimum-jerk shape fits: a steady middle or a linear onset leaves more), or None
    when too few samples lie in the middle band.
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
    resid = tau - (a * ts + b + a * t_first)
    rms = float(np.sqrt(resid @ resid / n))
    return float(-b / a), float((1.0 - b) / a), rms
