"""Latency from the end of a rep (simulator truth) to its event and to its feedback cue, on
the wall clock.

The whole service runs on a wall clock scaled ``--speed`` times (``ScaledClock``, the clock
``heelraise run --speed`` uses): the simulated shoe is played through the MPU-6050 register
emulator (its FIFO fills as the clock runs) and the real FIFO driver at 1 kHz (``SimImu``),
the loop reads every 20 ms of that clock, the real Analyzer decides, the real Coach drives
gpiozero MockFactory pins. Compute and bus time are real and count ``--speed`` times over:
at 10x on this machine (about 10x a Pi Zero 2 W's speed per core) they take about the share
of sensor time they take on the Pi. A rep's truth ``end_s`` (motion time) is the clock
instant its last sample was produced, so

    event latency = clock when the sink got the RepEvent - (t0 + truth end_s)
    cue latency   = the buzzer pin's on-edge that starts the rep's own feedback
                    - (t0 + truth end_s)

The cue is read from the buzzer's MockFactory pin history (``pin.states``, timed by the same
clock through ``mock_pins_follow``), not from the coach's own account; an on-edge after the
true end that belongs to another pattern (a metronome cue, sensor trouble) and comes before
the feedback's is counted; a rep whose feedback never sounded is counted as uncued. Like the
event, the cue can come before the true end (negative), when the chain calls the stop early.

split into
    decision  = RepEvent.t_s (the deciding sample's time) - (t0 + truth end_s)
    read      = clock at the read that brought that sample - RepEvent.t_s (FIFO, read period)
    chain     = clock when the analyzer returned the event - that read: its gathering reads
                until they span ``batch_s`` (never while a rep is being decided) and its
                compute of the read that decides
    delivery  = sink / buzzer clock - that return (the service's own part)

Sessions of one long set at a brisk tempo (about 3.5 s a rep) give ``--reps`` reps per
repeat; p50 / p90 / p99 / max over all repeats, and each repeat's p99. Target: p99 <= 60 ms.
``--guided`` runs the metronome at the session's tempo, so feedback often arrives while a
metronome cue is sounding (and cuts it). ``--pair``: two shoes, left and right, each its own
simulated sensor (own seed, biases, oscillator error) doing its own set at the same time, one
chain each in one loop; the figures are given per side and together (the right shoe's
feedback is its own pattern, ``rep_ok_right`` / ``rep_fault_right``).

The default is real time (``--speed 1``, what a user runs): the repeats then run as
concurrent processes (``--jobs``, default one per repeat), each using a few per cent of a
core, so they do not slow each other down; ``--speed 5`` or more counts the loop's compute
that many times over (a slower machine's); ``--speed 0`` runs on a ManualClock, as fast as
the CPU allows, where compute and bus take no time: the loop's schedule alone, deterministic.

    python bench/service_latency.py [--repeats 3] [--reps 170] [--speed 1] [--reads-ms 20]
                                    [--guided] [--pair] [--jobs N]
"""

from __future__ import annotations

import os

from heelraise.cli import BLAS_THREADS

# One BLAS thread, as the ``heelraise`` command sets for itself before numpy is imported:
# without it the deciding read's lever-arm fit (numpy.linalg.lstsq) spins a thread per core
# (p50 98 instead of 29 ms on this machine under load), a cost ``heelraise run`` never has.
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
from gpiozero.pins.mock import MockFactory, MockPWMPin  # noqa: E402
from heelraise.clock import ManualClock, ScaledClock  # noqa: E402
from heelraise.cues.coach import Coach  # noqa: E402
from heelraise.cues.testing import mock_pins_follow  # noqa: E402
from heelraise.imu.sim import SimImu  # noqa: E402
from heelraise.mqtt.publisher import MqttPublisher  # noqa: E402
from heelraise.mqtt.settings import MqttSettings  # noqa: E402
from heelraise.service.assemble import build_service  # noqa: E402
from heelraise.service.config import parse_config  # noqa: E402
from heelraise.sim import simulate_session  # noqa: E402

