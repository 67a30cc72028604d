"""Sensor health and gaps leave the device: a running service publishes ``health`` (retained)
at a real broker when the emulated sensor freezes and when it recovers."""

from __future__ import annotations

import pytest
from conftest import wait_until
from heelraise.clock import ManualClock
from heelraise.exceptions import PayloadInvalid
from heelraise.imu.emulator_mpu6050 import StillMotion
from heelraise.imu.fifo_imu import STUCK_AFTER_S
from heelraise.imu.sim import SimImu
from heelraise.mqtt.publisher import MqttPublisher
from heelraise.mqtt.settings import MqttSettings
from heelraise.protocol import validation
from heelraise.service.assemble import build_service
from heelraise.service.config import parse_config
from heelraise.service.health import REASON_TEXT

DEVICE = "health-shoe"
BASE = f"heelraise/{DEVICE}"


def frozen_for(clock, seconds, at_s):
    """A still sim shoe whose ADC freezes for ``seconds`` at clock ``at_s``."""
    imu = SimImu(
        StillMotion(duration_s=30.0), clock=clock, sleep=clock.sleep, stuck_after_s=STUCK_AFTER_S
    )
    real_read = imu.read
    frozen = []

    def read():
        if clock() >= at_s and not frozen:
            frozen.append(True)
            imu.emulator.freeze(seconds)
        return real_read()

    imu.read = read
    return imu


def test_a_frozen_sensor_is_published_unhealthy_then_healthy(
    mqtt_broker, mqtt_subscriber, tmp_path
):
    rec = mqtt_subscriber(mqtt_broker, f"{BASE}/#")
    rec.subscribed.wait(10)
    pub = MqttPublisher(
        MqttSettings(
            host=mqtt_broker.host,
            port=mqtt_broker.port,
            outbox_path=str(tmp_path / "outbox.sqlite"),
            reconnect_min_s=0.05,
            reconnect_max_s=0.3,
            close_timeout_s=20.0,
        ),
        device_id=DEVICE,
        session_id="sess-h",
    )
    wait_until(pub.connected.is_set, 10, what="the publisher connected")
    clock = ManualClock(1000.0)
    service = build_service(
        parse_config(""),
        imu=frozen_for(clock, 10.0, 1005.0),
        sinks=[pub],
        clock=clock,
        sleep=clock.sleep,
        stop_when_exhausted=True,
    )
    service.run()  # closes the publisher: drains the outbox first
    sessions = rec.wait_for(lambda ms: [m for m in ms if m.topic == f"{BASE}/event/session"], 20)
    bodies = [m.json() for m in rec.on(f"{BASE}/health")]
    for body in bodies:
        validation.validate("health", body)  # what is sent is what the schema accepts
    flags = [b["health"]["healthy"] for b in bodies]
    # healthy at the start, unhealthy while frozen, healthy again after (changes only)
    assert [f for i, f in enumerate(flags) if i == 0 or f != flags[i - 1]] == [True, False, True]
    sick = next(b["health"] for b in bodies if not b["health"]["healthy"])
    assert sick["reason"] == REASON_TEXT["stuck"]
    last = bodies[-1]["health"]
    assert last["healthy"] is True and last["reason"] is None
    assert last["gaps"] == 1 and last["last_gap"]["kind"] == "stuck"
    assert 8.5 <= last["gap_s"] <= 10.3
    assert last["last_gap"]["end_s"] - last["last_gap"]["start_s"] == pytest.approx(
        last["gap_s"], abs=0.002
    )
    summary = sessions[0].json()["summary"]
    assert summary["gaps"] == 1 and summary["gap_s"] == last["gap_s"]
    state = rec.on(f"{BASE}/state")[-1].json()["state"]
    assert state["gaps"] == 1 and state["gap_s"] == last["gap_s"]
    # retained: a dashboard that connects later still learns it
    late = mqtt_subscriber(mqtt_broker, f"{BASE}/health")
    (kept,) = late.wait_for(lambda ms: ms, 10, "the retained health")
    assert kept.retain and kept.json()["health"] == last


def test_the_health_schema_refuses_a_bad_message():
    from heelraise.protocol import payloads

    env = payloads.Envelope("shoe-1", "s1", wall_clock=lambda: 0.0)
    good = payloads.health_payload(
        env,
        {
            "healthy": False,
            "reason": "sensor stuck",
            "gaps": 2,
            "gap_s": 1.5,
            "last_gap": {"kind": "stuck", "start_s": 3.0, "end_s": 4.0},
        },
        4.0,
    )
    validation.validate("health", good)
    for path, value in [
        (("healthy",), "no"),
        (("gaps",), -1),
        (("gap_s",), 1e12),
        (("last_gap", "kind"), ""),
        (("reason",), "x" * 201),
    ]:
        bad = payloads.json.loads(payloads.encode(good))
        target = bad["health"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(PayloadInvalid):
            validation.validate("health", bad)
    extra = payloads.json.loads(payloads.encode(good))
    extra["health"]["surprise"] = 1
    with pytest.raises(PayloadInvalid):
        validation.validate("health", extra)
