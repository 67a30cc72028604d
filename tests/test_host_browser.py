"""The dashboard in real Chromium (Playwright, headless): live counter and tempo bars update
as a simulated shoe publishes through the broker; history, session detail and exports work;
a device id made of HTML shows as text. Saves artifacts/dashboard.png."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from heelraise_host.devicesim import publish_all, session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.server import Dashboard
from heelraise_host.store import Store
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
WAIT_MS = 10_000


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def stack(mqtt_broker, tmp_path):
    """broker -> ingest -> store -> dashboard, plus a paho client playing the shoe."""
    store = Store(tmp_path / "h.db")
    ingest = Ingest(store, broker=f"{mqtt_broker.host}:{mqtt_broker.port}")
    ingest.start()
    dash = Dashboard(store, ingest, bind="127.0.0.1:0").start()
    shoe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="shoe-sim")
    shoe.connect(mqtt_broker.host, mqtt_broker.port)
    shoe.loop_start()
    yield dash, shoe, store
    shoe.disconnect()
    shoe.loop_stop()
    dash.stop()
    ingest.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    dialogs, errors = [], []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.dialogs, pg.errors = dialogs, errors
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _until(msgs, predicate):
    """msgs up to and including the first one that satisfies predicate."""
    for i, m in enumerate(msgs):
        if predicate(m):
            return msgs[: i + 1], msgs[i + 1 :]
    raise AssertionError("no such message")


def _is_rep(index, set_index=1):
    def check(m):
        if not m.topic.endswith("event/rep"):
            return False
        rep = m.json()["rep"]
        return rep["index"] == index and rep["set"] == set_index

    return check


def test_live_counter_and_tempo_bars_follow_the_shoe(stack, page):
    dash, shoe, _ = stack
    msgs = session_messages(
        "shoe-1", "s-1", reps_per_set=[5, 3], live=True, faults_every=3, seed=11
    )
    page.goto(dash.url)
    expect(page.locator("#conn")).to_have_text("live", timeout=WAIT_MS)
    expect(page.locator("#empty")).to_be_visible()

    first, rest = _until(msgs, _is_rep(1))
    publish_all(shoe, first)
    card = page.locator("section.device")
    expect(card).to_have_count(1, timeout=WAIT_MS)
    expect(card.locator(".name")).to_have_text("shoe-1")
    expect(card.locator(".reps")).to_have_text("1", timeout=WAIT_MS)
    expect(card.locator(".bars .rep")).to_have_count(1)
    expect(card.locator(".tempo")).to_have_text("3-0-2-1")

    for k in (2, 3, 4):
        chunk, rest = _until(rest, _is_rep(k))
        publish_all(shoe, chunk)
        expect(card.locator(".reps")).to_have_text(str(k), timeout=WAIT_MS)
        expect(card.locator(".bars .rep")).to_have_count(k)
    # Rep 3 was too fast on the raise: a fault chip and an outlined raise segment.
    rep3 = card.locator('.bars .rep[data-index="3"]')
    expect(rep3.locator(".fault")).to_have_text(["too fast"])
    expect(rep3.locator(".measured .seg.raise")).to_have_class("seg raise off")
    expect(card.locator('.bars .rep[data-index="2"] .fault')).to_have_count(0)
    # Each rep has four measured phases and a target bar; widths follow the seconds.
    assert card.locator('.bars .rep[data-index="1"] .measured .seg').count() == 4
    assert card.locator('.bars .rep[data-index="1"] .target .seg').count() == 4
    w_raise = _width(card.locator('.bars .rep[data-index="1"] .measured .seg.raise'))
    w_lower = _width(card.locator('.bars .rep[data-index="1"] .measured .seg.lower'))
    w_fast = _width(rep3.locator(".measured .seg.raise"))
    assert w_lower > w_raise > w_fast > 0  # 3 s lower, 2 s raise, 0.8 s too-fast raise
    # The pitch trace is drawn from the live messages.
    expect(card.locator(".trace canvas")).to_have_count(1, timeout=WAIT_MS)
    # A rep's bottom pause shows once the next rep has started.
    assert _width(card.locator('.bars .rep[data-index="1"] .measured .seg.bottom')) > 0
    assert _width(card.locator('.bars .rep[data-index="4"] .measured .seg.bottom')) == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # Rest of set 1 and into set 2: the counter restarts, the session total keeps going.
    chunk, rest = _until(rest, _is_rep(2, set_index=2))
    publish_all(shoe, chunk)
    expect(card.locator(".set")).to_have_text("2", timeout=WAIT_MS)
    expect(card.locator(".reps")).to_have_text("2", timeout=WAIT_MS)
    expect(card.locator(".total")).to_have_text("7")
    expect(card.locator(".bars .rep")).to_have_count(2)
    expect(card.locator(".status")).to_have_text("unknown")
    shoe.publish("heelraise/shoe-1/status", b"online", qos=1, retain=True).wait_for_publish(5)
    expect(card.locator(".status")).to_have_text("online", timeout=WAIT_MS)


def _width(locator) -> float:
    return locator.bounding_box()["width"]


def test_a_reloaded_page_shows_what_it_missed(stack, page):
    dash, shoe, _ = stack
    msgs = session_messages("shoe-1", "s-1", reps_per_set=[4], seed=12)
    chunk, rest = _until(msgs, _is_rep(3))
    publish_all(shoe, chunk)
    page.goto(dash.url)
    card = page.locator("section.device")
    expect(card.locator(".reps")).to_have_text("3", timeout=WAIT_MS)
    expect(card.locator(".bars .rep")).to_have_count(3)
    publish_all(shoe, rest)
    expect(card.locator(".reps")).to_have_text("4", timeout=WAIT_MS)
    expect(card.locator(".phase")).to_have_text("session ended", timeout=WAIT_MS)


def test_history_detail_and_exports(stack, page, tmp_path):
    dash, shoe, store = stack
    publish_all(shoe, session_messages("shoe-1", "s-a", reps_per_set=[4, 3], seed=13))
    publish_all(shoe, session_messages("shoe-1", "s-b", reps_per_set=[6], seed=14, endurance=True))
    _wait_sessions(store, 2)
    page.goto(dash.url + "history")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    rows = page.locator("tr.session-row")
    expect(rows).to_have_count(2)
    expect(page.locator("#trends .chart")).to_have_count(4)
    expect(page.locator("#trends canvas")).to_have_count(4)
    row_b = rows.filter(has_text="s-b")
    expect(row_b.locator("td.reps")).to_have_text("6")
    expect(row_b).to_contain_text("6 reps")  # the endurance result

    rows.filter(has_text="s-a").get_by_role("link", name="s-a").click()
    expect(page.locator("#detail-session")).to_have_text("s-a", timeout=WAIT_MS)
    expect(page.locator("#detail-title")).to_contain_text("shoe-1 · ")
    expect(page.locator("#detail-tempo")).to_have_text("3-0-2-1")
    expect(page.locator("#sets table.reps tbody tr")).to_have_count(7)
    expect(page.locator("#sets section.set h3")).to_have_text(
        ["Set 1: 4 reps, ended by pause", "Set 2: 3 reps, ended by pause"]
    )
    expect(page.locator("#chart-heel canvas")).to_have_count(1)

    with page.expect_download() as info:
        page.locator("#export-csv").click()
    download = info.value
    assert download.suggested_filename == "heelraise-shoe-1-s-a.csv"
    path = tmp_path / "s-a.csv"
    download.save_as(path)
    rows_csv = list(csv.DictReader(path.open()))
    stored = store.session_reps("shoe-1", "s-a")
    assert [(int(r["set"]), int(r["rep"])) for r in rows_csv] == [
        (r["set"], r["index"]) for r in stored
    ]
    assert [float(r["heel_rise_mm"]) for r in rows_csv] == [r["heel_rise_mm"] for r in stored]

    with page.expect_download() as info:
        page.locator("#export-json").click()
    path = tmp_path / "s-a.json"
    info.value.save_as(path)
    data = json.loads(path.read_text())
    assert data["device"] == "shoe-1" and data["session"] == "s-a"
    assert [len(s["reps"]) for s in data["sets"]] == [4, 3]


def _wait_sessions(store, n):
    from conftest import wait_until

    wait_until(
        lambda: len([s for s in store.sessions() if s["ended_at"]]) == n, 10, "sessions stored"
    )


def test_html_from_devices_is_shown_as_text(stack, page):
    """The shipped schemas refuse a device id like ``<img ...>`` (the live page lists it
    under refused messages, as text); free-text fields such as the session id and the
    phase get through and must show as text too."""
    dash, shoe, store = stack
    evil = "<img src=x onerror=alert(1)>"
    page.goto(dash.url)
    expect(page.locator("#conn")).to_have_text("live", timeout=WAIT_MS)

    bad = session_messages(evil, "s-1", reps_per_set=[1], seed=16)
    publish_all(shoe, [m for m in bad if m.topic.endswith("event/rep")])
    refused = page.locator("#refused tr.refused-row")
    expect(refused).to_have_count(1, timeout=WAIT_MS)
    expect(refused.locator("td.device")).to_have_text(evil)
    expect(refused).to_contain_text("invalid")
    assert store.counts()["messages"] == 0

    session = "<b>s</b><script>alert(2)</script>"
    msgs = session_messages("shoe-x", session, reps_per_set=[2], seed=15)
    state = json.loads(msgs[0].payload)
    state["state"]["phase"] = "<i>p</i>"
    msgs[0] = type(msgs[0])(msgs[0].topic, json.dumps(state).encode(), 1, True)
    publish_all(shoe, msgs[:1])
    card = page.locator("section.device")
    expect(card.locator(".phase")).to_have_text("<i>p</i>", timeout=WAIT_MS)
    publish_all(shoe, msgs[1:])
    expect(card.locator(".reps")).to_have_text("2", timeout=WAIT_MS)
    expect(card.locator(".session")).to_have_text(session)
    assert page.locator("img, main b, main i, main script").count() == 0

    _wait_sessions(store, 1)
    page.goto(dash.url + "history")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=WAIT_MS)
    page.get_by_role("link", name=session).click()
    expect(page.locator("#detail-session")).to_have_text(session, timeout=WAIT_MS)
    with page.expect_download() as info:
        page.locator("#export-json").click()
    assert json.loads(Path(info.value.path()).read_text())["session"] == session
    assert page.locator("img, main b, main i, main script").count() == 0
    assert page.dialogs == []
