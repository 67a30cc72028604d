"""The coach: turns the signal chain's events and the chosen mode into LED and buzzer cues.

Modes:

- ``free`` (default): feedback only. A chirp (and LED flash) for each counted
  rep, a low double buzz for a rep with a fault (too_fast, too_slow, partial,
  ankle_roll, ...); with two shoes the right shoe's are a double chirp and a triple
  buzz (:data:`~heelraise.cues.patterns.REP_FEEDBACK`); an arpeggio when a set
  completes, a long triple beep on sensor trouble (a stream gap, or
  :meth:`Coach.set_sensor_ok` False). The LED blinks slowly (0.5 s on / 0.5 s off)
  while the sensor waits to take neutral (stand still), fast (0.1 s / 0.1 s) while
  the sensor is unhealthy, else off.
- ``guided`` (:meth:`Coach.start_guided`): a metronome leads the tempo
  ``lower-bottom-raise-top``: a long beep "rise now", a trill "hold", a double
  pip "lower now", a click at each whole second inside a phase. The LED shows
  the phase: on = rise, pulsing = hold, off = lower. Feedback sounds still play
  (LED left to the metronome).
- ``endurance`` (:meth:`Coach.start_endurance`): 3 count clicks, then 60 beats a
  minute, "rise now" on up beats and "lower now" on down beats (LED on / off).
  The coach only plays the test: its rules are
  :class:`heelraise.service.endurance.EnduranceTest`'s, which judges each rep;
  :meth:`Coach.play_verdict` sounds the verdict (a chirp for a counted rep, the
  fault buzz for one off the pace) and :meth:`Coach.end_endurance` the end.

Every output is stepped by :meth:`Coach.tick` (the service calls it each loop,
about every 20 ms, or :meth:`Coach.start_ticker` runs a 5 ms ticker thread), so
with an injected ``clock`` and gpiozero's ``MockFactory`` the pin history is
exact. No call blocks: each takes a short lock and changes a few pins. The
``clock`` must be on the reps' time base (the service's clock is: monotonic).

Example on a laptop::

    >>> from gpiozero.pins.mock import MockFactory, MockPWMPin
    >>> from heelraise.events import Rep, RepEvent
    >>> now = [0.0]
    >>> coach = Coach(pin_factory=MockFactory(pin_class=MockPWMPin), clock=lambda: now[0])
    >>> coach.on_event(RepEvent(Rep(1, 1, 0.0, 1.0, 1.0, 2.0, 20.0, 0.0, 60.0), t_s=2.0))
    >>> coach.buzzer.tone_hz, coach.light.level   # the chirp, LED flash
    (1.0, 1.0)
    >>> now[0] = 0.05; coach.tick(); coach.buzzer.tone_hz, coach.light.level
    (0.0, 0.0)
    >>> coach.close()
"""

from __future__ import annotations

import logging
import math
import threading
import time

from heelraise.cues.metronome import Metronome, endurance_cycle, guided_cycle
from heelraise.cues.outputs import CueBuzzer, CueLight
from heelraise.cues.patterns import REP_FEEDBACK, SENSOR_TROUBLE, SET_DONE, Pattern
from heelraise.cues.pins import DEFAULT_PINS, PinMap
from heelraise.cues.player import PatternPlayer
from heelraise.cues.settings import CueSettings
from heelraise.events import GapEvent, RepEvent, SetEvent
from heelraise.exceptions import SettingsError
from heelraise.tempo import Tempo

log = logging.getLogger("heelraise.cues")

#: Metronome cues more than this late (a stalled loop) are skipped, not played late.
STALE_CUE_S = 0.25
CALIBRATING_BLINK_S = 0.5  # on, then off, for this long each
TROUBLE_BLINK_S = 0.1


