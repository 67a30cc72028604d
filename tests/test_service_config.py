"""The service's TOML config: the default round-trips, every error names key, value, rule."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib

import pytest
from heelraise.cli import main
from heelraise.cues.pins import DEFAULT_PINS
from heelraise.cues.settings import CueSettings
from heelraise.exceptions import ConfigError
from heelraise.service.config import (
    Config,
    default_config_text,
    load_config,
    parse_config,
)
from heelraise.settings import AnalyzerSettings
from heelraise.tempo import Tempo


def test_the_default_file_loads_and_equals_the_built_in_defaults():
    config = parse_config(default_config_text(), "default.toml")
    defaults = Config()
    for table in ("device", "sensor", "pins", "tempo", "user", "log"):
        assert getattr(config, table) == getattr(defaults, table), table
    assert config.cues == CueSettings()
    assert config.mqtt is None  # the [mqtt] table is commented out: no MQTT by default
    assert config.analysis == {}
    assert config.analyzer_settings() == AnalyzerSettings()


def test_the_default_file_documents_every_analysis_setting_with_its_default():
    text = default_config_text()
    for f in dataclasses.fields(AnalyzerSettings):
        if f.name in ("tempo", "body_mass_kg", "foot_length_m"):
            continue
        line = next(ln for ln in text.splitlines() if ln.startswith(f"# {f.name} = "))
        value = tomllib.loads(line[2:])[f.name]
        assert value == f.default, f.name
    # uncommenting the analysis lines gives the same settings
    uncommented = "\n".join(
        ln[2:] if ln.startswith("# ") and " = " in ln and "[" not in ln else ln
        for ln in text.split("[analysis]")[1].split("[mqtt]")[0].splitlines()
    )
    config = parse_config(text.split("[analysis]")[0] + "[analysis]\n" + uncommented)
    assert config.analyzer_settings() == AnalyzerSettings()


def test_default_pins_match_the_hardware_pin_map():
    assert parse_config("").pins.pin_map() == DEFAULT_PINS


def test_a_full_config_maps_onto_its_parts():
    config = parse_config(
        """
