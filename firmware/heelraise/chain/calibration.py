"""Step 2: calibration without user effort: still periods, neutral, gyro bias.

The grid is cut into blocks of ``neutral_still_s`` aligned to the absolute grid
index (so chunking cannot move them). A block is still when the gyro and the
accelerometer barely vary and the accelerometer reads about 1 g. The first
still block gives neutral (the direction of "up" in sensor axes with the shoe
flat); every still block refreshes the gyro bias: what the gyro read beyond the
rotation the accelerometer saw when that is a movement (``StillSettings.seen_turn_dps``).
The gyro's part is read over the same span as the accelerometer's: its turn between the
centres of the block's two halves (a triangular weighting of its rows, zero at the block's
ends), not its plain mean, which is the turn from the block's first row to its last: balance
ripple (5-25 Hz, a quarter of a degree) ends a block anywhere in its swing, and the plain mean
took up to 0.5 deg/s of it as bias just before a set, where no still block follows (a calf
stretch's hold on a step, deep_drop dev seed 1239 right: every rep 0.5 deg low on an ideal
sensor).
A still block may still turn: the slow end of a 3 s lowering at 1-2 deg/s has a spread
under the still limit; taken whole as bias, it put up to 1.5 deg/s into it and ended later
lowerings 0.2 s early. Gravity's direction turns with the foot whatever the gyro's bias, so
the rotation rate across it is the turn between the block's two halves' mean accelerations
over the time between their centres (the rate along gravity, a turn about the vertical, it
cannot see).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import numpy as np


@dataclass
class CalibrationUpdate:
    apply_from: int  # absolute grid index from which it applies
    bias_dps: np.ndarray
    up: np.ndarray | None  # unit "up" in sensor axes, on the first still block only
    g_ref: float = 1.0  # accelerometer magnitude at rest (its own "1 g")


def _seen_rate_dps(a1: np.ndarray, a2: np.ndarray, dt_s: float) -> np.ndarray:
    """The rotation rate (deg/s, sensor axes, shape (3, blocks)) across gravity that turns
    the mean acceleration ``a1`` into ``a2`` (3, blocks) in ``dt_s``: a vector fixed in the
    world turns in the body as da/dt = -w x a, so a1 x a2 = -|a|^2 w_perp dt."""
    cross = np.cross(a1, a2, axis=0)
    norms = np.linalg.norm(a1, axis=0) * np.linalg.norm(a2, axis=0)
    return -np.degrees(cross / np.where(norms > 0, norms, 1.0)) / dt_s


@dataclass(frozen=True)
class StillSettings:
    """Still blocks' own tuning (their spread limits are the user's ``still_gyr_dps`` and
    ``still_acc_g``, :class:`heelraise.settings.AnalyzerSettings`)."""

    #: deg/s: a still block's seen rotation at or above this is a movement's slow end (0.5
    #: deg between the halves' centres, far above the ~0.03 deg of sensor noise) and is taken
    #: off the gyro's mean; below it (standing sway) the mean is the bias as it was:
    #: correcting sway too moved a classic pair's heel-rise LSI from -1.7 to -3.1 pp (dev
    #: seed 1000)
    seen_turn_dps: float = 1.0


STILL = StillSettings()


@cache
def _half_span_weights(rows: int) -> np.ndarray:
    """Weights (sum 1) over a block's ``rows`` that give the gyro's mean rate between the
    centres of the block's two halves (``rows // 2`` each, as the accelerometer's halves): the
    turn from the first half's mean attitude to the second's, sum_j w_j w[j] dt with w_j = j / h
    in the first half and (2h - j) / h in the second, over the h dt between the centres."""
    h = rows // 2
    j = np.arange(rows, dtype=float)
    w = np.where(j < h, j / h, (2 * h - j) / h)
    w[2 * h :] = 0.0
    return w / w.sum()


class StillCalibrator:
    def __init__(
        self,
        block_len: int,
        still_gyr_dps: float,
        still_acc_g: float,
        block_s: float = 1.0,
        settings: StillSettings = STILL,
    ):
        self.settings = settings
        self.block_len = block_len
        self.row_s = block_s / block_len  # grid period (the seen rotation's time base)
        self.still_gyr_dps = still_gyr_dps
        self.still_acc_g = still_acc_g
        self.block = None  # the block whose first ``filled`` rows are in ``rows``
        self.rows = np.empty((block_len, 6))  # gyr(3) acc(3) of the block in progress
        self.filled = 0
        self.bias_dps: np.ndarray | None = None
        self.up: np.ndarray | None = None
        self.g_ref = 1.0
        self.still_blocks = 0

    def update(self, k: np.ndarray, acc_g: np.ndarray, gyr_dps: np.ndarray):
        """Feed grid rows (absolute indices ``k``, increasing); returns CalibrationUpdates
        in order."""
        updates: list[CalibrationUpdate] = []
        if len(k) == 0:
            return updates
        x = np.concatenate((gyr_dps, acc_g), axis=1)
        if k[-1] - k[0] == len(k) - 1:  # consecutive, as the analyzer feeds them: one run
            runs = [0, len(k)]
        else:
            runs = [0, *(np.flatnonzero(np.diff(k) != 1) + 1).tolist(), len(k)]
        for a, b in pairwise(runs):
            self._feed_run(int(k[a]), x[a:b], updates)
        return updates

    def reset_block(self):
        """A gap: the block in progress cannot be still."""
        self.block = None
        self.filled = 0

    def _feed_run(self, k0: int, x: np.ndarray, updates: list) -> None:
        """Consecutive gyr+acc rows from grid index ``k0``. The whole blocks among them are
        judged together; the rows before the first block boundary and after the last are
        kept across calls until their block is whole."""
        n, b = len(x), self.block_len
        head = min(n, -k0 % b)  # rows up to the end of the block k0 falls in
        if head:
            self._keep(k0 // b, x[:head], updates)
        whole_end = head + (n - head) // b * b
        if whole_end > head:
            self.reset_block()  # an open earlier block did not get all its rows
            self._judge_blocks((k0 + head) // b, x[head:whole_end], updates)
        if whole_end < n:
            self._keep((k0 + whole_end) // b, x[whole_end:], updates)

    def _keep(self, block: int, x: np.ndarray, updates: list) -> None:
        """Add rows of ``block``; judge it when it is whole. An open earlier block did not
        get all its rows (a gap cut it), so it is dropped."""
        if self.block != block:
            self.block = block
            self.filled = 0
        self.rows[self.filled : self.filled + len(x)] = x
        self.filled += len(x)
        if self.filled == self.block_len:
            self._judge_blocks(block, self.rows, updates)
            self.reset_block()

    def _judge_blocks(self, first_block: int, x: np.ndarray, updates: list) -> None:
        """Whole blocks ``first_block``, ``first_block + 1``, ...: all their gyr+acc rows,
        in order."""
        b = self.block_len
        nb = len(x) // b
        # Laid out (row in block, channel, block): the sums over a block's rows then run
        # along the first axis, in row order, a whole row of blocks at a time.
        x = x.reshape(nb, b, 6).transpose(1, 2, 0).copy()
        half = b // 2
        seen = _seen_rate_dps(
            x[:half, 3:].mean(axis=0), x[half : 2 * half, 3:].mean(axis=0), half * self.row_s
        ).T  # (block, 3)
        turn = (_half_span_weights(b) @ x[:, :3].reshape(b, -1)).reshape(3, nb).T  # (block, 3)
        mean = x.mean(axis=0)
        x -= mean  # x is a copy: the deviations, in place
        var = np.square(x, out=x).mean(axis=0)
        mean, var = mean.T.copy(), var.T.copy()  # (block, channel)
        for j in np.flatnonzero(self._still(mean, var)).tolist():
            updates.append(self._take(first_block + j, mean[j], seen[j], turn[j]))

    def _still(self, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        """Per block (rows of gyro+acc means and variances): was the foot still?"""
        mean, var = np.atleast_2d(mean), np.atleast_2d(var)
        return (
            (np.sqrt(var[:, :3].max(axis=1)) < self.still_gyr_dps)
            & (np.sqrt(var[:, 3:].max(axis=1)) < self.still_acc_g)
            & (np.abs(np.linalg.norm(mean[:, 3:], axis=1) - 1.0) < 0.2)
        )

    def _take(
        self, block: int, mean: np.ndarray, seen_dps: np.ndarray, gyr_dps: np.ndarray
    ) -> CalibrationUpdate:
        """A still ``block`` with gyro+acc ``mean`` that the accelerometer saw turn at
        ``seen_dps`` between its halves' centres, where the gyro read ``gyr_dps``: refresh
        the bias; the first gives neutral."""
        moving = np.linalg.norm(seen_dps) >= self.settings.seen_turn_dps
        g_mean, a_mean = (gyr_dps - seen_dps if moving else gyr_dps), mean[3:]
        self.still_blocks += 1
        if self.bias_dps is None:
            self.bias_dps = g_mean
        else:
            self.bias_dps = 0.7 * self.bias_dps + 0.3 * g_mean
        up = None
        if self.up is None:
            self.g_ref = float(np.linalg.norm(a_mean))
            self.up = up = a_mean / self.g_ref
        apply_from = (block + 1) * self.block_len
        return CalibrationUpdate(apply_from, self.bias_dps.copy(), up, self.g_ref)


# -- Self-calibration of the sensor's gains, from still poses --------------------------------
#
# Each sensor's accelerometer reads M_a g + b (scale and cross-axis errors M_a, zero-g offset
# b) and its gyro M_g w: the MPU-6050's datasheet gives about 2 % scale, 1 % cross-axis and
# 30-50 mg offsets, which bias the angle between the bottom and the top of a raise by 2-4 %,
# differently on each shoe. Physics gives two checks in every session, with no user effort:
# in a still pose the corrected accelerometer reads |g| = 1, and between two still poses a
# few seconds apart the corrected accelerometer turns by the angle the corrected gyro
# integrated. A pose pair at one height cannot tell the gyro's scale from the accelerometer's
# offset; tops at different heights, deep drops and sagging holds can (the offset bends the
# accelerometer's angle differently at each height, the gyro's scale does not). The fit below
# is the most probable correction given those checks and the datasheet's spreads: with few or
# uninformative poses it stays at (about) no correction, and a pose that fits no sensor
# (someone else's shoe moved, a knock) is down-weighted, then refused.


@dataclass(frozen=True)
class SelfCalSettings:
    """Self-calibration's tuning: what counts as a still pose, and how much each check says."""

    #: s: a pose is this long (top holds are 0.4-1.5 s)
    window_s: float = 0.3
    #: deg/s: turning slower than this on average over the pose (a hold sags about 3 deg/s)
    pose_mean_dps: float = 4.0
    #: deg/s: the pose's second half turning this much faster or slower than its first: the
    #: foot is braking or starting (lever-arm acceleration would bend the pose's gravity)
    pose_ramp_dps: float = 2.0
    #: deg/s: rate spread over the pose below this (balance ripple on the toes is ~7 RMS)
    pose_spread_dps: float = 15.0
    #: g: the pose's mean |acc| within this of its rest value (lever-arm ripple averages out)
    pose_g: float = 0.06
    #: s: two poses this close are linked by the gyro (bias drift stays under 0.2 deg)
    pair_s: float = 4.0
    #: deg: ... and only when the foot turned at least this far between them
    pair_min_deg: float = 8.0
    #: ... and the accelerometer's and the gyro's turns agree within this fraction (no sensor
    #: is off by more: the rest is motion or drift, not a pose pair). The disagreement is the
    #: sensor's own, the same on every pair (an offset along gravity of b g turns the
    #: accelerometer's angle about b more, the gyro's gain adds its error): a gate near 3
    #: sigma of it (0.12) refused every pair of the sensors that need the fit most (dev deep
    #: drop pair 60040 left: 90 mg and a 3 % gain, pairs 12-15 % apart, its first rep 4 deg
    #: low); 4.5 sigma of acc_bias_g and scale_error together admits the datasheet's limits
    pair_agree: float = 0.16
    #: poses kept (the oldest go): bounds memory and the fit's cost
    max_poses: int = 120
    #: g: 1-sigma zero-g offset of the accelerometer (datasheet: +-50 mg)
    acc_bias_g: float = 0.03
    #: 1-sigma scale error of each axis, accelerometer and gyro (datasheet: +-2-3 %)
    scale_error: float = 0.02
    #: 1-sigma cross-axis coupling (datasheet: +-2 %; only its symmetric half bends angles)
    cross_axis: float = 0.01
    #: g: how far a still pose's |g| strays from 1 beyond the sensor's gains (noise, sway)
    pose_norm_g: float = 0.005
    #: deg: how far the accelerometer's turn strays from the gyro's (sway, drift, sampling)
    pair_deg: float = 0.8
    #: a check this many sigma off after the fit is down-weighted (Huber)
    huber_sigma: float = 2.5
    #: after the fit, poses' checks with RMS above this many sigma: no correction
    refuse_rms: float = 2.0
    #: Gauss-Newton iterations per fit
    iterations: int = 6
    #: the first fit waits for this many pose pairs: one, so a session's first raise (out of
    #: a heel drop: a bottom the raw accelerometer reads, 30-50 deg on the raw gyro) is read
    #: with the gains the stand and the drop's hold gave (waiting for 3: 1-2.5 deg off; the
    #: spreads hold a one-pair fit near no correction across the turn it cannot see) ...
    first_fit_pairs: int = 1
    #: ... then fits again each time the pairs double, at least every this many (CPU)
    refit_pairs: int = 16


