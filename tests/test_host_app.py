"""The dashboard's HTTP side: API answers, exports, the SSE stream, token and exposure checks."""

from __future__ import annotations

import csv
import io
import json
import logging

import httpx
import pytest
from heelraise.exceptions import SettingsError
from heelraise_host.devicesim import session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.server import Dashboard, exposure_warning
from heelraise_host.store import Store


@pytest.fixture
def filled(tmp_path):
    """A store with two sessions, fed through Ingest.handle (no broker needed here)."""
    store = Store(tmp_path / "h.db")
    ingest = Ingest(store)
    for session, seed in (("s-1", 1), ("s-2", 2)):
        for m in session_messages("shoe-1", session, reps_per_set=[3, 2], seed=seed):
            assert ingest.handle(m.topic, m.payload) != "rejected"
    return store, ingest


@pytest.fixture
def dash(filled):
    store, ingest = filled
    d = Dashboard(store, ingest, bind="127.0.0.1:0").start()
    yield d
    d.stop()


def test_pages_and_vendor_files_are_served_locally(dash):
    with httpx.Client(base_url=dash.url, timeout=5) as c:
        for path in ("/", "/history", "/static/live.js", "/static/vendor/uPlot.iife.min.js"):
            r = c.get(path)
            assert r.status_code == 200, path
        page = c.get("/").text
        assert "http://" not in page and "https://" not in page  # no CDN, nothing remote
        csp = c.get("/").headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'self'" in csp


def test_api_lists_sessions_and_details(dash):
    with httpx.Client(base_url=dash.url, timeout=5) as c:
        sessions = c.get("/api/sessions", params={"device": "shoe-1"}).json()
        assert sorted(s["session"] for s in sessions) == ["s-1", "s-2"]
        detail = c.get("/api/session", params={"device": "shoe-1", "session": "s-2"}).json()
        assert [len(s["reps"]) for s in detail["sets"]] == [3, 2]
        live = c.get("/api/live").json()
        assert live["cursor"] == 2 * (5 + 2 + 1)
        (dev,) = live["devices"]
        assert dev["current"]["session"] in ("s-1", "s-2") and dev["state"]["calibrated"]
        assert c.get("/api/session", params={"device": "shoe-1", "session": "x"}).status_code == 404
        bad = c.get("/api/trends", params={"weeks": "lots"})
        assert bad.status_code == 400 and "weeks" in bad.json()["error"]
        assert c.get("/api/export", params={"device": "shoe-1"}).status_code == 400
        health = c.get("/api/health").json()
        assert health["stored"]["reps"] == 10 and health["ingest"]["rejected"] == {}


def test_exports_are_downloads_with_every_rep(dash, filled):
    store, _ = filled
    key = {"device": "shoe-1", "session": "s-1"}
    with httpx.Client(base_url=dash.url, timeout=5) as c:
        r = c.get("/api/export", params={**key, "format": "csv"})
        assert r.headers["content-disposition"] == (
            'attachment; filename="heelraise-shoe-1-s-1.csv"'
        )
        rows = list(csv.DictReader(io.StringIO(r.text)))
        stored = store.session_reps("shoe-1", "s-1")
        assert [(int(x["set"]), int(x["rep"])) for x in rows] == [
            (r["set"], r["index"]) for r in stored
        ]
        assert [float(x["lower_s"]) for x in rows] == [r["lower_s"] for r in stored]
        j = c.get("/api/export", params={**key, "format": "json"})
        assert j.headers["content-type"].startswith("application/json")
        body = j.json()
        assert body["session"] == "s-1" and sum(len(s["reps"]) for s in body["sets"]) == 5
        assert c.get("/api/export", params={**key, "format": "xml"}).status_code == 400


def _read_events(response, n):
    """The next n SSE events of a streaming response as (id, event, data) tuples."""
    lines = getattr(response, "_sse_lines", None)
    if lines is None:
        lines = response._sse_lines = response.iter_lines()
    events, current = [], {}
    for line in lines:
        if line == "":
            if "event" in current:
                events.append((current.get("id"), current["event"], json.loads(current["data"])))
                if len(events) == n:
                    return events
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = value
    raise AssertionError(f"stream ended after {len(events)} events")


