"""Plays cue patterns one at a time, by priority, stepped by an explicit clock.

The player owns no hardware: :meth:`PatternPlayer.output` says what the buzzer
(pitch, 0 for silent) and the LED (a level, or None for "not mine") should do
now, and the coach applies it. Each step starts when the previous one is seen
to have ended, so a late :meth:`advance` lengthens a step but never drops one
(a 30 ms click is never lost to a slow loop).

Rules: one pattern plays at a time.

- Feedback for a rep (a pattern with ``feedback``: the chirp, the fault buzz)
  starts at once: it cuts whatever is playing (a metronome cue, the previous
  rep's feedback, set complete, sensor trouble; the cut pattern is dropped, not
  resumed) and goes ahead of whatever waits. The user must hear it within 60 ms
  of the rep's end. While it plays, other patterns wait for it (only newer
  feedback cuts it).
- Two shoes, one buzzer: the other shoe's feedback cut before its first sound
  ended (both shoes ended a rep within a few ms: the newer rep's feedback must
  not wait 50-100 ms behind it) is not lost: it plays again, whole, right after
  the one that cut it, ahead of whatever else waits (and is dropped if that is
  more than ``max_wait_s`` after its rep). One whose first sound was heard in
  full is dropped, like any cut pattern; so is the same shoe's older feedback.
- Otherwise a pattern of higher priority interrupts the one playing (which is
  dropped); one of equal or lower priority waits in line (higher priority first,
  then first come) and is dropped if it has waited longer than ``max_wait_s``,
  since late cues are confusing.
- Patterns stay distinct on an active (on/off) buzzer: a pattern starting less
  than ``SEPARATION_S`` (40 ms) after another pattern's sound (or interrupting
  it) begins with enough silence to make that gap; feedback only
  ``FEEDBACK_GAP_S`` (10 ms). Trade-off: 10 ms is still a separate stop and
  start on an active buzzer (a listener hears gaps of a few ms), and it delays
  the feedback by 10 ms (the service wakes for the step's end,
  :meth:`PatternPlayer.next_change_s`; a caller that only ticks every 20 ms, at most
  that tick), not 40 ms, which the 60 ms budget cannot spare.

Example::

    >>> from heelraise.cues.patterns import REP_OK
    >>> p = PatternPlayer()
    >>> p.play(REP_OK, 0.0); p.output()
    (2093.0, 1.0)
    >>> p.advance(0.05); p.output()
    (0.0, None)
    >>> from heelraise.cues.patterns import COUNT
    >>> p.play(COUNT, 1.0); p.play(REP_OK, 1.01); p.output()   # the chirp cuts the click
    (0.0, None)
    >>> p.advance(1.02); p.output()                           # after a 10 ms gap
    (2093.0, 1.0)
    >>> [name for _, name in p.history]
    ['rep_ok', 'count', 'rep_ok']
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from heelraise.cues.patterns import REP_FEEDBACK, Pattern, Step

_EPS = 1e-9
#: Silence inserted before a pattern that would otherwise run on from a sounding one.
SEPARATION_S = 0.04
#: The same for rep feedback: the shortest break an active buzzer makes audible, so the
#: feedback is at most one loop tick late (the 60 ms budget has no room for 40 ms).
FEEDBACK_GAP_S = 0.01
#: Each shoe's feedback patterns' names (a side's newer feedback supersedes its older one).
_SIDE_OF = {p.name: side for side, pair in REP_FEEDBACK.items() if side for p in pair}
#: Patterns kept in :attr:`PatternPlayer.history`: a quarter of an hour of guided cues,
#: bounded so that a service running all day does not grow (80 kB).
HISTORY_LEN = 1000


class PatternPlayer:
    def __init__(self, max_wait_s: float = 0.6):
        self.max_wait_s = float(max_wait_s)
        self._current: Pattern | None = None
        self._requested: tuple[Pattern, float] | None = None  # the current one, as asked for
        self._index = 0
        self._step_start_s = 0.0
        self._waiting: list[tuple[Pattern, float]] = []  # (pattern, requested at)
        self._sound_ended_s = -1e9  # when the last sounding step stopped
        #: The last HISTORY_LEN patterns started, (start time, name) (for logs and tests).
        self.history: deque[tuple[float, str]] = deque(maxlen=HISTORY_LEN)

    @property
    def current(self) -> Pattern | None:
        return self._current

    def play(self, pattern: Pattern, now_s: float) -> None:
        """Start ``pattern`` now (feedback always; others over lower priority), or queue it."""
        self.advance(now_s)
        current = self._current
        if (
            pattern.feedback
            or current is None
            or (not current.feedback and pattern.priority > current.priority)
        ):
            again = self._unheard_other_side(pattern)
            self._start(pattern, now_s)
            if again is not None:
                self._waiting.append(again)
        else:
            self._waiting.append((pattern, now_s))

    def _unheard_other_side(self, pattern: Pattern) -> tuple[Pattern, float] | None:
        """The feedback playing, as asked for, when ``pattern`` (feedback) cuts it before its
        first sound ended and it is the other shoe's; else None."""
        current, requested = self._current, self._requested
        if not pattern.feedback or current is None or not current.feedback or requested is None:
            return None
        if _SIDE_OF.get(current.name) in (None, _SIDE_OF.get(pattern.name)):
            return None
        first_sound = next(i for i, st in enumerate(current.steps) if st.tone_hz > 0)
        return requested if self._index <= first_sound else None

    def clear(self) -> None:
        """Silence: drop the pattern playing and every one waiting."""
        self._current = None
        self._requested = None
        self._waiting.clear()

    def advance(self, now_s: float) -> None:
        while self._current is not None:
            step = self._current.steps[self._index]
            if now_s + _EPS < self._step_start_s + step.dur_s:
                return
            if step.tone_hz > 0:
                self._sound_ended_s = now_s
            self._index += 1
            self._step_start_s = now_s
            if self._index >= len(self._current.steps):
                self._current = None
                self._next(now_s)

    def next_change_s(self) -> float | None:
        """When the step playing ends (its output may change then), or None: nothing plays."""
        if self._current is None:
            return None
        return self._step_start_s + self._current.steps[self._index].dur_s

    def output(self) -> tuple[float, float | None]:
        """(buzzer pitch in Hz or 0, LED level or None) for the step playing."""
        if self._current is None:
            return 0.0, None
        step = self._current.steps[self._index]
        return step.tone_hz, step.light

    def _start(self, pattern: Pattern, now_s: float, requested_s: float | None = None) -> None:
        if self.output()[0] > 0:  # interrupting a sound
            self._sound_ended_s = now_s
        self.history.append((now_s, pattern.name))
        self._requested = (pattern, requested_s if requested_s is not None else now_s)
        gap_s = FEEDBACK_GAP_S if pattern.feedback else SEPARATION_S
        silence_s = round(gap_s - (now_s - self._sound_ended_s), 9)
        if silence_s > _EPS and pattern.steps[0].tone_hz > 0:
            pattern = replace(pattern, steps=(Step(silence_s),) + pattern.steps)
        self._current = pattern
        self._index = 0
        self._step_start_s = now_s

    def _next(self, now_s: float) -> None:
        fresh = [(p, t) for p, t in self._waiting if now_s - t <= self.max_wait_s + _EPS]
        self._waiting.clear()
        if not fresh:
            return
        # feedback first (the other shoe's, cut before it was heard), then by priority
        fresh.sort(key=lambda item: (not item[0].feedback, -item[0].priority, item[1]))
        first, *rest = fresh
        self._waiting.extend(rest)
        self._start(first[0], now_s, first[1])
