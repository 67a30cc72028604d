"""What the session is doing: free, guided or the endurance test; the tempo; the sets.

:class:`Session` runs the commands (checked first by
:func:`heelraise.service.commands.check`) in the loop thread, keeps the sets
counted and the endurance test's run (:class:`~heelraise.service.endurance.EnduranceRun`),
and asks the coach for the cues each mode has. It touches the signal chains only
through their ``end_set`` / ``set_tempo`` and hands the events those make to
``emit`` (the loop's dispatch), so every event goes the same way.

Two shoes: every shoe's reps count, unless one side works alone: single-leg mode
(``[user] single_leg``, or ``start_set`` with ``side``) and the endurance test count the
working side only (:attr:`Session.working_side`; the resting foot's chain keeps running,
its reps are not counted). The endurance test runs per side, one after the other
(``start_endurance_test`` ``side``: that side only; ``first``: which side starts, left
by default): when one side's test ends by its rules, the other side's counts in. Its
result is the one side's, or both sides' with their LSIs (:func:`heelraise.symmetry.symmetry`
of the reps, mean heel height and total work counted; ``involved`` from ``[user]
involved_side``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from heelraise.cues.settings import CueSettings
from heelraise.events import RepEvent, SetEvent
from heelraise.exceptions import SettingsError
from heelraise.service.commands import check
from heelraise.service.endurance import EnduranceRun
from heelraise.service.live import LiveOutput
from heelraise.symmetry import SIDES, side_totals, symmetry
from heelraise.tempo import Tempo

log = logging.getLogger("heelraise.service")


@dataclass(frozen=True)
class SessionPlan:
    """How the session starts out and what it judges by (from the config's [tempo], [user]
    and [cues]); the commands change the tempo and mode from there."""

    tempo: Tempo | None = None  # the target tempo ([tempo] target)
    guided: bool = False  # the metronome leads ([tempo] mode = "guided")
    body_mass_kg: float = 70.0  # the work of a rep: body mass x g x heel height
    pace_tolerance_s: float = CueSettings.pace_tolerance_s  # endurance: off-beat allowance
    involved_side: str | None = None  # the LSIs' numerator; None: left / right
    single_leg: str | None = None  # the side that works alone in every set; None: both


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
        plan: SessionPlan | None = None,
    ):
        plan = plan or SessionPlan()
        #: each command of the table -> what runs it
        self._handlers = {
            "start_set": self._start_set,
            "end_set": self._end_set,
            "set_tempo": self._set_tempo,
            "start_endurance_test": self._start_endurance_test,
            "stop_endurance_test": self._stop_endurance_test,
            "set_live": self._set_live,
        }
        self.shoes = list(shoes)
        self.emit = emit  # emit(events, shoe): the loop's dispatch
        self.coach = coach
        self.live = live if live is not None else LiveOutput()
        self.tempo = plan.tempo
        self.guided = bool(plan.guided)
        self.body_mass_kg = float(plan.body_mass_kg)
        self.pace_tolerance_s = float(plan.pace_tolerance_s)
        self.involved_side = plan.involved_side
        #: the side that works alone in every set ([user] single_leg), or None: both count
        self.single_leg = plan.single_leg
        if self.single_leg is not None and self.single_leg not in self.sides:
            raise SettingsError(
                f"single_leg {self.single_leg!r}: there is no {self.single_leg} shoe"
            )
        self._set_side: str | None = None  # this set's single leg (start_set side)
        self.sets: list = []
        self.side_sets: dict = {}  # side -> the sets counted on that shoe
        self.endurance: EnduranceRun | None = None
        self._endurance_side: str | None = None  # the side the running test judges
        self._endurance_next: list = []  # the sides still to test
        self._endurance_results: dict = {}  # side -> result, in the order tested
        self._endurance_totals: dict = {}  # side -> SideTotals of its counted reps
        self.endurance_result: dict | None = None

    @property
    def mode(self) -> str:
        if self.endurance is not None:
            return "endurance"
        return "guided" if self.guided else "free"

    @property
    def set_open(self) -> bool:
        return any(s.analyzer.state.set_open for s in self.shoes)

    @property
    def sides(self) -> tuple:
        """The named shoes' sides ("left", "right"); () for one unnamed sensor."""
        return tuple(s.side for s in self.shoes if s.side is not None)

    @property
    def working_side(self) -> str | None:
        """The side that counts alone now (the endurance test's, this set's, or
        ``single_leg``); None: every shoe counts."""
        if self.endurance is not None and self._endurance_side is not None:
            return self._endurance_side
        return self._set_side or self.single_leg

    def counts(self, side: str | None) -> bool:
        """Whether a rep or set of the ``side`` shoe counts now."""
        working = self.working_side
        return working is None or side is None or side == working

    # --- events and time ------------------------------------------------------------------

    def on_event(self, event) -> None:
        """Every counted event the loop dispatches, before the coach and the sinks."""
        if isinstance(event, SetEvent):
            kept = event.summary.kept()  # what the session's totals read, not whole reps
            self.sets.append(kept)
            self.side_sets.setdefault(event.side, []).append(kept)
            self._set_side = None
        elif isinstance(event, RepEvent) and self.endurance is not None:
            self._ended(self.endurance.on_rep(event.rep))

    def after_event(self, event) -> None:
        """After the sinks: an unpaced endurance test ends with its set (the user stopped)."""
        if (
            isinstance(event, SetEvent)
            and self.endurance is not None
            and not self.endurance.test.paced
        ):
            self._ended(self.endurance.stop("set_end"))

    def tick(self, now_s: float) -> None:
        if self.endurance is not None:
            self._ended(self.endurance.check(now_s))

    def close(self) -> None:
        """Shutdown: a running test stops ("shutdown"); the sides not tested yet are not."""
        if self.endurance is not None:
            self._ended(self.endurance.stop("shutdown"), go_on=False)

    def _ended(self, result, *, go_on: bool = True) -> None:
        """One side's test ended with ``result`` (None: it still runs); the next side's
        starts when ``go_on`` and one is left."""
        if result is None:
            return
        side, run = self._endurance_side, self.endurance
        self.endurance = None
        self._endurance_results[side] = result
        heights = [r.heel_rise_mm for r in run.test.counted]
        self._endurance_totals[side] = side_totals(heights, self.body_mass_kg)
        where = "" if side is None else f" ({side})"
        log.info("endurance test%s: %s", where, result)
        if go_on and self._endurance_next:
            self._start_run(self._endurance_next.pop(0))
            log.info("endurance test: now the %s side", self._endurance_side)
            return
        self._endurance_next = []
        self.endurance_result = self._endurance_report()

    def _endurance_report(self) -> dict:
        """One side's result as it is, or both sides' and their symmetry."""
        results = self._endurance_results
        if len(results) == 1:
            return next(iter(results.values()))
        return {
            "sides": {s: results[s] for s in SIDES if s in results},
            "symmetry": symmetry(self._endurance_totals, involved=self.involved_side),
        }

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
        return self._handlers[name](parsed)

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
        if "side" in args:
            err = self._side_ok("start_set", args["side"])
            if err:
                return False, err
            self._set_side = args["side"]
            log.info("single-leg set: counting the %s side only", args["side"])
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

    def _side_ok(self, command: str, side) -> str | None:
        if side not in self.sides:
            shoes = " and ".join(self.sides) or "one unnamed sensor"
            return f"{command}: there is no {side} shoe (the shoes: {shoes})"
        return None

    def _start_endurance_test(self, args) -> tuple[bool, str | None]:
        if self.endurance is not None:
            return False, "an endurance test is already running"
        for key in ("side", "first"):
            if key in args:
                err = self._side_ok("start_endurance_test", args[key])
                if err:
                    return False, err
        if "side" in args and "first" in args:
            return False, "start_endurance_test: give side (one side) or first (both), not both"
        if "side" in args:
            order = [args["side"]]
        elif self.sides:
            first = args.get("first", self.sides[0])
            order = [first] + [s for s in self.sides if s != first]
        else:
            order = [None]
        self._end_sets()
        self.endurance_result = None
        self._endurance_results, self._endurance_totals = {}, {}
        self._pace_bpm = args.get("pace_bpm", 60.0)
        self._endurance_next = order[1:]
        self._start_run(order[0])
        return True, None

    def _start_run(self, side: str | None) -> None:
        self._endurance_side = side
        self.endurance = EnduranceRun(
            self.coach,
            pace_bpm=self._pace_bpm,
            tolerance_s=self.pace_tolerance_s,
            body_mass_kg=self.body_mass_kg,
            side=side,
        )

    def _stop_endurance_test(self, args) -> tuple[bool, str | None]:
        if self.endurance is None:
            return False, "no endurance test is running"
        self._ended(self.endurance.stop("command"), go_on=False)
        self._end_sets()
        return True, None

    def _set_live(self, args) -> tuple[bool, str | None]:
        self.live.set(args["on"])
        return True, None