def test_the_stream_replays_after_a_cursor_and_then_goes_live(dash, filled):
    store, ingest = filled
    with httpx.Client(base_url=dash.url, timeout=10) as c:
        with c.stream("GET", "/api/stream", params={"after": 14}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            replay = _read_events(r, 2)
            assert [(i, e) for i, e, _ in replay] == [("15", "set"), ("16", "session")]
            # Now a new session arrives through the ingest: rep first, pushed live.
            msgs = session_messages("shoe-2", "s-3", reps_per_set=[1], seed=9)
            for m in msgs:
                ingest.handle(m.topic, m.payload)
            live = _read_events(r, 4)
        kinds = [e for _, e, _ in live]
        assert kinds[0] == "state" and "rep" in kinds
        rep = next(d for _, e, d in live if e == "rep")
        assert rep["device"] == "shoe-2" and rep["rep"]["index"] == 1
        # Reconnecting with Last-Event-ID resumes exactly after it.
        with c.stream("GET", "/api/stream", headers={"last-event-id": "16"}) as r:
            (first,) = _read_events(r, 1)
        assert first[0] == "17" and first[1] == "rep"


def test_a_token_is_required_everywhere_when_set(filled):
    store, ingest = filled
    d = Dashboard(store, ingest, bind="127.0.0.1:0", token="s3cret").start()
    try:
        with httpx.Client(base_url=d.url, timeout=5) as c:
            for path in ("/", "/api/sessions", "/api/stream", "/static/live.js"):
                assert c.get(path).status_code == 401, path
            assert c.get("/api/sessions", params={"token": "wrong"}).status_code == 401
            ok = c.get("/api/sessions", headers={"authorization": "Bearer s3cret"})
            assert ok.status_code == 200
            # ?token= once: a cookie is set and the token leaves the URL.
            r = c.get("/history", params={"token": "s3cret", "device": "shoe-1"})
            assert r.status_code == 303 and r.headers["location"] == "/history?device=shoe-1"
            assert c.cookies.get("heelraise_token") == "s3cret"
            assert c.get("/api/sessions").status_code == 200
            with c.stream("GET", "/api/stream", params={"after": 15}) as s:
                assert s.status_code == 200
                assert _read_events(s, 1)[0][1] == "session"
    finally:
        d.stop()


def test_exposed_without_a_token_warns(filled, caplog):
    store, ingest = filled
    assert exposure_warning("127.0.0.1", 8080, None) is None
    assert exposure_warning("::1", 8080, None) is None
    assert exposure_warning("0.0.0.0", 8080, "t") is None
    assert "without a token" in exposure_warning("0.0.0.0", 8080, None)
    assert "without a token" in exposure_warning("dash.example", 8080, None)
    caplog.set_level(logging.WARNING, logger="heelraise_host.server")
    d = Dashboard(store, ingest, bind="0.0.0.0:0").start()
    try:
        assert any("without a token" in r.getMessage() for r in caplog.records)
        assert httpx.get(d.url + "api/devices", timeout=5).status_code == 200
    finally:
        d.stop()


def test_bad_bind_and_token_are_named():
    store = Store(":memory:")
    with pytest.raises(SettingsError, match="bind address"):
        Dashboard(store, bind="127.0.0.1:http")
    with pytest.raises(SettingsError, match="token"):
        Dashboard(store, token="  ")
    d = Dashboard(store, bind="127.0.0.1:0").start()
    try:
        with pytest.raises(SettingsError, match=f"cannot listen on 127.0.0.1:{d.port}"):
            Dashboard(store, bind=f"127.0.0.1:{d.port}").start()
    finally:
        d.stop()


HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)


def _guarded(response):
    missing = [h for h in HEADERS if h not in response.headers]
    assert not missing, f"{response.status_code} {response.url} lacks {missing}"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    return response


def test_every_answer_carries_the_security_headers(filled):
    store, ingest = filled
    d = Dashboard(store, ingest, bind="127.0.0.1:0", token="s3cret").start()
    try:
        with httpx.Client(base_url=d.url, timeout=5) as c:
            assert _guarded(c.get("/api/sessions")).status_code == 401
            assert _guarded(c.get("/", params={"token": "s3cret"})).status_code == 303
            assert _guarded(c.get("/api/devices")).status_code == 200
            assert _guarded(c.get("/no/such/page")).status_code == 404
            assert _guarded(c.get("/api/trends", params={"weeks": "x"})).status_code == 400
            assert _guarded(c.get("/", headers={"host": "evil.example"})).status_code == 400
    finally:
        d.stop()


def test_only_known_host_names_are_answered_so_dns_rebinding_finds_nothing(filled):
    store, ingest = filled
    d = Dashboard(store, ingest, bind="127.0.0.1:0", allow_hosts=["heel.lan"]).start()
    try:
        with httpx.Client(base_url=d.url, timeout=5) as c:
            for host in (f"127.0.0.1:{d.port}", f"localhost:{d.port}", "localhost", "heel.lan"):
                assert c.get("/api/devices", headers={"host": host}).status_code == 200, host
            for host in ("rebind.attacker.example", f"evil.example:{d.port}", "", "10.0.0.9"):
                r = c.get("/api/devices", headers={"host": host})
                assert r.status_code == 400, host
                assert "--allow-host" in r.text
    finally:
        d.stop()
    wide = Dashboard(store, ingest, bind="0.0.0.0:0", token="t").start()
    try:
        with httpx.Client(base_url=wide.url, timeout=5) as c:
            auth = {"authorization": "Bearer t"}
            # bound to every address: any IP literal (it cannot be rebound), no other name
            for host in ("192.168.1.20:8080", "[fe80::1]:8080", f"127.0.0.1:{wide.port}"):
                assert c.get("/api/devices", headers={**auth, "host": host}).status_code == 200
            bad = c.get("/api/devices", headers={**auth, "host": "attacker.example"})
            assert bad.status_code == 400
    finally:
        wide.stop()
    with pytest.raises(SettingsError, match="without a port"):
        Dashboard(store, allow_hosts=["heel.lan:8080/x"])


