"""Exports by device and date range, the physiotherapist's report (fatigue, weekly trends,
the next session's target) and ``heelraise report`` printing it to PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys

import httpx
import pypdf
import pytest
from heelraise_host.devicesim import session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.report import (
    ProgressionSettings,
    ReportError,
    build_report,
    date_bounds,
    fatigue,
    suggest_next,
)
from heelraise_host.server import Dashboard
from heelraise_host.store import Store

DAY = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)  # a Monday


def fill(store, days=(0, 4, 9), device="shoe-1", reps=(10, 10), **kw):
    ingest = Ingest(store)
    for k, d in enumerate(days):
        for m in session_messages(
            device,
            f"{device}-s{k}",
            reps_per_set=list(reps),
            seed=100 + k + 10 * sum(map(ord, device)),
            start=DAY + dt.timedelta(days=d),
            **kw,
        ):
            ingest.handle(m.topic, m.payload)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "r.db")
    fill(s)
    fill(s, days=(1,), device="shoe-2", endurance=True)
    yield s
    s.close()


@pytest.fixture
def client(store):
    dash = Dashboard(store, None, bind="127.0.0.1:0").start()
    with httpx.Client(base_url=dash.url, timeout=10) as c:
        yield c
    dash.stop()


def test_date_bounds():
    assert date_bounds("2026-11-02", "2026-11-03") == (
        "2026-11-02T00:00:00.000Z",
        "2026-11-04T00:00:00.000Z",
    )
    assert date_bounds("2026-11-02", None, tz_offset_min=60) == ("2026-11-01T23:00:00.000Z", None)
    with pytest.raises(ReportError, match="since must be a date YYYY-MM-DD, not '2.11.2026'"):
        date_bounds("2.11.2026", None)
    with pytest.raises(ReportError, match=r"until \(2026-11-01\) is before since"):
        date_bounds("2026-11-02", "2026-11-01")


def test_export_by_device_and_date_range(client, store):
    r = client.get("/api/export/range?device=shoe-1&since=2026-11-03&until=2026-11-11&format=csv")
    assert r.status_code == 200
    name = r.headers["content-disposition"]
    assert 'filename="heelraise-shoe-1-2026-11-03-2026-11-11.csv"' in name
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["session"] for row in rows} == {"shoe-1-s1", "shoe-1-s2"}  # days 4 and 9
    assert len(rows) == 40 and r.text.count("device,session,set,rep") == 1
    stored = store.session_reps("shoe-1", "shoe-1-s1") + store.session_reps("shoe-1", "shoe-1-s2")
    assert [float(x["heel_rise_mm"]) for x in rows] == [x["heel_rise_mm"] for x in stored]

    r = client.get("/api/export/range?since=2026-11-02&until=2026-11-03&format=json")
    body = r.json()
    assert [(s["device"], s["session"]) for s in body["sessions"]] == [
        ("shoe-1", "shoe-1-s0"),
        ("shoe-2", "shoe-2-s0"),
    ]
    assert body["sessions"][1]["endurance"]["reps"] > 0
    r = client.get("/api/export/range?device=shoe-1&format=json")
    assert len(r.json()["sessions"]) == 3  # no dates: every session of the device
    # Bad requests say what was wrong.
    r = client.get("/api/export/range?since=yesterday")
    assert r.status_code == 400 and "since must be a date YYYY-MM-DD" in r.json()["error"]
    r = client.get("/api/export/range?format=xml")
    assert r.status_code == 400 and "format must be 'csv' or 'json'" in r.json()["error"]
    assert client.get("/api/report?session=x").status_code == 400  # a session needs a device
    # The per-session export is still there.
    r = client.get("/api/export?device=shoe-1&session=shoe-1-s0&format=csv")
    assert r.status_code == 200 and len(list(csv.DictReader(io.StringIO(r.text)))) == 20


def test_report_weeks_are_the_trends_weeks(store):
    """One home for the weekly sums: the report's weeks are the trend page's weeks with a
    session, and a week's faulty share is its reps with a fault over its reps."""
    from heelraise_host import trends

    rep = build_report(store, device="shoe-1", since="2026-11-01")
    now = dt.datetime(2026, 11, 12, 12, 0, tzinfo=dt.UTC)  # the Thursday of the second week
    page = [w for w in trends.weekly(store, "shoe-1", weeks=3, now=now) if w["sessions"]]
    assert rep["weeks"] == page and len(page) == 2
    for week, days in zip(page, ((0, 4), (9,)), strict=True):
        reps = [
            r
            for k, d in enumerate((0, 4, 9))
            if d in days
            for r in store.session_reps("shoe-1", f"shoe-1-s{k}")
        ]
        faulty = sum(1 for r in reps if r["faults"])
        assert 0 < faulty < len(reps) == week["reps"]
        assert week["faulty_pct"] == round(100 * faulty / len(reps), 1)


def test_report_content(store, client):
    rep = client.get("/api/report?device=shoe-1&since=2026-11-01").json()
    assert rep["session_count"] == 3 and rep["rep_count"] == 60
    assert [w["week"] for w in rep["weeks"]] == ["2026-11-02", "2026-11-09"]
    assert [w["sessions"] for w in rep["weeks"]] == [2, 1]
    s = rep["sessions"][0]["sets"][0]
    assert s["reps"] == 10 and s["tempo"] == "3-0-2-1" and s["target_raise_s"] == 2.0
    # devicesim: rep k rises 60 - k mm, so the set loses height (fatigue)
    assert s["height_decline_pct"] == pytest.approx(100 * (59 - 51.5) / 59, abs=1.5)
    assert s["faults"] == {"too_fast": 2} and s["faulty_reps"] == 2
    assert rep["suggestion"]["text"].startswith("2 sets of 10")
    one = build_report(store, device="shoe-2", session="shoe-2-s0")
    assert one["session_count"] == 1 and one["endurance"][0]["reps"] > 0
    assert client.get("/report?device=shoe-1").status_code == 200


