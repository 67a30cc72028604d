"""The loop reads 4x as often while a shoe's chain is deciding a rep (issue 13), and two shoes'
FIFOs stalled by a slow read lose no rep and report their holes (issue 15).

The sessions are the latency bench's (``bench/service_latency.py``): one long brisk set
(2-0-1-0) at 1 kHz through the MPU-6050 register emulator and the real FIFO driver, on a
ManualClock (compute takes no clock time here, so what is measured is the loop's schedule).
"""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.clock import ManualClock
from heelraise.events import RepEvent
from heelraise.imu.sim import SimImu
from heelraise.service import runner
from heelraise.service.assemble import build_service
from heelraise.service.config import parse_config
from heelraise.service.sinks import EventSink
from heelraise.sim import simulate_session

START_S = 500.0
READ_S = runner.READ_INTERVAL_S
FAST_S = runner.DECIDING_READ_SHARE * READ_S


def brisk(seed: int, reps: int = 10):
    return simulate_session(
        seed=seed, rate_hz=1000.0, sets=1, reps=reps, tempo="2-0-1-0", walking=False,
        distractors=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def sessions():
    return brisk(0), brisk(1)


class Sink(EventSink):
    def __init__(self, clock):
        self.clock = clock
        self.reps: list[tuple[float, RepEvent]] = []  # (clock when handed out, event)
        self.gaps = []

    def on_event(self, event):
        if event.kind == "rep":
            self.reps.append((self.clock(), event))
        elif event.kind == "gap":
            self.gaps.append(event)


#: The two shoes' oscillator errors (one fast, one slow), as the latency bench's pair.
RATE_ERRORS = (0.002, -0.0015)


def sim_service(sessions, sink_cls=None, rate_errors=RATE_ERRORS):
    """The service over one simulated shoe per session (two: left and right) on a
    ManualClock from START_S, each through the register emulator and the real driver, into
    one ``sink_cls(clock)`` (default ``Sink``). Returns (clock, service, sink)."""
    clock = ManualClock(START_S)
    sides = (None,) if len(sessions) == 1 else ("left", "right")
    imus = [
        (side, SimImu(s.motion, fs_hz=1000.0, clock=clock, sleep=clock.sleep, rate_error=err))
        for side, s, err in zip(sides, sessions, rate_errors, strict=False)
    ]
    sink = (sink_cls or Sink)(clock)
    service = build_service(
        parse_config(""),
        imus=imus,
        sinks=[sink],
        clock=clock,
        sleep=clock.sleep,
        stop_when_exhausted=True,
    )
    return clock, service, sink


def run(sessions, *, stall_at=(), stall_s=0.0, compute_s=0.0, rate_errors=RATE_ERRORS):
    """The service over one shoe per session (two: left and right); the left shoe's read
    stalls ``stall_s`` at each sensor time in ``stall_at`` (a bus held by clock stretching),
    and its chain takes ``compute_s`` of clock time for each read that decides a rep.
    Returns (service, sink, reads: [(clock at the read, any shoe deciding after it)]); each
    shoe's sample stamps are in ``service.stamps[side]``."""
    clock, service, sink = sim_service(sessions, rate_errors=rate_errors)
    reads = []
    first = service.shoes[0]
    real_read, pending = first.imu.read, list(stall_at)

    def stalling_read():
        if pending and clock() - START_S >= pending[0]:
            pending.pop(0)
            clock.advance(stall_s)
        return real_read()

    first.imu.read = stalling_read
    real_update = first.analyzer.update

    def slow_update(t_s, acc_g, gyr_dps):
        events = real_update(t_s, acc_g, gyr_dps)
        if any(e.kind == "rep" for e in events):
            clock.advance(compute_s)
        return events

    first.analyzer.update = slow_update
    service.stamps = {}
    for shoe in service.shoes:
        got = service.stamps[shoe.side] = []

        def stamped(read=shoe.imu.read, got=got):
            block = read()
            got.append(block.t_s)
            return block

        shoe.imu.read = stamped
    real_step = service.step

    def step(*due):
        t = clock()
        real_step(*due)
        reads.append((t, any(shoe.deciding for shoe in service.shoes)))

    service.step = step
    service.run()
    return service, sink, reads


@pytest.fixture(scope="module")
def one_shoe(sessions):
    return run(sessions[:1])


def test_reads_come_5_ms_apart_while_a_rep_is_decided_and_20_ms_apart_otherwise(one_shoe):
    service, sink, reads = one_shoe
    t = np.array([r[0] for r in reads])
    deciding = np.array([r[1] for r in reads])
    gaps = np.diff(t)
    assert deciding.any() and not deciding.all()
    np.testing.assert_allclose(gaps[deciding[:-1]], FAST_S, atol=1e-9)
    np.testing.assert_allclose(gaps[~deciding[:-1]], READ_S, atol=1e-9)
    # Only while a rep comes to its end: each run of fast reads spans at most 0.3 s, and
    # there are about as many runs as reps (a lowering that resumes may make two).
    starts = np.flatnonzero(np.diff(deciding.astype(int)) == 1) + 1
    ends = np.flatnonzero(np.diff(deciding.astype(int)) == -1) + 1
    spans = t[ends] - t[starts[: len(ends)]]
    n_reps = len(sink.reps)
    assert n_reps == 10
    assert n_reps <= len(spans) <= 2 * n_reps
    assert spans.max() <= 0.3, np.sort(spans)[-3:]
    assert deciding.sum() * FAST_S < 0.1 * (t[-1] - t[0])  # under a tenth of the session


def test_each_rep_is_handed_out_by_the_first_read_after_its_deciding_sample(one_shoe):
    """The deciding sample (a 10 ms grid row, so up to 5 ms of samples past it) waits one
    fast read in the FIFO at most: 5 + 5 ms, where 20 ms reads left it up to 25 ms."""
    _, sink, _ = one_shoe
    waits = np.array([handed - e.t_s for handed, e in sink.reps])
    assert len(waits) == 10
    assert waits.max() <= 0.5 * 0.01 + FAST_S + 1e-3, np.sort(waits)[-3:]


def test_the_reps_do_not_depend_on_the_faster_reads(sessions, one_shoe, monkeypatch):
    """The same reps and faults as with 20 ms reads throughout. The chain gives the same
    result however the stream is chunked (tests/test_chain_chunking.py), but the FIFO's
    stamps come from when its level is read (``SampleClock``): they differ by under a
    millisecond, which may move a phase instant by a 10 ms grid row."""
    service, fast, _ = one_shoe
    monkeypatch.setattr(runner, "DECIDING_READ_SHARE", 1.0)
    plain_service, plain, reads = run(sessions[:1])
    assert np.allclose(np.diff([r[0] for r in reads]), READ_S)  # no fast reads at all
    t_fast, t_plain = (np.concatenate(s.stamps[None]) for s in (service, plain_service))
    n = min(len(t_fast), len(t_plain))
    assert n > 40000 and np.abs(t_fast[:n] - t_plain[:n]).max() < 1e-3
    a = [e.rep for _, e in fast.reps]
    b = [e.rep for _, e in plain.reps]
    assert len(a) == len(b) == 10
    for x, y in zip(a, b, strict=True):
        assert (x.set, x.index, x.faults) == (y.set, y.index, y.faults)
        for name in ("start_s", "top_start_s", "top_end_s", "end_s"):
            assert getattr(x, name) == pytest.approx(getattr(y, name), abs=0.02), name
        assert x.peak_deg == pytest.approx(y.peak_deg, abs=0.05)


def test_two_shoes_one_read_stalling_lose_no_rep_and_both_report_the_holes(sessions):
    """Issue 15: the left shoe's read stalls 0.2 s three times mid-set, so both 85 ms FIFOs
    overflow (the right is read after the left); each is reset, each hole (shorter than
    max_gap_s) is reported on its own shoe and bridged, and no rep is lost on either side."""
    truth = [s.truth["reps"] for s in sessions]
    at = [(r["start_s"] + r["top_start_s"]) / 2 for r in (truth[0][2], truth[0][5], truth[0][8])]
    service, sink, _ = run(sessions, stall_at=at, stall_s=0.2)
    for shoe, true in zip(service.shoes, truth, strict=True):
        reps = [e for _, e in sink.reps if e.side == shoe.side]
        assert len(reps) == len(true) == 10, shoe.side
        # one after each stall (the left's very first read too: the right's open waited
        # 0.1 s for its chip's reset; nothing had been delivered, so that is no hole)
        assert shoe.imu.stats.overflows == 3 + (shoe.side == "left"), shoe.side
        assert shoe.gaps == 3, shoe.side  # reported: in its state, the health message
        for r in true:  # each true rep counted once, at its own time
            near = [e for e in reps if abs(e.rep.start_s - START_S - r["start_s"]) < 0.3]
            assert len(near) == 1, (shoe.side, r["start_s"])
    assert len(sink.gaps) == 6
    assert all(0.2 < g.end_s - g.start_s <= 0.25 for g in sink.gaps)


def test_one_shoes_slow_decisions_never_overflow_the_other_shoes_fifo(sessions):
    """Issue 15: the left chain takes 80 ms to decide each rep (a Pi Zero's compute). Read
    one after the other, the right FIFO waited that and the loop's 5 ms, 85 ms: a full FIFO,
    reset at 8 of the 10 left reps (bridged holes, but holes). Every FIFO is now emptied
    before each chain runs, so each waits through at most one chain's compute: none fills."""
    service, sink, _ = run(sessions, compute_s=0.08)
    for shoe, s in zip(service.shoes, sessions, strict=True):
        reps = [e for _, e in sink.reps if e.side == shoe.side]
        assert len(reps) == len(s.truth["reps"]) == 10, shoe.side
    left, right = service.shoes
    assert right.imu.stats.overflows == 0
    assert left.imu.stats.overflows <= 1  # its very first read (see above), no hole
    assert left.gaps == right.gaps == 0
    assert not sink.gaps
