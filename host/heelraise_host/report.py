"""The physiotherapist's report, as data: one session, or one device over a date range.

One job: read the store and work out what a clinician wants on one printed page:
the sessions with their sets, reps, tempo against target, heel height and
faults; endurance test results; weekly trends; with two shoes on one device, each
session's limb symmetry indices (LSIs) and their weekly means; with two devices, how
the two differ; fatigue within each set (heel height and rise speed falling over its
reps); and, for one device, a suggested target for the next session,
progressed from the last ones as the guide says (more reps, then longer holds
at the top, then added weight). The page
(``static/report.html``) draws this JSON; ``heelraise report`` prints that
page to PDF with headless Chromium (:mod:`heelraise_host.pdf`).

>>> import datetime as dt
>>> from heelraise_host import devicesim, messages
>>> from heelraise_host.store import Store
>>> store = Store(":memory:")
>>> for i, day in enumerate((3, 5)):     # two sessions of 2 x 10, some reps with faults
...     start = dt.datetime(2026, 11, day, 8, tzinfo=dt.UTC)
...     for out in devicesim.session_messages("shoe-1", f"s-{i}", reps_per_set=[10, 10],
...                                           start=start, seed=i):
...         msg = messages.parse(out.topic, out.payload)
...         if msg.type in ("rep", "set", "session"):
...             _ = store.add_event(msg, received_at="2026-11-24T03:15:00.200Z")
>>> report = build_report(store, device="shoe-1", since="2026-11-01")
>>> report["session_count"], report["rep_count"]
(2, 40)
>>> report["suggestion"]["text"], report["suggestion"]["why"]
('2 sets of 10 at 3-0-2-1', 'some faults or fatigue: the same target again')
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass

from heelraise_host.trends import weekly_lsi

#: what a date bound must look like
DATE_FORMAT = "YYYY-MM-DD"


class ReportError(ValueError):
    """A bad request for a report or an export (the message says what and where)."""


@dataclass(frozen=True)
class ProgressionSettings:
    """How the next session's target is suggested (the guide: 2 to 3 sets of 10 to 15)."""

    #: most reps a set is progressed to; beyond it holds get longer (the guide's 15)
    max_reps: int = 15
    #: reps added per set when a session went well (small steps keep form)
    reps_step: int = 2
    #: sets the guide asks for at most
    max_sets: int = 3
    #: longest hold at the top, s, before weight is added instead
    max_hold_s: float = 3.0
    #: hold added at the top per progression, s
    hold_step_s: float = 1.0
    #: a session "went well" with at most this share of reps with a fault
    ok_fault_fraction: float = 0.1
    #: ... and heel height falling at most this much over a set, % (fatigue)
    ok_height_decline_pct: float = 15.0
    #: at or above this share of faulty reps, the suggestion steps back
    back_off_fault_fraction: float = 0.3
    #: reps taken off per set when stepping back
    back_off_reps: int = 2
    #: fewest reps per set ever suggested
    min_reps: int = 6
    #: sessions looked at for the suggestion (the most recent)
    lookback_sessions: int = 3


#: Fatigue compares the first and last third of a set's reps, each at least this many.
FATIGUE_MIN_REPS = 2


def date_bounds(
    since: str | None, until: str | None, tz_offset_min: int = 0
) -> tuple[str | None, str | None]:
    """UTC ISO bounds ``[since, until)`` for local calendar days ``since`` .. ``until``
    (both included). ``tz_offset_min`` is minutes ahead of UTC (UTC+1 is 60)."""
    days = {}
    for name, text in (("since", since), ("until", until)):
        if text in (None, ""):
            days[name] = None
            continue
        try:
            days[name] = dt.date.fromisoformat(str(text))
        except ValueError:
            raise ReportError(f"{name} must be a date {DATE_FORMAT}, not {text!r}") from None
    if days["since"] and days["until"] and days["until"] < days["since"]:
        raise ReportError(f"until ({until}) is before since ({since})")
    shift = dt.timedelta(minutes=tz_offset_min)

    def iso(day: dt.date) -> str:
        t = dt.datetime.combine(day, dt.time(), dt.UTC) - shift
        return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    lo = iso(days["since"]) if days["since"] else None
    hi = iso(days["until"] + dt.timedelta(days=1)) if days["until"] else None
    return lo, hi


