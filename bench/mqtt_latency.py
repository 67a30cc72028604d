"""MQTT latency and outbox throughput on loopback, with a real mosquitto. Prints figures.

1. Rep end to ``event/rep`` at a subscriber: the analyzer's delay (sensor time
   from the rep's true last sample, simulator truth, to the read at which the
   analyzer returned the event, fed in 20 ms reads of a simulated session; split
   into the decision, i.e. the deciding sample's time, and the batching, i.e. the
   wait for reads spanning ``batch_s``) plus the delivery delay (wall time from
   ``on_event`` to the subscriber's ``on_message``, measured on loopback with a
   reading loop that sleeps 20 ms between reads). Target: p99 <= 300 ms.
2. Outbox throughput: events per second written (``on_event``, i.e. persisted)
   and events per second acknowledged by the broker and received.

    python bench/mqtt_latency.py [--reps 200] [--burst 2000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from brokers import start_mosquitto
from heelraise.chain.analyzer import Analyzer
from heelraise.mqtt.publisher import MqttPublisher
from heelraise.mqtt.settings import MqttSettings
from heelraise.mqtt.testing import fake_set
from heelraise.settings import AnalyzerSettings
from heelraise.sim import simulate_session


class Watcher:
    def __init__(self, port: int, topic: str):
        self.arrivals: dict[str, float] = {}
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, 1)
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = self._msg
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.ready.wait(10)

    def _msg(self, c, u, msg):
        self.arrivals[json.loads(msg.payload)["id"]] = time.perf_counter()

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values), q)) * 1000.0


def analyzer_delays_s() -> tuple[list[float], list[float], int, int]:
    """Per detected rep: (deciding sample - true rep end, read returning it - deciding sample);
    and how many true reps were not matched, out of how many."""
    sim = simulate_session(sets=3, reps=10, rate_hz=100.0, seed=11, tempo="3-0-2-1")
    truth = sim.truth["reps"]
    analyzer = Analyzer(AnalyzerSettings(tempo="3-0-2-1"))
    got = []  # (rep start_s, event t_s, read time)
    n = 2  # 20 ms reads at 100 Hz
    for i in range(0, len(sim.t_s), n):
        t_read = float(sim.t_s[min(i + n, len(sim.t_s)) - 1])
        for e in analyzer.update(sim.t_s[i : i + n], sim.acc_g[i : i + n], sim.gyr_dps[i : i + n]):
            if e.kind == "rep":
                got.append((e.rep.start_s, e.t_s, max(t_read, e.t_s)))
    decide, batch, missed = [], [], 0
    for r in truth:
        best = min(got, key=lambda g: abs(g[0] - r["start_s"]), default=None)
        if best is None or abs(best[0] - r["start_s"]) > 1.0:
            missed += 1
            continue
        decide.append(best[1] - r["end_s"])
        batch.append(best[2] - best[1])
    return decide, batch, missed, len(truth)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200, help="reps for the delivery latency")
    ap.add_argument("--burst", type=int, default=2000, help="events for the throughput")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        broker, port = start_mosquitto(tmp)
        try:
            watcher = Watcher(port, "heelraise/bench/event/#")
            settings = MqttSettings(
                host="127.0.0.1", port=port, outbox_path=str(tmp / "outbox.sqlite")
            )
            pub = MqttPublisher(settings, device_id="bench", session_id="b")
            pub.connected.wait(10)

            # 1. delivery latency in a loop that reads every 20 ms
            template = fake_set(1, 1)[0]
            sent: dict[str, float] = {}
            on_event_s = []
            original = pub._env.make

            def make(type_, t):
                d = original(type_, t)
                sent[d["id"]] = time.perf_counter()
                return d

            pub._env.make = make
            for _ in range(a.reps):
                t0 = time.perf_counter()
                pub.on_event(template)
                on_event_s.append(time.perf_counter() - t0)
                time.sleep(0.02)
            deadline = time.monotonic() + 20
            while len(watcher.arrivals) < a.reps and time.monotonic() < deadline:
                time.sleep(0.01)
            delivery = [watcher.arrivals[i] - t for i, t in sent.items() if i in watcher.arrivals]
            decide, batch, missed, n_true = analyzer_delays_s()
            decision = [d + b for d, b in zip(decide, batch, strict=True)]
            # total: every analyzer delay combined with the delivery delay distribution
            total = [d + v for d in decision for v in delivery]
            print(f"reps delivered: {len(delivery)}/{a.reps}")
            print(
                f"on_event (loop thread cost): p50 {pct(on_event_s, 50):.2f} ms, "
                f"p99 {pct(on_event_s, 99):.2f} ms, max {max(on_event_s) * 1000:.2f} ms"
            )
            rows = (
                ("delivery on_event -> subscriber", delivery),
                (f"analyzer: true rep end -> deciding sample ({len(decide)} reps)", decide),
                ("analyzer: deciding sample -> read returning it (batch_s)", batch),
                ("analyzer: true rep end -> event returned", decision),
                ("rep end -> event/rep at subscriber (target p99 <= 300 ms)", total),
            )
            if missed:
                print(f"analyzer: {missed} of {n_true} true reps not detected")
            for name, xs in rows:
                p50, p90, p99 = (pct(xs, q) for q in (50, 90, 99))
                print(
                    f"{name}: p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, "
                    f"max {max(xs) * 1000:.1f} ms"
                )
            worst = pct(total, 99)
            print(
                f"rep end -> subscriber p99 {worst:.0f} ms "
                f"{'meets' if worst <= 300 else 'MISSES'} the 300 ms target"
            )

            # 2. outbox throughput
            watcher.arrivals.clear()
            pub._env.make = original
            t0 = time.perf_counter()
            for _ in range(a.burst):
                pub.on_event(template)
            t_put = time.perf_counter() - t0
            deadline = time.monotonic() + 60
            while (len(watcher.arrivals) < a.burst or len(pub.outbox)) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.005)
            t_all = time.perf_counter() - t0
            print(
                f"outbox: {a.burst} events persisted at {a.burst / t_put:.0f}/s; "
                f"published, acked and received at {len(watcher.arrivals) / t_all:.0f}/s"
            )
            pub.close()
            watcher.close()
        finally:
            broker.kill()
            broker.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
