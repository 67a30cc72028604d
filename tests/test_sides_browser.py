"""Two shoes on the dashboard in real Chromium, on a phone (390 x 844) and a laptop: a card
per shoe on the live page (side by side when they fit), both shoes' sets side by side in a
session with its LSIs, the LSI column and the weekly LSI trend on the history page; no page
scrolls sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from heelraise_host.devicesim import pair_messages, session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.server import Dashboard
from heelraise_host.store import Store
from playwright.sync_api import expect
from test_host_browser import WAIT_MS
from test_views_browser import SIZES, assert_fits, browser, new_page  # noqa: F401 (fixtures)

DAY = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def served(tmp_path):
    store = Store(tmp_path / "pair.db")
    ingest = Ingest(store)
    dash = Dashboard(store, ingest, bind="127.0.0.1:0").start()
    msgs = pair_messages("pair-1", "p-a", reps_per_set=[8, 8], start=DAY - dt.timedelta(days=7))
    msgs += pair_messages("pair-1", "p-b", reps_per_set=[10, 10], start=DAY, seed=3)
    msgs += session_messages("shoe-1", "s-a", reps_per_set=[5], seed=4, start=DAY)
    for m in msgs:
        assert ingest.handle(m.topic, m.payload) in ("stored", "state", "live", "status")
    yield dash, msgs
    dash.stop()
    store.close()


def _box(locator):
    return locator.bounding_box()


@pytest.mark.parametrize("width,height", SIZES)
def test_both_shoes_side_by_side_with_their_lsis(served, new_page, width, height):  # noqa: F811
    dash, msgs = served
    sym = next(m.json() for m in reversed(msgs) if m.json()["session"] == "p-b")["symmetry"]
    page = new_page(width, height)
    what = f"{width}x{height}"
    wide = width >= 1000

    page.goto(dash.url)
    left = page.locator('section.device[data-side="left"]')
    right = page.locator('section.device[data-side="right"]')
    expect(left).to_have_count(1, timeout=WAIT_MS)
    expect(right).to_have_count(1)
    expect(page.locator("section.device")).to_have_count(3)  # the pair's two, shoe-1's one
    expect(left.locator(".side-badge")).to_have_text("Left shoe")
    # each shoe's own last set: 10 reps on the left, 10 - 3 on the weaker right
    expect(left.locator(".reps")).to_have_text("10")
    expect(right.locator(".reps")).to_have_text("7")
    expect(left.locator(".total")).to_have_text("20")
    expect(right.locator(".total")).to_have_text("14")
    expect(right.locator('.lsi-row[data-lsi="reps_lsi"] .lsi-value')).to_have_text(
        f"{sym['reps_lsi']:.1f}"
    )
    expect(right.locator(".lsi-value.low")).to_have_count(3)  # all three under 90 %
    a, b = _box(left), _box(right)
    if wide:
        assert abs(a["y"] - b["y"]) < 1 and a["x"] < b["x"], (a, b)  # side by side
    else:
        assert b["y"] >= a["y"] + a["height"] - 1, (a, b)  # one above the other
    assert_fits(page, f"live {what}")

    page.goto(dash.url + "history?device=pair-1")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    lsi_chart = page.locator("#trends .chart").nth(4)  # after the (empty) endurance chart
    expect(lsi_chart.locator("h3")).to_have_text("Limb symmetry (LSI %)", timeout=WAIT_MS)
    expect(lsi_chart.locator("canvas")).to_have_count(1)
    expect(lsi_chart.locator(".u-legend")).to_contain_text("work")
    expect(lsi_chart.locator(".note")).to_contain_text("involved (right) / uninvolved (left)")
    row = page.locator("tr.session-row", has_text="p-b")
    expect(row.locator("td.side")).to_have_text("Both")
    expect(row.locator("td.lsi")).to_contain_text(f"reps {sym['reps_lsi']:.1f}")
    assert_fits(page, f"history {what}")

    page.goto(dash.url + "history?device=pair-1&session=p-b")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    columns = page.locator("#sets .sides .side-column")
    expect(columns).to_have_count(2)
    expect(columns.nth(0).locator(".side-title")).to_have_text("Left shoe")
    expect(columns.nth(0).locator(".bars .rep")).to_have_count(20)
    expect(columns.nth(1).locator(".bars .rep")).to_have_count(14)
    rows = page.locator("#symmetry .lsi-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(2).locator(".lsi-value")).to_have_text(f"{sym['work_lsi']:.1f}")
    expect(page.locator("#symmetry")).to_contain_text("involved (right) / uninvolved (left)")
    expect(page.locator("#chart-heel .u-legend")).to_contain_text("right mm")
    a, b = _box(columns.nth(0)), _box(columns.nth(1))
    if wide:
        assert abs(a["y"] - b["y"]) < 1 and a["x"] < b["x"], (a, b)
    else:
        assert b["y"] >= a["y"] + a["height"] - 1, (a, b)
    assert_fits(page, f"session {what}")


def test_a_single_shoe_looks_as_before(served, new_page):  # noqa: F811
    dash, _ = served
    page = new_page(390, 844)
    page.goto(dash.url + "history?device=shoe-1&session=s-a")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    expect(page.locator("#sets .side-column")).to_have_count(1)
    expect(page.locator("#sets .side-title")).to_have_count(0)
    expect(page.locator("#symmetry")).to_be_empty()
    page.goto(dash.url)
    card = page.locator("section.device", has_text="shoe-1")
    expect(card.locator(".side-badge")).to_be_hidden(timeout=WAIT_MS)


def test_a_pair_arriving_live_gets_a_card_per_shoe_and_its_lsis(tmp_path, new_page):  # noqa: F811
    store = Store(tmp_path / "live.db")
    ingest = Ingest(store)
    dash = Dashboard(store, ingest, bind="127.0.0.1:0").start()
    try:
        page = new_page(390, 844)
        page.goto(dash.url)
        expect(page.locator("#conn")).to_have_text("live", timeout=WAIT_MS)
        ingest.handle("heelraise/pair-9/status", b"online")  # before any shoe: a placeholder
        expect(page.locator("section.device")).to_have_count(1, timeout=WAIT_MS)
        msgs = pair_messages("pair-9", "p-live", reps_per_set=[6])
        for m in msgs[:-1]:
            assert ingest.handle(m.topic, m.payload) in ("stored", "state")
        left = page.locator('section.device[data-side="left"]')
        right = page.locator('section.device[data-side="right"]')
        expect(left.locator(".reps")).to_have_text("6", timeout=WAIT_MS)
        expect(right.locator(".reps")).to_have_text("3", timeout=WAIT_MS)
        expect(page.locator("section.device")).to_have_count(2)  # the placeholder gave way
        expect(left.locator(".status")).to_have_text("online")
        expect(right.locator(".symmetry-slot")).to_be_empty()
        assert ingest.handle(msgs[-1].topic, msgs[-1].payload) == "stored"
        sym = msgs[-1].json()["symmetry"]
        for card in (left, right):
            expect(card.locator(".phase")).to_have_text("session ended", timeout=WAIT_MS)
            expect(card.locator('.lsi-row[data-lsi="work_lsi"] .lsi-value')).to_have_text(
                f"{sym['work_lsi']:.1f}"
            )
        assert_fits(page, "live pair 390x844")
    finally:
        dash.stop()
        store.close()
