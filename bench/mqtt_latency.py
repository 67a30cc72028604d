"""MQTT latency and outbox throughput on loopback, with a real mosquitto. Prints figures.

1. True rep end to ``event/rep`` at a subscriber: the whole service in real time
   (``bench/service_latency.py --mqtt``: the simulated shoe through the MPU-6050 emulator
   and the FIFO driver at 1 kHz, 20 ms reads, the real Analyzer and coach, the MQTT
   publisher with its SQLite outbox as ``heelraise run`` has it), a paho subscriber on
   loopback timing each ``event/rep`` on the same clock; ``--repeats`` sessions of
   ``--session-reps`` brisk reps run as concurrent processes. p50 / p90 / p99 / max.
   Target: p99 <= 70 ms.
2. Delivery alone: ``on_event`` to the subscriber's ``on_message`` in a loop that sleeps
   20 ms between events (the loop thread's own cost of ``on_event`` too).
3. Outbox throughput: events per second written (``on_event``, i.e. persisted)
   and events per second acknowledged by the broker and received.

    python bench/mqtt_latency.py [--repeats 3] [--session-reps 170] [--reps 200] [--burst 2000]
"""

from __future__ import annotations

import os

from heelraise.cli import BLAS_THREADS

# One BLAS thread, as the ``heelraise`` command sets for itself before numpy is imported
# (see bench/service_latency.py).
for _key, _value in BLAS_THREADS.items():
    os.environ.setdefault(_key, _value)

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from brokers import start_mosquitto  # noqa: E402
from heelraise.mqtt.publisher import MqttPublisher  # noqa: E402
from heelraise.mqtt.settings import MqttSettings  # noqa: E402
from heelraise.mqtt.testing import fake_set  # noqa: E402
from service_latency import TARGET_MQTT_MS, _repeat  # noqa: E402


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


def service_latency(port: int, repeats: int, reps: int) -> None:
    """Part 1: the service in real time, ``repeats`` sessions at once, to the subscriber."""
    args = argparse.Namespace(
        reads_ms=20.0, fs_hz=1000.0, speed=1.0, reps=reps, guided=False, pair=False
    )
    with ProcessPoolExecutor(max_workers=repeats) as pool:
        results = list(pool.map(_repeat, [(seed, args, port) for seed in range(repeats)]))
    shoes = [r[None] for r in results]
    total = sum(x["total"] for x in shoes)
    missed = sum(x["missed"] for x in shoes)
    print(
        f"the service in real time, {repeats} sessions at once, {total} true reps "
        f"({missed} not detected), 1 kHz, 20 ms reads:"
    )
    for name, key in (
        ("rep end -> RepEvent", "event"),
        ("rep end -> event/rep at the subscriber", "subscriber"),
        ("  of which: event returned -> subscriber (outbox, mosquitto)", "sub_deliver"),
    ):
        xs = sum((x[key] for x in shoes), [])
        if not xs:
            print(f"  {name}: none arrived")
            continue
        p50, p90, p99 = (pct(xs, q) for q in (50, 90, 99))
        print(
            f"  {name}: n={len(xs)} p50 {p50:.0f} ms, p90 {p90:.0f} ms, p99 {p99:.0f} ms, "
            f"max {max(xs) * 1000:.0f} ms"
        )
    xs = sum((x["subscriber"] for x in shoes), [])
    arrived = len(xs)
    print(f"  event/rep arrived for {arrived} of {total - missed} detected reps")
    if xs:
        worst = pct(xs, 99)
        print(
            f"  rep end -> subscriber p99 {worst:.0f} ms "
            f"{'meets' if worst <= TARGET_MQTT_MS else 'MISSES'} the {TARGET_MQTT_MS:g} ms "
            "target"
        )
    each = ", ".join(f"{pct(x['subscriber'], 99):.0f}" for x in shoes if x["subscriber"])
    print(f"  p99 of each session: {each} ms")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3, help="service sessions run at once")
    ap.add_argument("--session-reps", type=int, default=170, help="reps per service session")
    ap.add_argument("--reps", type=int, default=200, help="events for the delivery alone")
    ap.add_argument("--burst", type=int, default=2000, help="events for the throughput")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        broker, port = start_mosquitto(tmp)
        try:
            service_latency(port, a.repeats, a.session_reps)
            watcher = Watcher(port, "heelraise/bench/event/#")
            settings = MqttSettings(
                host="127.0.0.1", port=port, outbox_path=str(tmp / "outbox.sqlite")
            )
            pub = MqttPublisher(settings, device_id="bench", session_id="b")
            pub.connected.wait(10)

            # 2. delivery alone, in a loop that publishes every 20 ms
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
            print(f"delivery alone: {len(delivery)}/{a.reps} delivered")
            print(
                f"  on_event (loop thread cost): p50 {pct(on_event_s, 50):.2f} ms, "
                f"p99 {pct(on_event_s, 99):.2f} ms, max {max(on_event_s) * 1000:.2f} ms"
            )
            p50, p90, p99 = (pct(delivery, q) for q in (50, 90, 99))
            print(
                f"  on_event -> subscriber: p50 {p50:.1f} ms, p90 {p90:.1f} ms, "
                f"p99 {p99:.1f} ms, max {max(delivery) * 1000:.1f} ms"
            )

            # 3. outbox throughput
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
