"""Cue settings: the service config's ``[cues]`` table, every default explained.

Keyword arguments are the TOML keys. Pin defaults come from the built-in pin
map (equal to ``hardware/pins.toml``).

=================  =========  ===================================================
key                default    meaning
=================  =========  ===================================================
enabled            true       false: no LED, buzzer or button at all
led_pin            17         BCM GPIO of the tempo LED
led_pwm            true       PWM LED (dims while pulsing); false: plain on/off
buzzer_pin         18         BCM GPIO driving the buzzer (through an NPN)
buzzer_kind        "active"   "active" (fixed pitch) or "passive" (tones)
button             true       a button is fitted
button_pin         27         BCM GPIO of the button (to GND, internal pull-up)
button_hold_s      2.0        press longer than this = hold (endurance test)
sound              true       false: LED only (buzzer stays silent)
rep_chirp          true       chirp on every counted rep
lead_in_counts     2          count clicks before guided mode's first raise
pace_tolerance_s   0.35       endurance: a rep start may be this far off its beat
beat_s             1.0        endurance: one beat per second (60 a minute)
trouble_repeat_s   10.0       sensor trouble pattern at most this often
=================  =========  ===================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from heelraise.cues.pins import DEFAULT_PINS, PinMap
from heelraise.exceptions import PinMapError, SettingsError


@dataclass(frozen=True)
class CueSettings:
    enabled: bool = True
    led_pin: int = DEFAULT_PINS.led
    led_pwm: bool = DEFAULT_PINS.led_pwm
    buzzer_pin: int = DEFAULT_PINS.buzzer
    buzzer_kind: str = DEFAULT_PINS.buzzer_kind
    button: bool = DEFAULT_PINS.button is not None
    button_pin: int = DEFAULT_PINS.button or 27
    button_hold_s: float = 2.0
    sound: bool = True
    rep_chirp: bool = True
    lead_in_counts: int = 2
    pace_tolerance_s: float = 0.35
    beat_s: float = 1.0
    trouble_repeat_s: float = 10.0

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "bool" and not isinstance(value, bool):
                raise SettingsError(f"cues.{f.name} must be true or false, not {value!r}")
            if f.type in ("float", "int") and (
                not isinstance(value, (int, float)) or isinstance(value, bool)
            ):
                raise SettingsError(f"cues.{f.name} must be a number, not {value!r}")
        for name in ("button_hold_s", "beat_s", "pace_tolerance_s", "trouble_repeat_s"):
            if not getattr(self, name) > 0:
                raise SettingsError(
                    f"cues.{name} must be greater than 0, not {getattr(self, name)!r}"
                )
        if not self.pace_tolerance_s < self.beat_s:
            raise SettingsError(
                f"cues.pace_tolerance_s ({self.pace_tolerance_s!r}) must be shorter than "
                f"cues.beat_s ({self.beat_s!r})"
            )
        if not (isinstance(self.lead_in_counts, int) and 0 <= self.lead_in_counts <= 10):
            raise SettingsError(f"cues.lead_in_counts must be 0 to 10, not {self.lead_in_counts!r}")
        try:
            self.pin_map  # noqa: B018 (builds the PinMap, which checks the pins)
        except PinMapError as e:
            # name the [cues] keys, not the pin map's fields
            msg = re.sub(r"\b(led|buzzer|button)\b(?!_)", r"\1_pin", str(e))
            raise PinMapError(f"cues: {msg}") from None

    @property
    def pin_map(self) -> PinMap:
        return PinMap(
            led=self.led_pin,
            led_pwm=self.led_pwm,
            buzzer=self.buzzer_pin,
            buzzer_kind=self.buzzer_kind,
            button=self.button_pin if self.button else None,
        )

    @classmethod
    def from_pin_map(cls, pins: PinMap, **others) -> CueSettings:
        """Settings using a pin map (e.g. ``load_pin_map("hardware/pins.toml")``)."""
        return cls(
            led_pin=pins.led,
            led_pwm=pins.led_pwm,
            buzzer_pin=pins.buzzer,
            buzzer_kind=pins.buzzer_kind,
            button=pins.button is not None,
            button_pin=pins.button if pins.button is not None else DEFAULT_PINS.button,
            **others,
        )