TARGET_MS = 60.0
TARGET_MQTT_MS = 70.0  # rep end to event/rep at a subscriber on loopback
TEMPO = "2-0-1-0"
FEEDBACK = ("rep_ok", "rep_fault")


#: A sound shorter than this is not heard: when both shoes' reps are handed out at one read,
#: the first one's feedback is switched on and cut at the same instant (it plays again after
#: the other's, cues/player.py); that on-edge is not its cue.
HEARD_S = 0.001


def on_edges(pin) -> np.ndarray:
    """Clock times at which a mock pin went from silent to sounding for at least HEARD_S
    (its whole history)."""
    deltas = [st.timestamp for st in pin.states]
    states = [float(st.state) for st in pin.states]
    # each state's delta is from the previous change; the last change is at pin._last_change
    times = pin._last_change - (np.sum(deltas) - np.cumsum(deltas))
    ends = list(times[2:]) + [np.inf]  # when each state after the first gave way
    return np.array(
        [
            t
            for t, a, b, end in zip(times[1:], states, states[1:], ends, strict=False)
            if a == 0 and b > 0 and end - t >= HEARD_S
        ]
    )


class StampingSink:
    def __init__(self, clock):
        self.clock = clock
        self.reps = []  # (clock at delivery, Rep, t_s, id(event), side)

    def on_event(self, event):
        if event.kind == "rep":
            self.reps.append((self.clock(), event.rep, event.t_s, id(event), event.side))

    def on_state(self, state):
        pass

    def on_live(self, t_s, pitch_deg, phase):
        pass

    def on_health(self, health):
        pass

    def close(self):
        pass


class Stamps:
    """Wraps ``analyzer.update``: the clock of every read fed in and of every event returned."""

    def __init__(self, analyzer, clock):
        self.update = analyzer.update
        self.clock = clock
        self.reads: list[tuple[float, float]] = []  # (clock, last sample t_s)
        self.handed: dict[int, float] = {}  # id(event) -> clock when returned
        self._alive: list = []  # the events themselves, so no id is reused by a later one
        self.deciding_cpu: list[float] = []  # s of this thread's CPU (the machine's load aside)
        analyzer.update = self

    def __call__(self, t_s, acc_g, gyr_dps):
        self.reads.append((self.clock(), float(t_s[-1])))
        cpu0 = time.thread_time()
        events = self.update(t_s, acc_g, gyr_dps)
        if events:
            if any(e.kind == "rep" for e in events):  # the CPU of the read that decides a rep
                self.deciding_cpu.append(time.thread_time() - cpu0)
            done = self.clock()  # after the chain's own compute
            for e in events:
                self.handed[id(e)] = done
                self._alive.append(e)
        return events

    def read_of(self, t_s: float) -> float:
        """Clock of the first read whose samples reached ``t_s``."""
        return next(now for now, last in self.reads if last >= t_s - 1e-9)


SIDES = ("left", "right")


class Subscriber:
    """A paho client subscribed to a device's ``event/rep``: the clock at each arrival, by
    (side, set, rep index)."""

    def __init__(self, port: int, device_id: str, clock):
        import paho.mqtt.client as mqtt

        self.clock = clock
        self.arrivals: dict[tuple, float] = {}
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        topic = f"{MqttSettings().prefix}/{device_id}/event/rep"
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, 1)
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = self._msg
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        if not self.ready.wait(10):
            raise RuntimeError(f"no subscription to {topic} on port {port}")

    def _msg(self, c, u, msg):
        d = json.loads(msg.payload)
        self.arrivals.setdefault((d["side"], d["rep"]["set"], d["rep"]["index"]), self.clock())

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def one_session(seed, read_s, fs_hz, speed, reps, guided=False, pair=False, mqtt_port=None):
    """One repeat; with ``mqtt_port`` (a broker on loopback) the service publishes over MQTT
    with its outbox, as ``heelraise run`` does, and a subscriber times ``event/rep``."""
    # --speed 0: a ManualClock (the loop's schedule alone: no compute or bus time counted)
    clock = ManualClock(1000.0) if speed == 0 else ScaledClock(speed)
    with mock_pins_follow(clock), tempfile.TemporaryDirectory() as tmp:
        mqtt = None
        if mqtt_port is not None:
            device = f"latency{seed}"
            settings = MqttSettings(
                host="127.0.0.1", port=mqtt_port, outbox_path=str(Path(tmp) / "outbox.sqlite")
            )
            mqtt = (
                MqttPublisher(settings, device_id=device, session_id=f"s{seed}"),
                Subscriber(mqtt_port, device, clock),
            )
            mqtt[0].connected.wait(10)
        try:
            return _session(clock, seed, read_s, fs_hz, reps, guided, pair, mqtt)
        finally:
            if mqtt is not None:  # the service closed its sinks, the publisher with them
                mqtt[1].close()


