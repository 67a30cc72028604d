"""The service's TOML configuration: load, validate, and print the commented default.

Default path ``/etc/heelraise/config.toml`` (``heelraise run --config FILE``
overrides it). Every table is optional; a missing key takes the default shown
by ``heelraise config --default``. Tables:

``[device]``   ``id`` (MQTT topic part)
``[sensor]``   ``type`` mpu6050|lsm6ds|sim|replay, ``bus``, ``address``, ``rate_hz``,
               ``accel_range_g``, ``gyro_range_dps``, ``replay_file``, ``replay_speed``,
               ``side`` (left|right: which shoe this one sensor is on; unset: unnamed)
``[sensor.left]`` / ``[sensor.right]``  two shoes: the same keys for each sensor; keys
               given in ``[sensor]`` itself are what both share (e.g. ``type``, ``bus``)
``[pins]``     ``led``, ``buzzer``, ``buzzer_kind`` active|passive, ``button`` (or "none"),
               ``led_pwm``
``[tempo]``    ``target`` ("3-0-2-1" or "none"), ``mode`` free|guided
``[cues]``     keyword arguments of :class:`heelraise.cues.settings.CueSettings`
               (sound, rep_chirp, lead-in counts, endurance pace tolerance, button hold)
``[user]``     ``body_mass_kg``, ``foot_length_m``, ``involved_side`` (left|right: the
               injured side, the LSIs' numerator; unset: LSI is left / right),
               ``single_leg`` (left|right: count that side only; unset: both)
``[analysis]`` any :class:`~heelraise.settings.AnalyzerSettings` field but ``tempo``,
               ``body_mass_kg`` and ``foot_length_m`` (those live in [tempo] / [user])
``[mqtt]``     keyword arguments of :class:`heelraise.mqtt.settings.MqttSettings`
               (``live``: the live pitch stream on at start); absent means no MQTT
``[log]``      ``level`` DEBUG|INFO|WARNING|ERROR

Every mistake is a :class:`~heelraise.exceptions.ConfigError` naming the file,
the table and key, the value found and what is allowed::

    >>> from heelraise.service.config import parse_config
    >>> parse_config('[sensor]\\nrate_hz = 5000\\n', "x.toml")
    Traceback (most recent call last):
    ...
    heelraise.exceptions.ConfigError: x.toml: [sensor] rate_hz = 5000: must be 25 to 1000 Hz
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from heelraise.cues.pins import DEFAULT_PINS
from heelraise.exceptions import ConfigError, SettingsError
from heelraise.protocol.topics import DEVICE_ID, DEVICE_ID_RULE
from heelraise.settings import AnalyzerSettings
from heelraise.symmetry import SIDES
from heelraise.tempo import Tempo

DEFAULT_PATH = "/etc/heelraise/config.toml"

SENSOR_TYPES = ("mpu6050", "lsm6ds", "sim", "replay")
ACCEL_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = {"mpu6050": (250, 500, 1000, 2000), "lsm6ds": (125, 250, 500, 1000, 2000)}
MIN_RATE_HZ, MAX_RATE_HZ = 25, 1000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: [analysis] takes every AnalyzerSettings field except these (set elsewhere).
_NOT_IN_ANALYSIS = ("tempo", "body_mass_kg", "foot_length_m")


@dataclass(frozen=True)
class DeviceConfig:
    id: str = "heelraise"


@dataclass(frozen=True)
class SensorConfig:
    type: str = "mpu6050"
    bus: int = 1
    address: int = 0x68
    rate_hz: int = 1000
    accel_range_g: int = 4
    gyro_range_dps: int = 1000  # walking exceeds 250 deg/s; heel strikes reach 600
    replay_file: str = ""
    replay_speed: float = 1.0
    side: str | None = None  # "left" / "right": which shoe; None: one unnamed sensor

    @property
    def imu_kind(self) -> str:
        """The ``open_imu`` kind string: ``"mpu6050"``, ``"sim"``, ``"replay:FILE"`` ..."""
        if self.type == "replay":
            return f"replay:{self.replay_file}"
        return self.type


@dataclass(frozen=True)
class PinsConfig:
    """BCM GPIO numbers; defaults from the shipped ``pins.toml`` (heelraise.cues.pins)."""

    led: int = DEFAULT_PINS.led
    buzzer: int = DEFAULT_PINS.buzzer
    buzzer_kind: str = DEFAULT_PINS.buzzer_kind
    button: int | None = DEFAULT_PINS.button
    led_pwm: bool = DEFAULT_PINS.led_pwm

    def pin_map(self):
        """The cues' :class:`~heelraise.cues.pins.PinMap` for these pins."""
        from heelraise.cues.pins import PinMap

        return PinMap(
            led=self.led,
            led_pwm=self.led_pwm,
            buzzer=self.buzzer,
            buzzer_kind=self.buzzer_kind,
            button=self.button,
        )


