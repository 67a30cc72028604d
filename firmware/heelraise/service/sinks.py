"""Where the service's events go: the sink interface, and the console / JSON-lines sinks.

The service calls, from its single loop thread, for every sink:
``on_event(event)`` for each :class:`~heelraise.events.RepEvent`,
:class:`~heelraise.events.SetEvent`, :class:`~heelraise.events.GapEvent` and
the session end, ``on_state(state)`` when the snapshot changes, ``on_live(t_s,
pitch_deg, phase)`` when live output is on (:mod:`heelraise.service.live` says
which samples), ``on_health(health)`` when a ``health`` snapshot is due
(:mod:`heelraise.service.health`), and ``close()`` once at shutdown (flush). A sink
must never block the loop for long: network sinks queue and return.
"""

from __future__ import annotations

import json
import logging
import sys

from heelraise.events import Event, GapEvent, RepEvent, SessionEvent, SetEvent
from heelraise.symmetry import symmetry

log = logging.getLogger(__name__)


class EventSink:
    """What the service calls on a sink; each call does nothing unless a subclass overrides it.

    A sink subclasses this and overrides only what it acts on (any object with the
    :data:`SINK_METHODS` will do as well: the service checks them when it is built).
    """

    def on_event(self, event) -> None:
        """A rep, set, gap or session event."""

    def on_state(self, state: dict) -> None:
        """The state snapshot changed."""

    def on_live(self, t_s: float, pitch_deg: float, phase: str) -> None:
        """One live sample (only while live output is on)."""

    def on_health(self, health: dict) -> None:
        """A health snapshot is due."""

    def close(self) -> None:
        """Once, at shutdown."""


#: What the service calls on every sink (checked when the service is built).
SINK_METHODS = ("on_event", "on_state", "on_live", "on_health", "close")


def event_to_dict(event: Event) -> dict:
    """One event as a JSON line: ``{"type": kind, "t_s": ..., <its body()>}``."""
    return {"type": event.kind, "t_s": round(float(event.t_s), 3), **event.body()}


# --- console and JSON lines -------------------------------------------------------------------


class ConsoleSink(EventSink):
    """Human lines on a text stream (stdout by default), one per rep, set, gap and session.

    >>> sink = ConsoleSink()
    >>> sink.on_event(rep_event)   # doctest: +SKIP
    set 1 rep 3: raise 2.0 s, top 1.0 s, lower 3.0 s, peak 24.1 deg, heel 52 mm
    """

    def __init__(self, stream=None, *, clear_line: bool | None = None):
        self._stream = stream if stream is not None else sys.stdout
        if clear_line is None:  # on a terminal, wipe the cue status line drawn in place
            try:
                clear_line = bool(self._stream.isatty())
            except (AttributeError, ValueError):
                clear_line = False
        self._prefix = "\r\033[K" if clear_line else ""

    def on_event(self, event) -> None:
        line = format_event(event)
        session = isinstance(event, SessionEvent)
        side = getattr(event, "side", None)  # a GapEvent has none
        if line and side is not None and not session:
            line = f"{side:<5} {line}"  # two shoes: which one
        if line:
            self._write(line)
        if session:
            for extra in session_sides_lines(event):
                self._write(extra)

    def close(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):  # a closed pipe at shutdown loses nothing of ours
            pass

    def _write(self, line: str) -> None:
        try:
            self._stream.write(self._prefix + line + "\n")
            self._stream.flush()
        except (OSError, ValueError) as e:
            log.warning("console output failed: %s", e)


