"""The heel-rise endurance test: the one home of its scoring rules.

Paced (the coach's metronome leads): a beat every ``beat_s`` (1 s at the clinical
60 beats a minute), one beat up and one beat down, so a rep is due every
``2 * beat_s``. Beat pair ``j`` starts at ``first_beat_s + j * 2 * beat_s``; a rep
belongs to the pair whose up beat is nearest its ``start_s`` (heel starts to rise).
The test stops when:

- ``"pace"``: the user misses the pace twice in a row. A miss is a rep whose
  start is more than ``tolerance_s`` (default 0.35 s) off its up beat, a second
  rep in a pair that already had one, or a beat pair with no rep at all (decided
  when a later rep arrives, or ``report_timeout_s`` after the up beat plus the
  tolerance, since a rep is only reported once its lowering has stopped).
- ``"height"``: a rep's heel height (``heel_rise_mm``) falls below half of the
  reference, the mean of the first 3 counted reps (checked from the 4th rep on).
- ``"command"``: :meth:`EnduranceTest.stop` (button, MQTT ``stop_endurance_test``);
  ``"shutdown"`` when the service stops with a test running; ``"set_end"`` when an
  unpaced test's set ends.

Unpaced (``first_beat_s=None``: no coach, so no beat anyone hears): every rep counts
until the height fails or the user stops; there is no pace to miss.

Only on-pace reps at full height count. The result (the ``endurance`` object
of the MQTT ``session`` message) reports them: ``reps``, ``first_heel_rise_mm``,
``last_heel_rise_mm``, ``mean_heel_rise_mm``, ``decline_pct`` = 100 x (first -
last) / first, ``work_j`` (:func:`heelraise.symmetry.work_j`: body mass x g x heel
height, summed) and ``stopped_by``. The cue layer only plays what each verdict
sounds like.

All times are in the reps' time base (sensor seconds). Example::

    >>> from heelraise.events import Rep
    >>> test = EnduranceTest(first_beat_s=10.0, body_mass_kg=70.0)
    >>> def rep(i, start_s, mm):
    ...     return Rep(1, i, start_s, start_s + 0.9, start_s + 1.0, start_s + 1.9, 20, 0, mm)
    >>> [test.on_rep(rep(i + 1, 10.0 + 2 * i, 60.0)) for i in range(3)]
    ['counted', 'counted', 'counted']
    >>> test.on_rep(rep(4, 16.0, 25.0))       # below half of 60 mm
    'too_low'
    >>> test.result()["stopped_by"], test.result()["reps"], test.result()["work_j"]
    ('height', 3, 123.6)
"""

from __future__ import annotations

import math

from heelraise.events import Rep
from heelraise.exceptions import SettingsError
from heelraise.symmetry import work_j

STOP_REASONS = ("pace", "height", "command", "shutdown", "set_end")


