"""What the signal chain tells the rest of the product: reps, sets, sessions, gaps.

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

Each event has one serialiser, :meth:`body`: the JSON fields it adds to a message,
the same in the MQTT payload (:mod:`heelraise.protocol.payloads`) and in the
service's JSON lines (:mod:`heelraise.service.sinks`):

>>> rep = Rep(1, 1, 0.0, 2.0, 3.0, 5.5, 24.0, 0.0, 55.0)
>>> event = RepEvent(rep, t_s=5.6)
>>> event.kind, sorted(event.body()), event.body()["rep"]["lower_s"]
('rep', ['rep', 'side'], 2.5)
>>> tuple(rep.to_dict()) == REP_FIELDS
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import ClassVar

from heelraise.symmetry import SIDES, symmetry

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


#: A rep's JSON fields in order: ``analyze --json``, every MQTT message, the dashboard's
#: columns and exports. The rep schema (``protocol/schemas/defs.schema.json``) names the same.
REP_FIELDS = (
    "set",
    "index",
    "start_s",
    "top_start_s",
    "top_end_s",
    "end_s",
    "raise_s",
    "top_hold_s",
    "lower_s",
    "bottom_hold_s",
    "peak_deg",
    "depth_deg",
    "heel_rise_mm",
    "roll_deg",
    "surface",
    "faults",
    "tempo",
    "deviation_s",
)

#: Decimals each rounded field of :data:`REP_FIELDS` keeps: times to 1 ms, angles to
#: 0.01 deg, the heel height to 0.1 mm (finer than any of them is measured).
REP_DECIMALS = {
    "start_s": 3,
    "top_start_s": 3,
    "top_end_s": 3,
    "end_s": 3,
    "raise_s": 3,
    "top_hold_s": 3,
    "lower_s": 3,
    "bottom_hold_s": 3,
    "peak_deg": 2,
    "depth_deg": 2,
    "heel_rise_mm": 1,
    "roll_deg": 2,
}


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
        """The rep as in ``heelraise analyze --json``: :data:`REP_FIELDS`, rounded."""
        d = {}
        for name in REP_FIELDS:
            value = getattr(self, name)
            places = REP_DECIMALS.get(name)
            if places is not None and value is not None:
                value = round(float(value), places)
            elif name == "faults":
                value = list(value)
            d[name] = value
        return d


class KeptRep:
    """What a session keeps of a finished rep for its summary: the phase lengths, peak,
    heel height and faults that the set and session totals (:func:`_means`), each side's
    totals and the demo's lines read, nothing else (:meth:`SetSummary.kept`).

    The service keeps every rep of its session until it ends; as whole :class:`Rep` objects,
    with their times and tempo dicts, that was about 0.5 MB an hour (``bench/service_cpu.py``,
    1.1 kB a rep; kept, about 0.16 kB). The values are the rep's own, of the same types, so every
    total is the same to the bit.

    >>> rep = Rep(1, 1, 0.0, 2.0, 3.0, 5.5, 24.0, 0.0, 55.0, faults=["bounce"])
    >>> kept = KeptRep(rep)
    >>> (kept.raise_s, kept.top_hold_s, kept.lower_s, kept.heel_rise_mm, kept.faults)
    (2.0, 1.0, 2.5, 55.0, ('bounce',))
    """

    __slots__ = ("raise_s", "top_hold_s", "lower_s", "peak_deg", "heel_rise_mm", "faults")

    def __init__(self, rep: Rep):
        self.raise_s = rep.raise_s
        self.top_hold_s = rep.top_hold_s
        self.lower_s = rep.lower_s
        self.peak_deg = rep.peak_deg
        self.heel_rise_mm = rep.heel_rise_mm
        self.faults = tuple(rep.faults)


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

    def kept(self) -> SetSummary:
        """This set as a session keeps it for its summary: the same set, its reps as
        :class:`KeptRep` (so the same ``to_dict()``, but no ``with_reps``)."""
        reps: list = [KeptRep(r) for r in self.reps]
        return SetSummary(self.index, self.start_s, self.end_s, reps, self.ended_by)


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


# Events: what Analyzer.update() returns, in stream order, and the service's session end.
# ``kind`` names the message type; ``body()`` is the one serialiser of each.


@dataclass
class RepEvent:
    rep: Rep
    t_s: float  # sensor time at which the event was decided
    side: str | None = None  # "left" / "right": which shoe; None for one unnamed sensor
    kind: ClassVar[str] = "rep"

    def body(self) -> dict:
        return {"side": self.side, "rep": self.rep.to_dict()}


@dataclass
class SetEvent:
    summary: SetSummary
    t_s: float
    side: str | None = None  # "left" / "right": which shoe; None for one unnamed sensor
    kind: ClassVar[str] = "set"

    def body(self) -> dict:
        """The set with its final reps."""
        return {"side": self.side, "set": self.summary.to_dict(with_reps=True)}


@dataclass
class GapEvent:
    """The stream had a hole (FIFO overflow, I2C fault, missing samples)."""

    start_s: float
    end_s: float
    reason: str
    t_s: float = 0.0
    kind: ClassVar[str] = "gap"

    def body(self) -> dict:
        return {"start_s": _r(self.start_s), "end_s": _r(self.end_s), "reason": self.reason}


@dataclass
class SessionEvent:
    """The service stopped: everything counted, and the endurance test result if one ran.

    ``endurance`` is None or a dict with ``reps``, ``first_heel_rise_mm``,
    ``last_heel_rise_mm``, ``mean_heel_rise_mm``, ``decline_pct``, ``work_j``,
    ``stopped_by`` (the MQTT ``event/session`` body).
    """

    summary: SessionSummary
    t_s: float
    endurance: dict | None = None
    #: the session's gaps in the sensor stream: how many, and their seconds in all
    gaps: int = 0
    gap_s: float = 0.0
    #: which shoe (one sensor), "left" / "right", or None for one unnamed sensor
    side: str | None = None
    #: each measured shoe's totals, side -> heelraise.symmetry.SideTotals (empty: unnamed)
    sides: dict = field(default_factory=dict)
    #: the injured side ([user] involved_side), for the LSIs; None: LSI is left / right
    involved: str | None = None
    kind: ClassVar[str] = "session"

    def body(self) -> dict:
        """The shoe ("both" when two were measured), each shoe's totals and their
        :func:`~heelraise.symmetry.symmetry` (with one side, it says so), the totals (the gaps
        among them) and the endurance result."""
        sides = dict(self.sides or {})
        side = "both" if len(sides) == 2 else next(iter(sides), self.side)
        summary = self.summary.to_dict()
        summary.update(gaps=int(self.gaps), gap_s=float(self.gap_s))
        return {
            "side": side,
            "sides": {s: sides[s].to_dict() for s in SIDES if s in sides},
            "symmetry": symmetry(sides, involved=self.involved),
            "summary": summary,
            "endurance": self.endurance,
        }


#: Every event the service hands its sinks.
Event = RepEvent | SetEvent | GapEvent | SessionEvent


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
    "REP_FIELDS",
    "REP_DECIMALS",
    "Rep",
    "KeptRep",
    "SetSummary",
    "SessionSummary",
    "RepEvent",
    "SetEvent",
    "GapEvent",
    "SessionEvent",
    "Event",
    "asdict",
]
