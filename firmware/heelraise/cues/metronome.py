"""The metronome: when each cue is due and what the LED shows, as a pure schedule.

A metronome is a repeating cycle of :class:`Segment` s anchored at an absolute
start time (so it never drifts, however late it is polled). Guided mode cycles
through the tempo's phases starting with the raise; the endurance test cycles
one beat up, one beat down. Each segment plays its cue when it starts, and
(when ``counts``) a count click at every whole second inside it. Before the
first cycle a short lead-in of count clicks gives the user the beat.

LED scheme: ``on`` while rising, ``pulse`` (4 Hz: 125 ms bright, 125 ms dim or
off) while holding at the top or bottom, ``off`` while lowering and in the
lead-in.

Example: the floor raise ``3-0-2-1`` started at t = 10 s::

    >>> from heelraise.tempo import Tempo
    >>> m = Metronome(guided_cycle(Tempo.parse("3-0-2-1")), start_s=10.0)
    >>> [(t, p.name) for t, p in m.cues_between(None, 14.5)]
    [(10.0, 'count'), (11.0, 'count'), (12.0, 'rise_now'), (13.0, 'count'), (14.0, 'hold')]
    >>> m.phase_at(14.5)[0].phase, m.light_at(14.5, pwm=True)
    ('top', 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from heelraise.cues.patterns import COUNT, HOLD, LOWER_NOW, RISE_NOW, Pattern
from heelraise.exceptions import SettingsError
from heelraise.tempo import Tempo

#: Time given to an explosive ("X") phase in the metronome.
EXPLOSIVE_S = 1.0
#: LED pulse while holding: period and bright part.
PULSE_PERIOD_S = 0.25
PULSE_ON_S = 0.125
#: Dim level of a pulsing PWM LED (a plain LED goes off).
PULSE_DIM = 0.2
_EPS = 1e-9


@dataclass(frozen=True)
class Segment:
    phase: str  # "raise", "top", "lower", "bottom" (guided); "up", "down" (endurance)
    dur_s: float
    cue: Pattern  # played when the segment starts
    light: str  # "on", "pulse" or "off"
    counts: bool = True  # a count click at each whole second inside the segment


def guided_cycle(tempo: Tempo | str, explosive_s: float = EXPLOSIVE_S) -> tuple[Segment, ...]:
    """One rep at ``tempo``: raise, top hold, lower, bottom pause (0 s phases left out)."""
    if isinstance(tempo, str):
        tempo = Tempo.parse(tempo)
    if not isinstance(tempo, Tempo):
        raise SettingsError(f"tempo must be a Tempo or a string like '3-0-2-1', not {tempo!r}")

    def dur(v):
        return explosive_s if v is None else float(v)

    segments = (
        Segment("raise", dur(tempo.raise_s), RISE_NOW, "on"),
        Segment("top", dur(tempo.top_s), HOLD, "pulse"),
        Segment("lower", dur(tempo.lower_s), LOWER_NOW, "off"),
        Segment("bottom", dur(tempo.bottom_s), HOLD, "pulse"),
    )
    return tuple(s for s in segments if s.dur_s > 0)


def endurance_cycle(beat_s: float = 1.0) -> tuple[Segment, ...]:
    """The heel-rise endurance test's pace: one beat up, one beat down (60 beats a minute)."""
    if not beat_s > 0:
        raise SettingsError(f"beat_s must be greater than 0, not {beat_s!r}")
    return (
        Segment("up", beat_s, RISE_NOW, "on", counts=False),
        Segment("down", beat_s, LOWER_NOW, "off", counts=False),
    )


class Metronome:
    """A cycle of segments repeating from ``start_s + lead_in_counts * count_s``."""

    def __init__(
        self,
        cycle: tuple[Segment, ...],
        start_s: float,
        *,
        lead_in_counts: int = 2,
        count_s: float = 1.0,
    ):
        if not cycle:
            raise SettingsError("a metronome needs at least one segment")
        self.cycle = tuple(cycle)
        self.start_s = float(start_s)
        self.lead_in_counts = int(lead_in_counts)
        self.count_s = float(count_s)
        self.cycle_s = sum(s.dur_s for s in self.cycle)
        self._offsets = []
        acc = 0.0
        for s in self.cycle:
            self._offsets.append(acc)
            acc += s.dur_s

    @property
    def first_beat_s(self) -> float:
        """When the first cycle starts (the first ``rise_now``)."""
        return self.start_s + self.lead_in_counts * self.count_s

    def cues_between(self, t0_s: float | None, t1_s: float) -> list[tuple[float, Pattern]]:
        """Every cue due in ``(t0_s, t1_s]`` (``t0_s`` None: from the start), in time order."""
        lo = -math.inf if t0_s is None else t0_s + _EPS
        hi = t1_s + _EPS
        out = []
        for k in range(self.lead_in_counts):
            t = self.start_s + k * self.count_s
            if lo < t <= hi:
                out.append((t, COUNT))
        first = self.first_beat_s
        if hi < first:
            return out
        n0 = max(0, math.floor((max(lo, first) - first) / self.cycle_s))
        n1 = math.floor((hi - first) / self.cycle_s)
        for n in range(n0, n1 + 1):
            base = first + n * self.cycle_s
            for seg, off in zip(self.cycle, self._offsets, strict=True):
                t = base + off
                if lo < t <= hi:
                    out.append((t, seg.cue))
                if seg.counts:
                    k = 1
                    while k * self.count_s < seg.dur_s - _EPS:
                        tc = t + k * self.count_s
                        if lo < tc <= hi:
                            out.append((tc, COUNT))
                        k += 1
        out.sort(key=lambda item: item[0])
        return out

    def phase_at(self, t_s: float) -> tuple[Segment | None, float]:
        """The segment running at ``t_s`` and its start (None, start_s in the lead-in)."""
        first = self.first_beat_s
        if t_s + _EPS < first:
            return None, self.start_s
        n = math.floor((t_s - first + _EPS) / self.cycle_s)
        base = first + n * self.cycle_s
        within = t_s - base
        chosen = 0
        for i, off in enumerate(self._offsets):
            if within + _EPS >= off:
                chosen = i
        return self.cycle[chosen], base + self._offsets[chosen]

    def light_at(self, t_s: float, *, pwm: bool) -> float:
        """The LED level the metronome wants at ``t_s`` (0 to 1)."""
        seg, seg_start = self.phase_at(t_s)
        if seg is None or seg.light == "off":
            return 0.0
        if seg.light == "on":
            return 1.0
        phase = (t_s - seg_start + _EPS) % PULSE_PERIOD_S
        if phase < PULSE_ON_S:
            return 1.0
        return PULSE_DIM if pwm else 0.0