[device]
id = "left-shoe"
[sensor]
type = "lsm6ds"
address = 0x6A
rate_hz = 416
accel_range_g = 8
gyro_range_dps = 125
[pins]
led = 5
buzzer = 6
buzzer_kind = "passive"
button = "none"
led_pwm = false
[tempo]
target = "3-0-2-X"
mode = "guided"
[cues]
sound = false
[user]
body_mass_kg = 82.5
foot_length_m = 0.28
[analysis]
set_gap_s = 12.0
surface = "step"
[mqtt]
live = true
[log]
level = "debug"
""",
        "full.toml",
    )
    assert config.path == "full.toml"
    assert config.device.id == "left-shoe" and config.mqtt.live is True
    assert config.sensor.address == 0x6A and config.sensor.imu_kind == "lsm6ds"
    assert config.pins.button is None and config.pins.buzzer_kind == "passive"
    assert config.tempo.target == Tempo.parse("3-0-2-X") and config.tempo.mode == "guided"
    assert config.cues.sound is False
    assert config.log.level == "DEBUG"
    s = config.analyzer_settings()
    assert (s.set_gap_s, s.surface, s.body_mass_kg, s.foot_length_m) == (12.0, "step", 82.5, 0.28)
    assert s.tempo == Tempo.parse("3-0-2-X")


def test_replay_sensor_kind_carries_the_file():
    config = parse_config('[sensor]\ntype = "replay"\nreplay_file = "a.csv"\nreplay_speed = 4')
    assert config.sensor.imu_kind == "replay:a.csv" and config.sensor.replay_speed == 4.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("[sensor]\nrate_hz = 5000", "[sensor] rate_hz = 5000: must be 25 to 1000 Hz"),
        ("[sensor]\nrate_hz = 100.5", "[sensor] rate_hz = 100.5: must be 25 to 1000 Hz"),
        (
            '[sensor]\ntype = "bmi160"',
            '[sensor] type = "bmi160": must be one of mpu6050, lsm6ds, sim, replay',
        ),
        ("[sensor]\naddress = 0x80", "[sensor] address = 128: must be a 7-bit I2C address"),
        ("[sensor]\naccel_range_g = 3", "[sensor] accel_range_g = 3: must be one of 2, 4, 8, 16"),
        (
            "[sensor]\ngyro_range_dps = 125",
            "[sensor] gyro_range_dps = 125: must be one of 250, 500, 1000, 2000 for type 'mpu6050'",
        ),
        ('[sensor]\ntype = "replay"', '[sensor] replay_file = "": type "replay" needs it'),
        ("[sensor]\nreplay_speed = 0", "[sensor] replay_speed = 0: must be a number from 0.01"),
        ("[sensor]\nport = 1", "[sensor] unknown key 'port'; allowed: type, bus, address"),
        ("[pins]\nled = 2", "[pins] led = 2: must be a BCM GPIO number 4 to 27"),
        ('[pins]\nbuzzer = "GPIO18"', '[pins] buzzer = "GPIO18": must be a BCM GPIO number'),
        ("[pins]\nbutton = 17", "[pins] button = 17: is the same GPIO as led"),
        ('[pins]\nbuzzer_kind = "piezo"', '[pins] buzzer_kind = "piezo": must be "active" or'),
        ('[pins]\nled_pwm = "yes"', '[pins] led_pwm = "yes": must be true or false'),
        ('[tempo]\ntarget = "3-0-2"', "[tempo] target = \"3-0-2\": tempo '3-0-2' must have four"),
        ("[tempo]\ntarget = 3", "[tempo] target = 3: must be a string like"),
        ('[tempo]\nmode = "strict"', '[tempo] mode = "strict": must be "free" or "guided"'),
        ('[tempo]\nmode = "guided"', '[tempo] mode = "guided": needs a [tempo] target'),
        ("[cues]\nlead_in_counts = 11", "[cues] lead_in_counts = 11: cues.lead_in_counts must"),
        ("[cues]\nvolume = 3", "[cues] unknown key 'volume'; allowed: sound, rep_chirp"),
        ("[user]\nbody_mass_kg = 5", "[user] body_mass_kg = 5: must be a number from 20 to 300"),
        ('[user]\nfoot_length_m = "26cm"', '[user] foot_length_m = "26cm": must be a number'),
        ("[analysis]\nset_gap_s = -1", "[analysis] set_gap_s = -1: set_gap_s must be greater"),
        ('[analysis]\nsurface = "sand"', "[analysis] surface = \"sand\": surface must be 'auto'"),
        ("[analysis]\ngrid_hz = 1000", "[analysis] grid_hz = 1000: grid_hz must be 25 to 400"),
        ("[analysis]\ntempo = '3-0-2-1'", '[analysis] tempo = "3-0-2-1": belongs in [tempo]'),
        ("[analysis]\nbody_mass_kg = 70", "[analysis] body_mass_kg = 70: belongs in [user]"),
        ("[analysis]\nset_gap = 3", "[analysis] unknown key 'set_gap'; allowed: grid_hz"),
        ('[device]\nid = "a/b"', '[device] id = "a/b": must be 1 to 64 letters, digits'),
        ('[device]\nid = "a+"', '[device] id = "a+": must be'),
        ('[log]\nlevel = "LOUD"', '[log] level = "LOUD": must be one of DEBUG, INFO'),
        ("[sensors]\ntype = 1", "unknown table [sensors]; known tables: [device], [sensor]"),
        ("sensor = 3", "sensor = 3: must be a table [sensor]"),
        ("[sensor\n", "not valid TOML: "),
        ('[sensor]\ntype = "sim"\ntype = "mpu6050"', "not valid TOML: "),
    ],
)
def test_each_mistake_is_named_with_its_key_value_and_rule(text, message):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "/etc/heelraise/config.toml")
    assert str(info.value).startswith("/etc/heelraise/config.toml: ")
    assert message in str(info.value)


def test_toml_syntax_errors_say_where(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[sensor]\ntype = "sim"\nrate_hz = = 3\n')
    with pytest.raises(ConfigError, match=r"c\.toml: not valid TOML: .*line 3"):
        load_config(path)


def test_missing_and_unreadable_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml: no such config file"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b"# caf\xe9\n")
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        load_config(bad)


def test_config_command_prints_a_default_that_config_check_accepts(tmp_path, capsys):
    assert main(["config", "--default"]) == 0
    text = capsys.readouterr().out
    assert text == default_config_text()
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert main(["config", "--check", str(path)]) == 0
    assert f"{path}: OK" in capsys.readouterr().out


def test_config_check_exits_2_naming_the_problem(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[tempo]\ntarget = "fast"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "heelraise", "config", "--check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert f'{path}: [tempo] target = "fast"' in proc.stderr


def test_keys_valid_together_pass_even_if_one_alone_would_not():
    config = parse_config("[mqtt]\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5")
    assert (config.mqtt.reconnect_min_s, config.mqtt.reconnect_max_s) == (0.1, 0.5)


def test_the_commented_mqtt_table_uncommented_gives_the_mqtt_defaults():
    from heelraise.mqtt.settings import MqttSettings

    text = default_config_text()
    head, rest = text.split("# [mqtt]\n", 1)
    block, tail = rest.split("\n[log]", 1)
    lines = [ln[2:] for ln in block.splitlines() if " = " in ln]
    config = parse_config(head + "[mqtt]\n" + "\n".join(lines) + "\n[log]" + tail)
    assert config.mqtt == MqttSettings()


@pytest.mark.parametrize(
    "text, message",
    [
        ("[mqtt]\nport = 0", "[mqtt] port = 0: port must be"),
        ("[mqtt]\nqos = 3", "[mqtt] qos = 3: qos must be 0, 1 or 2"),
        ("[mqtt]\nbroker = 'x'", "[mqtt] unknown key 'broker'; allowed: host, port"),
        ("[mqtt]\npassword = 24680", "[mqtt] password = (hidden): password must be a string"),
        (
            "[mqtt]\nreconnect_max_s = 0.5",
            "[mqtt] reconnect_max_s = 0.5: reconnect_max_s (0.5) must",
        ),
    ],
)
def test_mqtt_mistakes_are_named_too(text, message):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.toml")
    assert message in str(info.value)
    assert "24680" not in str(info.value)  # a secret is never echoed


def test_live_is_set_in_one_place_and_the_old_place_says_where():
    with pytest.raises(ConfigError, match=r"\[device\] live = true: moved: set live in \[mqtt\]"):
        parse_config("[device]\nlive = true\n", "x.toml")