def session_details(
    store,
    *,
    device: str | None = None,
    session: str | None = None,
    since: str | None = None,
    until: str | None = None,
    tz_offset_min: int = 0,
) -> list[dict]:
    """Whole sessions (as :meth:`Store.session_detail`), oldest first: one session when
    ``session`` is given (then ``device`` is needed), else every session of ``device``
    (or of every device) that started on the days ``since`` .. ``until``."""
    if session is not None:
        if not device:
            raise ReportError("a session needs its device: give device as well")
        detail = store.session_detail(device, session)
        if detail is None:
            raise ReportError(f"no session {session!r} of device {device!r} in the store")
        return [detail]
    lo, hi = date_bounds(since, until, tz_offset_min)
    rows = store.sessions(device or None, lo, hi)
    out = [store.session_detail(r["device"], r["session"]) for r in reversed(rows)]
    return [d for d in out if d is not None]


def _mean(values) -> float | None:
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.fmean(values) if values else None


def _round(v, digits=1):
    return None if v is None else round(v, digits)


def fatigue(reps: list[dict]) -> dict:
    """Decline over a set: mean of the last third of its reps against the first third.

    ``height_decline_pct``: heel height; ``speed_decline_pct``: rise speed (heel height
    over raise time, mm/s). Positive is a decline; None with fewer than
    ``3 * FATIGUE_MIN_REPS`` reps (too few to tell a trend from noise)."""
    out = {"height_decline_pct": None, "speed_decline_pct": None}
    n = len(reps)
    if n < 3 * FATIGUE_MIN_REPS:
        return out
    k = n // 3
    first, last = reps[:k], reps[-k:]

    def speed(r):
        h, t = r.get("heel_rise_mm"), r.get("raise_s")
        return h / t if h is not None and t else None

    for key, value in (
        ("height_decline_pct", lambda r: r.get("heel_rise_mm")),
        ("speed_decline_pct", speed),
    ):
        a = _mean(value(r) for r in first)
        b = _mean(value(r) for r in last)
        if a and b is not None:
            out[key] = round(100.0 * (a - b) / a, 1)
    return out


def _tempo_text(reps) -> str | None:
    texts = Counter((r.get("tempo") or {}).get("text") for r in reps)
    texts.pop(None, None)
    return texts.most_common(1)[0][0] if texts else None


def _set_report(s: dict) -> dict:
    reps = s["reps"]
    tempo = (reps[0].get("tempo") if reps else None) or {}
    faults = Counter(f for r in reps for f in r.get("faults") or [])
    out = {
        "index": s["index"],
        "side": s.get("side"),  # which shoe ("left" / "right"), None for one unnamed sensor
        "reps": len(reps),
        "ended_by": (s.get("summary") or {}).get("ended_by"),
        "tempo": _tempo_text(reps),
        "mean_raise_s": _round(_mean(r.get("raise_s") for r in reps), 2),
        "target_raise_s": tempo.get("raise_s"),
        "mean_top_hold_s": _round(_mean(r.get("top_hold_s") for r in reps), 2),
        "target_top_s": tempo.get("top_s"),
        "mean_lower_s": _round(_mean(r.get("lower_s") for r in reps), 2),
        "target_lower_s": tempo.get("lower_s"),
        "mean_heel_rise_mm": _round(_mean(r.get("heel_rise_mm") for r in reps)),
        "max_heel_rise_mm": _round(
            max(
                (r["heel_rise_mm"] for r in reps if r.get("heel_rise_mm") is not None), default=None
            )
        ),
        "faulty_reps": sum(1 for r in reps if r.get("faults")),
        "faults": dict(sorted(faults.items())),
    }
    out.update(fatigue(reps))
    return out