def _imu(clock, fs_hz, seed, reps, rate_error):
    """A simulated shoe whose session is simulated here, before any sensor is opened: made in
    ``SimImu.open`` instead, the second shoe's simulation (seconds for 170 reps) ran while the
    first shoe's emulated clock was already going, so that shoe's standing start (where
    neutral is taken) was never read and its chain counted nothing in some repeats (the left
    shoe's 327 of 510 reps lost; ``heelraise run`` simulates a pair before opening too)."""
    session = simulate_session(
        seed=seed, rate_hz=fs_hz, sets=1, reps=reps, tempo=TEMPO, walking=False,
        distractors=False,
    )  # fmt: skip
    imu = SimImu(
        session.motion, fs_hz=fs_hz, clock=clock, sleep=clock.sleep, seed=seed,
        rate_error=rate_error,
    )  # fmt: skip
    imu.session = session  # the truth the latencies are measured against
    return imu


def _session(clock, seed, read_s, fs_hz, reps, guided, pair, mqtt):
    config = parse_config(f'[tempo]\ntarget = "{TEMPO}"\nmode = "guided"\n' if guided else "")
    if pair:  # two sensors, each its own seed and oscillator error
        imus = [
            (side, _imu(clock, fs_hz, 2 * seed + k, reps, (0.002, -0.0015)[k]))
            for k, side in enumerate(SIDES)
        ]
    else:
        imus = [(None, _imu(clock, fs_hz, seed, reps, 0.002))]
    factory = MockFactory(pin_class=MockPWMPin)
    coach = Coach(config.pins.pin_map(), config.cues, pin_factory=factory, clock=clock)
    coach.player.history = []  # every start (the player keeps only the last HISTORY_LEN)
    sink = StampingSink(clock)
    service = build_service(
        config,
        imus=imus,
        coach=coach,
        sinks=[sink] if mqtt is None else [sink, mqtt[0]],
        clock=clock,
        sleep=clock.sleep,
        read_interval_s=read_s,
        stop_when_exhausted=True,
    )
    stamps = {shoe.side: Stamps(shoe.analyzer, clock) for shoe in service.shoes}
    service.run()
    arrivals = {}
    if mqtt is not None:  # wait for the outbox to drain to the subscriber
        deadline = time.monotonic() + 20
        while len(mqtt[1].arrivals) < len(sink.reps) and time.monotonic() < deadline:
            time.sleep(0.05)
        arrivals = dict(mqtt[1].arrivals)
    buzz_on = on_edges(factory.pin(config.pins.pin_map().buzzer))
    out = {}
    for side, imu in imus:
        names = FEEDBACK if side in (None, "left") else tuple(f + "_right" for f in FEEDBACK)
        feedback = np.array([t for t, name in coach.player.history if name in names])
        starts = np.array([t for t, _ in coach.player.history])  # every pattern's start
        mine = [x for x in sink.reps if x[4] == side]
        got = {id(x[1]): arrivals.get((side, x[1].set, x[1].index)) for x in mine}
        out[side] = _latencies(imu, mine, stamps[side], feedback, starts, buzz_on, got)
    return out


