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
    batching  = clock when the analyzer returned the event - that read (it gathers
                reads until they span ``batch_s``, never while a rep is being decided)
    delivery  = sink / buzzer clock - that return (the service's own part)

Sessions of one long set at a brisk tempo (about 3.5 s a rep) give ``--reps`` reps per
repeat; p50 / p90 / p99 / max over all repeats, and each repeat's p99. Target: p99 <= 60 ms.
``--guided`` runs the metronome at the session's tempo, so feedback often arrives while a
metronome cue is sounding (and cuts it).

    python bench/service_latency.py [--repeats 3] [--reps 170] [--speed 10] [--reads-ms 20]
                                    [--guided]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from gpiozero.pins.mock import MockFactory, MockPWMPin
from heelraise.clock import ScaledClock
from heelraise.cues.coach import Coach
from heelraise.cues.testing import mock_pins_follow
from heelraise.imu.sim import SimImu
from heelraise.service.assemble import build_service
from heelraise.service.config import parse_config

TARGET_MS = 60.0
TEMPO = "2-0-1-0"
FEEDBACK = ("rep_ok", "rep_fault")


def on_edges(pin) -> np.ndarray:
    """Clock times at which a mock pin went from silent to sounding (its whole history)."""
    deltas = [st.timestamp for st in pin.states]
    states = [float(st.state) for st in pin.states]
    # each state's delta is from the previous change; the last change is at pin._last_change
    times = pin._last_change - (np.sum(deltas) - np.cumsum(deltas))
    return np.array(
        [t for t, a, b in zip(times[1:], states, states[1:], strict=False) if a == 0 and b > 0]
    )


class StampingSink:
    def __init__(self, clock):
        self.clock = clock
        self.reps = []  # (clock at delivery, Rep, t_s, id(event))

    def on_event(self, event):
        if event.kind == "rep":
            self.reps.append((self.clock(), event.rep, event.t_s, id(event)))

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
        analyzer.update = self

    def __call__(self, t_s, acc_g, gyr_dps):
        now = self.clock()
        self.reads.append((now, float(t_s[-1])))
        events = self.update(t_s, acc_g, gyr_dps)
        for e in events:
            self.handed[id(e)] = now
        return events

    def read_of(self, t_s: float) -> float:
        """Clock of the first read whose samples reached ``t_s``."""
        return next(now for now, last in self.reads if last >= t_s - 1e-9)


def one_session(seed, read_s, fs_hz, speed, reps, guided=False):
    clock = ScaledClock(speed)
    with mock_pins_follow(clock):
        return _session(clock, seed, read_s, fs_hz, reps, guided)


def _session(clock, seed, read_s, fs_hz, reps, guided):
    config = parse_config(f'[tempo]\ntarget = "{TEMPO}"\nmode = "guided"\n' if guided else "")
    imu = SimImu(
        fs_hz=fs_hz,
        clock=clock,
        sleep=clock.sleep,
        seed=seed,
        session_options={
            "sets": 1,
            "reps": reps,
            "tempo": TEMPO,
            "walking": False,
            "distractors": False,
        },  # fmt: skip
    )
    factory = MockFactory(pin_class=MockPWMPin)
    coach = Coach(config.pins.pin_map(), config.cues, pin_factory=factory, clock=clock)
    coach.player.history = []  # every start (the player keeps only the last HISTORY_LEN)
    sink = StampingSink(clock)
    service = build_service(
        config,
        imu=imu,
        coach=coach,
        sinks=[sink],
        clock=clock,
        sleep=clock.sleep,
        read_interval_s=read_s,
        stop_when_exhausted=True,
    )
    stamps = Stamps(service.analyzer, clock)
    service.run()
    t0 = imu._t0
    truth = imu.session.truth["reps"]
    buzz_on = on_edges(factory.pin(config.pins.pin_map().buzzer))
    feedback_starts = np.array([t for t, name in coach.player.history if name in FEEDBACK])
    ev, cue, decide, read, batch, deliver, cue_deliver = [], [], [], [], [], [], []
    missed = uncued = other_first = 0
    for r in truth:
        end_clock = t0 + r["end_s"]
        # the detected rep whose start is nearest the truth start (same rep)
        best = min(sink.reps, key=lambda x: abs(x[1].start_s - (t0 + r["start_s"])), default=None)
        if best is None or abs(best[1].start_s - (t0 + r["start_s"])) > 1.0:
            missed += 1
            continue
        delivered, _, decided_t_s, key = best
        handed = stamps.handed.get(key, delivered)  # reps closed at shutdown: no update
        read_clock = min(stamps.read_of(decided_t_s), handed)
        ev.append(delivered - end_clock)
        decide.append(decided_t_s - end_clock)  # sensor time of the deciding sample
        read.append(read_clock - decided_t_s)  # FIFO + read period
        batch.append(handed - read_clock)  # the analyzer gathering reads (batch_s)
        deliver.append(delivered - handed)  # the service: coach first, then the sinks
        # this rep's feedback: the first one the coach started once the event was handed out
        own = feedback_starts[feedback_starts >= handed - 1e-9]
        if not len(own) or own[0] > delivered + 1e-9:
            uncued += 1
            continue
        # its on-edge (before the true end when the chain decides early: a negative latency)
        edge = buzz_on[buzz_on >= own[0] - 1e-9]
        if not len(edge):
            uncued += 1
            continue
        if np.any((buzz_on >= end_clock) & (buzz_on < edge[0] - 1e-9)):
            other_first += 1  # another pattern's edge came first (a metronome cue, trouble)
        cue.append(edge[0] - end_clock)
        cue_deliver.append(edge[0] - handed)
    parts = {"decide": decide, "read": read, "batch": batch, "deliver": deliver}
    return ev, cue, parts, cue_deliver, (missed, uncued, other_first), len(truth)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--reps", type=int, default=170, help="reps per repeat (one session)")
    p.add_argument("--speed", type=float, default=10.0, help="wall clock scaled this much")
    p.add_argument("--reads-ms", type=float, default=20.0)
    p.add_argument("--fs-hz", type=float, default=1000.0)
    p.add_argument("--guided", action="store_true", help=f"metronome on at {TEMPO}")
    args = p.parse_args()
    ev, cue, cue_deliver, total = [], [], [], 0
    missed = uncued = other_first = 0
    parts = {"decide": [], "read": [], "batch": [], "deliver": []}
    per_repeat = []
    wall = time.perf_counter()
    for seed in range(args.repeats):
        e, c, ps, cd, (m, u, o), n = one_session(
            seed, args.reads_ms / 1000.0, args.fs_hz, args.speed, args.reps, args.guided
        )
        per_repeat.append((np.percentile(1000 * np.asarray(e), 99),
                           np.percentile(1000 * np.asarray(c), 99)))  # fmt: skip
        ev += e
        cue += c
        cue_deliver += cd
        for k in parts:
            parts[k] += ps[k]
        missed += m
        uncued += u
        other_first += o
        total += n
    wall = time.perf_counter() - wall
    print(
        f"service latency on the wall clock x{args.speed:g}: {args.repeats} repeats, {total} "
        f"true reps ({missed} not detected, {uncued} detected but not cued), "
        f"{'guided at ' + TEMPO if args.guided else 'free'} mode, "
        f"{args.fs_hz:g} Hz, {args.reads_ms:g} ms reads, "
        f"analyzer batch_s {parse_config('').analyzer_settings().batch_s:g} s "
        f"[{wall:.0f} s to run]"
    )
    rows = (
        ("rep end -> RepEvent", ev),
        ("rep end -> buzzer on-edge of its feedback (mock pin)", cue),
        ("  of which: analyzer decision (rep end -> deciding sample)", parts["decide"]),
        ("  of which: read (FIFO, read period: sample -> read)", parts["read"]),
        ("  of which: analyzer batching (read -> event returned)", parts["batch"]),
        ("  of which: service delivery (event returned -> sink)", parts["deliver"]),
        ("  service delivery (event returned -> buzzer on-edge)", cue_deliver),
    )
    for name, xs in rows:
        ms = 1000.0 * np.asarray(xs)
        if len(ms) == 0:
            print(f"  {name} no samples")
            continue
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        print(
            f"  {name}\n      n={len(ms):<4} p50 {p50:4.0f} ms  p90 {p90:4.0f} ms  "
            f"p99 {p99:4.0f} ms  max {ms.max():4.0f} ms"
        )
    print(f"  reps whose first on-edge after their end was another pattern's: {other_first}")
    print("  p99 of each repeat, event / cue: "
          + ", ".join(f"{a:.0f} / {b:.0f} ms" for a, b in per_repeat))  # fmt: skip
    for name, xs in rows[:2]:
        ms = 1000.0 * np.asarray(xs)
        if len(ms):
            worst = np.percentile(ms, 99)
            verdict = "meets" if worst <= TARGET_MS else "MISSES"
            print(f"  {name}: p99 {worst:.0f} ms {verdict} the {TARGET_MS:g} ms target")


if __name__ == "__main__":
    main()