def _session_report(d: dict) -> dict:
    sets = [_set_report(s) for s in d["sets"] if s["reps"]]
    reps = [r for s in d["sets"] for r in s["reps"]]
    faults = Counter(f for r in reps for f in r.get("faults") or [])
    return {
        "device": d["device"],
        "session": d["session"],
        "started_at": d["started_at"],
        "tempo": _tempo_text(reps),
        "set_count": len(sets),
        "rep_count": len(reps),
        "mean_heel_rise_mm": _round(_mean(r.get("heel_rise_mm") for r in reps)),
        "faulty_reps": sum(1 for r in reps if r.get("faults")),
        "faults": dict(sorted(faults.items())),
        "endurance": d.get("endurance"),
        "sets": sets,
        "side": d.get("side"),
        "sides": d.get("sides") or {},
        "symmetry": d.get("symmetry"),
    }


def weekly(sessions: list[dict], tz_offset_min: int = 0) -> list[dict]:
    """Per calendar week (Monday start, local time) with a session, oldest first."""
    shift = dt.timedelta(minutes=tz_offset_min)
    weeks: dict[dt.date, list[dict]] = {}
    for s in sessions:
        t = dt.datetime.fromisoformat(s["started_at"].replace("Z", "+00:00")) + shift
        monday = t.date() - dt.timedelta(days=t.weekday())
        weeks.setdefault(monday, []).append(s)
    out = []
    for monday, group in sorted(weeks.items()):
        reps = sum(s["rep_count"] for s in group)
        faulty = sum(s["faulty_reps"] for s in group)
        heights = [
            (s["mean_heel_rise_mm"], s["rep_count"]) for s in group if s["mean_heel_rise_mm"]
        ]
        weight = sum(n for _, n in heights)
        best = max(
            (s["endurance"] for s in group if s["endurance"]),
            key=lambda e: e.get("reps") or 0,
            default=None,
        )
        lsis = weekly_lsi(
            [(s["started_at"], s["symmetry"]) for s in group if (s["symmetry"] or {}).get("ratio")]
        )
        out.append(
            {
                "week": monday.isoformat(),
                "sessions": len(group),
                "reps": reps,
                "mean_heel_rise_mm": round(sum(h * n for h, n in heights) / weight, 1)
                if weight
                else None,
                "faulty_pct": round(100.0 * faulty / reps, 1) if reps else None,
                "endurance_reps": None if best is None else best.get("reps"),
                "endurance_decline_pct": None if best is None else best.get("decline_pct"),
                **lsis,
            }
        )
    return out


def limb_symmetry(sessions: list[dict]) -> list[dict]:
    """Each session of two shoes (one device, left and right) with both shoes' totals and
    its LSIs (the session message's ``symmetry``), oldest first; [] when there is none."""
    return [
        {
            "device": s["device"],
            "session": s["session"],
            "started_at": s["started_at"],
            "sides": s["sides"],
            "symmetry": s["symmetry"],
        }
        for s in sessions
        if s["symmetry"] and s["symmetry"].get("ratio")
    ]


def symmetry(details: list[dict]) -> dict | None:
    """With two shoes (two devices in the report): per shoe its reps, mean heel height and
    mean raise and lowering times, and how much the two differ (% of the larger); None
    with fewer than two devices."""
    reps_by: dict[str, list[dict]] = {}
    for d in details:
        reps_by.setdefault(d["device"], []).extend(r for s in d["sets"] for r in s["reps"])
    if len(reps_by) < 2:
        return None
    shoes = []
    for device, reps in sorted(reps_by.items()):
        shoes.append(
            {
                "device": device,
                "reps": len(reps),
                "mean_heel_rise_mm": _round(_mean(r.get("heel_rise_mm") for r in reps)),
                "mean_raise_s": _round(_mean(r.get("raise_s") for r in reps), 2),
                "mean_lower_s": _round(_mean(r.get("lower_s") for r in reps), 2),
            }
        )

    def diff(key):
        values = [s[key] for s in shoes[:2]]
        if None in values or not max(values):
            return None
        return round(100.0 * abs(values[0] - values[1]) / max(values), 1)

    return {
        "shoes": shoes,
        "heel_difference_pct": diff("mean_heel_rise_mm"),
        "raise_difference_pct": diff("mean_raise_s"),
        "lower_difference_pct": diff("mean_lower_s"),
    }


def _with_hold(tempo: str | None, hold_s: float) -> str | None:
    if not tempo:
        return None
    parts = tempo.split("-")
    if len(parts) != 4:
        return tempo
    parts[3] = f"{hold_s:g}"
    return "-".join(parts)