class Coach:
    def __init__(
        self,
        pins: PinMap | None = None,
        settings: CueSettings | None = None,
        *,
        pin_factory=None,
        clock=time.monotonic,
        on_output=None,
    ):
        self.pins = pins or DEFAULT_PINS
        self.settings = settings or CueSettings()
        self.clock = clock
        #: Called as ``on_output(now_s, led_level, buzzer_tone_hz)`` after outputs change.
        self.on_output = on_output
        self.light = CueLight(self.pins.led, pwm=self.pins.led_pwm, pin_factory=pin_factory)
        try:
            self.buzzer = CueBuzzer(
                self.pins.buzzer, kind=self.pins.buzzer_kind, pin_factory=pin_factory
            )
        except BaseException:
            self.light.close()
            raise
        self.player = PatternPlayer()
        self.mode = "free"
        self.metronome: Metronome | None = None
        self.calibrated: bool | None = None  # None: not told yet
        self.sensor_ok = True
        self._calibrating_since_s: float | None = None
        self._trouble_since_s: float | None = None
        self._last_trouble_s = -math.inf
        self._last_metronome_s: float | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._ticker: threading.Thread | None = None
        self._ticker_stop = threading.Event()

    # --- what the service tells us ----------------------------------------------------------

    def on_event(self, event) -> None:
        """A RepEvent, SetEvent or GapEvent (anything else is ignored). In endurance mode a
        rep sounds through :meth:`play_verdict` (the test judges it), not here."""
        with self._lock:
            if self._closed:
                return
            now = self.clock()
            if isinstance(event, RepEvent):
                if self.mode != "endurance":
                    self._on_rep(event.rep, event.side, now)
            elif isinstance(event, SetEvent):
                if self.mode != "endurance":
                    self._play(SET_DONE, now)
            elif isinstance(event, GapEvent):
                self._trouble(now)
            self._apply(now)

    def on_state(self, state) -> None:
        """The analyzer's state (an AnalyzerState or the MQTT ``state`` dict)."""
        calibrated = state.get("calibrated") if isinstance(state, dict) else state.calibrated
        with self._lock:
            if self._closed or calibrated is None:
                return
            now = self.clock()
            self.calibrated = bool(calibrated)
            if self.calibrated:
                self._calibrating_since_s = None
            elif self._calibrating_since_s is None:
                self._calibrating_since_s = now
            self._apply(now)

    def on_live(self, t_s, pitch_deg, phase) -> None:
        """EventSink compatibility: live samples need no cue."""

    def set_sensor_ok(self, ok: bool) -> None:
        """The sensor became unhealthy (False: trouble pattern, fast LED blink) or recovered."""
        with self._lock:
            if self._closed or bool(ok) == self.sensor_ok:
                return
            now = self.clock()
            self.sensor_ok = bool(ok)
            self._trouble_since_s = None if ok else now
            if not ok:
                self._trouble(now, force=True)
            self._apply(now)

    # --- modes --------------------------------------------------------------------------------

    def start_guided(self, tempo: Tempo | str) -> None:
        """Lead ``tempo`` (e.g. ``"3-0-2-1"``) with the metronome."""
        cycle = guided_cycle(tempo)
        with self._lock:
            if self._closed:
                return
            now = self.clock()
            self.mode = "guided"
            self._start_metronome(
                Metronome(cycle, now, lead_in_counts=self.settings.lead_in_counts)
            )
            self._apply(now)

    def start_endurance(self, *, beat_s: float = 1.0) -> float | None:
        """Pace the endurance test: count-in, then a beat every ``beat_s`` (up, down, ...).

        Returns the first up beat's time (on ``clock``), which the test judges reps by
        (None once closed)."""
        if isinstance(beat_s, bool) or not isinstance(beat_s, (int, float)) or beat_s <= 0:
            raise SettingsError(f"beat_s must be a number of seconds above 0, not {beat_s!r}")
        with self._lock:
            if self._closed:
                return None
            now = self.clock()
            metronome = Metronome(
                endurance_cycle(float(beat_s)), now, lead_in_counts=self.settings.endurance_counts
            )
            self.mode = "endurance"
            self._start_metronome(metronome)
            self._apply(now)
            return metronome.first_beat_s

    def play_verdict(self, verdict: str, side: str | None = None) -> None:
        """Sound the endurance test's verdict on a rep of ``side``'s shoe: a chirp for
        ``"counted"`` (when ``rep_chirp``), the fault buzz for ``"off_pace"`` /
        ``"extra_rep"``, else nothing."""
        ok, fault = REP_FEEDBACK[side]
        with self._lock:
            if self._closed:
                return
            now = self.clock()
            if verdict == "counted":
                if self.settings.rep_chirp:
                    self._play(ok, now)
            elif verdict in ("off_pace", "extra_rep"):
                self._play(fault, now)
            self._apply(now)

    def end_endurance(self) -> None:
        """The endurance test ended: the metronome stops and the "set done" arpeggio plays."""
        with self._lock:
            if self._closed or self.mode != "endurance":
                return
            now = self.clock()
            self._to_free()
            self._play(SET_DONE, now)
            self._apply(now)

    def stop(self) -> None:
        """Back to free mode, silence."""
        with self._lock:
            if self._closed:
                return
            now = self.clock()
            self._to_free()
            self.player.clear()
            self._apply(now)

    # --- time ---------------------------------------------------------------------------------

    def tick(self, now_s: float | None = None) -> None:
        """Advance the metronome, patterns and LED to ``now_s`` (default: ``clock()``)."""
        with self._lock:
            if self._closed:
                return
            now = self.clock() if now_s is None else float(now_s)
            if self.metronome is not None:
                for t, pattern in self.metronome.cues_between(self._last_metronome_s, now):
                    if now - t <= STALE_CUE_S:
                        self._play(pattern, now)
                self._last_metronome_s = now
            if not self.sensor_ok and now - self._last_trouble_s >= self.settings.trouble_repeat_s:
                self._trouble(now)
            self._apply(now)

    def next_change_s(self) -> float | None:
        """When a pattern's step playing ends (the buzzer or LED may change then: the service
        ticks the coach at that instant, not at its next read), or None (nothing plays)."""
        with self._lock:
            return None if self._closed else self.player.next_change_s()

    def start_ticker(self, period_s: float = 0.005) -> None:
        """Tick from a daemon thread every ``period_s`` (for callers without a loop)."""
        if self._ticker is not None:
            return

        def run():
            while not self._ticker_stop.wait(period_s):
                self.tick()

        self._ticker = threading.Thread(target=run, name="heelraise-cues", daemon=True)
        self._ticker.start()

    def close(self) -> None:
        """All outputs off; release the pins (idempotent)."""
        self._ticker_stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=1.0)
        with self._lock:
            if self._closed:
                return
            self.player.clear()
            self.metronome = None
            self.buzzer.silence()
            self.light.off()
            self._closed = True
            self.buzzer.close()
            self.light.close()

    # --- inside -------------------------------------------------------------------------------

    def _on_rep(self, rep, side, now) -> None:
        ok, fault = REP_FEEDBACK[side]
        if rep.faults:
            self._play(fault, now)
        elif self.settings.rep_chirp:
            self._play(ok, now)

    def _to_free(self) -> None:
        self.mode = "free"
        self.metronome = None
        self._last_metronome_s = None

    def _start_metronome(self, metronome: Metronome) -> None:
        self.player.clear()
        self.metronome = metronome
        self._last_metronome_s = None
        for t, pattern in metronome.cues_between(None, metronome.start_s):
            self._play(pattern, t)
        self._last_metronome_s = metronome.start_s

    def _trouble(self, now, force: bool = False) -> None:
        if force or now - self._last_trouble_s >= self.settings.trouble_repeat_s:
            self._last_trouble_s = now
            self._play(SENSOR_TROUBLE, now)

    def _play(self, pattern: Pattern, now) -> None:
        if self.metronome is not None:
            pattern = pattern.sound_only()  # the LED shows the tempo phase
        self.player.play(pattern, now)

    def _base_light(self, now) -> float:
        if self.metronome is not None:
            return self.metronome.light_at(now, pwm=self.light.pwm)
        if not self.sensor_ok and self._trouble_since_s is not None:
            return _blink(now - self._trouble_since_s, TROUBLE_BLINK_S)
        if self.calibrated is False and self._calibrating_since_s is not None:
            return _blink(now - self._calibrating_since_s, CALIBRATING_BLINK_S)
        return 0.0

    def _apply(self, now) -> None:
        self.player.advance(now)
        tone_hz, light = self.player.output()
        if light is None:
            light = self._base_light(now)
        before = (self.light.level, self.buzzer.tone_hz)
        self.buzzer.sound(tone_hz if self.settings.sound else 0.0)
        self.light.show(light)
        after = (self.light.level, self.buzzer.tone_hz)
        if self.on_output is not None and after != before:
            self.on_output(now, *after)


def _blink(elapsed_s: float, half_period_s: float) -> float:
    return 1.0 if (elapsed_s + 1e-9) % (2 * half_period_s) < half_period_s else 0.0
