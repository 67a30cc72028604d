"""The dashboard takes the device's ``health`` message: kept with the device, shown live."""

from __future__ import annotations

import json
import sqlite3

import httpx
from heelraise.protocol import payloads
from heelraise_host.ingest import Ingest
from heelraise_host.server import Dashboard
from heelraise_host.store import Store

TOPIC = "heelraise/shoe-1/health"


def health_message(healthy, gaps, wall_s, reason=None):
    env = payloads.Envelope("shoe-1", "s-1", wall_clock=lambda: wall_s)
    last = None if not gaps else {"kind": "stuck", "start_s": 5.0, "end_s": 14.2}
    body = {
        "healthy": healthy,
        "reason": reason,
        "gaps": gaps,
        "gap_s": 9.2 * gaps,
        "last_gap": last,
    }
    return payloads.encode(payloads.health_payload(env, body, 20.0))


def test_health_is_stored_with_the_device_and_shown_by_api_live(tmp_path):
    store = Store(tmp_path / "h.db")
    ingest = Ingest(store)
    assert ("heelraise/+/health", 0) in ingest.topics
    sick = health_message(False, 1, 1795000010.0, reason="sensor stuck: the same sample repeated")
    assert ingest.handle(TOPIC, sick) == "health"
    # an older one arriving late (retained copy after a reconnect) does not win
    assert ingest.handle(TOPIC, health_message(True, 0, 1795000000.0)) == "health"
    (dev,) = store.devices()
    assert dev["health"]["healthy"] is False and dev["health"]["gaps"] == 1
    assert dev["health"]["last_gap"]["kind"] == "stuck"
    bad = json.loads(sick)
    bad["health"]["gaps"] = -3
    assert ingest.handle(TOPIC, json.dumps(bad).encode()) == "rejected"
    assert store.devices()[0]["health"]["gaps"] == 1  # the refused one changed nothing
    d = Dashboard(store, ingest, bind="127.0.0.1:0").start()
    try:
        with httpx.Client(base_url=d.url, timeout=5) as c:
            (live,) = c.get("/api/live").json()["devices"]
            assert live["health"]["healthy"] is False
            assert live["health"]["reason"] == "sensor stuck: the same sample repeated"
            page = c.get("/").text
            assert 'class="trouble" hidden>sensor trouble<' in page
            assert "onHealth" in c.get("/static/live.js").text
    finally:
        d.stop()
    assert ingest.handle(TOPIC, health_message(True, 1, 1795000020.0)) == "health"
    assert store.devices()[0]["health"]["healthy"] is True


def test_a_dashboard_file_from_before_health_gains_the_columns(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE devices (device TEXT PRIMARY KEY, status TEXT, status_at TEXT,"
        " state TEXT, state_at TEXT, last_seen TEXT)"
    )
    conn.execute("INSERT INTO devices (device, status, status_at) VALUES ('shoe-1', 'online', 'x')")
    conn.commit()
    conn.close()
    store = Store(path)
    (dev,) = store.devices()
    assert dev["status"] == "online" and dev["health"] is None
    Ingest(store).handle(
        TOPIC, health_message(False, 2, 1795000000.0, reason="sensor reads keep failing")
    )
    assert store.devices()[0]["health"]["gaps"] == 2
