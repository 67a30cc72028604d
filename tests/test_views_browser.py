"""Every page on a phone (390 x 844) and a laptop (1280 x 800) in real Chromium: no
sideways scroll, chart titles and fault names whole, equal target bars for every rep
(faulty or not), only the judged phases outlined, human phase names, the report page and
its print button, "no tests yet" for an empty endurance chart."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from heelraise_host.devicesim import session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.server import Dashboard
from heelraise_host.store import Store
from playwright.sync_api import expect, sync_playwright
from test_host_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS

SIZES = [(390, 844), (1280, 800)]
DAY = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def fill(store, *, endurance=True, ingest=None):
    """Two sessions of shoe-1 (faults every third rep, live pitch in the second; a long
    device id too) into ``store``."""
    ingest = ingest or Ingest(store)
    msgs = session_messages(
        "shoe-1", "s-a", reps_per_set=[6, 5], faults_every=3, seed=21, start=DAY
    ) + session_messages(
        "shoe-1",
        "s-b",
        reps_per_set=[8],
        seed=22,
        live=True,
        endurance=endurance,
        start=DAY + dt.timedelta(days=2),
    )
    msgs += session_messages(
        "a-very-long-shoe-identifier-of-the-left-foot.v2",
        "s-c",
        reps_per_set=[4],
        faults_every=2,
        seed=23,
        start=DAY + dt.timedelta(days=2),
    )
    for m in msgs:
        assert ingest.handle(m.topic, m.payload) in ("stored", "state", "live", "status")


@pytest.fixture
def served(tmp_path):
    store = Store(tmp_path / "v.db")
    ingest = Ingest(store)  # fed by hand below (no broker); the live hub listens to it
    dash = Dashboard(store, ingest, bind="127.0.0.1:0").start()
    fill(store, ingest=ingest)
    yield dash, store
    dash.stop()
    store.close()


@pytest.fixture
def new_page(browser):
    contexts, errors = [], []

    def make(width, height):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        return pg

    yield make
    for ctx in contexts:
        ctx.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def sideways(page) -> int:
    """Pixels the page scrolls sideways (0 when it fits the viewport)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )


def cut_titles(page) -> list[str]:
    """Chart titles whose text does not fit their box."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.chart h3')]"
        ".filter(h => h.scrollWidth > h.clientWidth + 1).map(h => h.textContent)"
    )


def broken_faults(page) -> list[str]:
    """Fault names drawn on more than one line (broken mid-word)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.fault, td.faults-cell span')]"
        ".filter(e => e.getClientRects().length > 1 ||"
        " e.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(e).lineHeight"
        " || getComputedStyle(e).fontSize)).map(e => e.textContent)"
    )


