"""The cue hardware in domain words: the tempo LED, the buzzer and the set button.

Thin wrappers over gpiozero devices that take ``pin_factory=`` (tests pass
``MockFactory``; on the Pi the default factory, lgpio, is used). They only
change a pin when the wanted state differs, so a pin's recorded history is the
list of real changes. Nothing here runs a background thread for timing: the
coach steps them from its ``tick``.

Wiring (BCM numbers, defaults from ``hardware/pins.toml``)::

    GPIO17 (pin 11) --[330 ohm]--|>|-- GND        LED (PWM for pulsing)
    GPIO18 (pin 12) --[1 kohm]-- NPN base; buzzer from 5V to collector,
                                 emitter to GND, 1N4148 across the buzzer
    GPIO27 (pin 13) --[button]-- GND              internal pull-up

Example on a laptop::

    >>> from gpiozero.pins.mock import MockFactory, MockPWMPin
    >>> factory = MockFactory(pin_class=MockPWMPin)
    >>> led = CueLight(17, pwm=True, pin_factory=factory)
    >>> led.show(0.2); factory.pin(17).state
    0.2
    >>> buzzer = CueBuzzer(18, kind="passive", pin_factory=factory)
    >>> buzzer.sound(1760.0); factory.pin(18).frequency
    1760.0
"""

from __future__ import annotations

import threading
import time
from collections import deque

from heelraise.cues.gpio import gpiozero_module
from heelraise.exceptions import PinMapError

_gpiozero = gpiozero_module()  # its package imports the devices, tones and exceptions below
LED, PWMLED, Button, Buzzer = _gpiozero.LED, _gpiozero.PWMLED, _gpiozero.Button, _gpiozero.Buzzer
TonalBuzzer, Tone = _gpiozero.TonalBuzzer, _gpiozero.tones.Tone
PinPWMUnsupported = _gpiozero.exc.PinPWMUnsupported


class CueLight:
    """The tempo LED: on, off, or a level (a plain LED is on at 0.5 and above)."""

    def __init__(self, pin: int = 17, *, pwm: bool = True, pin_factory=None):
        self.pwm = bool(pwm)
        if self.pwm:
            try:
                self._led = PWMLED(pin, pin_factory=pin_factory)
            except PinPWMUnsupported:
                raise PinMapError(
                    f"LED on GPIO{pin}: this pin factory has no PWM; set led_pwm = false"
                ) from None
        else:
            self._led = LED(pin, pin_factory=pin_factory)
        self._level = 0.0

    @property
    def level(self) -> float:
        return self._level

    def show(self, level: float) -> None:
        level = float(level) if self.pwm else (1.0 if level >= 0.5 else 0.0)
        if level != self._level:
            self._level = level
            self._led.value = level

    def off(self) -> None:
        self.show(0.0)

    def close(self) -> None:
        self._led.close()


class CueBuzzer:
    """The buzzer: ``sound(pitch_hz)``; 0 is silent. An active buzzer ignores the pitch."""

    #: Range of a passive buzzer: C4 to C8 (mid tone C6, two octaves either side).
    MID_TONE = "C6"
    OCTAVES = 2

    def __init__(self, pin: int = 18, *, kind: str = "active", pin_factory=None):
        if kind not in ("active", "passive"):
            raise PinMapError(f"buzzer kind must be 'active' or 'passive', not {kind!r}")
        self.kind = kind
        if kind == "passive":
            try:
                self._buzzer = TonalBuzzer(
                    pin, mid_tone=Tone(self.MID_TONE), octaves=self.OCTAVES, pin_factory=pin_factory
                )
            except PinPWMUnsupported:
                raise PinMapError(
                    f"passive buzzer on GPIO{pin} needs PWM, which this pin factory lacks; "
                    "use buzzer_kind = 'active'"
                ) from None
        else:
            self._buzzer = Buzzer(pin, pin_factory=pin_factory)
        self._tone_hz = 0.0

    @property
    def tone_hz(self) -> float:
        return self._tone_hz

    def sound(self, tone_hz: float) -> None:
        tone_hz = float(tone_hz)
        if self.kind == "active":
            tone_hz = 1.0 if tone_hz > 0 else 0.0  # on / off
        if tone_hz == self._tone_hz:
            return
        self._tone_hz = tone_hz
        if self.kind == "active":
            self._buzzer.value = tone_hz > 0
        elif tone_hz > 0:
            self._buzzer.play(Tone(frequency=tone_hz))
        else:
            self._buzzer.stop()

    def silence(self) -> None:
        self.sound(0.0)

    def close(self) -> None:
        self._buzzer.close()


class SetButton:
    """The push button (to GND, internal pull-up): a press or a hold, timed by ``clock``.

    gpiozero calls back on each edge (from its own thread on a Pi); the button
    only notes the edge's time and :meth:`poll` hands out finished gestures to
    the loop: ``"press"`` (shorter than ``hold_s``) or ``"hold"``. Contact
    bounce shorter than ``bounce_s`` is ignored.
    """

    def __init__(
        self,
        pin: int = 27,
        *,
        pin_factory=None,
        clock=time.monotonic,
        hold_s: float = 2.0,
        bounce_s: float = 0.03,
    ):
        self.clock = clock
        self.hold_s = float(hold_s)
        self.bounce_s = float(bounce_s)
        self._button = Button(pin, pull_up=True, pin_factory=pin_factory)
        self._pressed_at: float | None = None
        self._gestures: deque[tuple[str, float]] = deque(maxlen=16)
        self._lock = threading.Lock()
        self._button.when_pressed = self._on_press
        self._button.when_released = self._on_release

    def _on_press(self) -> None:
        with self._lock:
            self._pressed_at = self.clock()

    def _on_release(self) -> None:
        with self._lock:
            if self._pressed_at is None:
                return
            now = self.clock()
            held_s = now - self._pressed_at
            self._pressed_at = None
            if held_s >= self.hold_s:
                self._gestures.append(("hold", now))
            elif held_s >= self.bounce_s:
                self._gestures.append(("press", now))

    def poll(self) -> list[str]:
        """Gestures finished since the last poll, oldest first."""
        with self._lock:
            out = [g for g, _ in self._gestures]
            self._gestures.clear()
        return out

    def close(self) -> None:
        self._button.close()