def suggest_next(sessions: list[dict], settings: ProgressionSettings | None = None) -> dict | None:
    """The next session's target from the most recent ones (None without any reps).

    Went well (few faulty reps, little height lost over the sets): progress one
    step, in the guide's order: more reps per set up to ``max_reps``, then a set
    more up to ``max_sets``, then a longer hold at the top up to ``max_hold_s``,
    then added weight. Many faulty reps: fewer reps. Otherwise: the same again."""
    p = settings or ProgressionSettings()
    recent = [s for s in sessions if s["rep_count"]][-p.lookback_sessions :]
    if not recent:
        return None
    last = recent[-1]
    sets = max(1, last["set_count"])
    reps = round(last["rep_count"] / sets)
    tempo = last["tempo"]
    reps_all = sum(s["rep_count"] for s in recent)
    fault_fraction = sum(s["faulty_reps"] for s in recent) / reps_all
    declines = [
        st["height_decline_pct"]
        for s in recent
        for st in s["sets"]
        if st["height_decline_pct"] is not None
    ]
    decline = max(declines) if declines else None
    add_weight = False
    basis = f"last {len(recent)} session(s): {100 * fault_fraction:.0f}% of reps with a fault" + (
        "" if decline is None else f", heel height down up to {decline:.0f}% over a set"
    )
    if fault_fraction >= p.back_off_fault_fraction:
        reps = max(p.min_reps, reps - p.back_off_reps)
        why = "many reps broke form or tempo: fewer reps, same tempo"
    elif fault_fraction <= p.ok_fault_fraction and (
        decline is None or decline <= p.ok_height_decline_pct
    ):
        hold = _hold_of(tempo)
        if reps < p.max_reps:
            reps = min(p.max_reps, reps + p.reps_step)
            why = "good form: more reps per set"
        elif sets < p.max_sets:
            sets += 1
            why = f"{p.max_reps} reps with good form: one set more"
        elif hold is not None and hold + p.hold_step_s <= p.max_hold_s:
            tempo = _with_hold(tempo, hold + p.hold_step_s)
            why = "full sets with good form: a longer hold at the top"
        else:
            add_weight = True
            why = "full sets and long holds with good form: add weight (a backpack or dumbbell)"
    else:
        why = "some faults or fatigue: the same target again"
    text = f"{sets} {'set' if sets == 1 else 'sets'} of {reps}" + (f" at {tempo}" if tempo else "")
    if add_weight:
        text += ", with added weight"
    return {
        "sets": sets,
        "reps": reps,
        "tempo": tempo,
        "add_weight": add_weight,
        "text": text,
        "why": why,
        "basis": basis,
    }


def _hold_of(tempo: str | None) -> float | None:
    if not tempo:
        return None
    try:
        return float(tempo.split("-")[3])
    except (IndexError, ValueError):
        return None  # "X" (explosive) or not a tempo


def build_report(
    store,
    *,
    device: str | None = None,
    session: str | None = None,
    since: str | None = None,
    until: str | None = None,
    tz_offset_min: int = 0,
    settings: ProgressionSettings | None = None,
) -> dict:
    """Everything the report page shows (JSON-ready)."""
    details = session_details(
        store, device=device, session=session, since=since, until=until, tz_offset_min=tz_offset_min
    )
    sessions = [_session_report(d) for d in details]
    endurance = [
        {"started_at": s["started_at"], "session": s["session"], **s["endurance"]}
        for s in sessions
        if s["endurance"]
    ]
    return {
        "device": device,
        "session": session,
        "since": since,
        "until": until,
        "devices": sorted({s["device"] for s in sessions}),
        "session_count": len(sessions),
        "rep_count": sum(s["rep_count"] for s in sessions),
        "sessions": sessions,
        "endurance": endurance,
        "weeks": weekly(sessions, tz_offset_min),
        "symmetry": symmetry(details),
        "limb_symmetry": limb_symmetry(sessions),
        "suggestion": suggest_next(sessions, settings)
        if len(set(s["device"] for s in sessions)) <= 1
        else None,
    }
