"""Two shoes in the physiotherapist's report: each set says its shoe, each session of a
pair its totals per shoe and LSIs, the weekly trends their mean LSIs; the PDF prints them
and the page fits a phone (issue 15)."""

from __future__ import annotations

import datetime as dt

import pypdf
import pytest
from heelraise_host.devicesim import pair_messages, session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.report import build_report
from heelraise_host.server import Dashboard
from heelraise_host.store import Store
from playwright.sync_api import expect
from test_host_browser import WAIT_MS
from test_views_browser import assert_fits, browser, new_page  # noqa: F401 (fixtures)
from test_views_report import _run_report

MONDAY = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "pair.db")
    ingest = Ingest(s)
    msgs = []
    for k, days in enumerate((0, 2, 8)):
        start = MONDAY + dt.timedelta(days=days)
        msgs += pair_messages("pair-1", f"p{k}", reps_per_set=[10, 10], start=start, seed=k)
    msgs += session_messages("shoe-1", "s0", reps_per_set=[6], start=MONDAY, seed=9)
    for m in msgs:
        ingest.handle(m.topic, m.payload)
    assert ingest.rejected == {}
    s.sent = {m.json()["session"]: m.json() for m in msgs if m.topic.endswith("event/session")}
    yield s
    s.close()


def test_report_of_a_pair_has_each_sessions_lsis_and_weekly_means(store):
    rep = build_report(store, device="pair-1", since="2026-11-01", until="2026-11-30")
    assert rep["session_count"] == 3 and rep["rep_count"] == 3 * (20 + 14)
    limb = rep["limb_symmetry"]
    assert [x["session"] for x in limb] == ["p0", "p1", "p2"]
    for x in limb:
        sent = store.sent[x["session"]]
        assert x["symmetry"] == sent["symmetry"] and x["sides"] == sent["sides"]
    first_week, second_week = rep["weeks"]
    a, b = store.sent["p0"]["symmetry"], store.sent["p1"]["symmetry"]
    assert first_week["lsi_sessions"] == 2
    assert first_week["work_lsi"] == pytest.approx((a["work_lsi"] + b["work_lsi"]) / 2, abs=0.05)
    assert second_week["reps_lsi"] == store.sent["p2"]["symmetry"]["reps_lsi"]
    sides = [st["side"] for st in rep["sessions"][0]["sets"]]
    assert sides == ["left", "left", "right", "right"]
    one = build_report(store, device="shoe-1")
    assert one["limb_symmetry"] == [] and one["weeks"][0]["lsi_sessions"] == 0
    assert {st["side"] for s in one["sessions"] for st in s["sets"]} == {None}


def test_the_pdf_prints_the_lsis(store, tmp_path):
    out = tmp_path / "pair.pdf"
    done = _run_report(
        ["--device", "pair-1", "--since", "2026-11-01", "--until", "2026-11-30"]
        + ["--db", str(store.path), "--out", str(out), "--tz-offset-min", "0"]
    )
    assert done.returncode == 0, done.stderr
    pdf = pypdf.PdfReader(out)
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    sym = store.sent["p2"]["symmetry"]
    sides = store.sent["p2"]["sides"]
    for expected in (
        "Limb symmetry (left and right shoe)",
        "LSI = involved (right) / uninvolved (left) × 100",
        f"{sides['left']['reps']} / {sides['right']['reps']}",
        f"{sym['reps_lsi']:.0f} %",
        f"{sym['work_lsi']:.0f} %",
        "Left",
        "Right",
    ):
        assert expected in text, f"{expected!r} not in the PDF text: {text[:800]}"


def test_the_report_page_of_a_pair_fits_a_phone(store, new_page):  # noqa: F811
    dash = Dashboard(store, None, bind="127.0.0.1:0").start()
    try:
        page = new_page(390, 844)
        page.goto(dash.url + "report?device=pair-1&since=2026-11-01")
        expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
        expect(page.locator("#limb-symmetry")).to_be_visible()
        expect(page.locator("#lsis tbody tr")).to_have_count(3)
        expect(page.locator("#lsis .lsi-value.low")).to_have_count(9)  # every LSI under 90 %
        assert_fits(page, "report 390x844")
    finally:
        dash.stop()