def _latencies(imu, reps, stamps, feedback_starts, starts, buzz_on, arrivals):
    """One shoe's latencies: its truth against the events and cues it got. A rep's cue is
    the first heard on-edge while its own feedback plays (from one of its starts to the
    next pattern's start): cut unheard by the other shoe's, it is the one played again."""
    t0 = imu._t0
    truth = imu.session.truth["reps"]
    ev, cue, decide, read, batch, deliver, cue_deliver = [], [], [], [], [], [], []
    sub, sub_deliver = [], []
    missed = uncued = other_first = 0
    for r in truth:
        end_clock = t0 + r["end_s"]
        # the detected rep whose start is nearest the truth start (same rep)
        best = min(reps, key=lambda x: abs(x[1].start_s - (t0 + r["start_s"])), default=None)
        if best is None or abs(best[1].start_s - (t0 + r["start_s"])) > 1.0:
            missed += 1
            continue
        delivered, _, decided_t_s, key, _ = best
        handed = stamps.handed.get(key, delivered)  # reps closed at shutdown: no update
        read_clock = min(stamps.read_of(decided_t_s), handed)
        ev.append(delivered - end_clock)
        decide.append(decided_t_s - end_clock)  # sensor time of the deciding sample
        read.append(read_clock - decided_t_s)  # FIFO + read period
        batch.append(handed - read_clock)  # the analyzer: batch_s, then its compute
        deliver.append(delivered - handed)  # the service: coach first, then the sinks
        arrived = arrivals.get(id(best[1]))
        if arrived is not None:  # event/rep at the subscriber (with --mqtt)
            sub.append(arrived - end_clock)
            sub_deliver.append(arrived - handed)
        # this rep's feedback: the first one the coach started once the event was handed out
        own = feedback_starts[feedback_starts >= handed - 1e-9]
        if not len(own) or own[0] > delivered + 1e-9:
            uncued += 1
            continue
        # its on-edge (before the true end when the chain decides early: a negative latency),
        # in the first of its plays that was heard (the rep's next ones: played again)
        edge = []
        for start in own[own < delivered + 1.0]:
            until = starts[starts > start + 1e-9]
            until = until[0] if len(until) else np.inf
            edge = buzz_on[(buzz_on >= start - 1e-9) & (buzz_on < until - 1e-9)]
            if len(edge):
                break
        if not len(edge):
            uncued += 1
            continue
        if np.any((buzz_on >= end_clock) & (buzz_on < edge[0] - 1e-9)):
            other_first += 1  # another pattern's edge came first (a metronome cue, trouble)
        cue.append(edge[0] - end_clock)
        cue_deliver.append(edge[0] - handed)
    return {
        "event": ev,
        "cue": cue,
        "decide": decide,
        "read": read,
        "batch": batch,
        "deliver": deliver,
        "cue_deliver": cue_deliver,
        "deciding_cpu": list(stamps.deciding_cpu),
        "subscriber": sub,
        "sub_deliver": sub_deliver,
        "missed": missed,
        "uncued": uncued,
        "other_first": other_first,
        "total": len(truth),
    }


def _repeat(job):
    seed, args, port = job
    return one_session(
        seed,
        args.reads_ms / 1000.0,
        args.fs_hz,
        args.speed,
        args.reps,
        args.guided,
        args.pair,
        port,
    )


ROWS = (
    ("rep end -> RepEvent", "event"),
    ("rep end -> buzzer on-edge of its feedback (mock pin)", "cue"),
    ("  of which: analyzer decision (rep end -> deciding sample)", "decide"),
    ("  of which: read (FIFO, read period: sample -> read)", "read"),
    ("  of which: analyzer batching and compute (read -> event returned)", "batch"),
    ("  of which: service delivery (event returned -> sink)", "deliver"),
    ("  service delivery (event returned -> buzzer on-edge)", "cue_deliver"),
    (
        "  the deciding read's CPU (the chain's thread time; a Pi Zero 2 W: about 10x)",
        "deciding_cpu",
    ),
    ("rep end -> event/rep at a subscriber on loopback (--mqtt)", "subscriber"),
    ("  of which: event returned -> subscriber (outbox, mosquitto)", "sub_deliver"),
)
COUNTS = ("missed", "uncued", "other_first", "total")


