"""Analysis settings: one dataclass, every default explained.

See the README's settings table; the service's TOML config maps onto these
names under ``[analysis]`` and ``[user]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from heelraise.exceptions import SettingsError
from heelraise.tempo import Tempo

#: Holes in a stream longer than this are gaps; shorter ones are interpolated over.
MAX_GAP_S = 0.25


@dataclass(frozen=True)
class AnalyzerSettings:
    #: Internal processing rate. Input at any rate 25 Hz to 1 kHz is
    #: box-averaged (or interpolated) onto this uniform grid first.
    grid_hz: float = 100.0
    #: A set ends after this long without a rep (or at walking).
    set_gap_s: float = 8.0
    #: Foot length; the heel-to-ball lever is ``ball_fraction`` of it.
    foot_length_m: float = 0.26
    ball_fraction: float = 0.73
    #: Body mass, for the work done (endurance test).
    body_mass_kg: float = 70.0
    #: A rep must rise at least this far above the bottom it started from.
    min_peak_deg: float = 8.0
    #: Ankle roll (in or out) at or above this is the ``ankle_roll`` fault.
    roll_fault_deg: float = 8.0
    #: A rep below this fraction of the set's best peak is ``partial``.
    partial_fraction: float = 0.7
    #: On a step, a bottom shallower than this below neutral is ``not_past_neutral``.
    past_neutral_deg: float = 2.0
    #: On the floor, toes lifted by this much or more is ``rocked_back``.
    rocked_back_deg: float = 3.0
    #: Still periods: gyro spread and accelerometer spread limits.
    still_gyr_dps: float = 2.0
    still_acc_g: float = 0.02
    #: Seconds of stillness needed to take neutral (shoe flat).
    neutral_still_s: float = 1.0
    #: Angular rate (after bias) above which motion with the foot off the ground
    #: (acceleration the lever arm cannot explain) is walking / stepping, not a rep.
    walking_gyr_dps: float = 300.0
    #: Angular rate above which motion is a stride whatever the accelerometer says: no heel
    #: raise turns this fast (a brisk 30-55 degree raise in 0.25 s peaks near 400).
    stride_gyr_dps: float = 600.0
    #: Complementary filter time constant: gyro below, accelerometer above it.
    fusion_tau_s: float = 0.5
    #: Reads shorter than this are gathered before the chain runs (its cost is mostly per
    #: call); never while a rep is being decided, so no decision waits on it.
    batch_s: float = 0.15
    #: ... and up to this long while every read gathered is still (no turn at the live
    #: phase's rising / lowering rate): no phase of a rep is under way; the live stream
    #: sends batches of 0.5 s anyway.
    still_batch_s: float = 0.5
    #: Stream gaps longer than this end any rep in progress without counting it.
    max_gap_s: float = MAX_GAP_S
    #: Surface: "auto" (judged from each set's bottoms), "floor" or "step".
    surface: str = "auto"
    #: Target tempo, or None.
    tempo: Tempo | None = None

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("tempo", "surface"):
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise SettingsError(f"{f.name} must be a number, not {value!r}")
            if not value > 0 and f.name not in ("past_neutral_deg",):
                raise SettingsError(f"{f.name} must be greater than 0, not {value!r}")
        if self.surface not in ("auto", "floor", "step"):
            raise SettingsError(f"surface must be 'auto', 'floor' or 'step', not {self.surface!r}")
        if not 25 <= self.grid_hz <= 400:
            raise SettingsError(f"grid_hz must be 25 to 400, not {self.grid_hz!r}")
        if not 0 < self.partial_fraction < 1:
            raise SettingsError(
                f"partial_fraction must be between 0 and 1, not {self.partial_fraction!r}"
            )
        if isinstance(self.tempo, str):
            object.__setattr__(self, "tempo", Tempo.parse(self.tempo))

    @property
    def heel_lever_m(self) -> float:
        return self.foot_length_m * self.ball_fraction

    def heel_rise_mm(self, peak_deg: float) -> float:
        """The heel's height above where it started for a foot pitched ``peak_deg`` about
        the ball (the lever ``heel_lever_m``; none below neutral).

        >>> round(AnalyzerSettings().heel_rise_mm(30.0), 1)
        94.9
        """
        return 1000.0 * self.heel_lever_m * math.sin(math.radians(max(peak_deg, 0.0)))

    def with_(self, **changes) -> AnalyzerSettings:
        return replace(self, **changes)
