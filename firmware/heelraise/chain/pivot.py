"""Is the foot pivoting on the ball of the foot? The lever arm, fitted from one movement.

A foot that turns about a fixed point (the ball of the foot in a heel raise or
a heel drop) gives a sensor at ``r`` from that point the specific force

    f = G + alpha x r + w x (w x r)

with G the gravity reaction in sensor axes (given by the tilt), w the angular
rate and alpha its derivative: tangential plus centripetal acceleration, linear
in r. A least-squares fit of r over a movement explains a brisk raise's 0.2 to
1 g swings to within the sensor's errors; a foot swinging through the air (a
stride, a step up, a jump) is not a pivot and leaves a large residual.

The fitted r also gives the pitch axis its sign from physics: the sensor sits
behind the ball of the foot (laces, heel counter, ankle strap), so turning the
heel up moves it up: ``(n x r) . up > 0`` for the heel-up axis ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heelraise.physics import G_MPS2


@dataclass(frozen=True)
class PivotSettings:
    """The lever-arm fit's tuning."""

    #: deg/s: rows turning at least this fast carry the fit (the rest is sensor noise) ...
    moving_dps: float = 20.0
    #: ... or at least this share of the movement's fastest, when that is slower: a weaker
    #: side's slow 6 deg raise peaks at 20-25 deg/s, too few rows for a fit at moving_dps,
    #: and its tangential acceleration (balance ripple on the lever arm) is there at any speed
    moving_share: float = 0.5
    #: rows: fewer moving rows than this: no fit
    min_moving_rows: int = 8
    #: rows: a second pivot (the heel, see PivotFit.residual_about) is fitted over at least
    #: this many rows (3 unknowns, 3 equations a row: two rows already over-determine it)
    second_pivot_rows: int = 3
    #: g: the heel-up call needs a clean pivot (residual, 90th pct, under this) ...
    sign_max_residual_g: float = 0.06
    #: m: ... and the sensor this far behind the pivot along the foot (sites: 0.05-0.22 m)
    sign_min_lever_m: float = 0.03


PIVOT = PivotSettings()


@dataclass
class PivotFit:
    r_m: np.ndarray  # lever arm, pivot to sensor, sensor axes (m)
    residual_g: np.ndarray  # |f - G - A r| per row (g)
    moving: np.ndarray  # rows that carried the fit
    lever_g: float  # RMS of the fitted lever-arm acceleration over the moving rows (g)
    # Per row: the lever-arm matrix A (f - G - errors = A r) and f - G less the fitted
    # accelerometer errors (m/s^2), for a second pivot over some rows (see residual_about)
    a: np.ndarray | None = None
    y_mps2: np.ndarray | None = None
    # The covariance of r (m^2) from the fit's residual: along the pitch axis a pitch
    # alone moves nothing, so r is seen there only through the roll and ripple, if at all
    r_cov_m2: np.ndarray | None = None

    @property
    def high_residual_g(self) -> float:
        """90th percentile of the residual over the rows that carried the fit (g): a swing
        through the air is a minority of a long movement, but it stands out."""
        return float(np.percentile(self.residual_g[self.moving], 90))

    def residual_about(self, rows: np.ndarray) -> np.ndarray:
        """The residual (g) over ``rows`` (a mask) of a second pivot fitted to them alone,
        the accelerometer's errors kept as fitted over the whole movement (they are the
        sensor's, whichever point the foot turns about): a foot lowered past neutral on the
        floor lands on its heel and rocks back about it, no longer about the ball."""
        r, *_ = np.linalg.lstsq(self.a[rows].reshape(-1, 3), self.y_mps2[rows].reshape(-1))
        return np.sqrt(((self.y_mps2[rows] - self.a[rows] @ r) ** 2).sum(1)) / G_MPS2


def gravity_in_sensor(tilt_deg: np.ndarray, frame: np.ndarray, g_ref: float) -> np.ndarray:
    """The accelerometer's reading at rest for each tilt (N, 2 on e1, e2): up turned back.

    The tilt r is the rotation taking the measured up onto neutral up (see
    TiltFusion.tilt_from_acc), so the measured up is up rotated by -r. With k the
    unit axis in the horizontal plane and (e1, e2, up) right-handed, k x up =
    k2 e1 - k1 e2.
    """
    th = np.radians(np.hypot(tilt_deg[:, 0], tilt_deg[:, 1]))
    safe = np.maximum(th, 1e-12)
    k1 = np.radians(tilt_deg[:, 0]) / safe
    k2 = np.radians(tilt_deg[:, 1]) / safe
    e1, e2, up = frame[:, 0], frame[:, 1], frame[:, 2]
    s, c = np.sin(th), np.cos(th)
    kxu = np.outer(k2, e1) - np.outer(k1, e2)
    return g_ref * (np.outer(c, up) - s[:, None] * kxu)


