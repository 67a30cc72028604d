"""Pin map, cue settings, the set button and the mock-pin timeline renderer."""

from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from heelraise.clock import ManualClock
from heelraise.cues.outputs import SetButton
from heelraise.cues.pins import DEFAULT_PINS, HEADER_PIN, PinMap, load_pin_map
from heelraise.cues.render import render_pin_history, status_line
from heelraise.cues.settings import CueSettings
from heelraise.cues.testing import mock_pins_follow
from heelraise.exceptions import PinMapError, SettingsError

PINS_TOML = Path(__file__).resolve().parents[1] / "hardware" / "pins.toml"


def test_builtin_defaults_equal_hardware_pins_toml():
    assert load_pin_map(PINS_TOML) == DEFAULT_PINS == PinMap()
    assert (DEFAULT_PINS.led, DEFAULT_PINS.buzzer, DEFAULT_PINS.button) == (17, 18, 27)


def test_header_map_matches_gpiozero_board_data():
    header = MockFactory().board_info.headers["J8"].pins
    for gpio, physical in HEADER_PIN.items():
        assert header[physical].name == f"GPIO{gpio}"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[led]\ngpio = 17\ncolour = 'red'\n", r"pins.toml: unknown key led.colour"),
        ("[lcd]\ngpio = 4\n", r"unknown table \[lcd\]"),
        ("[led]\ngpio = 18\n", r"buzzer and led are both on GPIO18"),
        ("[buzzer]\ngpio = 40\n", r"buzzer must be a BCM GPIO number 2 to 27.*not 40"),
        ("[buzzer]\nkind = 'loud'\n", r"buzzer_kind must be 'active' or 'passive', not 'loud'"),
        ("[button]\nenabled = 'no'\n", r"button.enabled must be true or false, not 'no'"),
        ("[led\n", r"pins.toml: not valid TOML"),
    ],
)
def test_bad_pin_maps_name_file_and_key(tmp_path, text, message):
    path = tmp_path / "pins.toml"
    path.write_text(text)
    with pytest.raises(PinMapError, match=message):
        load_pin_map(path)


def test_button_can_be_left_out(tmp_path):
    path = tmp_path / "pins.toml"
    path.write_text("[button]\nenabled = false\n")
    pins = load_pin_map(path)
    assert pins.button is None and "button" not in pins.gpios()


def test_missing_pin_file_is_named(tmp_path):
    with pytest.raises(PinMapError, match="nope.toml: cannot read pin map"):
        load_pin_map(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sound": "yes"}, "cues.sound must be true or false, not 'yes'"),
        ({"lead_in_counts": 11}, "cues.lead_in_counts must be a whole number 0 to 10, not 11"),
        ({"pace_tolerance_s": 0}, "cues.pace_tolerance_s must be a number above 0, not 0"),
    ],
)
def test_bad_cue_settings_are_named(kwargs, message):
    with pytest.raises(SettingsError, match=message):
        CueSettings(**kwargs)


@pytest.fixture
def clock():
    c = ManualClock(0.0)
    with mock_pins_follow(c):
        yield c


def test_button_press_hold_and_bounce(clock):
    factory = MockFactory()
    button = SetButton(27, pin_factory=factory, clock=clock, hold_s=2.0, bounce_s=0.03)
    pin = factory.pin(27)
    assert pin.state  # pulled up: released reads high

    def press(at_s, for_s):
        clock.set(at_s)
        pin.drive_low()
        clock.set(at_s + for_s)
        pin.drive_high()

    press(1.0, 0.2)
    press(2.0, 0.01)  # contact bounce
    assert button.poll() == ["press"]
    assert button.poll() == []
    press(3.0, 2.5)
    press(6.0, 1.9)
    assert button.poll() == ["hold", "press"]
    button.close()


def test_pin_history_timeline(clock):
    from heelraise.cues.coach import Coach
    from heelraise.cues.testing import step_until
    from heelraise.events import Rep, RepEvent

    factory = MockFactory(pin_class=MockPWMPin)
    coach = Coach(pin_factory=factory, clock=clock)
    clock.set(1.0)
    coach.on_event(RepEvent(Rep(1, 1, 0, 1, 1, 2, 20, 0, 50, faults=["bounce"]), t_s=1.0))
    step_until(coach, clock, 2.0)
    assert render_pin_history(factory.pin(17), factory.pin(18)) == (
        "   0.000 s  LED ○  BUZZER ·\n"
        "   1.000 s  LED ●  BUZZER ♪\n"
        "   1.200 s  LED ○  BUZZER ·\n"
        "   1.300 s  LED ●  BUZZER ♪\n"
        "   1.500 s  LED ○  BUZZER ·\n"
    )
    coach.close()


def test_status_line_glyphs():
    assert status_line(1.0, 1.0) == "LED ●  BUZZER ♪"
    assert status_line(0.0, 0.0, mode="guided") == "LED ○  BUZZER ·  guided"
    assert status_line(0.2, 880.0, passive=True) == "LED ◐  BUZZER ♪ 880 Hz"


def test_pin_map_rejects_bool_and_shared_i2c_pins():
    with pytest.raises(PinMapError, match="led_pwm must be true or false"):
        PinMap(led_pwm=1)
    with pytest.raises(PinMapError, match="button and i2c_sda are both on GPIO2"):
        PinMap(button=2)