class JsonLinesSink(EventSink):
    """One JSON object per line for every rep, set, gap and session event (see
    :func:`event_to_dict`); each line is flushed at once so a reader (or a
    SIGTERM) never sees half an event.

    >>> import io; buf = io.StringIO(); sink = JsonLinesSink(buf)
    """

    def __init__(self, stream=None, *, states: bool = False):
        self._stream = stream if stream is not None else sys.stdout
        self._states = states

    def on_event(self, event) -> None:
        self._write(event_to_dict(event))

    def on_state(self, state: dict) -> None:
        if self._states:
            self._write({"type": "state", "state": state})

    def close(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def _write(self, obj: dict) -> None:
        try:
            self._stream.write(json.dumps(obj, separators=(",", ":")) + "\n")
            self._stream.flush()
        except (OSError, ValueError) as e:
            log.warning("JSON output failed: %s", e)


def _rep_line(event: RepEvent) -> str:
    r = event.rep
    line = (
        f"set {r.set} rep {r.index}: raise {r.raise_s:.1f} s, top {r.top_hold_s:.1f} s, "
        f"lower {r.lower_s:.1f} s, peak {r.peak_deg:.1f} deg, heel {r.heel_rise_mm:.0f} mm"
    )
    if r.faults:
        line += " [" + ", ".join(r.faults) + "]"
    return line


def _set_line(event: SetEvent) -> str:
    s = event.summary
    line = f"set {s.index} done: {s.rep_count} reps ({s.ended_by})"
    if s.reps:
        n = s.rep_count
        line += (
            f", mean raise {sum(r.raise_s for r in s.reps) / n:.1f} s"
            f" / top {sum(r.top_hold_s for r in s.reps) / n:.1f} s"
            f" / lower {sum(r.lower_s for r in s.reps) / n:.1f} s"
        )
    return line


def _gap_line(event: GapEvent) -> str:
    return f"gap in the sensor stream {event.start_s:.3f}-{event.end_s:.3f} s ({event.reason})"


def _session_line(event: SessionEvent) -> str:
    s = event.summary
    line = f"session: {s.rep_count} reps in {len(s.sets)} sets"
    if event.endurance and "reps" in event.endurance:  # one side's (two: see below)
        e = event.endurance
        line += f"; endurance test {e['reps']} reps, work {e['work_j']} J"
    return line


#: event type -> its console line
_LINES = {
    RepEvent: _rep_line,
    SetEvent: _set_line,
    GapEvent: _gap_line,
    SessionEvent: _session_line,
}


def format_event(event) -> str | None:
    """The console line for an event (None for anything else)."""
    line = _LINES.get(type(event))
    return None if line is None else line(event)


def session_sides_lines(event: SessionEvent) -> list[str]:
    """The console's lines for the shoes of a session: each side's totals and the symmetry
    (or why there is none), and a two-sided endurance test's results and LSIs."""
    lines = []
    sides = event.sides or {}
    for side, t in sides.items():
        mean = "-" if t.mean_heel_rise_mm is None else f"{t.mean_heel_rise_mm:.0f} mm"
        lines.append(f"  {side:<5} {t.reps} reps, mean heel {mean}, work {t.work_j:.0f} J")
    if sides:
        lines.append("  " + symmetry_line(symmetry(sides, involved=event.involved)))
    e = event.endurance or {}
    for side, r in e.get("sides", {}).items():
        lines.append(
            f"  endurance {side:<5} {r['reps']} reps, work {r['work_j']} J ({r['stopped_by']})"
        )
    if "symmetry" in e:
        lines.append("  endurance " + symmetry_line(e["symmetry"]))
    return lines


def symmetry_line(sym: dict) -> str:
    """``LSI reps 80.0 %, heel height 77.5 %, work 62.0 % (involved (right) / ...)``."""
    if sym["reps_lsi"] is None and sym["note"]:
        return f"symmetry: {sym['note']}"

    def pct(x):
        return "-" if x is None else f"{x:.1f} %"

    line = (
        f"LSI reps {pct(sym['reps_lsi'])}, heel height {pct(sym['heel_rise_lsi'])}, "
        f"work {pct(sym['work_lsi'])} ({sym['label']})"
    )
    return line + (f"; {sym['note']}" if sym["note"] else "")
