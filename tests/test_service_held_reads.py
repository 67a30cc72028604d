"""A shoe holds the reads its chain would only gather and hands them over with a later read,
in one update (issue 15: the two-shoe service's CPU; a chain's call costs it mostly per
call): the same reps and sets as feeding every read at once, a command acting on the chain
(end_set) sees every sample read before it, and the chain runs at a fraction of the reads.

The sessions are the latency bench's (one brisk set at 1 kHz through the MPU-6050 register
emulator and the real FIFO driver), on a ManualClock."""

from __future__ import annotations

import pytest
from heelraise.service.shoe import Shoe
from heelraise.service.sinks import EventSink
from test_service_deciding_reads import START_S, brisk, sim_service

REP_FIELDS = (
    "set", "index", "faults", "surface", "start_s", "top_start_s", "top_end_s", "end_s",
    "peak_deg", "depth_deg", "heel_rise_mm", "roll_deg",
)  # fmt: skip


class Events(EventSink):
    def __init__(self, clock):
        self.clock = clock
        self.events = []  # (clock when handed out, event)

    def on_event(self, event):
        self.events.append((self.clock(), event))


@pytest.fixture(scope="module")
def sessions():
    return brisk(0), brisk(1)


def run(sessions, *, end_set_at_s=None):
    """Two shoes (left, right) over ``sessions``; an ``end_set`` command is submitted at the
    first step at or after ``end_set_at_s`` of clock time. Returns (sink, updates per side,
    reads per side, the command's answer)."""
    clock, service, sink = sim_service(sessions, Events)
    updates = {"left": 0, "right": 0}
    reads = {"left": 0, "right": 0}
    for shoe in service.shoes:

        def update(t_s, acc_g, gyr_dps, real=shoe.analyzer.update, side=shoe.side):
            updates[side] += 1
            return real(t_s, acc_g, gyr_dps)

        def read(real=shoe.imu.read, side=shoe.side):
            reads[side] += 1
            return real()

        shoe.analyzer.update = update
        shoe.imu.read = read
    answer = []
    real_step = service.step

    def step(*due):
        if end_set_at_s is not None and not answer and clock() - START_S >= end_set_at_s:
            answer.append(service.submit_command("end_set"))
        real_step(*due)

    service.step = step
    service.run()
    return sink, updates, reads, [f.result(0) for f in answer]


def same_events(a, b):
    """The same events in the same order, each rep's and set's fields equal to the bit."""
    assert [e.kind for _, e in a] == [e.kind for _, e in b]
    for (_, x), (_, y) in zip(a, b, strict=True):
        assert (x.t_s, getattr(x, "side", None)) == (y.t_s, getattr(y, "side", None))
        if x.kind == "rep":
            fields = [(getattr(x.rep, f), getattr(y.rep, f)) for f in REP_FIELDS]
            assert all(a == b for a, b in fields), fields
        if x.kind == "set":
            assert x.summary.to_dict(with_reps=True) == y.summary.to_dict(with_reps=True)


@pytest.fixture(scope="module")
def held_and_fed(sessions):
    held = run(sessions)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Shoe, "_holds", lambda self: False)  # every read fed at once
        fed = run(sessions)
    return held, fed


def test_held_reads_give_the_same_events_at_the_same_clock(held_and_fed):
    (held, *_), (fed, *_) = held_and_fed
    reps = [e for _, e in held.events if e.kind == "rep"]
    assert sum(e.side == "left" for e in reps) == sum(e.side == "right" for e in reps) == 10
    same_events(held.events, fed.events)
    # and handed out at the same clock: a held read never decides a rep
    assert [c for c, _ in held.events] == [c for c, _ in fed.events]


def test_the_chain_runs_at_a_fraction_of_the_reads(held_and_fed):
    (_, updates, reads, _), (_, fed_updates, fed_reads, _) = held_and_fed
    assert reads == fed_reads  # the FIFOs are read at the same instants
    for side in ("left", "right"):
        assert fed_updates[side] > 0.9 * reads[side]  # fed: about one update a read
        assert updates[side] < 0.6 * fed_updates[side], (side, updates, fed_updates)


def test_a_command_acts_on_every_sample_read_before_it(sessions):
    """end_set mid-set while reads are held: the set closes where it does when each read is
    fed at once (the held reads go to the chain before the command runs)."""
    at_s = 15.37  # within the set, between two reps' decisions (first rep ends near 8 s)
    held, _, _, answer = run(sessions, end_set_at_s=at_s)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Shoe, "_holds", lambda self: False)
        fed, _, _, fed_answer = run(sessions, end_set_at_s=at_s)
    assert answer == fed_answer == [(True, None)]
    ended = [e for _, e in held.events if e.kind == "set" and e.summary.ended_by == "command"]
    assert len(ended) == 2  # both shoes' sets
    same_events(held.events, fed.events)
