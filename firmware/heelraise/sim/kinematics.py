"""Foot kinematics -> what a strapped-on IMU feels (true values, no sensor errors).

The foot is a rigid body. Its frame has the origin at the ball of the foot, x
forward, y to the left, z up. Its attitude is ``Rz(yaw) @ Ry(pitch) @ Rx(roll)``:
positive pitch is plantarflexion (heel up, toes down), positive roll turns the
sole outwards about the long axis. The foot's origin moves in the world (z up)
as the motion script says: fixed while the foot pivots about the ball of the
foot (a heel raise), moving when it pivots about the heel (rocking back, toe
taps) or swings (walking).

The sensor sits at ``sensor_pos_m`` in the foot frame (a lever arm from the
pivot, so it feels tangential and centripetal acceleration) and is mounted in
an arbitrary orientation ``mount`` (sensor axes -> foot axes). Specific force is
``R_s^T (a_world - g_world)`` in g; angular rate is the body rate in deg/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heelraise.physics import G_MPS2


def rot_x(a):
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack(
        [np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2
    )


def rot_y(a):
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack(
        [np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2
    )


def rot_z(a):
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack(
        [np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2
    )


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix drawn uniformly over all orientations."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


@dataclass
class Motion:
    """True sensor signals of a scripted foot motion, sampled on a fine uniform grid.

    ``sample(t_s)`` interpolates them at any times (what the register emulators
    and the sensor model read).
    """

    t_s: np.ndarray  # fine uniform grid
    acc_g: np.ndarray  # (N, 3) true specific force, sensor axes
    gyr_dps: np.ndarray  # (N, 3) true angular rate, sensor axes
    pitch_deg: np.ndarray  # (N,) foot pitch (plantarflexion +), for truth and plots
    roll_deg: np.ndarray  # (N,)
    #: the scripted pitch before postural sway and balance ripple (truth instants live here)
    scripted_pitch_deg: np.ndarray | None = None

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0])

    def __post_init__(self):
        # np.interp copies a non-contiguous column on every call: keep contiguous ones, or an
        # emulator asking for a few samples at a time pays for the whole session each read.
        self._columns = [np.ascontiguousarray(self.acc_g[:, i]) for i in range(3)] + [
            np.ascontiguousarray(self.gyr_dps[:, i]) for i in range(3)
        ]

    def sample(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        t_s = np.clip(np.asarray(t_s, dtype=float), self.t_s[0], self.t_s[-1])
        out = np.column_stack([np.interp(t_s, self.t_s, col) for col in self._columns])
        return out[:, :3], out[:, 3:]


def foot_to_sensor(
    t_s: np.ndarray,
    pitch_rad: np.ndarray,
    roll_rad: np.ndarray,
    yaw_rad: np.ndarray,
    origin_m: np.ndarray,
    sensor_pos_m: np.ndarray,
    mount: np.ndarray,
    extra_acc_world_mps2: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Specific force (g) and angular rate (deg/s) in sensor axes for a foot trajectory.

    All inputs are sampled on the uniform grid ``t_s``; derivatives are central
    differences, so the trajectory must be smooth (twice differentiable) apart
    from the impacts passed in ``extra_acc_world_mps2``.
    """
    dt = float(t_s[1] - t_s[0])
    rot = rot_z(yaw_rad) @ rot_y(pitch_rad) @ rot_x(roll_rad)  # foot -> world
    pos = origin_m + np.einsum("nij,j->ni", rot, sensor_pos_m)
    vel = np.gradient(pos, dt, axis=0)
    acc_world = np.gradient(vel, dt, axis=0)
    if extra_acc_world_mps2 is not None:
        acc_world = acc_world + extra_acc_world_mps2
    acc_world[:, 2] += G_MPS2  # minus gravity (0, 0, -g)
    f_body = np.einsum("nji,nj->ni", rot, acc_world) / G_MPS2  # R^T a
    # Body angular rate for R = Rz(yaw) Ry(pitch) Rx(roll).
    droll = np.gradient(roll_rad, dt)
    dpitch = np.gradient(pitch_rad, dt)
    dyaw = np.gradient(yaw_rad, dt)
    sr, cr = np.sin(roll_rad), np.cos(roll_rad)
    sp, cp = np.sin(pitch_rad), np.cos(pitch_rad)
    w_body = np.column_stack(
        [
            droll - dyaw * sp,
            dpitch * cr + dyaw * cp * sr,
            -dpitch * sr + dyaw * cp * cr,
        ]
    )
    acc_s = f_body @ mount  # mount: sensor -> foot, so sensor = mount^T body
    gyr_s = np.degrees(w_body) @ mount
    return acc_s, gyr_s
