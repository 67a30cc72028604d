"""A session script: segments of foot motion laid end to end on a 1 kHz grid.

Each ``add_*`` method appends one segment (standing, a rep, a stride of walking,
a step up, a few toe taps, ...) continuing from where the foot is, and records
the ground truth of what it added. :meth:`Script.render` turns the whole script
into a :class:`~heelraise.sim.kinematics.Motion` through the rigid-body model.
"""

from __future__ import annotations

import numpy as np

from heelraise.sim.kinematics import Motion, foot_to_sensor
from heelraise.sim.profiles import beta_profile

FINE_HZ = 1000.0
G_MPS2 = 9.80665
HEEL_OFF_SHAPE = (2.2, 2.6)  # beta exponents of a gait heel-off (speed peaks at 0.4)
RIPPLE_BAND_HZ = (5.0, 25.0)  # balance on the toes: ankle and foot muscles correcting


def band_noise(n: int, rng: np.random.Generator, band_hz=RIPPLE_BAND_HZ) -> np.ndarray:
    """An angle (deg) whose rate is band-limited noise of unit RMS (1 deg/s) in ``band_hz``.

    White noise shaped in the frequency domain: the rate keeps only the band, its amplitude
    falling as 1/f across it (most of the power low in the band, as in physiological tremor,
    not a flat spectrum that would put most of the angular acceleration at the top); the
    angle is its exact integral (rate / (2 pi i f)), so it has no drift and no DC.
    """
    f = np.fft.rfftfreq(n, 1.0 / FINE_HZ)
    spec = np.fft.rfft(rng.normal(size=n))
    inside = (f >= band_hz[0]) & (f <= band_hz[1])
    spec = np.where(inside, spec * band_hz[0] / np.where(inside, f, 1.0), 0.0)
    rate = np.fft.irfft(spec, n)
    safe_f = np.where(f > 0, f, 1.0)
    angle = np.fft.irfft(np.where(f > 0, spec / (2j * np.pi * safe_f), 0.0), n) * FINE_HZ
    rms = float(np.sqrt(np.mean(rate**2))) * FINE_HZ
    return angle / rms if rms > 0 else angle


