"""The default pin map (BCM GPIO numbers) and the reader for ``pins.toml``.

The defaults are read from ``pins.toml`` shipped in this package
(``hardware/pins.toml`` in the repository links to it; a test checks the wiring
table in ``hardware/wiring.md`` against the same file)::

    Raspberry Pi header            part
    pin 3  GPIO2  SDA   ---------- IMU SDA
    pin 5  GPIO3  SCL   ---------- IMU SCL
    pin 11 GPIO17       --[330R]-- LED anode, LED cathode to GND
    pin 12 GPIO18       --[1k]---- NPN base, buzzer between 5V and collector
    pin 13 GPIO27       ---------- button, other leg to GND (internal pull-up)

Example::

    >>> from heelraise.cues.pins import DEFAULT_PINS, PINS_TOML, load_pin_map
    >>> DEFAULT_PINS.led, DEFAULT_PINS.buzzer, DEFAULT_PINS.button
    (17, 18, 27)
    >>> load_pin_map(PINS_TOML) == DEFAULT_PINS   # the file that ships in the package
    True
    >>> pin_map_from_dict({"buzzer": {"gpio": 17}})
    Traceback (most recent call last):
    ...
    heelraise.exceptions.PinMapError: pin map: buzzer and led are both on GPIO17

The dataclass's own field defaults are for building partial maps (a ``pins.toml``
that names only some parts); a test keeps them equal to the shipped file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from heelraise.exceptions import PinMapError

#: BCM GPIO number -> physical pin on the 40-pin header (every Pi since the B+).
HEADER_PIN = {
    2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21, 10: 19, 11: 23, 12: 32, 13: 33,
    14: 8, 15: 10, 16: 36, 17: 11, 18: 12, 19: 35, 20: 38, 21: 40, 22: 15, 23: 16, 24: 18,
    25: 22, 26: 37, 27: 13,
}  # fmt: skip

BUZZER_KINDS = ("active", "passive")


@dataclass(frozen=True)
class PinMap:
    """Which GPIO does what. ``button`` is None when no button is fitted."""

    i2c_bus: int = 1
    i2c_sda: int = 2
    i2c_scl: int = 3
    led: int = 17
    led_pwm: bool = True  # False: plain LED, "pulsing" becomes a 4 Hz blink
    buzzer: int = 18
    buzzer_kind: str = "active"  # "active" (Buzzer) or "passive" (TonalBuzzer)
    button: int | None = 27

    def __post_init__(self):
        for name in ("led", "buzzer", "button", "i2c_sda", "i2c_scl"):
            value = getattr(self, name)
            if value is None and name == "button":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value not in HEADER_PIN:
                raise PinMapError(
                    f"{name} must be a BCM GPIO number 2 to 27 on the 40-pin header, not {value!r}"
                )
        if self.buzzer_kind not in BUZZER_KINDS:
            raise PinMapError(
                f"buzzer_kind must be 'active' or 'passive', not {self.buzzer_kind!r}"
            )
        if not isinstance(self.led_pwm, bool):
            raise PinMapError(f"led_pwm must be true or false, not {self.led_pwm!r}")
        used: dict[int, str] = {}
        for name in ("i2c_sda", "i2c_scl", "led", "buzzer", "button"):
            gpio = getattr(self, name)
            if gpio is None:
                continue
            if gpio in used:
                raise PinMapError(f"{name} and {used[gpio]} are both on GPIO{gpio}")
            used[gpio] = name

    def gpios(self) -> dict[str, int]:
        """Every GPIO in use, by role (the button only when fitted)."""
        d = {"i2c_sda": self.i2c_sda, "i2c_scl": self.i2c_scl, "led": self.led}
        d["buzzer"] = self.buzzer
        if self.button is not None:
            d["button"] = self.button
        return d


#: Where the default pin map ships (hardware/pins.toml links here).
PINS_TOML = Path(__file__).with_name("pins.toml")

# table -> {key: PinMap field}
_TOML_KEYS = {
    "i2c": {"bus": "i2c_bus", "sda": "i2c_sda", "scl": "i2c_scl"},
    "led": {"gpio": "led", "pwm": "led_pwm"},
    "buzzer": {"gpio": "buzzer", "kind": "buzzer_kind"},
    "button": {"gpio": "button", "enabled": None},
}


def pin_map_from_dict(data: dict, source: str = "pin map") -> PinMap:
    """Build a :class:`PinMap` from the parsed ``pins.toml`` tables; unknown keys are errors."""
    kwargs: dict = {}
    for table, content in data.items():
        if table not in _TOML_KEYS:
            raise PinMapError(
                f"{source}: unknown table [{table}] (expected {', '.join(_TOML_KEYS)})"
            )
        if not isinstance(content, dict):
            raise PinMapError(f"{source}: {table} must be a table [{table}], not {content!r}")
        for key, value in content.items():
            if key not in _TOML_KEYS[table]:
                raise PinMapError(
                    f"{source}: unknown key {table}.{key} (expected {', '.join(_TOML_KEYS[table])})"
                )
            field = _TOML_KEYS[table][key]
            if field is not None:
                kwargs[field] = value
    enabled = data.get("button", {}).get("enabled", True)
    if not isinstance(enabled, bool):
        raise PinMapError(f"{source}: button.enabled must be true or false, not {enabled!r}")
    if not enabled:
        kwargs["button"] = None
    try:
        return PinMap(**kwargs)
    except PinMapError as e:
        raise PinMapError(f"{source}: {e}") from None


def load_pin_map(path) -> PinMap:
    """Read a ``pins.toml`` file (see ``hardware/pins.toml``)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise PinMapError(f"{path}: cannot read pin map: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise PinMapError(f"{path}: not valid TOML: {e}") from None
    return pin_map_from_dict(data, source=str(path))


def physical_pin(gpio: int) -> int:
    """The 40-pin header's pin number for a BCM GPIO number."""
    try:
        return HEADER_PIN[gpio]
    except KeyError:
        raise PinMapError(f"GPIO{gpio!r} is not on the 40-pin header") from None


#: The default pin map, as the shipped ``pins.toml`` says.
DEFAULT_PINS = load_pin_map(PINS_TOML)
