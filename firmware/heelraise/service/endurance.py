"""The heel-rise endurance test: reps on a 60-beat-a-minute pace until pace or height fails.

The metronome beats once a second, one beat up and one beat down, so a rep is
due every 2 s (30 raises a minute). Beat pair ``j`` starts at
``first_beat_s + j * 2 * beat_s``; a rep belongs to the pair whose up beat is
nearest its ``start_s`` (heel starts to rise). The test stops when:

- ``"pace"``: the user misses the pace twice in a row. A miss is a rep whose
  start is more than ``tolerance_s`` (default 0.35 s) off its up beat, a second
  rep in a pair that already had one, or a beat pair with no rep at all (decided
  when a later rep arrives, or ``report_timeout_s`` after the up beat plus the
  tolerance, since a rep is only reported once its lowering has stopped).
- ``"height"``: a rep's heel height (``heel_rise_mm``) falls below half of the
  reference, the mean of the first 3 counted reps (checked from the 4th rep on).
- ``"command"``: :meth:`EnduranceTest.stop` (button, MQTT ``stop_endurance_test``);
  ``"shutdown"`` when the service stops with a test running.

Only on-pace reps at full height count. The result (the ``endurance`` object
of the MQTT ``session`` message) reports them: ``reps``, ``first_heel_rise_mm``,
``last_heel_rise_mm``, ``mean_heel_rise_mm``, ``decline_pct`` = 100 x (first -
last) / first, ``work_j`` = sum of body mass x g (9.80665 m/s^2) x heel height (m), and
``stopped_by``.

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
from heelraise.physics import G_MPS2

STOP_REASONS = ("pace", "height", "command", "shutdown")


class EnduranceTest:
    """Judges reps against the endurance pace; see the module docstring for the rules."""

    def __init__(
        self,
        first_beat_s: float,
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
        self.first_beat_s = float(first_beat_s)
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
        ref = self.reference_mm
        if ref is not None and rep.heel_rise_mm < self.min_height_fraction * ref:
            self.stopped_by = "height"
            return "too_low"
        self.counted.append(rep)
        self._misses_in_row = 0
        return "counted"

    def check(self, now_s: float) -> bool:
        """Declare beat pairs whose rep can no longer arrive missed; True once stopped."""
        while not self.stopped:
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
        heights_m = [r.heel_rise_mm / 1000.0 for r in reps]
        return {
            "reps": len(reps),
            "first_heel_rise_mm": round(first, 1),
            "last_heel_rise_mm": round(last, 1),
            "mean_heel_rise_mm": round(sum(r.heel_rise_mm for r in reps) / len(reps), 1),
            "decline_pct": round(100.0 * (first - last) / first, 1) if first > 0 else None,
            "work_j": round(self.body_mass_kg * G_MPS2 * sum(heights_m), 1),
            "stopped_by": self.stopped_by,
        }