class Script:
    def __init__(self, rng: np.random.Generator, foot_length_m: float, ball_fraction: float):
        self.rng = rng
        self.lever_m = foot_length_m * ball_fraction  # heel to ball of the foot
        self.pitch: list[np.ndarray] = []
        self.roll: list[np.ndarray] = []
        self.yaw: list[np.ndarray] = []
        self.origin: list[np.ndarray] = []
        self.impact: list[tuple[int, float, float]] = []  # (sample, peak_g, freq_hz)
        self.sway_gain: list[np.ndarray] = []
        self.ripple_gain: list[np.ndarray] = []  # balance ripple, deg/s RMS of pitch rate
        self.n = 0
        self.cur_pitch = 0.0
        self.cur_roll = 0.0
        self.cur_yaw = float(rng.uniform(-np.pi, np.pi))
        self.cur_origin = np.zeros(3)
        self.segments: list[dict] = []  # non-rep activity, for the truth file

    # -- low level -------------------------------------------------------------------------
    @property
    def t_s(self) -> float:
        return self.n / FINE_HZ

    def _append(self, pitch, roll, yaw, origin, sway, ripple=0.0):
        k = len(pitch)
        self.ripple_gain.append(np.full(k, float(ripple)))
        self.pitch.append(np.asarray(pitch, float))
        self.roll.append(np.asarray(roll, float))
        self.yaw.append(np.broadcast_to(np.asarray(yaw, float), (k,)).copy())
        self.origin.append(np.broadcast_to(np.asarray(origin, float), (k, 3)).copy())
        self.sway_gain.append(np.broadcast_to(np.asarray(sway, float), (k,)).copy())
        self.n += k
        self.cur_pitch = float(self.pitch[-1][-1])
        self.cur_roll = float(self.roll[-1][-1])
        self.cur_yaw = float(self.yaw[-1][-1])
        self.cur_origin = self.origin[-1][-1].copy()

    def _n(self, seconds: float) -> int:
        return max(1, int(round(seconds * FINE_HZ)))

    def _dir(self) -> np.ndarray:
        return np.array([np.cos(self.cur_yaw), np.sin(self.cur_yaw), 0.0])

    def forward(self) -> np.ndarray:
        """Unit vector the foot points along, in the world (horizontal)."""
        return self._dir()

    def hold(self, seconds: float, sway_deg: float, ripple_dps: float = 0.0):
        k = self._n(seconds)
        self._append(
            np.full(k, self.cur_pitch),
            np.full(k, self.cur_roll),
            self.cur_yaw,
            self.cur_origin,
            sway_deg,
            ripple_dps,
        )

    def move(
        self,
        seconds,
        pitch_to,
        roll_to=None,
        sway_deg=0.1,
        about="ball",
        shape=None,
        curve=None,
        ripple_dps=0.0,
    ):
        """Rotate the foot to ``pitch_to`` (deg) about the ball of the foot or the heel.

        The speed profile is ``curve(n)`` (a function of the sample count, see
        :mod:`heelraise.sim.profiles`) when given, else an incomplete beta with exponents
        ``shape`` (drawn from 2.4 to 3.6 when not given: the classic family).
        """
        k = self._n(seconds)
        if curve is not None:
            s = np.asarray(curve(k), float)
        else:
            a, b = shape if shape is not None else self.rng.uniform(2.4, 3.6, size=2)
            s = beta_profile(k, a, b)
        p0, r0 = self.cur_pitch, self.cur_roll
        roll_to = r0 if roll_to is None else roll_to
        pitch = p0 + (pitch_to - p0) * s
        roll = r0 + (roll_to - r0) * s
        origin = np.broadcast_to(self.cur_origin, (k, 3)).copy()
        if about == "ball_then_heel":
            # Lowering past neutral on the floor: the heel lands, the foot rocks back on it.
            d = self._dir()
            heel = self.cur_origin - self.lever_m * d
            th = np.radians(np.minimum(pitch, 0.0))
            origin = heel + np.outer(self.lever_m * np.cos(th), d)
            origin[:, 2] = heel[2] + self.lever_m * np.sin(-th)
        elif about == "heel":
            # The heel stays put; the ball (the frame origin) swings about it.
            d = self._dir()
            heel = self.cur_origin - self.lever_m * np.cos(np.radians(p0)) * d
            heel[2] = self.cur_origin[2] - self.lever_m * np.sin(np.radians(-p0))
            th = np.radians(pitch)
            origin = heel + np.outer(self.lever_m * np.cos(th), d)
            origin[:, 2] = heel[2] + self.lever_m * np.sin(-th)
        self._append(pitch, roll, self.cur_yaw, origin, sway_deg, ripple_dps)

    def translate(self, seconds, delta_m, lift_m, pitch_to, yaw_to=None):
        """Swing the foot through the air: origin moves by delta_m with an arc of lift_m."""
        k = self._n(seconds)
        s = beta_profile(k, 3.0, 3.0)
        arc = np.sin(np.pi * beta_profile(k, 2.0, 2.0)) ** 2 * lift_m
        origin = self.cur_origin + np.outer(s, delta_m)
        origin[:, 2] += arc
        pitch = self.cur_pitch + (pitch_to - self.cur_pitch) * beta_profile(k, 2.5, 2.5)
        yaw = self.cur_yaw if yaw_to is None else self.cur_yaw + (yaw_to - self.cur_yaw) * s
        self._append(pitch, np.full(k, self.cur_roll), yaw, origin, 0.0)

    def fly(self, seconds: float, delta_xy_m, pitch_to: float, land_z_m: float | None = None):
        """The foot in the air (a jump, a hop): the ball of the foot follows a free-fall arc.

        It leaves from where it is and lands ``delta_xy_m`` further at height ``land_z_m``
        (default: the take-off height) after ``seconds``, turning to ``pitch_to`` on the way.
        """
        k = self._n(seconds)
        t = (np.arange(k) + 1.0) / FINE_HZ
        dur = k / FINE_HZ
        z0 = float(self.cur_origin[2])
        z1 = z0 if land_z_m is None else float(land_z_m)
        v0 = (z1 - z0) / dur + G_MPS2 * dur / 2
        origin = np.empty((k, 3))
        d = np.asarray(delta_xy_m, float)
        origin[:, 0] = self.cur_origin[0] + d[0] * t / dur
        origin[:, 1] = self.cur_origin[1] + d[1] * t / dur
        origin[:, 2] = z0 + v0 * t - G_MPS2 * t**2 / 2
        pitch = self.cur_pitch + (pitch_to - self.cur_pitch) * beta_profile(k, 2.5, 2.5)
        self._append(pitch, np.full(k, self.cur_roll), self.cur_yaw, origin, 0.0)

    def gait_stride(
        self,
        period_s: float,
        length_m: float,
        heel_off_deg: float,
        heel_off_s: float,
        lift_m: float,
        strike_deg: float,
        impact_g: float,
        turn_rad: float = 0.0,
        rise_m: float | None = None,
        stance_s: float | None = None,
        settle_to_deg: float = 0.0,
    ):
        """One gait cycle with every knob explicit (slow walking, shuffling, running, steps).

        Stance (foot flat), heel-off about the ball to ``heel_off_deg`` over ``heel_off_s``,
        swing through the air, contact at ``strike_deg`` (negative: heel first, the foot then
        rolls down about the heel; positive: ball first, the heel then comes down about the
        ball), an impact of ``impact_g`` at contact. ``rise_m``: height of the new footing;
        ``settle_to_deg``: the pitch the foot settles to on it (a slanted board, the toes).
        """
        stance = 0.3 * period_s if stance_s is None else stance_s
        settle = min(0.12 * period_s, 0.12)
        swing = max(0.12, period_s - stance - heel_off_s - settle)
        rise = float(self.cur_origin[2]) if rise_m is None else rise_m
        self.hold(stance, 0.0)
        self.move(heel_off_s, heel_off_deg, sway_deg=0.0, shape=HEEL_OFF_SHAPE)
        d = np.array([np.cos(self.cur_yaw + turn_rad), np.sin(self.cur_yaw + turn_rad), 0.0])
        land_ball = self.cur_origin + length_m * d
        land_ball[2] = rise
        th = np.radians(strike_deg)
        if strike_deg < settle_to_deg:
            if settle_to_deg != 0:
                raise ValueError("a heel-first contact settles the foot flat (settle_to_deg 0)")
            heel = land_ball - self.lever_m * d
            target = heel + self.lever_m * np.cos(th) * d
            target[2] = rise + self.lever_m * np.sin(-th)
        else:
            target = land_ball
        self.translate(
            swing,
            target - self.cur_origin,
            lift_m=lift_m,
            pitch_to=strike_deg,
            yaw_to=self.cur_yaw + turn_rad,
        )
        self.add_impact(impact_g, self.rng.uniform(25, 45))
        about = "heel" if strike_deg < settle_to_deg else "ball"
        self.move(settle, settle_to_deg, about=about, sway_deg=0.0, shape=(2.0, 3.0))
        self.cur_origin = land_ball.copy()
        self.origin[-1][-1] = land_ball

    def add_impact(self, peak_g: float, freq_hz: float = 35.0):
        self.impact.append((self.n, peak_g, freq_hz))

    # -- activities ------------------------------------------------------------------------
    def stand(self, seconds: float, sway_deg: float = 0.08):
        self.hold(seconds, sway_deg)

    def weight_shift(self):
        """Lean forward or back: the heel unloads a little, the ankle rolls a little."""
        t0 = self.t_s
        up = self.rng.uniform(1.0, 4.0)
        roll = self.rng.uniform(-3.0, 3.0)
        dur = self.rng.uniform(0.8, 2.0)
        self.move(dur, self.cur_pitch + up, self.cur_roll + roll, sway_deg=0.1)
        self.hold(self.rng.uniform(0.5, 2.0), 0.1)
        self.move(dur, self.cur_pitch - up, self.cur_roll - roll, sway_deg=0.1)
        self.segments.append({"kind": "weight_shift", "start_s": t0, "end_s": self.t_s})

    def toe_taps(self, count: int):
        """Lift the toes about the heel and tap them down, ``count`` times."""
        t0 = self.t_s
        base = self.cur_pitch
        for _ in range(count):
            self.move(self.rng.uniform(0.15, 0.3), base - self.rng.uniform(8, 18), about="heel")
            self.move(self.rng.uniform(0.12, 0.25), base, about="heel")
            self.add_impact(self.rng.uniform(0.8, 1.6), 40.0)
            self.hold(self.rng.uniform(0.1, 0.4), 0.03)
        self.segments.append({"kind": "toe_taps", "start_s": t0, "end_s": self.t_s})

    def stride(self, period_s: float, length_m: float, turn_rad: float = 0.0, rise_m=0.0):
        """One gait cycle of the instrumented foot: heel-off, swing, heel strike, foot flat."""
        rng = self.rng
        self.hold(0.30 * period_s, 0.0)
        self.move(0.25 * period_s, rng.uniform(45, 65), sway_deg=0.0, shape=(2.2, 2.6))
        strike_pitch = -rng.uniform(12, 24)
        d = np.array([np.cos(self.cur_yaw + turn_rad), np.sin(self.cur_yaw + turn_rad), 0.0])
        # Where the ball of the foot is at heel strike: heel down at the new place.
        land_ball = self.cur_origin + length_m * d
        land_ball[2] = rise_m
        th = np.radians(strike_pitch)
        heel = land_ball - self.lever_m * d
        ball_at_strike = heel + self.lever_m * np.cos(th) * d
        ball_at_strike[2] = rise_m + self.lever_m * np.sin(-th)
        self.translate(
            0.33 * period_s,
            ball_at_strike - self.cur_origin,
            lift_m=rng.uniform(0.06, 0.12),
            pitch_to=strike_pitch,
            yaw_to=self.cur_yaw + turn_rad,
        )
        self.add_impact(rng.uniform(2.0, 4.5), rng.uniform(25, 45))
        self.move(0.12 * period_s, 0.0, about="heel", sway_deg=0.0, shape=(2.0, 3.0))
        self.cur_origin = land_ball.copy()
        self.origin[-1][-1] = land_ball

    def walk(self, strides: int, turn_at_end: bool = False):
        t0 = self.t_s
        period = self.rng.uniform(0.95, 1.25)
        for i in range(strides):
            turn = self.rng.uniform(-0.3, 0.3)
            if turn_at_end and i == strides - 1:
                turn = self.rng.choice([-1, 1]) * self.rng.uniform(2.0, 3.0)
            self.stride(
                period * self.rng.uniform(0.95, 1.05),
                self.rng.uniform(1.0, 1.5),
                turn,
                rise_m=self.cur_origin[2],
            )
        self.segments.append({"kind": "walking", "start_s": t0, "end_s": self.t_s})

    def step_onto(self, height_m: float):
        """Step up with this foot and set it down with the heel hanging off the edge."""
        t0 = self.t_s
        self.stride(
            self.rng.uniform(1.1, 1.4),
            self.rng.uniform(0.35, 0.5),
            rise_m=self.cur_origin[2] + height_m,
        )
        self.hold(self.rng.uniform(0.6, 1.5), 0.1)
        self.segments.append({"kind": "step_onto", "start_s": t0, "end_s": self.t_s})

    def step_off(self, height_m: float):
        t0 = self.t_s
        self.stride(
            self.rng.uniform(1.1, 1.4),
            self.rng.uniform(0.35, 0.5),
            rise_m=max(0.0, self.cur_origin[2] - height_m),
        )
        self.segments.append({"kind": "step_off", "start_s": t0, "end_s": self.t_s})

    # -- rendering -------------------------------------------------------------------------
    def render(self, sensor_pos_m, mount) -> Motion:
        pitch_deg = np.concatenate(self.pitch)
        roll_deg = np.concatenate(self.roll)
        yaw = np.concatenate(self.yaw)
        origin = np.concatenate(self.origin)
        gain = np.concatenate(self.sway_gain)
        n = len(pitch_deg)
        t = np.arange(n) / FINE_HZ
        # Postural sway: smooth, small, strongest when balancing on the toes.
        k = int(0.3 * FINE_HZ)
        gain = np.convolve(gain, np.ones(k) / k, mode="same")
        sway_p = np.zeros(n)
        sway_r = np.zeros(n)
        for f in self.rng.uniform(0.15, 1.1, size=4):
            sway_p += np.sin(2 * np.pi * f * t + self.rng.uniform(0, 2 * np.pi)) / 2
            sway_r += np.sin(2 * np.pi * f * 0.8 * t + self.rng.uniform(0, 2 * np.pi)) / 2
        scripted_pitch_deg = pitch_deg.copy()
        pitch_deg = pitch_deg + gain * sway_p
        roll_deg = roll_deg + gain * sway_r
        ripple = np.concatenate(self.ripple_gain)
        if np.any(ripple > 0):  # never in the classic family: its sessions stay as they were
            # Causal 0.2 s ramp: the ripple builds once the heel is off the ground, never
            # before the rise starts, and dies away over 0.2 s after the heel is down.
            k = int(0.2 * FINE_HZ)
            ripple = np.convolve(ripple, np.ones(k) / k)[:n]
            pitch_deg = pitch_deg + ripple * band_noise(n, self.rng)
            roll_deg = roll_deg + 0.7 * ripple * band_noise(n, self.rng)
        # Contacts are not instantaneous: smooth the pivot switches over ~25 ms.
        k = 25
        kernel = np.ones(k) / k
        origin = np.column_stack(
            [
                np.convolve(np.pad(origin[:, i], k, mode="edge"), kernel, "same")[k:-k]
                for i in range(3)
            ]
        )
        extra = np.zeros((n, 3))
        for idx, peak_g, freq in self.impact:
            m = min(n - idx, int(0.12 * FINE_HZ))
            tt = np.arange(m) / FINE_HZ
            wave = peak_g * 9.80665 * np.sin(2 * np.pi * freq * tt) * np.exp(-tt / 0.018)
            extra[idx : idx + m, 2] += wave
            extra[idx : idx + m, 0] += 0.4 * wave
        acc, gyr = foot_to_sensor(
            t,
            np.radians(pitch_deg),
            np.radians(roll_deg),
            yaw,
            origin,
            np.asarray(sensor_pos_m, float),
            mount,
            extra,
        )
        return Motion(
            t_s=t,
            acc_g=acc,
            gyr_dps=gyr,
            pitch_deg=pitch_deg,
            roll_deg=roll_deg,
            scripted_pitch_deg=scripted_pitch_deg,
        )
