"""The publisher against a real broker: delivery, outages, crashes, status, state, commands."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import types

import pytest
from conftest import connect_client, wait_until
from heelraise.mqtt.publisher import RETAINED_REFUSAL, MqttPublisher
from heelraise.mqtt.settings import MqttSettings
from heelraise.mqtt.testing import FakeCommandHandler, fake_set
from heelraise.protocol import validation

DEVICE = "shoe-1"
BASE = f"heelraise/{DEVICE}"
STATE = {
    "mode": "free",
    "calibrated": True,
    "phase": "still",
    "set": 0,
    "reps_in_set": 0,
    "rep_count": 0,
    "tempo": None,
}


@pytest.fixture
def make_publisher(tmp_path):
    made = []

    def make(broker, *, handler=None, outbox="outbox.sqlite", **overrides):
        kwargs = dict(
            host=broker.host,
            port=broker.port,
            outbox_path=str(tmp_path / outbox),
            reconnect_min_s=0.05,
            reconnect_max_s=0.3,
            keepalive=5,
        )
        kwargs.update(overrides)
        pub = MqttPublisher(
            MqttSettings(**kwargs), device_id=DEVICE, session_id="sess-1", command_handler=handler
        )
        made.append(pub)
        return pub

    yield make
    for pub in made:
        pub.close()


def reps_by_id(messages) -> dict:
    """Deduplicated rep bodies by envelope id (QoS 1 is at-least-once)."""
    out = {}
    for m in messages:
        if m.topic == f"{BASE}/event/rep":
            body = m.json()
            out[body["id"]] = body
    return out


def rep_indices(messages) -> list[tuple[int, int]]:
    return sorted((b["rep"]["set"], b["rep"]["index"]) for b in reps_by_id(messages).values())


def test_a_set_arrives_in_order_and_every_message_is_valid(
    mqtt_broker, mqtt_subscriber, make_publisher
):
    rec = mqtt_subscriber(mqtt_broker, f"{BASE}/#")
    pub = make_publisher(mqtt_broker)
    wait_until(pub.connected.is_set, 10, "publisher connected")
    pub.on_state(STATE)
    events = fake_set(1, 6)
    for e in events:
        pub.on_event(e)
    rec.wait_for(lambda ms: [m for m in ms if m.topic.endswith("event/set")], what="the set")
    reps = [m.json() for m in rec.on(f"{BASE}/event/rep")]
    assert [r["rep"]["index"] for r in reps] == [1, 2, 3, 4, 5, 6]
    for m in rec.messages:
        if m.topic == f"{BASE}/status":
            assert m.payload == b"online"
            continue
        if m.topic == f"{BASE}/last_rep":  # the retained copy of the newest rep (for HA)
            continue
        body = m.json()
        validation.validate(body["type"], body)
        assert body["device"] == DEVICE and body["session"] == "sess-1"
        assert (
            m.topic
            == {
                "rep": f"{BASE}/event/rep",
                "set": f"{BASE}/event/set",
                "state": f"{BASE}/state",
            }[body["type"]]
        )
    (s,) = [m.json() for m in rec.on(f"{BASE}/event/set")]
    assert s["set"]["rep_count"] == 6 and len(s["set"]["reps"]) == 6
    copies = (f"{BASE}/status", f"{BASE}/last_rep", f"{BASE}/last_session")
    own = [m for m in rec.messages if m.topic not in copies]
    assert len({m.json()["id"] for m in own}) == len(own)
    wait_until(lambda: len(pub.outbox) == 0, 10, "outbox drained after acks")


def test_retained_status_and_state(mqtt_broker, mqtt_subscriber, make_publisher):
    pub = make_publisher(mqtt_broker)
    pub.on_state(STATE)
    pub.on_state(STATE)  # unchanged: not sent again
    pub.on_state({**STATE, "phase": "rising", "reps_in_set": 1, "set": 1, "rep_count": 1})
    wait_until(lambda: pub.connected.is_set() and len(pub.outbox) == 0, 10, "state acked")
    late = mqtt_subscriber(mqtt_broker, [f"{BASE}/status", f"{BASE}/state"])
    late.wait_for(lambda ms: len(ms) >= 2, what="retained status and state")
    (status,) = late.on(f"{BASE}/status")
    assert status.retain and status.payload == b"online"
    states = late.on(f"{BASE}/state")
    assert len(states) == 1 and states[0].retain
    body = states[0].json()
    validation.validate("state", body)
    assert body["state"]["phase"] == "rising" and body["state"]["reps_in_set"] == 1


def test_clean_close_publishes_offline(mqtt_broker, mqtt_subscriber, make_publisher):
    rec = mqtt_subscriber(mqtt_broker, f"{BASE}/status")
    pub = make_publisher(mqtt_broker)
    rec.wait_for(lambda ms: [m for m in ms if m.payload == b"online"], what="online")
    for e in fake_set(1, 3):
        pub.on_event(e)
    pub.close()
    assert len(pub.outbox) == 0  # drained before saying goodbye
    rec.wait_for(lambda ms: ms and ms[-1].payload == b"offline", what="offline")
    late = mqtt_subscriber(mqtt_broker, f"{BASE}/status")
    late.wait_for(lambda ms: ms, what="retained status")
    assert late.on(f"{BASE}/status")[0].payload == b"offline"


def test_nothing_is_published_after_offline(mqtt_broker, mqtt_subscriber, make_publisher):
    # A row's ack can come back before the sender publishes that row's retained copy
    # (last_rep, last_session): the sender must have stopped before "offline" goes out,
    # or the copy follows it and the device seems to speak after it said it had gone.
    rec = mqtt_subscriber(mqtt_broker, f"{BASE}/status")
    pub = make_publisher(mqtt_broker)
    rec.wait_for(lambda ms: [m for m in ms if m.payload == b"online"], what="online")
    sent = []
    publish = pub.client.publish

    def recording_publish(topic, payload=None, *args, **kwargs):
        sent.append((topic, payload, pub._sender.is_alive()))
        return publish(topic, payload, *args, **kwargs)

    pub.client.publish = recording_publish
    for e in fake_set(1, 3):
        pub.on_event(e)
    pub.close()
    offline = [i for i, (topic, payload, _) in enumerate(sent) if payload == "offline"]
    assert offline == [len(sent) - 1]  # "offline" once, and last
    assert sent[-1][2] is False  # the sender had stopped: nothing of its can follow


def test_broker_down_at_boot_then_up(mqtt_broker, mqtt_subscriber, make_publisher):
    mqtt_broker.stop()
    pub = make_publisher(mqtt_broker)
    for e in fake_set(1, 4):
        pub.on_event(e)  # returns although nobody is listening
    assert len(pub.outbox) == 5 and not pub.connected.is_set()
    mqtt_broker.start()
    rec = mqtt_subscriber(mqtt_broker, f"{BASE}/event/#")
    # Events are not retained, so the first set is checked by the outbox draining (acked by
    # the broker), the second by a subscriber.
    wait_until(lambda: len(pub.outbox) == 0, 15, "outbox drained after the broker came up")
    for e in fake_set(2, 2, t0_s=100.0):
        pub.on_event(e)
    rec.wait_for(lambda ms: {(2, 1), (2, 2)} <= set(rep_indices(ms)), what="set 2 reps")


def test_broker_killed_mid_set_every_rep_arrives_once(
    mqtt_broker_factory, mqtt_subscriber, make_publisher
):
    broker = mqtt_broker_factory(persistence=True)
    # A persistent session: the broker keeps queueing for the subscriber across its restart.
    rec = mqtt_subscriber(broker, f"{BASE}/event/#", client_id="watcher", clean_session=False)
    wait_until(lambda: (broker.workdir / "mosquitto.db").exists(), 10, "session saved")
    pub = make_publisher(broker)
    events = fake_set(1, 12)
    for e in events[:5]:
        pub.on_event(e)
    rec.wait_for(lambda ms: len(rep_indices(ms)) == 5, what="the first five reps")
    broker.kill()
    wait_until(lambda: not pub.connected.is_set(), 10, "publisher noticed")
    for e in events[5:9]:
        pub.on_event(e)  # stored while the broker is dead
    assert len(pub.outbox) >= 4
    broker.start()
    for e in events[9:]:
        pub.on_event(e)
    rec.wait_for(
        lambda ms: [m for m in ms if m.topic.endswith("event/set")], 20, what="the set message"
    )
    rec.wait_for(lambda ms: len(rep_indices(ms)) == 12, 20, what="all twelve reps")
    assert rep_indices(rec.messages) == [(1, i) for i in range(1, 13)]
    wait_until(lambda: len(pub.outbox) == 0, 10, "outbox drained")


def _spawn_publisher(broker, outbox, reps, interval=0.02):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heelraise.mqtt.testing",
            "--host",
            broker.host,
            "--port",
            str(broker.port),
            "--outbox",
            str(outbox),
            "--device",
            DEVICE,
            "--reps",
            str(reps),
            "--interval",
            str(interval),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(proc, line_wanted: str, seen: list[str]) -> None:
    for line in proc.stdout:
        seen.append(line.strip())
        if line.strip() == line_wanted:
            return
    raise AssertionError(f"publisher ended before {line_wanted!r}: {seen} {proc.stderr.read()}")


def test_publisher_sigkill_mid_set_outbox_delivers_after_restart(
    mqtt_broker, mqtt_subscriber, tmp_path
):
    outbox = tmp_path / "crash.sqlite"
    rec = mqtt_subscriber(mqtt_broker, f"{BASE}/event/#")
    mqtt_broker.stop()  # nothing can be delivered: every stored rep stays pending
    wait_until(lambda: not rec.subscribed.is_set(), 10, "event watcher disconnected")
    proc = _spawn_publisher(mqtt_broker, outbox, reps=20)
    seen: list[str] = []
    try:
        _read_until(proc, "stored 1 8", seen)
        proc.kill()  # SIGKILL mid-set
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    stored = [tuple(map(int, s.split()[1:])) for s in seen if s.startswith("stored 1")]
    assert stored == [(1, i) for i in range(1, 9)]
    mqtt_broker.start()
    wait_until(rec.subscribed.is_set, 10, "event watcher subscribed again")
    again = _spawn_publisher(mqtt_broker, outbox, reps=0)
    try:
        _read_until(again, "done", [])
        got = rec.wait_for(lambda ms: len(rep_indices(ms)) >= 8, 20, what="the replayed reps")
        assert got
        indices = rep_indices(rec.messages)
        # Everything reported stored arrives; at most the one rep stored but not yet reported.
        assert indices[:8] == stored and len(indices) in (8, 9)
        assert indices == [(1, i) for i in range(1, len(indices) + 1)]
        again.stdin.write("close\n")
        again.stdin.flush()
        _read_until(again, "closed", [])
        again.wait(10)
    finally:
        if again.poll() is None:
            again.kill()
    from heelraise.mqtt.outbox import Outbox

    assert len(Outbox(str(outbox))) == 0


def test_last_will_on_sigkill(mqtt_broker, mqtt_subscriber, tmp_path):
    status = mqtt_subscriber(mqtt_broker, f"{BASE}/status")
    proc = _spawn_publisher(mqtt_broker, tmp_path / "will.sqlite", reps=0)
    try:
        _read_until(proc, "done", [])
        status.wait_for(lambda ms: ms and ms[-1].payload == b"online", what="online")
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    status.wait_for(lambda ms: ms[-1].payload == b"offline", 20, what="the last will")
    late = mqtt_subscriber(mqtt_broker, f"{BASE}/status")
    late.wait_for(lambda ms: ms, what="retained will")
    assert late.messages[0].payload == b"offline" and late.messages[0].retain


# --- commands -------------------------------------------------------------------------------------


@pytest.fixture
def commanded(mqtt_broker, mqtt_subscriber, make_publisher):
    handler = FakeCommandHandler(answers={"start_endurance_test": (False, "no coach")})
    pub = make_publisher(mqtt_broker, handler=handler, max_cmd_bytes=256)
    results = mqtt_subscriber(mqtt_broker, f"{BASE}/cmd/result")
    wait_until(pub.connected.is_set, 10, "publisher connected")
    sender = connect_client(mqtt_broker)
    sender.connect(mqtt_broker.host, mqtt_broker.port)
    sender.loop_start()

    # The publisher subscribes in on_connect; a probe command proves the subscription is live.
    def send(payload, topic=f"{BASE}/cmd", retain=False):
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        sender.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def result_for(cmd_id, n=1):
        def found(ms):
            bodies = [m.json() for m in ms if m.json()["cmd_id"] == cmd_id]
            return bodies if len(bodies) >= n else None

        bodies = results.wait_for(found, what=f"result of {cmd_id}")
        for body in bodies:
            validation.validate("cmd_result", body)
        return bodies[-1]

    send({"id": "probe", "cmd": "end_set"})
    result_for("probe")
    handler.calls.clear()
    yield pub, handler, send, result_for, results
    sender.loop_stop()
    sender.disconnect()


def test_command_accepted_and_answered(commanded):
    pub, handler, send, result_for, _ = commanded
    send({"id": "c1", "cmd": "set_tempo", "args": {"tempo": "3-0-2-1"}})
    r = result_for("c1")
    assert r["ok"] is True and r["reason"] is None and r["cmd"] == "set_tempo"
    assert handler.calls == [("set_tempo", {"tempo": "3-0-2-1"})]
    send({"id": "c2", "cmd": "start_endurance_test"})
    r = result_for("c2")
    assert r["ok"] is False and r["reason"] == "no coach"


def test_command_refusals(commanded):
    pub, handler, send, result_for, results = commanded
    send(b"{not json")
    send(b"\xff\xfe")
    send(b"[1, 2]")
    send({"id": "bad-cmd", "cmd": "reboot"})
    send({"id": "bad-args", "cmd": "set_live", "args": {"on": "please"}})
    send({"id": "big", "cmd": "end_set", "pad": "x" * 400})
    send({"id": "elsewhere", "cmd": "end_set"}, topic="heelraise/shoe-2/cmd")
    send({"id": "last", "cmd": "end_set"})
    result_for("last")
    answers = [m.json() for m in results.messages]
    anonymous = [a for a in answers if a["cmd_id"] == "-"]
    reasons = " | ".join(a["reason"] for a in anonymous)
    assert "not JSON" in reasons and "not UTF-8" in reasons
    assert "must be a JSON object, not list" in reasons
    assert "more than max_cmd_bytes 256" in reasons
    assert len(anonymous) == 4 and not any(a["ok"] for a in anonymous)
    by_id = {a["cmd_id"]: a for a in answers}
    assert by_id["bad-cmd"]["ok"] is False and "reboot" in by_id["bad-cmd"]["reason"]
    assert by_id["bad-args"]["ok"] is False and "args" in by_id["bad-args"]["reason"]
    assert "elsewhere" not in by_id and "big" not in by_id
    assert handler.calls == [("end_set", {})]  # only "last" reached the service


def test_repeated_command_id_runs_once_and_the_repeat_answers_duplicate(commanded):
    pub, handler, send, result_for, results = commanded
    send({"id": "twice", "cmd": "end_set"})
    send({"id": "twice", "cmd": "end_set"})
    send({"id": "after", "cmd": "end_set"})
    result_for("after")
    answers = [m.json() for m in results.messages if m.json()["cmd_id"] == "twice"]
    assert len(answers) == 2 and answers[0]["ok"] is True
    assert answers[1]["ok"] is False and answers[1]["reason"].startswith("duplicate")
    assert handler.calls == [("end_set", {}), ("end_set", {})]


def test_commands_without_an_id_run_every_time(commanded):
    """Home Assistant buttons send one fixed payload: each press must run, none is a repeat."""
    pub, handler, send, result_for, results = commanded
    send({"cmd": "end_set"})
    send({"cmd": "end_set"})
    send({"id": "after", "cmd": "end_set"})
    result_for("after")
    anonymous = [m.json() for m in results.messages if m.json()["cmd_id"] == "-"]
    assert [a["ok"] for a in anonymous] == [True, True]
    assert handler.calls == [("end_set", {})] * 3


def test_each_home_assistant_control_pressed_twice_runs_twice(commanded):
    """Issue 16: HA's buttons, select and switch send their fixed payload (no id) at every
    press, exactly as discovery announces it; each press runs the command."""
    from heelraise.mqtt.discovery import discovery_messages
    from heelraise.protocol.topics import Topics

    pub, handler, send, result_for, results = commanded
    seen_at = itertools.count(100.0, 1.0)  # a person presses about once a second
    pub._monotonic = lambda: next(seen_at)  # (within the rate limit, which has its own test)
    configs = [c for _, c in discovery_messages(Topics("heelraise", "shoe-1"), "homeassistant")]
    presses = [c["payload_press"] for c in configs if "payload_press" in c]
    presses += [c[k] for c in configs for k in ("payload_on", "payload_off") if k in c]
    assert len(presses) == 4 + 2  # four buttons, the live switch's on and off
    for payload in presses:
        send(payload)
        send(payload)
    send({"id": "after", "cmd": "end_set"})
    result_for("after")
    expected = []
    for payload in presses:
        body = json.loads(payload)
        expected += [(body["cmd"], body.get("args", {}))] * 2
    assert handler.calls[:-1] == expected


def test_a_command_nested_4000_deep_is_refused_cleanly(make_publisher, mqtt_broker, caplog):
    handler = FakeCommandHandler()
    pub = make_publisher(mqtt_broker, handler=handler, max_cmd_bytes=65536)
    answers = []
    pub._answer = lambda cmd_id, cmd, ok, reason: answers.append((cmd_id, ok, reason))
    deep = '{"id": "deep", "cmd": "end_set", "args": {"a": ' + "[" * 4000 + "]" * 4000 + "}}"
    msg = types.SimpleNamespace(topic=f"{BASE}/cmd", payload=deep.encode(), retain=False)
    with caplog.at_level("WARNING", logger="heelraise.mqtt"):
        pub._on_cmd(None, None, msg)
    # one nesting limit for every payload, the validator's (it was 16 here, 8 elsewhere)
    assert answers == [
        ("-", False, f"invalid: nested too deep (over {validation.MAX_DEPTH} levels)")
    ]
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text
    assert handler.calls == []
    # brackets inside strings are text, not nesting
    text = json.dumps({"id": "s", "cmd": "set_tempo", "args": {"tempo": "[" * 4000}})
    pub._on_cmd(
        None, None, types.SimpleNamespace(topic=msg.topic, payload=text.encode(), retain=False)
    )
    assert handler.calls == [("set_tempo", {"tempo": "[" * 4000})]


def test_5000_commands_in_035_s_are_rate_limited_and_each_refusal_answered(
    make_publisher, mqtt_broker
):
    from heelraise.clock import ManualClock
    from heelraise.mqtt.publisher import CMD_BURST, CMD_RATE_PER_S

    handler = FakeCommandHandler()
    pub = make_publisher(mqtt_broker, handler=handler)
    clock = ManualClock(50.0)
    pub._monotonic = clock
    answers = []
    pub._answer = lambda cmd_id, cmd, ok, reason: answers.append((cmd_id, ok, reason))
    for i in range(5000):
        body = json.dumps({"id": f"f{i}", "cmd": "end_set"}).encode()
        pub._on_cmd(
            None, None, types.SimpleNamespace(topic=f"{BASE}/cmd", payload=body, retain=False)
        )
        clock.advance(0.35 / 5000)
    ran = len(handler.calls)
    assert ran <= CMD_BURST + 0.35 * CMD_RATE_PER_S + 1  # what reaches the sensor loop
    refused = [a for a in answers if not a[1]]
    assert len(refused) == 5000 - ran  # every other one answered, none silently dropped
    assert all(r[2].startswith("rate limited: ") for r in refused)
    clock.advance(1.0)  # a second later commands pass again
    body = json.dumps({"id": "later", "cmd": "end_set"}).encode()
    pub._on_cmd(None, None, types.SimpleNamespace(topic=f"{BASE}/cmd", payload=body, retain=False))
    assert len(handler.calls) == ran + 1


def test_live_samples_go_out_in_batches_and_set_live_goes_to_the_service(
    commanded, mqtt_broker, mqtt_subscriber
):
    """The service decides whether live is on and decimates it (heelraise.service.live);
    the publisher batches every sample it is handed and runs no switch of its own."""
    pub, handler, send, result_for, _ = commanded
    live = mqtt_subscriber(mqtt_broker, f"{BASE}/live")
    send({"id": "on", "cmd": "set_live", "args": {"on": True}})
    assert result_for("on")["ok"] and ("set_live", {"on": True}) in handler.calls
    assert not hasattr(pub, "set_live")  # on/off is held once, by the service
    for i in range(40, 61):  # 2 s at live_hz = 10, as the service hands them over
        pub.on_live(i * 0.1, float(i), "rising")
    msgs = live.wait_for(
        lambda ms: ms if sum(len(m.json()["t_s"]) for m in ms) >= 18 else None, what="live"
    )
    assert all(m.qos == 0 for m in msgs)
    bodies = [m.json() for m in msgs]
    for b in bodies:
        validation.validate("live", b)
        assert b["t_s"][-1] - b["t_s"][0] <= 0.5 + 1e-6  # live_batch_s
        assert b["phase"] == "rising"
    times = [t for b in bodies for t in b["t_s"]]
    assert times == pytest.approx([i * 0.1 for i in range(40, 40 + len(times))])


def test_discovery_announced_and_reannounced(mqtt_broker, mqtt_subscriber, make_publisher):
    rec = mqtt_subscriber(mqtt_broker, "homeassistant/sensor/#")
    pub = make_publisher(mqtt_broker, discovery=True)
    wait_until(pub.connected.is_set, 10, "connected")
    first = rec.wait_for(lambda ms: ms if len(ms) >= 8 else None, what="8 discovery configs")
    topics = {m.topic for m in first}
    assert "homeassistant/sensor/heelraise_shoe-1/reps_in_set/config" in topics
    assert all(json.loads(m.payload)["availability_topic"] == f"{BASE}/status" for m in first)
    late = mqtt_subscriber(mqtt_broker, "homeassistant/sensor/#")
    late.wait_for(lambda ms: len(ms) >= 8, what="retained configs")
    assert all(m.retain for m in late.messages)
    ha = connect_client(mqtt_broker)
    ha.connect(mqtt_broker.host, mqtt_broker.port)
    ha.loop_start()
    try:
        ha.publish("homeassistant/status", "online", qos=1).wait_for_publish(10)
        rec.wait_for(lambda ms: len(ms) >= 16, what="re-announcement")
    finally:
        ha.loop_stop()
        ha.disconnect()


def test_retained_command_is_refused_and_cleared(mqtt_broker, mqtt_subscriber, make_publisher):
    # Left retained, a command would run again at every reconnect of the device.
    sender = connect_client(mqtt_broker)
    sender.connect(mqtt_broker.host, mqtt_broker.port)
    sender.loop_start()
    try:
        cmd = json.dumps({"id": "stale", "cmd": "end_set"})
        sender.publish(f"{BASE}/cmd", cmd, qos=1, retain=True).wait_for_publish(10)
    finally:
        sender.loop_stop()
        sender.disconnect()
    results = mqtt_subscriber(mqtt_broker, f"{BASE}/cmd/result")
    handler = FakeCommandHandler()
    make_publisher(mqtt_broker, handler=handler)
    (r,) = results.wait_for(lambda ms: ms, what="the refusal")
    body = r.json()
    assert body["ok"] is False and body["reason"] == RETAINED_REFUSAL
    assert handler.calls == []
    # The publisher cleared it: a new subscriber gets no retained command.
    probe = mqtt_subscriber(mqtt_broker, [f"{BASE}/cmd", f"{BASE}/status"])
    probe.wait_for(lambda ms: [m for m in ms if m.topic.endswith("status")], what="status")
    assert probe.on(f"{BASE}/cmd") == []


def test_a_command_published_retained_while_the_device_is_connected_is_not_run(
    mqtt_broker, mqtt_subscriber, make_publisher
):
    # Without MQTT 5's retainAsPublished the broker clears the retain flag of a message
    # forwarded to a subscriber that is already connected, and the command would run.
    results = mqtt_subscriber(mqtt_broker, f"{BASE}/cmd/result")
    handler = FakeCommandHandler()
    pub = make_publisher(mqtt_broker, handler=handler)
    wait_until(pub.connected.is_set, 10, what="the publisher connected")
    sender = connect_client(mqtt_broker)
    sender.connect(mqtt_broker.host, mqtt_broker.port)
    sender.loop_start()
    try:
        # a plain command first: its answer proves the cmd subscription is in place
        live = json.dumps({"id": "live-1", "cmd": "end_set"})
        sender.publish(f"{BASE}/cmd", live, qos=1, retain=False).wait_for_publish(10)
        results.wait_for(lambda ms: ms, what="the plain command's answer")
        stale = json.dumps({"id": "kept-1", "cmd": "start_set"})
        sender.publish(f"{BASE}/cmd", stale, qos=1, retain=True).wait_for_publish(10)
        ms = results.wait_for(lambda ms: ms[1:] and ms, what="the retained command's answer")
    finally:
        sender.loop_stop()
        sender.disconnect()
    first, second = (m.json() for m in ms[:2])
    assert first["cmd_id"] == "live-1" and first["ok"] is True
    assert second["ok"] is False and second["reason"] == RETAINED_REFUSAL
    assert [name for name, _ in handler.calls] == ["end_set"]


def test_a_message_breaking_its_schema_is_logged_by_the_sender_and_still_delivered(
    mqtt_broker, mqtt_subscriber, make_publisher, caplog
):
    """With ``check_outgoing`` the schema check runs on the sender thread, never the sensor
    loop; it only logs."""
    rec = mqtt_subscriber(mqtt_broker, f"{BASE}/event/rep")
    pub = make_publisher(mqtt_broker, check_outgoing=True)
    wait_until(pub.connected.is_set, 10, "publisher connected")
    (bad,) = [e for e in fake_set(1, 1) if e.kind == "rep"]
    bad.rep.surface = "moon"  # not floor or step
    with caplog.at_level("ERROR", logger="heelraise.mqtt"):
        pub.on_event(bad)
        rec.wait_for(lambda ms: ms, what="the rep, schema or not")
        wait_until(lambda: "outgoing rep message breaks its schema" in caplog.text, 10, "the error")
    assert rec.messages[0].json()["rep"]["surface"] == "moon"


@pytest.fixture
def spied_validation(monkeypatch):
    """``(compiled, checked)``: the types each ``compile_all`` was given and every kind
    ``validate`` was called for off the test's own thread, i.e. by the publisher (from here
    on: ask for it before the publisher)."""
    compiled, checked = [], []
    real_compile, real_validate = validation.compile_all, validation.validate

    def compile_all(types=validation.TYPES):
        compiled.append(tuple(types))
        real_compile(types)

    def validate(kind, payload):
        if threading.current_thread() is not threading.main_thread():
            checked.append(kind)
        real_validate(kind, payload)

    monkeypatch.setattr(validation, "compile_all", compile_all)
    monkeypatch.setattr(validation, "validate", validate)
    return compiled, checked


def test_by_default_only_commands_are_checked_on_the_device(
    spied_validation, commanded, mqtt_broker, mqtt_subscriber, caplog
):
    """The device's own messages are not checked by default (the tests check each kind, the
    dashboard what it receives): only the cmd check is compiled, a bad rep goes out unlogged
    and a bad command is still refused."""
    compiled, checked = spied_validation
    pub, handler, send, result_for, _ = commanded
    reps = mqtt_subscriber(mqtt_broker, f"{BASE}/event/rep")
    (bad,) = [e for e in fake_set(1, 1) if e.kind == "rep"]
    bad.rep.surface = "moon"  # not floor or step
    with caplog.at_level("ERROR", logger="heelraise.mqtt"):
        pub.on_event(bad)
        reps.wait_for(lambda ms: ms, what="the rep")
        send({"id": "c-bad", "cmd": "no_such_command"})
        answer = result_for("c-bad")
    assert compiled == [("cmd",)]
    assert checked and set(checked) == {"cmd"}
    assert "breaks its schema" not in caplog.text
    assert reps.messages[0].json()["rep"]["surface"] == "moon"
    assert answer["ok"] is False and answer["reason"].startswith("invalid command")
    assert handler.calls == []


def test_a_command_delivered_on_another_topic_is_never_run(commanded, caplog):
    """Only the device's own cmd topic runs commands, even if a broker hands over another
    (a wildcard subscription, a misrouted message): logged, not run."""
    pub, handler, _send, _result_for, _results = commanded
    before = list(handler.calls)
    foreign = types.SimpleNamespace(
        topic="heelraise/shoe-2/cmd",
        payload=json.dumps({"id": "foreign", "cmd": "end_set"}).encode(),
        retain=False,
    )
    with caplog.at_level("WARNING", logger="heelraise.mqtt"):
        pub._on_cmd(None, None, foreign)
        pub._on_other_message(None, None, foreign)
    assert handler.calls == before
    assert "ignored a command on 'heelraise/shoe-2/cmd'" in caplog.text
    assert "not a topic of this device" in caplog.text
