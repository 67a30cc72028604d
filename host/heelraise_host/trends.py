"""The dashboard's analytics: a device's training per calendar week, from the store.

One job: read sessions and reps out of a :class:`~heelraise_host.store.Store` and sum
them up by week; nothing is written. The page's trend charts and the report use it.

>>> import datetime as dt
>>> from heelraise_host import messages
>>> from heelraise_host.devicesim import session_messages
>>> from heelraise_host.store import Store
>>> store = Store(":memory:")
>>> for m in session_messages("shoe-1", "s-1", reps_per_set=[3]):
...     if "/event/" in m.topic:
...         _ = store.add_event(messages.parse(m.topic, m.payload), received_at=m.json()["time"])
>>> now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
>>> [(w["week"], w["sessions"], w["reps"]) for w in weekly(store, "shoe-1", weeks=2, now=now)]
[('2026-11-16', 0, 0), ('2026-11-23', 1, 3)]
"""

from __future__ import annotations

import datetime as dt
import math
import statistics

from heelraise.protocol.utctime import iso_utc, parse_utc
from heelraise.symmetry import LSI_DECIMALS, LSI_OF


def weekly(store, device: str | None = None, *, weeks: int = 12, now=None, tz_offset_min: int = 0):
    """Per calendar week (Monday start, in the viewer's time zone), oldest first.

    ``tz_offset_min`` is minutes *ahead* of UTC (UTC+1 is 60). Each week:
    ``sessions``, ``reps``, ``mean_heel_rise_mm``, ``tempo_cv_pct`` (spread of
    rep durations, standard deviation over mean: lower is steadier),
    ``tempo_dev_s`` (mean absolute deviation from the target tempo per
    phase, where a target was set), ``endurance_reps`` (best endurance test)
    and ``endurance_decline_pct`` (its heel-height decline); for two shoes
    ``reps_lsi``, ``heel_rise_lsi``, ``work_lsi`` (the mean of the week's
    sessions' LSIs taken the same way as its latest: ``lsi_ratio``, ``involved``)
    and ``lsi_sessions`` (how many were averaged).
    """
    now = now or dt.datetime.now(dt.UTC)
    shift = dt.timedelta(minutes=tz_offset_min)
    local_today = (now + shift).date()
    first_monday = local_today - dt.timedelta(days=local_today.weekday(), weeks=weeks - 1)
    since_utc = dt.datetime.combine(first_monday, dt.time(), dt.UTC) - shift
    buckets = {
        first_monday + dt.timedelta(weeks=i): {
            "sessions": 0,
            "reps": 0,
            "heel": [],
            "durations": [],
            "devs": [],
            "endurance": [],
            "symmetry": [],
        }
        for i in range(weeks)
    }
    for s in store.sessions(device, since=iso_utc(since_utc)):
        try:
            start = parse_utc(s["started_at"]) + shift
        except ValueError:  # a file written before times were checked at the door
            continue
        monday = start.date() - dt.timedelta(days=start.weekday())
        b = buckets.get(monday)
        if b is None:
            continue
        b["sessions"] += 1
        if s["endurance"]:
            b["endurance"].append(s["endurance"])
        if s["symmetry"] and s["symmetry"].get("ratio"):
            b["symmetry"].append((s["started_at"], s["symmetry"]))
        for r in store.session_reps(s["device"], s["session"]):
            b["reps"] += 1
            if r["heel_rise_mm"] is not None:
                b["heel"].append(r["heel_rise_mm"])
            if r["start_s"] is not None and r["end_s"] is not None:
                b["durations"].append(r["end_s"] - r["start_s"])
            for v in (r["deviation_s"] or {}).values():
                if isinstance(v, (int, float)) and math.isfinite(v):
                    b["devs"].append(abs(v))
    return [_week(monday, b) for monday, b in sorted(buckets.items())]


def _week(monday: dt.date, b: dict) -> dict:
    d = b["durations"]
    cv = None
    if len(d) >= 2 and statistics.fmean(d) > 0:
        cv = round(100 * statistics.stdev(d) / statistics.fmean(d), 1)
    best = max(b["endurance"], key=lambda e: e.get("reps") or 0, default=None)
    return {
        "week": monday.isoformat(),
        "sessions": b["sessions"],
        "reps": b["reps"],
        "mean_heel_rise_mm": round(statistics.fmean(b["heel"]), 1) if b["heel"] else None,
        "tempo_cv_pct": cv,
        "tempo_dev_s": round(statistics.fmean(b["devs"]), 3) if b["devs"] else None,
        "endurance_reps": None if best is None else best.get("reps"),
        "endurance_decline_pct": None if best is None else best.get("decline_pct"),
        **weekly_lsi(b["symmetry"]),
    }


def weekly_lsi(sessions: list[tuple[str, dict]]) -> dict:
    """A week's LSIs: the mean of its sessions' (started_at, symmetry) LSIs, of those taken
    as its latest session's were (the same ratio and involved side: a week where the
    involved side was set midway is not averaged across the change)."""
    out = {name: None for name in LSI_OF.values()}
    out.update(lsi_ratio=None, involved=None, lsi_sessions=0)
    if not sessions:
        return out
    latest = max(sessions, key=lambda x: x[0])[1]
    same = [
        sym
        for _, sym in sessions
        if sym["ratio"] == latest["ratio"] and sym.get("involved") == latest.get("involved")
    ]
    out.update(lsi_ratio=latest["ratio"], involved=latest.get("involved"), lsi_sessions=len(same))
    for name in LSI_OF.values():
        values = [sym[name] for sym in same if isinstance(sym.get(name), (int, float))]
        out[name] = round(statistics.fmean(values), LSI_DECIMALS) if values else None
    return out