@dataclass(frozen=True)
class TempoConfig:
    target: Tempo | None = None
    mode: str = "free"


@dataclass(frozen=True)
class UserConfig:
    body_mass_kg: float = 70.0
    foot_length_m: float = 0.26
    involved_side: str | None = None  # the injured side: LSI = involved / uninvolved x 100
    single_leg: str | None = None  # count this side only (the other foot rests)


@dataclass(frozen=True)
class LogConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    """The whole validated configuration; ``path`` is where it came from (or None)."""

    device: DeviceConfig = field(default_factory=DeviceConfig)
    #: the one sensor, or the first of two (left)
    sensor: SensorConfig = field(default_factory=SensorConfig)
    #: every sensor, one per shoe: ``(sensor,)``, or the left and the right one
    sensors: tuple = ()
    pins: PinsConfig = field(default_factory=PinsConfig)
    tempo: TempoConfig = field(default_factory=TempoConfig)
    cues: object = None  # heelraise.cues.settings.CueSettings (defaults when None)
    user: UserConfig = field(default_factory=UserConfig)
    analysis: dict = field(default_factory=dict)  # validated AnalyzerSettings keywords
    mqtt: object | None = None  # heelraise.mqtt.settings.MqttSettings, or None: no MQTT
    log: LogConfig = field(default_factory=LogConfig)
    path: str | None = None

    def analyzer_settings(self) -> AnalyzerSettings:
        """The AnalyzerSettings for this config ([analysis] + [user] + [tempo] target)."""
        return AnalyzerSettings(
            **self.analysis,
            body_mass_kg=self.user.body_mass_kg,
            foot_length_m=self.user.foot_length_m,
            tempo=self.tempo.target,
        )

    @property
    def shoe_sensors(self) -> tuple:
        """Each shoe's sensor config (one, or left and right)."""
        return self.sensors or (self.sensor,)

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)


# --- loading ---------------------------------------------------------------------------------


def load_config(path=None) -> Config:
    """Read and validate a config file (``DEFAULT_PATH`` when ``path`` is None)."""
    path = Path(path or DEFAULT_PATH)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a UTF-8 text file ({e.reason})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None
    return parse_config(text, str(path))


