"""The real signal chain on a simulated session, published over a real broker, read by the host.

Simulator -> Analyzer -> MqttPublisher -> mosquitto -> subscriber; every message
must pass its JSON Schema and the dashboard's own parser
(``heelraise_host.messages.parse``), and the reps the analyzer emitted must all
arrive, in order, exactly as emitted.
"""

from __future__ import annotations

import pytest
from conftest import wait_until
from heelraise.chain.analyzer import Analyzer
from heelraise.events import SessionEvent, SessionSummary
from heelraise.mqtt.publisher import MqttPublisher
from heelraise.mqtt.settings import MqttSettings
from heelraise.protocol import validation
from heelraise.settings import AnalyzerSettings
from heelraise.sim import simulate_session

BASE = "heelraise/shoe-1"


@pytest.fixture(scope="module")
def sim():
    return simulate_session(
        sets=2, reps=5, rate_hz=100.0, seed=3, rest_s=(12.0, 14.0), tempo="3-0-2-1"
    )


def run_chain(sim, sink) -> list:
    """Feed the recording in 0.5 s chunks; hand every event to ``sink`` as it is emitted."""
    analyzer = Analyzer(AnalyzerSettings(tempo="3-0-2-1"))
    emitted = []
    n = 50
    for i in range(0, len(sim.t_s), n):
        chunk = (sim.t_s[i : i + n], sim.acc_g[i : i + n], sim.gyr_dps[i : i + n])
        for e in analyzer.update(*chunk):
            sink.on_event(e)
            emitted.append((e, e.rep.to_dict() if e.kind == "rep" else None))
    for e in analyzer.finish():
        sink.on_event(e)
        emitted.append((e, e.rep.to_dict() if e.kind == "rep" else None))
    sets = [e.summary for e, _ in emitted if e.kind == "set"]
    session = SessionEvent(SessionSummary(sets=sets, sample_rate_hz=100.0), float(sim.t_s[-1]))
    sink.on_event(session)
    return emitted


def test_simulated_session_through_the_analyzer_arrives_valid(
    sim, mqtt_broker, mqtt_subscriber, tmp_path
):
    from heelraise_host.messages import parse

    rec = mqtt_subscriber(mqtt_broker, f"{BASE}/#")
    pub = MqttPublisher(
        MqttSettings(
            host=mqtt_broker.host,
            port=mqtt_broker.port,
            outbox_path=str(tmp_path / "o.sqlite"),
            reconnect_min_s=0.05,
        ),
        device_id="shoe-1",
        session_id="sim-3",
    )
    try:
        state = {"mode": "guided", "calibrated": True, "phase": "still", "set": 0}
        state.update(reps_in_set=0, rep_count=0, tempo="3-0-2-1")
        pub.on_state(state)
        emitted = run_chain(sim, pub)
        rec.wait_for(lambda ms: [m for m in ms if m.topic.endswith("event/session")], 15)
        wait_until(lambda: len(pub.outbox) == 0, 10, "outbox drained")
    finally:
        pub.close()
    rec.wait_for(lambda ms: ms[-1].payload == b"offline", what="offline")
    kinds = []
    for m in rec.messages:
        if m.topic in (f"{BASE}/last_rep", f"{BASE}/last_session"):
            # the newest rep / session again, retained, for Home Assistant
            validation.validate(m.topic.rpartition("_")[2], m.json())
            continue
        msg = parse(m.topic, m.payload, prefix="heelraise")  # the dashboard accepts it
        if msg.body is not None:
            validation.validate(msg.type, msg.body)
            kinds.append(msg.type)
    assert kinds == ["state"] + ["rep"] * 5 + ["set"] + ["rep"] * 5 + ["set", "session"]
    sent = [d for e, d in emitted if d is not None]  # each rep as it was when emitted
    assert len(sent) == len(sim.truth["reps"]) == 10  # the chain found them all
    assert all(d["bottom_hold_s"] is None for d in sent)
    got = [m.json()["rep"] for m in rec.on(f"{BASE}/event/rep")]
    assert got == sent
    (session,) = [m.json() for m in rec.on(f"{BASE}/event/session")]
    assert session["summary"]["rep_count"] == 10 and session["summary"]["set_count"] == 2
    assert session["endurance"] is None
    sets = [m.json()["set"] for m in rec.on(f"{BASE}/event/set")]
    assert [s["rep_count"] for s in sets] == [5, 5]
    assert all(r["tempo"]["text"] == "3-0-2-1" for s in sets for r in s["reps"])