def target_bar_widths(page) -> list[list[float]]:
    """Per list of tempo bars (one per card or set; same target tempo), each rep's target
    bar length in pixels."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.bars')].map(list =>"
        " [...list.querySelectorAll('.rep .bar.target')].map(b => [...b.children]"
        ".reduce((w, s) => w + s.getBoundingClientRect().width, 0)))"
    )


def assert_equal_bars(lists, n_reps, what):
    assert sum(len(w) for w in lists) == n_reps, what
    for widths in lists:
        assert min(widths) > 0, what
        assert max(widths) - min(widths) < 1.0, f"{what}: target bars differ: {widths}"


def assert_fits(page, what):
    assert sideways(page) <= 0, f"{what}: scrolls sideways by {sideways(page)} px"
    assert cut_titles(page) == [], f"{what}: chart titles cut"
    assert broken_faults(page) == [], f"{what}: fault names broken"


@pytest.mark.parametrize("width,height", SIZES)
def test_every_page_fits_and_bars_are_equal(served, new_page, width, height):
    dash, store = served
    page = new_page(width, height)
    what = f"{width}x{height}"

    page.goto(dash.url)
    cards = page.locator("section.device")
    expect(cards).to_have_count(2, timeout=WAIT_MS)
    card = cards.filter(has_text="shoe-1")
    expect(card.locator(".bars .rep")).to_have_count(8, timeout=WAIT_MS)
    expect(card.locator(".trace canvas")).to_have_count(1)  # the pitch trace, from live
    assert card.locator(".trace .uplot").bounding_box()["height"] >= 200  # tall enough to read
    assert_fits(page, f"live {what}")
    assert card.locator(".bars .rep.has-fault").count() >= 2
    assert_equal_bars(target_bar_widths(page), 8 + 4, f"live {what}")

    page.goto(dash.url + "history")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    expect(page.locator("#trends canvas")).to_have_count(4)
    assert_fits(page, f"history {what}")

    page.goto(dash.url + "history?device=shoe-1&session=s-a")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    expect(page.locator("#detail-tempo")).to_have_text("3-0-2-1")
    expect(page.locator("#sets .bars .rep")).to_have_count(11)
    legend = page.locator("#chart-phases .u-legend")
    expect(legend).to_contain_text("target rise")
    expect(legend).to_contain_text("target lower")
    # a dashed line before rep 7, where set 2 starts (sets of 6 and 5)
    expect(page.locator("#chart-phases .uplot")).to_have_attribute("data-set-starts", "7")
    assert_fits(page, f"session {what}")
    faulty = page.locator("#sets .bars .rep.has-fault")
    assert faulty.count() >= 3  # the equal bars include the reps with fault chips
    assert_equal_bars(target_bar_widths(page), 11, f"session {what}")
    # Outlines only on the phases the chain judges (raise, lowering).
    assert page.locator("#sets .seg.top.off, #sets .seg.bottom.off").count() == 0
    assert page.locator("#sets .seg.raise.off").count() >= 3

    page.goto(dash.url + "report?device=shoe-1&since=2026-11-01")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    expect(page.locator("#sets tbody tr")).to_have_count(3)
    assert_fits(page, f"report {what}")


def test_phase_names_offline_and_empty_endurance(tmp_path, new_page):
    store = Store(tmp_path / "e.db")
    fill(store, endurance=False)
    ingest = Ingest(store)
    msgs = session_messages("shoe-9", "s-live", reps_per_set=[1], seed=30, start=DAY)
    state = next(m for m in msgs if m.topic.endswith("/state"))
    body = state.json()
    body["state"]["phase"] = "searching"
    ingest.handle(state.topic, json.dumps(body).encode())
    ingest.handle("heelraise/shoe-9/status", b"online")
    dash = Dashboard(store, None, bind="127.0.0.1:0").start()
    try:
        page = new_page(390, 844)
        page.goto(dash.url)
        card = page.locator("section.device").filter(has_text="shoe-9")
        expect(card.locator(".phase")).to_have_text("waiting for a rep", timeout=WAIT_MS)
        ingest.handle("heelraise/shoe-9/status", b"offline")
        page.reload()
        expect(card.locator(".status")).to_have_text("offline", timeout=WAIT_MS)
        expect(card.locator(".phase")).to_have_text("offline")

        page.goto(dash.url + "history")
        expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
        endurance = page.locator("#trends .chart").filter(has_text="Endurance test")
        expect(endurance.locator(".empty-chart")).to_have_text("No tests yet")
        expect(endurance.locator("canvas")).to_have_count(0)
    finally:
        dash.stop()
        store.close()


def test_range_export_and_report_from_the_history_toolbar(served, new_page, tmp_path):
    dash, store = served
    page = new_page(1280, 800)
    page.goto(dash.url + "history?device=shoe-1")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    page.locator("#since").fill("2026-11-25")
    page.locator("#until").fill("2026-11-30")
    href = page.locator("#range-csv").get_attribute("href")
    assert "device=shoe-1" in href and "since=2026-11-25" in href and "until=2026-11-30" in href
    body = page.request.get(dash.url.rstrip("/") + href).text()
    sessions = {line.split(",")[1] for line in body.strip().splitlines()[1:]}
    assert sessions == {"s-b"}  # s-a was on the 24th
    page.locator("#range-report").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    expect(page.locator("#title")).to_have_text("Heel-raise report: shoe-1")
    expect(page.locator("#scope")).to_contain_text("from 2026-11-25 to 2026-11-30")
    expect(page.locator("#print")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("#print")).to_be_hidden()  # the print CSS leaves the controls out
    expect(page.locator("body > header nav")).to_be_hidden()
