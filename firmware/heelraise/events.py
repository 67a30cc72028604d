"""What the signal chain tells the rest of the product: reps, sets, sessions.

These plain dataclasses are the contract between the analysis core and its
consumers (the terminal, the cues, the MQTT publisher, the recordings' JSON).
Times are in the recording's / sensor's own time base, in seconds.

A :class:`Rep` is emitted as soon as its lowering has come to rest: 0.1 s after
its speed fell under 1/16 of its peak. ``end_s`` is extrapolated from the
deceleration, so the event's ``t_s`` (the deciding sample) may come up to a few
tenths of a second before ``end_s`` as well as after it. ``bottom_hold_s`` is
still ``None`` then: the pause at the bottom is only known when the next rep
starts. The :class:`SetSummary` emitted when the set ends carries the final reps,
with ``bottom_hold_s`` filled in (``None`` stays only on a set's last rep).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: Every fault name a rep can carry, from the guide the product was made from.
FAULTS = (
    "ankle_roll",  # ankle turned in or out by 8 degrees or more
    "bounce",  # bounced at the bottom instead of a controlled stop
    "partial",  # well short of the set's best height
    "not_past_neutral",  # on a step, the heel did not go below the step
    "rocked_back",  # on the floor, rocked back onto the heels (toes lifted)
    "too_fast",  # a phase well shorter than the target tempo
    "too_slow",  # a phase well longer than the target tempo
)


@dataclass
class Rep:
    """One heel raise with its four phase instants, range and faults."""

    set: int  # 1-based set number within the session
    index: int  # 1-based rep number within the set
    start_s: float  # heel starts to rise
    top_start_s: float  # heel stops rising
    top_end_s: float  # heel starts to lower
    end_s: float  # lowering stops
    peak_deg: float  # plantarflexion above neutral at the top
    depth_deg: float  # dorsiflexion below neutral at the bottom (0 on the floor)
    heel_rise_mm: float  # heel height above neutral at the top
    roll_deg: float = 0.0  # largest ankle roll (in or out) during the rep, signed
    surface: str = "floor"  # "floor" or "step", as judged for this rep's set
    faults: list[str] = field(default_factory=list)
    bottom_hold_s: float | None = None  # end_s to the next rep's start (same set)
    tempo: dict | None = None  # target tempo, when one was set
    deviation_s: dict | None = None  # measured minus target, per phase

    @property
    def raise_s(self) -> float:
        return self.top_start_s - self.start_s

    @property
    def top_hold_s(self) -> float:
        return self.top_end_s - self.top_start_s

    @property
    def lower_s(self) -> float:
        return self.end_s - self.top_end_s

    def to_dict(self) -> dict:
        """The rep as in ``heelraise analyze --json`` (times rounded to 1 ms)."""
        return {
            "set": self.set,
            "index": self.index,
            "start_s": _r(self.start_s),
            "top_start_s": _r(self.top_start_s),
            "top_end_s": _r(self.top_end_s),
            "end_s": _r(self.end_s),
            "raise_s": _r(self.raise_s),
            "top_hold_s": _r(self.top_hold_s),
            "lower_s": _r(self.lower_s),
            "bottom_hold_s": None if self.bottom_hold_s is None else _r(self.bottom_hold_s),
            "peak_deg": round(self.peak_deg, 2),
            "depth_deg": round(self.depth_deg, 2),
            "heel_rise_mm": round(self.heel_rise_mm, 1),
            "roll_deg": round(self.roll_deg, 2),
            "surface": self.surface,
            "faults": list(self.faults),
            "tempo": self.tempo,
            "deviation_s": self.deviation_s,
        }


@dataclass
class SetSummary:
    """A finished set: its reps (final values) and why it ended."""

    index: int
    start_s: float
    end_s: float
    reps: list[Rep]
    ended_by: str  # "pause", "walking", "gap", "command" or "end_of_stream"

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    def to_dict(self, with_reps: bool = False) -> dict:
        d = {
            "index": self.index,
            "rep_count": self.rep_count,
            "start_s": _r(self.start_s),
            "end_s": _r(self.end_s),
            "ended_by": self.ended_by,
        }
        d.update(_means(self.reps))
        if with_reps:
            d["reps"] = [r.to_dict() for r in self.reps]
        return d


@dataclass
class SessionSummary:
    """Everything counted in one session (one recording, or one service run)."""

    sets: list[SetSummary]
    sample_rate_hz: float | None = None

    @property
    def reps(self) -> list[Rep]:
        return [r for s in self.sets for r in s.reps]

    @property
    def rep_count(self) -> int:
        return sum(s.rep_count for s in self.sets)

    def to_dict(self) -> dict:
        d = {
            "rep_count": self.rep_count,
            "set_count": len(self.sets),
            "sets": [s.to_dict() for s in self.sets],
        }
        d.update(_means(self.reps))
        return d


# Event wrappers: what Analyzer.update() returns, in stream order.


@dataclass
class RepEvent:
    rep: Rep
    t_s: float  # sensor time at which the event was decided
    kind: str = "rep"
    side: str | None = None  # "left" / "right": which shoe; None for one unnamed sensor


@dataclass
class SetEvent:
    summary: SetSummary
    t_s: float
    kind: str = "set"
    side: str | None = None  # "left" / "right": which shoe; None for one unnamed sensor


@dataclass
class GapEvent:
    """The stream had a hole (FIFO overflow, I2C fault, missing samples)."""

    start_s: float
    end_s: float
    reason: str
    t_s: float = 0.0
    kind: str = "gap"


def _r(x: float) -> float:
    return round(float(x), 3)


def _means(reps: list[Rep]) -> dict:
    if not reps:
        return {
            "mean_raise_s": None,
            "mean_top_hold_s": None,
            "mean_lower_s": None,
            "mean_peak_deg": None,
            "mean_heel_rise_mm": None,
            "fault_counts": {},
        }
    n = len(reps)
    counts: dict[str, int] = {}
    for r in reps:
        for f in r.faults:
            counts[f] = counts.get(f, 0) + 1
    return {
        "mean_raise_s": _r(sum(r.raise_s for r in reps) / n),
        "mean_top_hold_s": _r(sum(r.top_hold_s for r in reps) / n),
        "mean_lower_s": _r(sum(r.lower_s for r in reps) / n),
        "mean_peak_deg": round(sum(r.peak_deg for r in reps) / n, 2),
        "mean_heel_rise_mm": round(sum(r.heel_rise_mm for r in reps) / n, 1),
        "fault_counts": counts,
    }


__all__ = [
    "FAULTS",
    "Rep",
    "SetSummary",
    "SessionSummary",
    "RepEvent",
    "SetEvent",
    "GapEvent",
    "asdict",
]