def parse_config(text: str, name: str = "<config>") -> Config:
    """Validate TOML text; ``name`` prefixes every error message."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{name}: not valid TOML: {e}") from None
    return _Validator(name).config(data)


class _Validator:
    def __init__(self, name: str):
        self.name = name

    def fail(self, table: str, key: str | None, value, allowed: str):
        where = f"[{table}]" if key is None else f"[{table}] {key} = {_show(value)}"
        raise ConfigError(f"{self.name}: {where}: {allowed}")

    # tables

    def config(self, data: dict) -> Config:
        tables = {
            "device": self.device,
            "sensor": self.sensor,
            "pins": self.pins,
            "tempo": self.tempo,
            "cues": self.cues,
            "user": self.user,
            "analysis": self.analysis,
            "mqtt": self.mqtt,
            "log": self.log,
        }
        for key, value in data.items():
            if key not in tables:
                raise ConfigError(
                    f"{self.name}: unknown table [{key}]; known tables: "
                    + ", ".join(f"[{t}]" for t in tables)
                )
            if not isinstance(value, dict):
                raise ConfigError(f"{self.name}: {key} = {_show(value)}: must be a table [{key}]")
        parts = {t: fn(data.get(t)) for t, fn in tables.items() if t not in ("mqtt", "sensor")}
        sensors = self.sensors(data.get("sensor"))
        mqtt = self.mqtt(data["mqtt"]) if "mqtt" in data else None
        config = Config(
            **parts,
            sensor=sensors[0],
            sensors=sensors,
            mqtt=mqtt,
            path=None if self.name.startswith("<") else self.name,
        )
        single = config.user.single_leg
        if single is not None and len(sensors) == 1 and sensors[0].side not in (None, single):
            self.fail(
                "user", "single_leg", single, f"the only sensor is on the {sensors[0].side} shoe"
            )
        if config.tempo.mode == "guided" and config.tempo.target is None:
            self.fail("tempo", "mode", "guided", 'needs a [tempo] target, e.g. "3-0-2-1"')
        return config

    def _known(self, table: str, raw: dict | None, cls) -> dict:
        raw = dict(raw or {})
        known = [f.name for f in dataclasses.fields(cls)]
        for key in raw:
            if key not in known:
                raise ConfigError(
                    f"{self.name}: [{table}] unknown key {key!r}; allowed: {', '.join(known)}"
                )
        return raw

    def device(self, raw) -> DeviceConfig:
        if raw and "live" in raw:  # the live stream is set in one place: [mqtt]
            self.fail("device", "live", raw["live"], "moved: set live in [mqtt] (live = true)")
        raw = self._known("device", raw, DeviceConfig)
        if "id" in raw and (not isinstance(raw["id"], str) or not DEVICE_ID.match(raw["id"])):
            self.fail(
                "device",
                "id",
                raw["id"],
                f"must be {DEVICE_ID_RULE}",
            )
        return DeviceConfig(**raw)

    def sensors(self, raw) -> tuple:
        """``[sensor]`` (one sensor) or ``[sensor.left]`` / ``[sensor.right]`` (two shoes,
        sharing what ``[sensor]`` itself says)."""
        raw = dict(raw or {})
        sides = {k: raw.pop(k) for k in list(raw) if isinstance(raw[k], dict)}
        for key in sides:
            if key not in SIDES:
                self.fail(
                    "sensor",
                    None,
                    None,
                    f"unknown table [sensor.{key}]; the shoes are [sensor.left] and [sensor.right]",
                )
        if not sides:
            return (self.sensor(raw),)
        if "side" in raw:
            self.fail(
                "sensor", "side", raw["side"], "[sensor.left] / [sensor.right] name the sides"
            )
        out = []
        for side in SIDES:
            if side in sides:
                if "side" in sides[side]:
                    value = sides[side]["side"]
                    self.fail(f"sensor.{side}", "side", value, "the table's name is its side")
                out.append(self.sensor({**raw, **sides[side], "side": side}, f"sensor.{side}"))
        if len(out) == 2:
            a, b = out
            if a.type in ("mpu6050", "lsm6ds") and (a.bus, a.address) == (b.bus, b.address):
                self.fail(
                    "sensor.right",
                    "address",
                    b.address,
                    f"is the left sensor's too (bus {a.bus}); an MPU-6050 pair is 0x68 and "
                    "0x69 (AD0 high), an LSM6DSOX pair 0x6A and 0x6B, or use two buses",
                )
            if a.type != "sim" and a.type != b.type and "sim" in (a.type, b.type):
                self.fail("sensor.right", "type", b.type, f"mixes a simulator with {a.type}")
        return tuple(out)

    def sensor(self, raw, table: str = "sensor") -> SensorConfig:
        raw = self._known(table, raw, SensorConfig)
        if "side" in raw:
            if raw["side"] not in SIDES:
                self.fail(table, "side", raw["side"], 'must be "left" or "right"')
        kind = raw.get("type", SensorConfig.type)
        if kind not in SENSOR_TYPES:
            self.fail(table, "type", kind, "must be one of " + ", ".join(SENSOR_TYPES))
        if "bus" in raw:
            self._int(table, "bus", raw["bus"], 0, 99, "an I2C bus number (/dev/i2c-N), 0 to 99")
        if "address" in raw:
            self._int(table, "address", raw["address"], 0x08, 0x77, "a 7-bit I2C address")
        if "rate_hz" in raw:
            self._int(
                table,
                "rate_hz",
                raw["rate_hz"],
                MIN_RATE_HZ,
                MAX_RATE_HZ,
                f"{MIN_RATE_HZ} to {MAX_RATE_HZ} Hz",
            )
        if "accel_range_g" in raw and raw["accel_range_g"] not in ACCEL_RANGES_G:
            self.fail(
                table,
                "accel_range_g",
                raw["accel_range_g"],
                "must be one of " + ", ".join(map(str, ACCEL_RANGES_G)),
            )
        if "gyro_range_dps" in raw:
            ranges = GYRO_RANGES_DPS.get(kind, GYRO_RANGES_DPS["lsm6ds"])
            value = raw["gyro_range_dps"]
            if isinstance(value, bool) or value not in ranges:
                self.fail(
                    table,
                    "gyro_range_dps",
                    value,
                    "must be one of " + ", ".join(map(str, ranges)) + f" for type {kind!r}",
                )
        if "replay_file" in raw and not isinstance(raw["replay_file"], str):
            self.fail(table, "replay_file", raw["replay_file"], "must be a file path string")
        if kind == "replay" and not raw.get("replay_file"):
            self.fail(table, "replay_file", raw.get("replay_file", ""), 'type "replay" needs it')
        if "replay_speed" in raw:
            self._number(table, "replay_speed", raw["replay_speed"], 0.01, 1000.0)
            raw["replay_speed"] = float(raw["replay_speed"])
        return SensorConfig(**raw)

    def pins(self, raw) -> PinsConfig:
        raw = self._known("pins", raw, PinsConfig)
        for key in ("led", "buzzer", "button"):
            if key not in raw:
                continue
            value = raw[key]
            if key == "button" and value in ("none", False):
                raw[key] = None
                continue
            if not _pin_ok(value):
                self.fail(
                    "pins",
                    key,
                    value,
                    "must be a BCM GPIO number 4 to 27 (GPIO2 and GPIO3 are the IMU's I2C)"
                    + (', or "none"' if key == "button" else ""),
                )
        kind = raw.get("buzzer_kind", PinsConfig.buzzer_kind)
        if kind not in ("active", "passive"):
            self.fail("pins", "buzzer_kind", kind, 'must be "active" or "passive"')
        if "led_pwm" in raw:
            self._bool("pins", "led_pwm", raw["led_pwm"])
        pins = PinsConfig(**raw)
        used: dict = {}
        for key in ("led", "buzzer", "button"):
            value = getattr(pins, key)
            if value is None:
                continue
            if value in used:
                self.fail("pins", key, value, f"is the same GPIO as {used[value]}")
            used[value] = key
        return pins

    def tempo(self, raw) -> TempoConfig:
        raw = self._known("tempo", raw, TempoConfig)
        target = raw.get("target")
        if target is not None:
            if not isinstance(target, str):
                self.fail("tempo", "target", target, 'must be a string like "3-0-2-1" or "none"')
            if target.strip().lower() in ("", "none"):
                raw["target"] = None
            else:
                try:
                    raw["target"] = Tempo.parse(target)
                except SettingsError as e:
                    self.fail("tempo", "target", target, str(e))
        mode = raw.get("mode", TempoConfig.mode)
        if mode not in ("free", "guided"):
            self.fail("tempo", "mode", mode, 'must be "free" or "guided"')
        return TempoConfig(**raw)

    def cues(self, raw):
        from heelraise.cues.settings import CueSettings

        raw = self._known("cues", raw, CueSettings)
        try:
            return CueSettings(**raw)
        except SettingsError as whole:
            for key, value in raw.items():  # find the key at fault, to name it
                try:
                    CueSettings(**{key: value})
                except SettingsError as e:
                    self.fail("cues", key, value, str(e))
            raise ConfigError(f"{self.name}: [cues]: {whole}") from None

    def user(self, raw) -> UserConfig:
        raw = self._known("user", raw, UserConfig)
        if "body_mass_kg" in raw:
            self._number("user", "body_mass_kg", raw["body_mass_kg"], 20.0, 300.0)
            raw["body_mass_kg"] = float(raw["body_mass_kg"])
        if "foot_length_m" in raw:
            self._number("user", "foot_length_m", raw["foot_length_m"], 0.1, 0.4)
            raw["foot_length_m"] = float(raw["foot_length_m"])
        for key in ("involved_side", "single_leg"):
            if key in raw:
                if raw[key] in ("none", ""):
                    raw[key] = None
                elif raw[key] not in SIDES:
                    self.fail("user", key, raw[key], 'must be "left", "right" or "none"')
        return UserConfig(**raw)

    def analysis(self, raw) -> dict:
        raw = dict(raw or {})
        allowed = [
            f.name for f in dataclasses.fields(AnalyzerSettings) if f.name not in _NOT_IN_ANALYSIS
        ]
        for key, value in raw.items():
            if key in _NOT_IN_ANALYSIS:
                home = "[tempo] target" if key == "tempo" else f"[user] {key}"
                self.fail("analysis", key, value, f"belongs in {home}, not [analysis]")
            if key not in allowed:
                raise ConfigError(
                    f"{self.name}: [analysis] unknown key {key!r}; allowed: {', '.join(allowed)}"
                )
            try:  # each key alone first, so the message names the one at fault
                AnalyzerSettings(**{key: value})
            except SettingsError as e:
                self.fail("analysis", key, value, str(e))
        try:
            AnalyzerSettings(**raw)
        except SettingsError as e:
            self.fail("analysis", None, None, str(e))
        return raw

    def mqtt(self, raw) -> object:
        try:
            from heelraise.mqtt.settings import MqttSettings
        except ImportError as e:  # pragma: no cover - the MQTT package is part of heelraise
            raise ConfigError(f"{self.name}: [mqtt]: MQTT support is not available ({e})") from None
        raw = self._known("mqtt", raw, MqttSettings)
        try:
            return MqttSettings(**raw)
        except (SettingsError, ValueError, TypeError) as whole:
            for key, value in raw.items():  # find the key at fault, to name it
                try:
                    MqttSettings(**{key: value})
                except (SettingsError, ValueError, TypeError) as e:
                    shown = "(hidden)" if key == "password" else _show(value)  # never a secret
                    raise ConfigError(f"{self.name}: [mqtt] {key} = {shown}: {e}") from None
            raise ConfigError(f"{self.name}: [mqtt]: {whole}") from None

    def log(self, raw) -> LogConfig:
        raw = self._known("log", raw, LogConfig)
        if "level" in raw:
            level = raw["level"]
            if not isinstance(level, str) or level.upper() not in LOG_LEVELS:
                self.fail("log", "level", level, "must be one of " + ", ".join(LOG_LEVELS))
            raw["level"] = level.upper()
        return LogConfig(**raw)

    # values

    def _bool(self, table, key, value):
        if not isinstance(value, bool):
            self.fail(table, key, value, "must be true or false")

    def _int(self, table, key, value, lo, hi, allowed):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.fail(table, key, value, f"must be {allowed}" if "must" not in allowed else allowed)

    def _number(self, table, key, value, lo, hi):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            self.fail(table, key, value, f"must be a number from {lo:g} to {hi:g}")


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _pin_ok(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 4 <= value <= 27


# --- the commented default --------------------------------------------------------------------


def default_config_text() -> str:
    """The commented default config file; it loads and validates as is."""
    analysis = "\n".join(
        f"# {f.name} = {_toml_value(f.default)}"
        for f in dataclasses.fields(AnalyzerSettings)
        if f.name not in _NOT_IN_ANALYSIS
    )
    return _DEFAULT_TEMPLATE.format(analysis=analysis, mqtt=_mqtt_defaults())


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _mqtt_defaults() -> str:
    try:
        from heelraise.mqtt.settings import MqttSettings
    except ImportError:
        return '# host = "localhost"\n# port = 1883'
    lines = []
    for f in dataclasses.fields(MqttSettings):
        if f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            value = ""
        if value is None:
            lines.append(f"# {f.name} =  (unset)")
        elif isinstance(value, (bool, int, float, str)):
            lines.append(f"# {f.name} = {_toml_value(value)}")
        else:
            lines.append(f"# {f.name} = {value!r}")
    return "\n".join(lines)


_DEFAULT_TEMPLATE = """\
# heelraise service configuration (TOML). Default path: /etc/heelraise/config.toml
# Check a file with:  heelraise config --check FILE
# Every key is optional; the values shown are the defaults.

