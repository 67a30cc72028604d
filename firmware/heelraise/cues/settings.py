"""Cue behaviour settings (a ``[cues]`` table, if the service config grows one).

Which GPIO does what is not here: that is the pin map
(:class:`heelraise.cues.pins.PinMap`, ``hardware/pins.toml``, the service
config's ``[pins]``). Keyword arguments are the TOML keys.

=================  =======  =====================================================
key                default  meaning
=================  =======  =====================================================
sound              true     false: LED only (the buzzer stays silent)
rep_chirp          true     chirp on every counted rep (faults always buzz)
lead_in_counts     2        count clicks before guided mode's first "rise now"
endurance_counts   3        count clicks before the endurance test's first beat
pace_tolerance_s   0.35     endurance: a rep may start this far off its up beat
button_hold_s      2.0      a button press longer than this is a "hold"
trouble_repeat_s   10.0     sensor trouble pattern at most this often
=================  =======  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from heelraise.exceptions import SettingsError


@dataclass(frozen=True)
class CueSettings:
    sound: bool = True
    rep_chirp: bool = True
    lead_in_counts: int = 2
    endurance_counts: int = 3
    pace_tolerance_s: float = 0.35
    button_hold_s: float = 2.0
    trouble_repeat_s: float = 10.0

    def __post_init__(self):
        for name in ("sound", "rep_chirp"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(
                    f"cues.{name} must be true or false, not {getattr(self, name)!r}"
                )
        for name in ("lead_in_counts", "endurance_counts"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10:
                raise SettingsError(f"cues.{name} must be a whole number 0 to 10, not {value!r}")
        for name in ("pace_tolerance_s", "button_hold_s", "trouble_repeat_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise SettingsError(f"cues.{name} must be a number above 0, not {value!r}")