def _p99(xs) -> float:
    return float(np.percentile(1000.0 * np.asarray(xs), 99)) if len(xs) else float("nan")


def _report(title, results):
    """Print one table over ``results`` (one dict per repeat and side)."""
    got = {k: sum((r[k] for r in results), []) for _, k in ROWS}
    n = {k: sum(r[k] for r in results) for k in COUNTS}
    print(
        f"{title}: {n['total']} true reps ({n['missed']} not detected, {n['uncued']} detected "
        f"but not cued)"
    )
    for name, key in ROWS:
        ms = 1000.0 * np.asarray(got[key])
        if len(ms) == 0:
            if key not in ("subscriber", "sub_deliver"):
                print(f"  {name} no samples")
            continue
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        f = ".1f" if key == "deciding_cpu" else ".0f"  # a few ms: to 0.1 ms
        print(
            f"  {name}\n      n={len(ms):<4} p50 {p50:4{f}} ms  p90 {p90:4{f}} ms  "
            f"p99 {p99:4{f}} ms  max {ms.max():4{f}} ms"
        )
    print(f"  reps whose first on-edge after their end was another pattern's: {n['other_first']}")
    for name, key, target in ((*ROWS[0], TARGET_MS), (*ROWS[1], TARGET_MS),
                              (*ROWS[8], TARGET_MQTT_MS)):  # fmt: skip
        if got[key]:
            worst = _p99(got[key])
            verdict = "meets" if worst <= target else "MISSES"
            print(f"  {name}: p99 {worst:.0f} ms {verdict} the {target:g} ms target")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--reps", type=int, default=170, help="reps per repeat (one session)")
    p.add_argument(
        "--speed", type=float, default=1.0,
        help="wall clock scaled this much; 0: a ManualClock (the schedule alone, no compute)",
    )  # fmt: skip
    p.add_argument("--reads-ms", type=float, default=20.0)
    p.add_argument("--fs-hz", type=float, default=1000.0)
    p.add_argument("--guided", action="store_true", help=f"metronome on at {TEMPO}")
    p.add_argument("--pair", action="store_true", help="two shoes, left and right, at once")
    p.add_argument("--jobs", type=int, default=None, help="repeats at once (default: all)")
    p.add_argument(
        "--mqtt", action="store_true", help="publish over MQTT to a mosquitto on loopback too"
    )
    args = p.parse_args()
    jobs = args.jobs or args.repeats
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        broker = port = None
        if args.mqtt:
            from brokers import start_mosquitto

            broker, port = start_mosquitto(Path(tmp))
        try:
            work = [(seed, args, port) for seed in range(args.repeats)]
            if jobs > 1:
                with ProcessPoolExecutor(max_workers=jobs) as pool:
                    repeats = list(pool.map(_repeat, work))
            else:
                repeats = [_repeat(w) for w in work]
        finally:
            if broker is not None:
                broker.kill()
                broker.wait()
    wall = time.perf_counter() - wall
    print(
        f"service latency {'on a ManualClock' if args.speed == 0 else 'on the wall clock'} "
        f"x{args.speed:g}: {args.repeats} repeats "
        f"({jobs} at a time), {'two shoes' if args.pair else 'one shoe'}, "
        f"{'guided at ' + TEMPO if args.guided else 'free'} mode, "
        f"{args.fs_hz:g} Hz, {args.reads_ms:g} ms reads, "
        f"analyzer batch_s {parse_config('').analyzer_settings().batch_s:g} s "
        f"[{wall:.0f} s to run]"
    )
    sides = list(repeats[0])
    if len(sides) > 1:
        for side in sides:
            _report(f"{side} shoe", [r[side] for r in repeats])
    _report("all shoes" if len(sides) > 1 else "one shoe", [r[s] for r in repeats for s in sides])
    each = []
    for r in repeats:
        ev = sum((r[s]["event"] for s in sides), [])
        cue = sum((r[s]["cue"] for s in sides), [])
        each.append(f"{_p99(ev):.0f} / {_p99(cue):.0f} ms")
    print("  p99 of each repeat, event / cue: " + ", ".join(each))


if __name__ == "__main__":
    main()