SELFCAL = SelfCalSettings()


@dataclass(frozen=True)
class GainCorrection:
    """Corrected accelerometer ``acc @ acc_matrix.T + acc_offset_g`` (same neutral direction
    and rest magnitude as the raw one: only angles away from neutral change) and corrected
    gyro ``gyr_dps / gyr_gain``."""

    acc_matrix: np.ndarray
    acc_offset_g: np.ndarray
    gyr_gain: float
    params: np.ndarray  # b (3), symmetric S (xx, yy, zz, xy, xz, yz), gyro gain - 1
    fitted: bool = True  # False: no correction (nothing fitted yet, or the fit was refused)

    @staticmethod
    def none() -> GainCorrection:
        return GainCorrection(np.eye(3), np.zeros(3), 1.0, np.zeros(10), fitted=False)


def _sym(p: np.ndarray) -> np.ndarray:
    xx, yy, zz, xy, xz, yz = p
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


def _corrected(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Raw accelerometer rows ``m`` (g) with offset p[:3] and symmetric gain p[3:9] removed."""
    return (m - p[:3]) @ (np.eye(3) - _sym(p[3:9])).T


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector ``a`` onto unit vector ``b``."""
    v = np.cross(a, b)
    c = float(a @ b)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def prior_sd(settings: SelfCalSettings = SELFCAL) -> np.ndarray:
    """The prior's width of each of the gain fit's ten parameters: three acc biases (g),
    three acc scale errors, three cross-axis terms (each pair's share of the datasheet's
    figure), the gyro's scale error."""
    s = settings
    return np.array(
        [s.acc_bias_g] * 3 + [s.scale_error] * 3 + [s.cross_axis / np.sqrt(2)] * 3 + [s.scale_error]
    )


def fit_gains(
    up: np.ndarray,
    basis: np.ndarray,
    acc_g: np.ndarray,
    pairs: np.ndarray,
    turn_deg: np.ndarray,
    g_ref: float = 1.0,
    settings: SelfCalSettings = SELFCAL,
) -> GainCorrection | None:
    """The most probable gain correction given still poses and the gyro's turns between them.

    ``up``: neutral "up" (unit, sensor axes); ``basis``: (3, 2) horizontal axes of neutral;
    ``acc_g``: (N, 3) each pose's mean raw accelerometer reading; ``pairs``: (P, 2) pose
    indices linked by the gyro; ``turn_deg``: (P, 2) the bias-corrected gyro's integral
    (deg, on ``basis``) from the first pose of each pair to the second; ``g_ref``: the raw
    neutral reading's magnitude.
    Returns None when the poses fit no sensor (then nothing is corrected).
    """
    s = settings
    sd = prior_sd(s)
    frame = np.column_stack([basis, up])
    i, j = pairs[:, 0], pairs[:, 1]
    turn = np.linalg.norm(turn_deg, axis=1)
    along = turn_deg / turn[:, None]  # the gyro's turn direction: the acc's turn projects on it

    def tilt(c):
        # Each vector's own (N,3)@(3,3) product, as BLAS gives it one at a time
        p = np.stack([u @ frame for u in c / np.linalg.norm(c, axis=-1, keepdims=True)])
        sin = np.hypot(p[..., 0], p[..., 1])
        ang = np.degrees(np.arctan2(sin, p[..., 2])) / np.maximum(sin, 1e-12)
        return np.stack([p[..., 1] * ang, -p[..., 0] * ang], axis=-1)

    def residuals(ps):
        """The residuals of each parameter vector (rows of ``ps``), all at once: every
        row's the same operations, element by element, as that row alone would get."""
        c = np.stack([_corrected(p, acc_g) for p in ps])  # each row's own (N,3)@(3,3)
        norm = (np.linalg.norm(c, axis=-1) - 1.0) / s.pose_norm_g
        r = tilt(c)
        acc_turn = np.einsum("kij,ij->ki", r[:, j] - r[:, i], along)
        ang = (acc_turn - turn / (1.0 + ps[:, 9:10])) / s.pair_deg
        return np.concatenate([norm, ang], axis=1)

    p = np.zeros(10)
    # The overall acc scale is free (it bends no angle): start it at the poses' mean |g|.
    p[3:6] = float(np.mean(np.linalg.norm(acc_g, axis=1))) - 1.0
    eps = 1e-6
    w = np.ones(len(acc_g) + len(pairs))
    for _ in range(s.iterations):
        # p, then p with each parameter in turn moved by eps: one pass for the Jacobian
        ps = np.repeat(p[None, :], 11, axis=0)
        ps[np.arange(1, 11), np.arange(10)] += eps
        rs = residuals(ps)
        r0 = rs[0]
        jac = np.ascontiguousarray(((rs[1:] - r0) / eps).T)  # C order, as the products had it
        # Huber weights: a check far off after the last step counts as a milder one
        a = np.abs(r0)
        w = np.where(a <= s.huber_sigma, 1.0, s.huber_sigma / np.maximum(a, 1e-12))
        h = jac.T @ (w[:, None] * jac) + np.diag(1.0 / sd**2)
        g = jac.T @ (w * r0) + p / sd**2
        p = p - np.linalg.solve(h, g)
    r = residuals(p[None, :])[0]
    if not np.all(np.isfinite(r)) or np.sqrt(np.mean(np.minimum(r * r, 25.0))) > s.refuse_rms:
        return None
    return correction_of(p, up, g_ref)


def correction_of(p: np.ndarray, up: np.ndarray, g_ref: float = 1.0) -> GainCorrection:
    """Parameters -> the affine accelerometer map that leaves the neutral reading
    ``up * g_ref`` where it is (so neutral, "1 g" and every rule built on them stay), and
    the gyro's gain."""
    gain = np.eye(3) - _sym(p[3:9])
    c0 = (up * g_ref - p[:3]) @ gain.T  # the neutral reading, corrected
    rot = _rotation_between(c0 / np.linalg.norm(c0), up)
    matrix = g_ref * (rot @ gain) / np.linalg.norm(c0)
    return GainCorrection(matrix, -matrix @ p[:3], 1.0 + float(p[9]), p.copy())


#: a vector length batched (einsum) and ``np.linalg.norm``'s differ by a few units in the last
#: place (1e-16 of it): one this fraction past a pose limit is past it either way
_MARGIN = 1e-9


class GainSelfCal:
    """Still poses and the gyro's turns between them, gathered as the rows stream in, and the
    correction fitted to them (:func:`fit_gains`).

    Rows are cut into windows of ``window_s`` counted from the first row fed, whatever the
    chunks; a window is judged once whole, from its own rows, so the same stream gives the same
    poses and fits in any chunking. A gap (:meth:`reset`) drops the window in progress and
    unlinks the next pose from the last one (the gyro's integral does not cross it).
    """

    def __init__(self, up, basis, g_ref: float, dt_s: float, settings: SelfCalSettings = SELFCAL):
        self.s = settings
        self.up, self.basis, self.g_ref, self.dt_s = up, basis, g_ref, dt_s
        self.window = max(2, int(round(settings.window_s / dt_s)))
        self.rows = np.empty((self.window, 8))  # acc (3), gyro (3), gyro on basis (2)
        self.filled = 0
        self.windows_seen = 0  # whole windows since the first row (the time base of poses)
        self.turn_deg = np.zeros(2)  # gyro integral since the last gap, at the window's start
        self.last: tuple | None = None  # (acc mean, turn at its middle, window number)
        self.pose_acc: list[np.ndarray] = []  # both ends of every pair, in pairs
        self.pair_turn: list[np.ndarray] = []
        self.pairs_total = 0  # pairs ever found (the oldest drop out of the fit)
        self.next_fit = settings.first_fit_pairs
        self.correction = GainCorrection.none()
        self.fits = 0
        self.poses: list[tuple[int, np.ndarray]] = []  # the poses the last feed() ended
        # The pose tests on vector lengths (mean turn, ramp, |acc| off g_ref) and the band
        # about each limit in which a batched length does not decide (see _judge).
        limits = np.array([settings.pose_mean_dps, settings.pose_ramp_dps, settings.pose_g])
        bands = _MARGIN * np.array([*limits[:2], 1.0 + g_ref])
        self._maybe_under, self._surely_under = limits + bands, limits - bands

    def reset(self) -> None:
        self.filled = 0
        self.last = None
        self.turn_deg = np.zeros(2)

    def feed(self, acc_g: np.ndarray, gyr_dps: np.ndarray, w_dps: np.ndarray) -> list:
        """Consecutive rows; returns [(row, GainCorrection)]: a new correction from that row of
        this call on. The still poses that ended in this call are left in :attr:`poses`:
        [(row, mean raw accelerometer)], ``row`` the first row after the pose's window (the
        window is the ``window`` rows fed before it, whatever the chunks)."""
        changes: list = []
        self.poses = []
        x = np.concatenate((acc_g, gyr_dps, w_dps), axis=1)
        a, n, w = 0, len(x), self.window
        if self.filled:  # the window in progress first
            take = min(n, w - self.filled)
            self.rows[self.filled : self.filled + take] = x[:take]
            self.filled += take
            a = take
            if self.filled == w:
                self.filled = 0
                self._judge(self.rows[None], a, changes)
        whole = (n - a) // w
        if whole:
            self._judge(x[a : a + whole * w].reshape(whole, w, 8), a + w, changes)
            a += whole * w
        if a < n:
            self.rows[: n - a] = x[a:]
            self.filled = n - a
        return changes

    def _judge(self, windows: np.ndarray, first_end: int, changes: list) -> None:
        """Whole windows (count, rows, 8), in order, the first ending at row ``first_end`` of
        this call: each a pose? a pair with the last one? time for a fit? A pose becomes
        :attr:`last` and goes into :attr:`poses`; a new correction into ``changes``.

        Each window's means, spread and turns are taken for all windows at once, laid out
        (row, channel, window) so every sum runs along the rows in row order, as one
        window's own would (``np.add.reduce`` then the division by the count: what ``mean``
        and ``var`` do). The pose tests' vector lengths are batched too; a batched length
        and ``np.linalg.norm``'s differ by a few units in the last place, so only a window
        whose batched length lies within ``_MARGIN`` of a limit has its lengths taken again
        as ``np.linalg.norm`` to decide it."""
        s, dt = self.s, self.dt_s
        count, w = windows.shape[:2]
        half = w // 2
        x = windows.transpose(1, 2, 0).copy()  # (row, channel, window)
        sums = np.add.reduce(x, axis=0)  # (channel, window)
        start = np.empty((count + 1, 2))  # the gyro's turn at each window's start, then the end
        start[0] = self.turn_deg
        start[1:] = (dt * sums[6:8]).T  # each window's turn: the last of its running sums
        np.cumsum(start, axis=0, out=start)
        self.turn_deg = start[-1].copy()
        seen0 = self.windows_seen
        self.windows_seen = seen0 + count
        # Turning on average: no pose (most windows, moving; nothing more to look at).
        gyr_mean = sums[3:6] / w
        turning = np.sqrt(np.einsum("ij,ij->j", gyr_mean, gyr_mean))
        some = np.flatnonzero(turning < self._maybe_under[0])
        if len(some) == 0:
            return
        x = x[:, :, some]
        gyr = x[:, 3:6]
        gyr_mean = gyr_mean[:, some]
        dev = gyr - gyr_mean
        dev *= dev
        spread_ok = np.sqrt((np.add.reduce(dev, axis=0) / w).max(axis=0)) < s.pose_spread_dps
        ramp = np.add.reduce(gyr[half:], axis=0) / (w - half)
        ramp -= np.add.reduce(gyr[:half], axis=0) / half
        # (window, test, axis): the vectors whose lengths the pose tests bound
        vectors = np.stack((gyr_mean, ramp, sums[:3, some] / w), axis=0).transpose(2, 0, 1)
        value = np.sqrt(np.einsum("ijk,ijk->ij", vectors, vectors))
        value[:, 2] = np.abs(value[:, 2] - self.g_ref)
        maybe = (value < self._maybe_under).all(axis=1) & spread_ok
        sure = (value < self._surely_under).all(axis=1)
        for j in np.flatnonzero(maybe).tolist():
            i = int(some[j])
            self.windows_seen = seen0 + i + 1
            gyr_mean_i, ramp_i, acc_i = vectors[j].copy()
            if not sure[j] and not (
                np.linalg.norm(gyr_mean_i) < s.pose_mean_dps
                and np.linalg.norm(ramp_i) < s.pose_ramp_dps
                and abs(np.linalg.norm(acc_i) - self.g_ref) < s.pose_g
            ):
                continue
            turns = np.cumsum(x[:, 6:8, j], axis=0)
            turns *= dt
            turns += start[i]
            changed = self._pose(acc_i, np.add.reduce(turns, axis=0) / w)
            end = first_end + i * w
            self.poses.append((end, acc_i))
            if changed:
                changes.append((end, self.correction))
        self.windows_seen = seen0 + count

    def _pose(self, acc: np.ndarray, mid_turn: np.ndarray) -> bool:
        """A still window (mean accelerometer ``acc``, gyro turn at its middle ``mid_turn``):
        a pair with the last one? time for a fit? True when the correction changed."""
        s, dt = self.s, self.dt_s
        last, self.last = self.last, (acc, mid_turn, self.windows_seen)
        if last is None or (self.windows_seen - last[2]) * self.window * dt > s.pair_s:
            return False
        turn = mid_turn - last[1]
        size = np.linalg.norm(turn)
        if size < s.pair_min_deg:
            return False
        cos = last[0] @ acc / (np.linalg.norm(last[0]) * np.linalg.norm(acc))
        acc_turn = np.degrees(np.arccos(min(1.0, cos)))
        if abs(acc_turn - size) > s.pair_agree * size:
            return False
        self.pose_acc += [last[0], acc]
        self.pair_turn.append(turn)
        if len(self.pair_turn) > s.max_poses // 2:
            del self.pose_acc[:2], self.pair_turn[:1]
        self.pairs_total += 1
        if self.pairs_total < self.next_fit:
            return False
        self.next_fit = self.pairs_total + min(self.pairs_total, s.refit_pairs)
        n = len(self.pair_turn)
        fit = fit_gains(
            self.up,
            self.basis,
            np.array(self.pose_acc),
            np.arange(2 * n).reshape(n, 2),
            np.array(self.pair_turn),
            self.g_ref,
            s,
        )
        self.fits += 1
        self.correction = fit or GainCorrection.none()
        return True