[device]
# Name of this shoe/Pi; MQTT topics are heelraise/<id>/... (letters, digits, _ - .)
id = "heelraise"

[sensor]
# mpu6050 | lsm6ds | sim (built-in simulator) | replay (play replay_file)
type = "mpu6050"
# I2C bus (/dev/i2c-1 on a Raspberry Pi) and 7-bit address (MPU-6050: 0x68, or 0x69 with
# AD0 high; LSM6DS: 0x6A or 0x6B).
bus = 1
address = 0x68
# Output data rate, 25 to 1000 Hz.
rate_hz = 1000
# Full scales: accelerometer 2, 4, 8 or 16 g; gyroscope 250, 500, 1000 or 2000 deg/s
# (LSM6DS also 125). Walking reaches 600 deg/s: keep 1000 so steps are seen, not clipped.
accel_range_g = 4
gyro_range_dps = 1000
# For type = "replay": the recording to play, and how many times real time.
replay_file = ""
replay_speed = 1.0
# Which shoe this sensor is on ("left" / "right"); unset: one unnamed sensor.
# side = "left"
# Two shoes: one table per sensor instead (keys above are what both share), e.g. two
# MPU-6050s on one bus, the right one with AD0 tied high (see hardware/wiring.md):
# [sensor.left]
# address = 0x68
# [sensor.right]
# address = 0x69

