"""Speed profiles: how a movement goes from 0 to 1 (of its angle) over its duration.

Every profile is sampled at ``tau = (i + 1) / n`` for ``i = 0 .. n-1`` (the first sample is
one step after rest, the last is exactly 1) and starts and ends at rest (zero speed), so a
segment's start and end are where its angular velocity starts and stops: the simulator's
ground-truth phase instants.

The named profiles are the shapes human movements take, and differ where a phase detector
cares, at the onset: the speed grows as t^2 for minimum jerk, as t for a cosine, a
trapezoid and the linear-onset bell; a trapezoid has a long steady middle.

Plain numpy (no scipy): the regularised incomplete beta function is Lentz's continued
fraction (Numerical Recipes, 3rd ed., 6.4), checked against ``scipy.special.betainc`` in
``tests/test_sim_numerics.py``.
"""

from __future__ import annotations

import math

import numpy as np

#: The named speed profiles (``SessionSpec.profile`` and ``heelraise simulate --profile``);
#: "mixed" draws one of them per movement.
PROFILE_NAMES = ("min_jerk", "cosine", "trapezoid", "asym_bell", "linear_onset")

_CF_ITERATIONS = 300  # enough for a, b up to ~1e4 (the fraction converges in O(sqrt(max)))
_TINY = 1e-300


def _beta_cf(a: float, b: float, x: np.ndarray) -> np.ndarray:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
    h = d.copy()
    for m in range(1, _CF_ITERATIONS + 1):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
            c = 1.0 + aa / np.where(np.abs(c) < _TINY, _TINY, c)
            step = d * c
            h = h * step
        if np.all(np.abs(step - 1.0) < 1e-15):
            break
    return h


def betainc(a: float, b: float, x) -> np.ndarray:
    """Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    x = np.asarray(x, dtype=float)
    if not (a > 0 and b > 0):
        raise ValueError(f"betainc needs a > 0 and b > 0, not a={a}, b={b}")
    if np.any((x < 0) | (x > 1)):
        raise ValueError("betainc needs 0 <= x <= 1")
    inner = np.clip(x, 1e-300, 1 - 1e-16)
    log_front = (
        math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
        + a * np.log(inner)
        + b * np.log1p(-inner)
    )
    front = np.exp(log_front)
    low = inner < (a + 1.0) / (a + b + 2.0)
    out = np.empty_like(inner)
    if np.any(low):
        out[low] = front[low] * _beta_cf(a, b, inner[low]) / a
    if np.any(~low):
        out[~low] = 1.0 - front[~low] * _beta_cf(b, a, 1.0 - inner[~low]) / b
    out = np.where(x <= 0, 0.0, np.where(x >= 1, 1.0, out))
    return out


def _tau(n: int) -> np.ndarray:
    return (np.arange(n) + 1.0) / n


def beta_profile(n: int, a: float, b: float) -> np.ndarray:
    """A smooth 0 -> 1 transition over n samples (regularised incomplete beta).

    a = b = 3 is close to the minimum-jerk profile humans use; other values give the
    skewed, not-identical profiles of real reps. The speed is proportional to
    tau^(a-1) (1-tau)^(b-1): zero at both ends for a, b > 1, peak at (a-1)/(a+b-2).
    """
    return betainc(a, b, _tau(n))


def min_jerk(n: int) -> np.ndarray:
    """Minimum jerk (Flash & Hogan): speed grows as t^2 from rest, symmetric."""
    t = _tau(n)
    return t**3 * (10 - 15 * t + 6 * t**2)


def cosine(n: int) -> np.ndarray:
    """Half a cosine: speed grows linearly from rest (acceleration jumps at the ends)."""
    return (1 - np.cos(np.pi * _tau(n))) / 2


def trapezoid(n: int, steady_fraction: float) -> np.ndarray:
    """Trapezoidal speed: linear ramps, then a steady middle of ``steady_fraction``."""
    if not 0 <= steady_fraction < 1:
        raise ValueError(f"steady_fraction {steady_fraction} must be in 0 to 1")
    r = (1 - steady_fraction) / 2  # each ramp's share of the duration
    t = _tau(n)
    v_top = 1 / (1 - r)  # area of the trapezoid is 1
    up = 0.5 * v_top * t**2 / r
    mid = 0.5 * v_top * r + v_top * (t - r)
    down = 1 - 0.5 * v_top * (1 - t) ** 2 / r
    return np.where(t < r, up, np.where(t <= 1 - r, mid, down))


def asym_bell(n: int, peak_at: float, concentration: float = 4.0) -> np.ndarray:
    """A skewed bell: speed tau^(a-1) (1-tau)^(b-1) peaking at ``peak_at`` of the duration,
    with a = 1 + concentration x peak_at and b = 1 + concentration x (1 - peak_at)."""
    if not 0 < peak_at < 1:
        raise ValueError(f"peak_at {peak_at} must be between 0 and 1")
    a = 1 + concentration * peak_at
    b = 1 + concentration * (1 - peak_at)
    return beta_profile(n, a, b)


def linear_onset(n: int, peak_at: float) -> np.ndarray:
    """Speed grows linearly from rest (a = 2), peaks at ``peak_at``, ends smoothly."""
    if not 0 < peak_at <= 0.5:
        raise ValueError(f"peak_at {peak_at} must be in (0, 0.5]")
    return beta_profile(n, 2.0, 1.0 / peak_at)


def fast_onset(n: int, up_fraction: float) -> np.ndarray:
    """A brisk rise: speed ramps linearly from rest to its peak over ``up_fraction`` of the
    duration, then falls back to rest along a half cosine. Peak speed is 2 (x amplitude /
    duration) whatever ``up_fraction``, so a 40 deg rise in 0.4 s peaks at 200 deg/s."""
    if not 0 < up_fraction < 1:
        raise ValueError(f"up_fraction {up_fraction} must be between 0 and 1")
    t = _tau(n)
    u = up_fraction
    v_top = 2.0  # area u/2 + (1-u)/2 = 1/2 of v_top
    up = 0.5 * v_top * t**2 / u
    x = np.clip((t - u) / (1 - u), 0.0, 1.0)
    down = 0.5 * v_top * u + 0.5 * v_top * (1 - u) * (x + np.sin(np.pi * x) / np.pi)
    return np.where(t < u, up, down)


def named(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """The profile ``name`` over n samples, its shape knobs drawn from ``rng``."""
    if name == "min_jerk":
        return min_jerk(n)
    if name == "cosine":
        return cosine(n)
    if name == "trapezoid":
        return trapezoid(n, rng.uniform(0.4, 0.75))
    if name == "asym_bell":
        peak = rng.uniform(0.22, 0.38) if rng.random() < 0.5 else rng.uniform(0.62, 0.78)
        least = 1.0 / min(peak, 1.0 - peak)  # both exponents >= 2: finite acceleration
        return asym_bell(n, peak, rng.uniform(least, least + 3.0))
    if name == "linear_onset":
        return linear_onset(n, rng.uniform(0.2, 0.45))
    raise ValueError(f"unknown speed profile {name!r}: choose from {', '.join(PROFILE_NAMES)}")


def peak_rate(s: np.ndarray) -> float:
    """Peak of d s / d tau for a sampled profile (1.875 for minimum jerk)."""
    n = len(s)
    return float(np.max(np.diff(np.concatenate([[0.0], s]))) * n)