def _reps(heights, raise_s=2.0):
    return [{"heel_rise_mm": h, "raise_s": raise_s, "faults": []} for h in heights]


def test_fatigue_within_a_set():
    f = fatigue(_reps([60, 60, 58, 56, 54, 50, 48, 45, 45]))
    assert f["height_decline_pct"] == pytest.approx(100 * (178 / 3 - 46) / (178 / 3), abs=0.1)
    assert f["speed_decline_pct"] == pytest.approx(f["height_decline_pct"], abs=0.1)
    slower = _reps([50] * 6)
    for r in slower[-2:]:
        r["raise_s"] = 2.5
    assert fatigue(slower)["speed_decline_pct"] == pytest.approx(20.0)
    assert fatigue(_reps([60, 50, 40])) == {"height_decline_pct": None, "speed_decline_pct": None}


def _session(sets, reps, *, faulty=0, decline=5.0, tempo="3-0-2-1"):
    return {
        "rep_count": sets * reps,
        "set_count": sets,
        "faulty_reps": faulty,
        "tempo": tempo,
        "sets": [{"height_decline_pct": decline} for _ in range(sets)],
    }


@pytest.mark.parametrize(
    "last,text,why",
    [
        (_session(3, 10), "3 sets of 12 at 3-0-2-1", "more reps"),
        (_session(3, 14), "3 sets of 15 at 3-0-2-1", "more reps"),
        (_session(2, 15), "3 sets of 15 at 3-0-2-1", "one set more"),
        (_session(3, 15), "3 sets of 15 at 3-0-2-2", "longer hold"),
        (_session(3, 15, tempo="3-0-2-3"), "3 sets of 15 at 3-0-2-3, with added weight", "weight"),
        (_session(3, 10, faulty=12), "3 sets of 8 at 3-0-2-1", "fewer reps"),
        (_session(3, 10, faulty=6), "3 sets of 10 at 3-0-2-1", "same target"),
        (_session(3, 10, decline=30.0), "3 sets of 10 at 3-0-2-1", "same target"),
    ],
)
def test_next_session_target(last, text, why):
    s = suggest_next([last], ProgressionSettings())
    assert s["text"] == text and why in s["why"]


def test_no_reps_no_suggestion():
    assert suggest_next([]) is None


def _run_report(args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "heelraise", "report", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_report_prints_to_pdf(store, tmp_path):
    out = tmp_path / "report.pdf"
    done = _run_report(
        ["--device", "shoe-1", "--since", "2026-11-01", "--until", "2026-11-30"]
        + ["--db", str(store.path), "--out", str(out), "--tz-offset-min", "0"]
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stderr
    pdf = pypdf.PdfReader(out)
    assert len(pdf.pages) == 1
    box = pdf.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    text = " ".join(pdf.pages[0].extract_text().split())
    for expected in (
        "Heel-raise report: shoe-1",
        "from 2026-11-01 to 2026-11-30",
        "3 session(s), 60 reps",
        "Suggested next session",
        "2 sets of 10 at 3-0-2-1",
        "Weekly trends",
        "2026-11-09",
        "too fast 2",
        "Endurance tests",
    ):
        assert expected in text, f"{expected!r} not in the PDF text: {text[:600]}"
    assert "Print / PDF" not in text and "History" not in text  # print CSS hides the controls


def test_report_command_errors(store, tmp_path):
    no_browser = {**os.environ, "PATH": str(tmp_path)}
    no_browser.pop("HEELRAISE_CHROMIUM", None)
    args = ["--device", "shoe-1", "--db", str(store.path), "--out", str(tmp_path / "r.pdf")]
    done = _run_report(args, env=no_browser)
    assert done.returncode == 2
    assert "no Chromium found to print the PDF" in done.stderr
    assert "apt install chromium" in done.stderr
    done = _run_report(["--since", "1.11.2026", "--db", str(store.path), "--json"])
    assert done.returncode == 2 and "since must be a date YYYY-MM-DD" in done.stderr
    done = _run_report(["--db", str(tmp_path / "none.db"), "--json"])
    assert done.returncode == 2 and "no such file" in done.stderr
    done = _run_report(["--device", "shoe-2", "--db", str(store.path), "--json"])
    assert done.returncode == 0 and json.loads(done.stdout)["session_count"] == 1


def test_symmetry_with_two_shoes(store):
    rep = build_report(store, since="2026-11-01", until="2026-11-30")
    assert rep["devices"] == ["shoe-1", "shoe-2"] and rep["suggestion"] is None
    sym = rep["symmetry"]
    assert [s["device"] for s in sym["shoes"]] == ["shoe-1", "shoe-2"]
    heel = {}
    for device in ("shoe-1", "shoe-2"):
        reps = [r for s in store.sessions(device) for r in store.session_reps(device, s["session"])]
        heel[device] = sum(r["heel_rise_mm"] for r in reps) / len(reps)
        assert sym["shoes"][0 if device == "shoe-1" else 1]["reps"] == len(reps)
    a, b = heel["shoe-1"], heel["shoe-2"]
    assert sym["heel_difference_pct"] == pytest.approx(100 * abs(a - b) / max(a, b), abs=0.2)
    assert build_report(store, device="shoe-1")["symmetry"] is None