[pins]
# BCM GPIO numbers (see hardware/wiring.md). GPIO2/GPIO3 are the IMU's I2C bus.
# LED (pin 11) through 330 ohm to GND; buzzer (pin 12) through an NPN transistor.
led = 17
buzzer = 18
# "active" buzzers beep on their own; "passive" ones need a tone (PWM).
buzzer_kind = "active"
# Push button (pin 13) to GND, internal pull-up; starts/ends a set. "none": not fitted.
button = 27
# Dim/fade the LED with PWM (off: plain on/off).
led_pwm = true

[tempo]
# Target tempo lower-bottom-raise-top in seconds ("3-0-2-1"), "X" for explosive, or "none".
target = "none"
# "free": count and time reps; "guided": the LED and buzzer pace each phase of the target.
mode = "free"

[cues]
# sound = false: LED only. rep_chirp: a short chirp on every counted rep (faults always buzz).
sound = true
rep_chirp = true
# Count-in clicks before guided mode's first "rise now" and the endurance test's first beat.
lead_in_counts = 2
endurance_counts = 3
# Endurance test: a rep may start this far (s) off its up beat.
pace_tolerance_s = 0.35
# A button press longer than this (s) is a "hold": starts/stops the endurance test.
button_hold_s = 2.0
# The sensor-trouble pattern plays at most this often (s).
trouble_repeat_s = 10.0

[user]
body_mass_kg = 70.0
# Heel to toe; the heel rise in mm is computed from it.
foot_length_m = 0.26
# Two shoes: the injured side, "left" or "right" (LSI = involved / uninvolved x 100);
# "none": the LSIs are left / right x 100.
involved_side = "none"
# Single-leg raises: count this side only ("left" / "right"; the other foot rests).
single_leg = "none"

[analysis]
# Signal-chain settings (see the README's settings table). Defaults:
{analysis}

# [mqtt]
# Uncomment the table to publish reps, sets and state over MQTT (absent: no MQTT).
{mqtt}

[log]
# DEBUG | INFO | WARNING | ERROR (logs go to stderr, one line each: journald-friendly)
level = "INFO"
"""
