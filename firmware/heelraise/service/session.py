"""What the session is doing: free, guided or the endurance test; the tempo; the sets.

:class:`Session` runs the commands (checked first by
:func:`heelraise.service.commands.check`) in the loop thread, keeps the sets
counted and the endurance test's run (:class:`~heelraise.service.endurance.EnduranceRun`),
and asks the coach for the cues each mode has. It touches the signal chains only
through their ``end_set`` / ``set_tempo`` and hands the events those make to
``emit`` (the loop's dispatch), so every event goes the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from heelraise.cues.settings import CueSettings
from heelraise.service.commands import check
from heelraise.service.endurance import EnduranceRun
from heelraise.service.live import LiveOutput
from heelraise.tempo import Tempo

log = logging.getLogger("heelraise.service")

#: Internal gestures of the set button (from the loop thread or a keyboard thread).
PRESS, HOLD = "_toggle_set", "_toggle_endurance"


class Session:
    def __init__(
        self,
        shoes,
        *,
        emit: Callable,
        coach=None,
        live: LiveOutput | None = None,
        tempo: Tempo | None = None,
        guided: bool = False,
        body_mass_kg: float = 70.0,
        pace_tolerance_s: float = CueSettings.pace_tolerance_s,
    ):
        self.shoes = list(shoes)
        self.emit = emit  # emit(events, shoe): the loop's dispatch
        self.coach = coach
        self.live = live if live is not None else LiveOutput()
        self.tempo = tempo
        self.guided = bool(guided)
        self.body_mass_kg = float(body_mass_kg)
        self.pace_tolerance_s = float(pace_tolerance_s)
        self.sets: list = []
        self.endurance: EnduranceRun | None = None
        self.endurance_result: dict | None = None

    @property
    def mode(self) -> str:
        if self.endurance is not None:
            return "endurance"
        return "guided" if self.guided else "free"

    @property
    def set_open(self) -> bool:
        return any(s.analyzer.state.set_open for s in self.shoes)

    # --- events and time ------------------------------------------------------------------

    def on_event(self, event) -> None:
        """Every event the loop dispatches, before the coach and the sinks see it."""
        if event.kind == "set":
            self.sets.append(event.summary)
        elif event.kind == "rep" and self.endurance is not None:
            self._ended(self.endurance.on_rep(event.rep))

    def after_event(self, event) -> None:
        """After the sinks: an unpaced endurance test ends with its set (the user stopped)."""
        if event.kind == "set" and self.endurance is not None and not self.endurance.test.paced:
            self._ended(self.endurance.stop("set_end"))

    def tick(self, now_s: float) -> None:
        if self.endurance is not None:
            self._ended(self.endurance.check(now_s))

    def close(self) -> None:
        """Shutdown: a running test stops ("shutdown"), the cues go silent."""
        if self.endurance is not None:
            self._ended(self.endurance.stop("shutdown"))

    def _ended(self, result) -> None:
        if result is None:
            return
        self.endurance = None
        self.endurance_result = result
        log.info("endurance test: %s", result)

    # --- commands -------------------------------------------------------------------------

    def execute(self, name, args) -> tuple[bool, str | None]:
        """Run one command (a :data:`~heelraise.service.commands.COMMANDS` name, or a
        button gesture): ``(True, None)`` or ``(False, why)``."""
        if name == PRESS:
            if self.endurance is not None:
                return self._stop_endurance_test({})
            return self._end_set({}) if self.set_open else self._start_set({})
        if name == HOLD:
            if self.endurance is not None:
                return self._stop_endurance_test({})
            return self._start_endurance_test({})
        parsed, err = check(name, args)
        if err:
            return False, err
        return getattr(self, f"_{name}")(parsed)

    def start(self, button: bool) -> None:
        """The loop opened the sensors: with no button to press "start", guided mode
        paces from the start."""
        if self.guided and not button and self.coach is not None:
            self.coach.start_guided(self.tempo)

    def _start_set(self, args) -> tuple[bool, str | None]:
        if self.set_open:
            index = max(s.analyzer.state.set_index for s in self.shoes)
            return False, f"set {index} is already open; end it first"
        if self.endurance is not None:
            return False, "an endurance test is running"
        if "tempo" in args:
            self._apply_tempo(args["tempo"])
        if "mode" in args:
            self.guided = args["mode"] == "guided"
        if self.guided:
            if self.tempo is None:
                return False, "start_set: guided mode needs a tempo (set_tempo first)"
            if self.coach is not None:
                self.coach.start_guided(self.tempo)
        return True, None

    def _end_set(self, args) -> tuple[bool, str | None]:
        if not self.set_open:
            return False, "no set is open"
        self._end_sets()
        if self.guided and self.coach is not None and self.endurance is None:
            self.coach.stop()
        return True, None

    def _end_sets(self) -> None:
        for shoe in self.shoes:
            if shoe.analyzer.state.set_open:
                self.emit(shoe.analyzer.end_set(), shoe)

    def _set_tempo(self, args) -> tuple[bool, str | None]:
        tempo = args["tempo"]
        if tempo is None and self.guided:
            return False, "set_tempo: guided mode needs a tempo; switch to free mode first"
        self._apply_tempo(tempo)
        if self.guided and self.coach is not None and self.set_open:
            self.coach.start_guided(tempo)
        return True, None

    def _apply_tempo(self, tempo) -> None:
        self.tempo = tempo
        for shoe in self.shoes:
            shoe.analyzer.set_tempo(tempo)

    def _start_endurance_test(self, args) -> tuple[bool, str | None]:
        if self.endurance is not None:
            return False, "an endurance test is already running"
        self._end_sets()
        self.endurance_result = None
        self.endurance = EnduranceRun(
            self.coach,
            pace_bpm=args.get("pace_bpm", 60.0),
            tolerance_s=self.pace_tolerance_s,
            body_mass_kg=self.body_mass_kg,
        )
        return True, None

    def _stop_endurance_test(self, args) -> tuple[bool, str | None]:
        if self.endurance is None:
            return False, "no endurance test is running"
        self._ended(self.endurance.stop("command"))
        self._end_sets()
        return True, None

    def _set_live(self, args) -> tuple[bool, str | None]:
        self.live.set(args["on"])
        return True, None