class EnduranceTest:
    """Judges reps against the endurance pace; see the module docstring for the rules."""

    def __init__(
        self,
        first_beat_s: float | None,
        *,
        beat_s: float = 1.0,
        tolerance_s: float = 0.35,
        body_mass_kg: float = 70.0,
        report_timeout_s: float = 4.0,
        reference_reps: int = 3,
        min_height_fraction: float = 0.5,
        misses_to_stop: int = 2,
    ):
        for name, value in (
            ("beat_s", beat_s),
            ("tolerance_s", tolerance_s),
            ("body_mass_kg", body_mass_kg),
            ("report_timeout_s", report_timeout_s),
        ):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise SettingsError(f"endurance test: {name} must be greater than 0, not {value!r}")
        if not tolerance_s < beat_s:
            raise SettingsError(
                f"endurance test: tolerance_s ({tolerance_s!r}) must be shorter than a beat "
                f"({beat_s!r} s)"
            )
        if not 0 < min_height_fraction < 1:
            raise SettingsError(
                f"endurance test: min_height_fraction must be between 0 and 1, "
                f"not {min_height_fraction!r}"
            )
        #: None: unpaced (every rep at full height counts)
        self.first_beat_s = None if first_beat_s is None else float(first_beat_s)
        self.beat_s = float(beat_s)
        self.pair_s = 2.0 * self.beat_s
        self.tolerance_s = float(tolerance_s)
        self.body_mass_kg = float(body_mass_kg)
        self.report_timeout_s = float(report_timeout_s)
        self.reference_reps = int(reference_reps)
        self.min_height_fraction = float(min_height_fraction)
        self.misses_to_stop = int(misses_to_stop)
        self.counted: list[Rep] = []
        #: (pair index, why) for every miss: "off_pace", "extra_rep", "no_rep"
        self.misses: list[tuple[int, str]] = []
        self.stopped_by: str | None = None
        self._next_pair = 0
        self._misses_in_row = 0

    @property
    def stopped(self) -> bool:
        return self.stopped_by is not None

    @property
    def paced(self) -> bool:
        return self.first_beat_s is not None

    def up_beat_s(self, pair: int) -> float:
        """When pair ``pair``'s rep should start."""
        return self.first_beat_s + pair * self.pair_s

    def pair_of(self, start_s: float) -> int:
        return math.floor((start_s - self.first_beat_s) / self.pair_s + 0.5)

    @property
    def reference_mm(self) -> float | None:
        """Mean heel height of the first counted reps, once there are enough."""
        if len(self.counted) < self.reference_reps:
            return None
        first = self.counted[: self.reference_reps]
        return sum(r.heel_rise_mm for r in first) / len(first)

    def on_rep(self, rep: Rep) -> str:
        """Judge one rep: ``"counted"``, ``"off_pace"``, ``"extra_rep"``, ``"too_low"``,
        ``"early"`` (before the first beat's window: ignored) or ``"stopped"``."""
        if self.stopped:
            return "stopped"
        if not self.paced:
            return self._judge_height(rep)
        pair = self.pair_of(rep.start_s)
        if pair < 0:
            return "early"
        if pair < self._next_pair:
            self._miss(pair, "extra_rep")
            return "extra_rep"
        for missing in range(self._next_pair, pair):
            self._miss(missing, "no_rep")
            if self.stopped:
                return "stopped"
        self._next_pair = pair + 1
        if abs(rep.start_s - self.up_beat_s(pair)) > self.tolerance_s:
            self._miss(pair, "off_pace")
            return "off_pace"
        return self._judge_height(rep)

    def _judge_height(self, rep: Rep) -> str:
        ref = self.reference_mm
        if ref is not None and rep.heel_rise_mm < self.min_height_fraction * ref:
            self.stopped_by = "height"
            return "too_low"
        self.counted.append(rep)
        self._misses_in_row = 0
        return "counted"

    def check(self, now_s: float) -> bool:
        """Declare beat pairs whose rep can no longer arrive missed; True once stopped."""
        while self.paced and not self.stopped:
            deadline = self.up_beat_s(self._next_pair) + self.tolerance_s + self.report_timeout_s
            if now_s <= deadline:
                break
            self._miss(self._next_pair, "no_rep")
            self._next_pair += 1
        return self.stopped

    def stop(self, reason: str = "command") -> dict:
        """End the test now (no effect once stopped); returns the result."""
        if reason not in STOP_REASONS:
            raise SettingsError(f"stop reason must be one of {STOP_REASONS}, not {reason!r}")
        if not self.stopped:
            self.stopped_by = reason
        return self.result()

    def _miss(self, pair: int, why: str) -> None:
        self.misses.append((pair, why))
        self._misses_in_row += 1
        if self._misses_in_row >= self.misses_to_stop:
            self.stopped_by = "pace"

    def result(self) -> dict:
        """The endurance result (``stopped_by`` is None while the test runs)."""
        reps = self.counted
        if not reps:
            return {
                "reps": 0,
                "first_heel_rise_mm": None,
                "last_heel_rise_mm": None,
                "mean_heel_rise_mm": None,
                "decline_pct": None,
                "work_j": 0.0,
                "stopped_by": self.stopped_by,
            }
        first = reps[0].heel_rise_mm
        last = reps[-1].heel_rise_mm
        return {
            "reps": len(reps),
            "first_heel_rise_mm": round(first, 1),
            "last_heel_rise_mm": round(last, 1),
            "mean_heel_rise_mm": round(sum(r.heel_rise_mm for r in reps) / len(reps), 1),
            "decline_pct": round(100.0 * (first - last) / first, 1) if first > 0 else None,
            "work_j": round(work_j((r.heel_rise_mm for r in reps), self.body_mass_kg), 1),
            "stopped_by": self.stopped_by,
        }


class EnduranceRun:
    """One endurance test as the service runs it: the rules above, the coach's cues.

    With a coach, the coach's metronome paces the test (``start_endurance`` gives the
    first up beat) and :meth:`on_rep` has it sound each verdict; without one the test
    is unpaced. ``tolerance_s`` is capped at 0.45 of a beat so two beats never share
    a rep. :meth:`on_rep` and :meth:`check` return the result once the rules stop the
    test (None while it runs); :meth:`stop` ends it for another reason.
    """

    def __init__(
        self,
        coach=None,
        *,
        pace_bpm: float = 60.0,
        tolerance_s: float = 0.35,
        body_mass_kg: float = 70.0,
        side: str | None = None,
    ):
        if isinstance(pace_bpm, bool) or not isinstance(pace_bpm, (int, float)) or pace_bpm <= 0:
            raise SettingsError(f"pace_bpm must be a number above 0, not {pace_bpm!r}")
        beat_s = 60.0 / float(pace_bpm)
        self.coach = coach
        self.side = side  # the shoe tested (its cues sound that side's feedback)
        first_beat_s = None if coach is None else coach.start_endurance(beat_s=beat_s)
        self.test = EnduranceTest(
            first_beat_s,
            beat_s=beat_s,
            tolerance_s=min(float(tolerance_s), 0.45 * beat_s),
            body_mass_kg=body_mass_kg,
        )
        self.result: dict | None = None

    @property
    def running(self) -> bool:
        return self.result is None

    def on_rep(self, rep: Rep) -> dict | None:
        if not self.running:
            return None
        verdict = self.test.on_rep(rep)
        if self.coach is not None:
            self.coach.play_verdict(verdict, self.side)
        return self._ended() if self.test.stopped else None

    def check(self, now_s: float) -> dict | None:
        if self.running and self.test.check(now_s):
            return self._ended()
        return None

    def stop(self, reason: str = "command") -> dict:
        if self.running:
            self.test.stop(reason)
            self._ended()
        return self.result

    def _ended(self) -> dict:
        self.result = self.test.result()
        if self.coach is not None:
            self.coach.end_endurance()
        return self.result
