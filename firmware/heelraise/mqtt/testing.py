"""Fakes for trying the MQTT side without a shoe: made-up reps and sets, a command handler.

>>> events = fake_set(set_index=1, reps=5)           # 5 RepEvents then a SetEvent
>>> [type(e).__name__ for e in events][-2:], len(events)
(['RepEvent', 'SetEvent'], 6)
>>> handler = FakeCommandHandler()                   # records calls, answers ok

With a broker, hand the handler to a publisher::

    pub = MqttPublisher(settings, device_id="shoe-1", session_id="s1", command_handler=handler)

Run as a program it is a stand-alone publisher that feeds fake reps (the crash
test kills it with SIGKILL mid-set)::

    python -m heelraise.mqtt.testing --host 127.0.0.1 --port 1883 \\
        --outbox /tmp/outbox.sqlite --device shoe-1 --reps 20 --interval 0.05

It prints ``stored <set> <index>`` once each rep is in the outbox.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import Future

from heelraise.events import Rep, RepEvent, SetEvent, SetSummary


def fake_rep(set_index: int, index: int, start_s: float, faults=()) -> Rep:
    """A plausible 2-1-3 s rep starting at ``start_s``."""
    return Rep(
        set=set_index,
        index=index,
        start_s=start_s,
        top_start_s=start_s + 2.0,
        top_end_s=start_s + 3.0,
        end_s=start_s + 6.0,
        peak_deg=28.0 + 0.1 * index,
        depth_deg=0.0,
        heel_rise_mm=70.0 + 0.2 * index,
        roll_deg=1.5,
        surface="floor",
        faults=list(faults),
    )


def fake_set(set_index: int = 1, reps: int = 5, t0_s: float = 0.0) -> list:
    """``reps`` RepEvents (bottom_hold_s None, as emitted) and the closing SetEvent."""
    events = []
    made = []
    for i in range(1, reps + 1):
        rep = fake_rep(set_index, i, t0_s + 7.0 * (i - 1))
        made.append(rep)
        emitted = Rep(**{**rep.__dict__, "faults": list(rep.faults)})
        events.append(RepEvent(rep=emitted, t_s=rep.end_s + 0.3))
    for a, b in zip(made, made[1:], strict=False):
        a.bottom_hold_s = b.start_s - a.end_s
    end_s = made[-1].end_s if made else t0_s
    summary = SetSummary(index=set_index, start_s=t0_s, end_s=end_s, reps=made, ended_by="pause")
    events.append(SetEvent(summary=summary, t_s=end_s + 8.0))
    return events


class FakeCommandHandler:
    """Stands in for ``Service.submit_command``: records ``(name, args)``, answers at once.

    ``answers`` maps a command name to ``(ok, reason)``; default ``(True, None)``.
    """

    def __init__(self, answers: dict | None = None):
        self.answers = dict(answers or {})
        self.calls: list[tuple[str, dict]] = []
        self.called = threading.Event()

    def __call__(self, name: str, args: dict) -> Future:
        self.calls.append((name, dict(args)))
        self.called.set()
        future: Future = Future()
        future.set_result(self.answers.get(name, (True, None)))
        return future


def main(argv=None) -> int:
    from heelraise.mqtt.publisher import MqttPublisher
    from heelraise.mqtt.settings import MqttSettings

    p = argparse.ArgumentParser(prog="python -m heelraise.mqtt.testing")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--outbox", required=True)
    p.add_argument("--device", default="shoe-1")
    p.add_argument("--session", default="s1")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--interval", type=float, default=0.05, help="seconds between reps")
    p.add_argument("--set", type=int, default=1, dest="set_index")
    p.add_argument("--linger", type=float, default=3600.0, help="seconds to stay up afterwards")
    a = p.parse_args(argv)
    settings = MqttSettings(
        host=a.host,
        port=a.port,
        outbox_path=a.outbox,
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
        keepalive=5,
    )
    pub = MqttPublisher(settings, device_id=a.device, session_id=a.session)
    print("started", flush=True)
    for event in fake_set(a.set_index, a.reps) if a.reps else []:
        pub.on_event(event)
        if isinstance(event, RepEvent):
            print(f"stored {event.rep.set} {event.rep.index}", flush=True)
        else:
            print("stored set", flush=True)
        time.sleep(a.interval)
    print("done", flush=True)
    deadline = time.monotonic() + a.linger
    while time.monotonic() < deadline:
        if sys.stdin.readline() in ("", "close\n"):
            break
    pub.close()
    print("closed", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
