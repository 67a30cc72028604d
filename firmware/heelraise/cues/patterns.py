"""The cue vocabulary: what the buzzer and the LED say, as data (no hardware here).

A :class:`Pattern` is a short sequence of :class:`Step` s. Each step holds the
buzzer at a pitch (``tone_hz``; 0 is silent; an active buzzer just sounds for
any pitch) and, optionally, the LED at a level (``light``; None leaves the LED
to the mode: the metronome's phase display, or off). Patterns are told apart by
rhythm first, so an active (single-pitch) buzzer is enough; a passive buzzer
adds pitch. The scheme (also in docs/cues.md and hardware/wiring.md):

================  ==========================================  ========
pattern           buzzer (ms on / off)                        priority
================  ==========================================  ========
count             30 click, every whole second inside a phase  1
rep_ok            50 chirp, high (C7), LED flash               feedback
rep_fault         200 / 100 / 200, low buzz (C4), LED flashes  feedback
rep_ok_right      30 / 30 / 30 double chirp (A6), LED flashes  feedback
rep_fault_right   100 / 50 / 100 / 50 / 100 triple buzz (C4)    feedback
rise_now          300 long beep, high (A6)                     4
hold              40 / 60 / 40 / 60 / 40 trill (E6)            4
lower_now         80 / 80 / 80 double pip, low (A5)            4
set_done          100 / 50 / 100 / 50 / 100 / 50 / 300 arpeggio 5
sensor_trouble    (500 / 250) x 3, A4, LED with it             6
================  ==========================================  ========

With two shoes the left shoe's rep sounds ``rep_ok`` / ``rep_fault`` (as one unnamed
sensor's does) and the right shoe's ``rep_ok_right`` / ``rep_fault_right``: another
rhythm (two chirps, three buzzes), so an active buzzer tells the sides apart, and for
the chirp another pitch too.

Feedback for a rep has no place in the priority order: it starts at once (see
:mod:`heelraise.cues.player`), so the user hears it within the latency budget.

Example::

    >>> from heelraise.cues.patterns import PATTERNS
    >>> PATTERNS["lower_now"].duration_s
    0.24
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Step:
    dur_s: float
    tone_hz: float = 0.0  # 0: buzzer silent
    light: float | None = None  # LED level 0..1 during the step; None: the mode decides


@dataclass(frozen=True)
class Pattern:
    name: str
    steps: tuple[Step, ...]
    #: A pattern interrupts one of lower priority; otherwise it waits its turn.
    priority: int
    #: Feedback for a rep (chirp, fault buzz): starts at once, cutting whatever plays and
    #: going ahead of whatever waits (see :mod:`heelraise.cues.player`); priority unused.
    feedback: bool = False

    @property
    def duration_s(self) -> float:
        return round(sum(s.dur_s for s in self.steps), 9)

    def sound_only(self) -> Pattern:
        """The same pattern leaving the LED alone (while the LED shows the tempo phase)."""
        return replace(self, steps=tuple(replace(s, light=None) for s in self.steps))


# Pitches (Hz), all inside a TonalBuzzer's C4..C8 range (mid_tone C6, two octaves).
C4, A4, A5, C6, E6, G6, A6, C7 = 261.63, 440.0, 880.0, 1046.5, 1318.51, 1567.98, 1760.0, 2093.0


def _beeps(name, priority, tone_hz, on_off_s, light=None, feedback=False):
    steps = []
    for i, dur in enumerate(on_off_s):
        on = i % 2 == 0
        steps.append(
            Step(dur, tone_hz if on else 0.0, None if light is None else (light if on else 0.0))
        )
    return Pattern(name, tuple(steps), priority, feedback)


COUNT = _beeps("count", 1, G6, (0.03,))
REP_OK = _beeps("rep_ok", 2, C7, (0.05,), light=1.0, feedback=True)
REP_FAULT = _beeps("rep_fault", 3, C4, (0.2, 0.1, 0.2), light=1.0, feedback=True)
REP_OK_RIGHT = _beeps("rep_ok_right", 2, A6, (0.03, 0.03, 0.03), light=1.0, feedback=True)
REP_FAULT_RIGHT = _beeps(
    "rep_fault_right", 3, C4, (0.1, 0.05, 0.1, 0.05, 0.1), light=1.0, feedback=True
)
RISE_NOW = _beeps("rise_now", 4, A6, (0.3,))
HOLD = _beeps("hold", 4, E6, (0.04, 0.06, 0.04, 0.06, 0.04))
LOWER_NOW = _beeps("lower_now", 4, A5, (0.08, 0.08, 0.08))
SET_DONE = Pattern(
    "set_done",
    (
        Step(0.1, C6, 1.0),
        Step(0.05, 0.0, 0.0),
        Step(0.1, E6, 1.0),
        Step(0.05, 0.0, 0.0),
        Step(0.1, G6, 1.0),
        Step(0.05, 0.0, 0.0),
        Step(0.3, C7, 1.0),
    ),
    5,
)
SENSOR_TROUBLE = _beeps("sensor_trouble", 6, A4, (0.5, 0.25) * 3, light=1.0)

PATTERNS = {
    p.name: p
    for p in (
        COUNT,
        REP_OK,
        REP_FAULT,
        REP_OK_RIGHT,
        REP_FAULT_RIGHT,
        RISE_NOW,
        HOLD,
        LOWER_NOW,
        SET_DONE,
        SENSOR_TROUBLE,
    )
}
#: Each shoe's rep feedback: side (None: one unnamed sensor) -> (counted, fault).
REP_FEEDBACK = {
    None: (REP_OK, REP_FAULT),
    "left": (REP_OK, REP_FAULT),
    "right": (REP_OK_RIGHT, REP_FAULT_RIGHT),
}
