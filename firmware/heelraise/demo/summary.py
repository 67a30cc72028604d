"""The text the demo prints when the workout has played out.

One job: turn the service's SessionSummary, the simulator's ground truth and
what the dashboard stored into a few readable lines::

    workout done: 30 reps in 3 sets (4 min 33 s of training in 4.1 s, speed max)
      set 1: 10 reps, raise 2.1 s / top 0.0 s / lower 2.7 s, heel 104 mm; faults: bounce 1
      ...
      the simulator made 30 reps in 3 sets; 4 reps were meant to carry a fault
    dashboard: 30 reps in 3 sets stored; this session: http://127.0.0.1:8080/history?...
"""

from __future__ import annotations

import math

from heelraise.service.sinks import symmetry_line
from heelraise.symmetry import side_totals, symmetry


def _duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"


def speed_text(speed: float) -> str:
    return "max" if math.isinf(speed) else f"{speed:g}x"


def summary_lines(
    summary,
    *,
    speed: float,
    wall_s: float | None = None,
    truth: dict | None = None,
    stored: dict | None = None,
    session_url: str | None = None,
    gaps=(),
    finished: bool = True,
    set_sides=None,
) -> list[str]:
    """The summary as lines (no trailing newlines). ``set_sides``: two shoes, the side of
    each of ``summary.sets`` in order."""
    sets = list(summary.sets)
    head = "workout done" if finished else "workout stopped early"
    line = f"{head}: {summary.rep_count} reps in {len(sets)} sets"
    if sets:
        trained_s = sets[-1].end_s - sets[0].start_s
        line += f" ({_duration(trained_s)} from first to last rep"
        if wall_s is not None:
            line += f", played in {_duration(wall_s)} at speed {speed_text(speed)}"
        line += ")"
    lines = [line]
    for i, s in enumerate(sets):
        side = f"{set_sides[i]} " if set_sides else ""
        text = f"  {side}set {s.index}: {s.rep_count} reps"
        if s.reps:
            n = len(s.reps)
            text += (
                f", raise {sum(r.raise_s for r in s.reps) / n:.1f} s"
                f" / top {sum(r.top_hold_s for r in s.reps) / n:.1f} s"
                f" / lower {sum(r.lower_s for r in s.reps) / n:.1f} s"
                f", heel {sum(r.heel_rise_mm for r in s.reps) / n:.0f} mm"
            )
            faults: dict[str, int] = {}
            for r in s.reps:
                for f in r.faults:
                    faults[f] = faults.get(f, 0) + 1
            if faults:
                text += "; faults: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items()))
        text += f" (ended by {s.ended_by})"
        lines.append(text)
    if truth is not None:
        meant = sum(1 for r in truth.get("reps", []) if r.get("injected"))
        lines.append(
            f"  the simulator made {truth.get('rep_count', 0)} reps in "
            f"{len(truth.get('sets', []))} sets; {meant} were meant to carry a fault"
        )
    gaps = list(gaps)
    if gaps:
        lines.append(
            f"  {len(gaps)} gaps in the sensor stream ({gaps[0].reason}, ...): the machine"
            " could not keep up at this speed; try a lower --speed or --speed max"
        )
    if stored is not None:
        text = f"dashboard: {stored['rep_count']} reps in {stored['set_count']} sets stored"
        if session_url:
            text += f"; this session: {session_url}"
        lines.append(text)
    return lines


def pair_lines(
    sides: dict, *, involved: str | None, truths: dict, body_mass_kg: float
) -> list[str]:
    """Two shoes: each side's totals as counted, the LSIs, and the same from the simulator's
    truth (``truths``: side -> the simulated session's truth)."""
    lines = []
    for side, t in sides.items():
        mean = "-" if t.mean_heel_rise_mm is None else f"{t.mean_heel_rise_mm:.0f} mm"
        lines.append(f"  {side:<5} shoe: {t.reps} reps, mean heel {mean}, work {t.work_j:.0f} J")
    lines.append("  " + symmetry_line(symmetry(sides, involved=involved)))
    if truths:
        made = {
            side: side_totals([r["heel_rise_mm"] for r in tr["reps"]], body_mass_kg)
            for side, tr in truths.items()
        }
        counts = ", ".join(f"{made[s].reps} on the {s}" for s in made)
        lines.append(
            f"  the simulator made {counts}; its " + symmetry_line(symmetry(made, involved))
        )
    return lines