def fit_lever(
    acc_g: np.ndarray, gyr_dps: np.ndarray, tilt_deg: np.ndarray, grav_g: np.ndarray, dt_s: float
) -> PivotFit | None:
    """Least-squares lever arm over rows of one movement (sensor axes throughout)."""
    speed = np.sqrt(np.einsum("ij,ij->i", gyr_dps, gyr_dps))
    moving = speed >= min(PIVOT.moving_dps, PIVOT.moving_share * float(speed.max(initial=0.0)))
    if np.count_nonzero(moving) < PIVOT.min_moving_rows:
        return None
    w = np.radians(gyr_dps)
    alpha = np.gradient(w, dt_s, axis=0)
    # A(k) r = alpha x r + w (w . r) - r |w|^2, as a 3x3 matrix per row.
    a = np.zeros((len(w), 3, 3))
    a[:, 0, 1], a[:, 0, 2] = -alpha[:, 2], alpha[:, 1]
    a[:, 1, 0], a[:, 1, 2] = alpha[:, 2], -alpha[:, 0]
    a[:, 2, 0], a[:, 2, 1] = -alpha[:, 1], alpha[:, 0]
    a += w[:, :, None] * w[:, None, :]
    a -= np.einsum("ij,ij->i", w, w)[:, None, None] * np.eye(3)
    y = (acc_g - grav_g) * G_MPS2
    # The accelerometer's own errors (bias, scale, cross-axis: a few hundredths of a g) make
    # f - G drift with the tilt; fitted alongside (an offset and a slope in each tilt
    # component, per axis) they do not pass for a lever arm on a slow movement.
    n = len(w)
    cols = np.zeros((n, 3, 12))
    cols[:, :, :3] = a
    nuisance = np.column_stack([np.ones(n), tilt_deg / 30.0])  # (n, 3)
    for i in range(3):
        cols[:, i, 3 + 3 * i : 6 + 3 * i] = nuisance
    design = cols.reshape(-1, 12)
    x, *_ = np.linalg.lstsq(design, y.reshape(-1), rcond=None)
    r = x[:3]
    explained = a @ r
    left2 = (y - cols @ x) ** 2  # what the fit leaves, squared, per row and axis
    res = np.sqrt(left2.sum(1)) / G_MPS2
    lever = float(np.sqrt((explained[moving] ** 2).sum(1).mean())) / G_MPS2
    y_less_errors = y - cols[:, :, 3:] @ x[3:]
    dof = max(1, design.shape[0] - 12)
    sigma2 = float(left2.sum()) / dof
    r_cov = sigma2 * np.linalg.pinv(design.T @ design)[:3, :3]
    return PivotFit(r, res, moving, lever, a, y_less_errors, r_cov)


def heel_up_sign(fit: PivotFit, axis_3d: np.ndarray, up: np.ndarray) -> int:
    """+1 if turning about ``axis_3d`` lifts the sensor (the heel goes up), -1 if it lowers
    it, 0 if the fit cannot say (not a clean pivot, or no lever arm across the axis).

    ``(n x r) . up`` is the sensor's distance behind the pivot along the foot: it comes out
    at the same value rep after rep even for slow raises (the fit sees the lever through
    the centripetal and tangential terms together), so only its sign is asked for.
    """
    if fit.high_residual_g > PIVOT.sign_max_residual_g:
        return 0
    v = lever_behind_m(fit, axis_3d, up)
    if abs(v) < PIVOT.sign_min_lever_m:
        return 0
    return 1 if v > 0 else -1


def cross3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross`` of two 3-vectors: the same products and differences, so the same bits,
    without its wrapper (moving axes, broadcasting: 10 to 20 us a call, against 2; the
    detector asks for a lever's length across the axis several times a candidate)."""
    a0, a1, a2 = a.tolist()
    b0, b1, b2 = b.tolist()
    return np.array((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0))


def lever_behind_m(fit: PivotFit, axis_3d: np.ndarray, up: np.ndarray) -> float:
    """How far behind the pivot the sensor sits along the foot (m), ``(n x r) . up`` for the
    heel-up axis ``n``: a property of the mounting for a foot turning about the ball of the
    foot (0.035-0.21 m at the sites sensors are strapped to), less by the heel-to-ball
    distance (about 0.19 m) for a foot turning about its heel (a toe tap)."""
    return float(cross3(axis_3d, fit.r_m) @ up)