def test_query_values_out_of_range_are_a_400_never_a_500(dash):
    with httpx.Client(base_url=dash.url, timeout=5) as c:
        for params in (
            {"after": "9" * 40},
            {"after": str(2**63)},
            {"after": "-1"},
            {"after": "1e3"},
        ):
            assert c.get("/api/stream", params=params).status_code == 400, params
        assert c.get("/api/trends", params={"weeks": "9" * 5000}).status_code == 400
        assert c.get("/api/trends", params={"tz_offset_min": "99999"}).status_code == 400
        with c.stream("GET", "/api/stream", params={"after": str(2**63 - 1)}) as s:
            assert s.status_code == 200
        # a Last-Event-ID no stream ever sent is ignored: the stream replays from ``after``
        headers = {"last-event-id": "9" * 40}
        with c.stream("GET", "/api/stream", params={"after": 0}, headers=headers) as s:
            assert s.status_code == 200
            assert _read_events(s, 1)[0][0] == "1"


def test_secrets_come_from_a_file_or_the_environment_and_the_command_line_warns(
    tmp_path, monkeypatch, capsys
):
    import argparse

    from heelraise.commands import dashboard

    parser = argparse.ArgumentParser()
    dashboard.add_arguments(parser)
    (tmp_path / "token").write_text("tok-from-file\n")
    monkeypatch.setenv("HEELRAISE_DASHBOARD_TOKEN", "tok-from-env")
    args = parser.parse_args(["--token-file", str(tmp_path / "token"), "--allow-host", "pi.lan"])
    assert dashboard.secret(args, "token", "HEELRAISE_DASHBOARD_TOKEN") == "tok-from-file"
    assert args.allow_host == ["pi.lan"]
    args = parser.parse_args([])
    assert dashboard.secret(args, "token", "HEELRAISE_DASHBOARD_TOKEN") == "tok-from-env"
    assert capsys.readouterr().err == ""
    args = parser.parse_args(["--password", "pw-on-the-line"])
    assert dashboard.secret(args, "password", "HEELRAISE_MQTT_PASSWORD") == "pw-on-the-line"
    err = capsys.readouterr().err
    assert "--password on the command line is visible" in err and "--password-file" in err
    assert "pw-on-the-line" not in err
    (tmp_path / "empty").write_text("\n")
    args = parser.parse_args(["--password-file", str(tmp_path / "empty")])
    with pytest.raises(SettingsError, match="--password-file .* is empty"):
        dashboard.secret(args, "password", "HEELRAISE_MQTT_PASSWORD")


def test_a_file_poisoned_by_an_older_dashboard_still_answers_with_plain_json(tmp_path):
    """Before the checks at the door, Infinity and impossible dates got stored; such a file
    must not take the pages down (NaN and Infinity go out as null)."""
    store = Store(tmp_path / "old.db")
    ingest = Ingest(store)
    for m in session_messages("shoe-1", "s-1", reps_per_set=[2], seed=4):
        ingest.handle(m.topic, m.payload)
    conn = store._conn()
    conn.execute("UPDATE reps SET raise_s = 1e999, heel_rise_mm = -1e999 WHERE rep_index = 1")
    conn.execute(
        'UPDATE messages SET body = replace(body, \'"sensor_t_s":\', \'"sensor_t_s":NaN,"x":\')'
    )
    conn.execute("UPDATE sessions SET started_at = '2026-13-45T25:61:61.000Z'")
    conn.commit()
    d = Dashboard(store, ingest, bind="127.0.0.1:0").start()
    try:
        with httpx.Client(base_url=d.url, timeout=5) as c:
            live = c.get("/api/live")
            assert live.status_code == 200
            rep = live.json()["devices"][0]["current"]["reps"][0]
            assert rep["raise_s"] is None and rep["heel_rise_mm"] is None
            assert c.get("/api/trends").status_code == 200
            detail = c.get("/api/session", params={"device": "shoe-1", "session": "s-1"})
            assert detail.status_code == 200 and "Infinity" not in detail.text
            with c.stream("GET", "/api/stream", params={"after": 0}) as s:
                lines = s.iter_lines()
                data = next(x for x in lines if x.startswith("data:"))
                # what a browser's JSON.parse takes: no NaN, no Infinity
                event = json.loads(data[5:], parse_constant=lambda name: pytest.fail(name))
                assert event["rep"]["index"] == 1
    finally:
        d.stop()
