"""The service with the MQTT publisher against a real broker: events out, commands in."""

from __future__ import annotations

import json
import threading

import pytest
from heelraise.clock import ScaledClock
from heelraise.protocol import validation
from heelraise.service.assemble import assemble
from heelraise.service.config import parse_config
from heelraise.service.testing import ArrayImu
from heelraise.sim import simulate_session

SPEED = 10.0  # the simulated shoe plays 10x real time: 8 reps in about 6 s of real time


@pytest.fixture(scope="module")
def session():
    return simulate_session(
        sets=1, reps=8, rate_hz=100.0, seed=3, walking=False, distractors=False, fault_rate=0.0
    )


def config_for(broker):
    return parse_config(
        f"""
[device]
id = "test-shoe"
[sensor]
type = "sim"
rate_hz = 100
[mqtt]
host = "{broker.host}"
port = {broker.port}
outbox_path = ":memory:"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
"""
    )


def test_events_state_and_commands_go_over_mqtt(mqtt_broker, mqtt_subscriber, session):
    recorder = mqtt_subscriber(mqtt_broker, "heelraise/test-shoe/#")
    recorder.subscribed.wait(10)
    config = config_for(mqtt_broker)
    clock = ScaledClock(SPEED)
    imu = ArrayImu(session.t_s, session.acc_g, session.gyr_dps, clock=clock)
    imu.hold()  # no samples until the commands below have been answered
    parts = assemble(config, imu=imu, clock=clock, sleep=clock.sleep, cues=False, stdout=None)
    service = parts.service
    service.stop_when_exhausted = True
    assert parts.publisher is not None and parts.publisher in service.sinks
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        recorder.wait_for(
            lambda ms: any(m.topic.endswith("/status") and m.payload == b"online" for m in ms),
            20,
            "status online",
        )
        import paho.mqtt.publish as publish

        def send(cmd_id, cmd, args=None):
            body = {"id": cmd_id, "cmd": cmd}
            if args is not None:
                body["args"] = args
            publish.single(
                "heelraise/test-shoe/cmd",
                json.dumps(body),
                qos=1,
                hostname=mqtt_broker.host,
                port=mqtt_broker.port,
            )

        def result_for(cmd_id):
            def find(ms):
                for m in ms:
                    if m.topic.endswith("/cmd/result") and m.json().get("cmd_id") == cmd_id:
                        return m.json()
                return None

            return recorder.wait_for(find, 20, f"the result of {cmd_id}")

        send("c1", "set_tempo", {"tempo": "3-0-2-1"})
        send("c2", "end_set", {})
        send("c3", "set_tempo", {"tempo": "fast"})
        r1, r2, r3 = result_for("c1"), result_for("c2"), result_for("c3")
        assert (r1["ok"], r1["reason"]) == (True, None)
        assert (r2["ok"], r2["reason"]) == (False, "no set is open")
        assert r3["ok"] is False and "'fast'" in r3["reason"]
        imu.play_from_now()
        thread.join(timeout=60)
        assert not thread.is_alive()
    finally:
        service.stop()
        thread.join(timeout=30)
    recorder.wait_for(
        lambda ms: any(m.topic.endswith("/event/session") for m in ms), 20, "the session event"
    )
    # The retained "offline" goes out after the session: wait for it too, or the copy below
    # can be taken while it is still on its way.
    recorder.wait_for(
        lambda ms: any(m.topic.endswith("/status") and m.payload == b"offline" for m in ms),
        20,
        "status offline",
    )
    msgs = list(recorder.messages)
    by_type: dict = {}
    for m in msgs:
        if m.topic.endswith(("/status", "/cmd", "/last_rep", "/last_session")):  # copies, for HA
            continue
        data = m.json()
        validation.validate(data["type"], data)  # every payload meets its schema
        assert data["device"] == "test-shoe" and data["session"] == parts.session_id
        by_type.setdefault(data["type"], []).append(data)
    reps = by_type["rep"]
    assert len({r["id"] for r in reps}) == len(reps) == 8
    assert [r["rep"]["index"] for r in reps] == list(range(1, 9))
    assert all(r["rep"]["tempo"]["text"] == "3-0-2-1" for r in reps)  # set before rep 1
    assert by_type["set"][0]["set"]["rep_count"] == 8
    assert by_type["session"][0]["summary"]["rep_count"] == 8
    assert by_type["state"][-1]["state"]["rep_count"] == 8
    assert by_type["state"][-1]["state"]["tempo"] == "3-0-2-1"
    assert msgs[-1].topic.endswith("/status") and msgs[-1].payload == b"offline"
