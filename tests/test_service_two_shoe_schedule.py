"""The two-shoe loop's schedule (issues 13 and 15): the deciding shoe's chain runs first and
alone at the 5 ms reads, every FIFO is read at every step (and again only after a chain that
ran long), a cut rep feedback sounds after its short gap and not at the next read, and the
``state`` is built only when what it is built from changes. ManualClock only: compute takes
no clock time unless a test makes it."""

from __future__ import annotations

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from heelraise.clock import ManualClock
from heelraise.cues.coach import Coach
from heelraise.cues.patterns import REP_FAULT, REP_FAULT_RIGHT, REP_OK, REP_OK_RIGHT
from heelraise.cues.pins import PinMap
from heelraise.cues.player import FEEDBACK_GAP_S, PatternPlayer
from heelraise.cues.testing import beeps, changes, mock_pins_follow
from heelraise.events import RepEvent
from heelraise.service import runner
from heelraise.service.runner import Service
from heelraise.service.shoe import Shoe
from heelraise.service.testing import ArrayImu
from test_service_deciding_reads import brisk, sim_service
from test_service_loop import RecordingSink, ScriptedAnalyzer
from test_service_pair import rep, scripted_shoes

READ_S = runner.READ_INTERVAL_S
FAST_S = runner.DECIDING_READ_SHARE * READ_S


@pytest.fixture(scope="module")
def sessions():
    return brisk(0), brisk(1)


def sim_pair(sessions, compute_s=0.0):
    """Two simulated shoes (the latency bench's sessions) through the register emulator and
    the real driver; the left chain takes ``compute_s`` of clock time for each read that
    returns a rep. Returns (service, sink, steps, chain_runs, reads): ``steps`` is
    [(clock, [deciding before the step, per shoe])], ``chain_runs`` [(step, side, clock)]
    (the loop handing a shoe's reads to its chain: ``Shoe.process`` with reads waiting; the
    shoe may hold those its chain would only gather, tests/test_service_held_reads.py)
    and ``reads`` [(step, side)]."""
    clock, service, sink = sim_service(sessions)
    steps, chain_runs, reads = [], [], []
    for shoe in service.shoes:

        def process(hold=True, real=shoe.process, side=shoe.side, shoe=shoe):
            if hold and shoe._fetched:  # the loop's (not the hand-over at shutdown)
                chain_runs.append((len(steps) - 1, side, clock()))
            return real(hold)

        def update(t_s, acc_g, gyr_dps, real=shoe.analyzer.update, side=shoe.side):
            events = real(t_s, acc_g, gyr_dps)
            if side == "left" and any(e.kind == "rep" for e in events):
                clock.advance(compute_s)
            return events

        def read(real=shoe.imu.read, side=shoe.side):
            reads.append((len(steps) - 1, side))
            return real()

        shoe.process = process
        shoe.analyzer.update = update
        shoe.imu.read = read
    real_step = service.step

    def step(*due):
        steps.append((clock(), [shoe.deciding for shoe in service.shoes]))
        real_step(*due)

    service.step = step
    service.run()
    return service, sink, steps, chain_runs, reads


@pytest.fixture(scope="module")
def pair(sessions):
    return sim_pair(sessions)


def reps_of(sink, side):
    return [e.rep for _, e in sink.reps if e.side == side]


def test_at_the_fast_reads_only_the_deciding_shoes_chain_runs_and_it_runs_first(pair):
    service, sink, steps, chain_runs, reads = pair
    for side in ("left", "right"):
        assert len(reps_of(sink, side)) == 10, side
    by_step: dict[int, list[str]] = {}
    for i, side, _ in chain_runs:
        by_step.setdefault(i, []).append(side)
    alone = first = 0
    for i, (_, deciding) in enumerate(steps):
        ran = by_step.get(i, [])
        assert len(ran) == len(set(ran))  # each chain at most once a step
        decided = [s for s, d in zip(("left", "right"), deciding, strict=True) if d]
        if decided and len(ran) == 2 and len(decided) == 1:
            assert ran[0] == decided[0], (i, ran, deciding)  # the deciding chain first
            first += 1
        if len(ran) == 1:
            assert ran[0] in decided, (i, ran, deciding)  # a waiting chain is not deciding
            alone += 1
    assert alone > 50 and first > 5, (alone, first)
    # a waiting chain runs at its 20 ms read, or at the first regular read after the fast
    # ones (the reads keep one grid: at most 15 ms more, once per the other's decision)
    for side in ("left", "right"):
        t = np.array([c for _, s, c in chain_runs if s == side])
        assert np.diff(t).max() <= READ_S + 3 * FAST_S + 1e-9, side
        assert np.mean(np.diff(t) > READ_S + 1e-9) < 0.01, side


def test_every_fifo_is_read_at_every_step_and_none_overflows(pair):
    service, _, steps, _, reads = pair
    for side in ("left", "right"):
        per_step = np.bincount([i for i, s in reads if s == side and i >= 0], minlength=len(steps))
        assert per_step.min() == per_step.max() == 1, side  # no chain ran long: no second read
    left, right = service.shoes
    assert right.imu.stats.overflows == 0
    assert left.imu.stats.overflows <= 1  # its very first read: the right's open waited 0.1 s
    assert left.gaps == right.gaps == 0


def test_the_reps_are_the_same_as_with_every_chain_running_at_every_read(
    sessions, pair, monkeypatch
):
    """Every FIFO is read at the same instants either way (so the same samples, stamped
    alike, reach each chain); a waiting shoe's reads are fed to its chain later, in one
    update, and the chain's events do not depend on how its input is cut."""
    _, sink, *_ = pair
    monkeypatch.setattr(Service, "_due", lambda self, read_s, fast: self.shoes)
    _, every, steps, chain_runs, _ = sim_pair(sessions)
    ran = np.bincount([i for i, _, _ in chain_runs if i >= 0], minlength=len(steps))
    assert set(ran) == {0, 2}  # every chain at every read (none before the first samples)
    for side in ("left", "right"):
        a, b = reps_of(sink, side), reps_of(every, side)
        assert len(a) == len(b) == 10
        for x, y in zip(a, b, strict=True):  # the same, to the last bits of the float sums
            assert (x.set, x.index, x.faults, x.surface) == (y.set, y.index, y.faults, y.surface)
            for name in ("start_s", "top_start_s", "top_end_s", "end_s", "peak_deg", "depth_deg",
                         "heel_rise_mm", "roll_deg"):  # fmt: skip
                assert getattr(x, name) == pytest.approx(getattr(y, name), rel=1e-9), name


def test_a_long_chain_has_the_other_fifo_read_again_before_the_next_chain(sessions):
    """The left chain takes 30 ms for each read that returns a rep: the right FIFO is read
    again at once after it (so it holds at most one chain's compute), and only then."""
    service, sink, steps, chain_runs, reads = sim_pair(sessions, compute_s=0.03)
    right = np.bincount([i for i, s in reads if s == "right" and i >= 0], minlength=len(steps))
    left_reps = {i for i, s, _ in chain_runs if s == "left"}
    twice = set(np.flatnonzero(right == 2))
    assert len(twice) >= 10 and twice <= left_reps  # after each left rep's compute
    assert right.max() == 2
    assert service.shoes[1].imu.stats.overflows == 0
    assert len(reps_of(sink, "left")) == len(reps_of(sink, "right")) == 10


# --- cues --------------------------------------------------------------------------------


def scripted_pair(script_left, script_right, coach=None, clock=None, seconds=8.0):
    clock = ManualClock(0.0) if clock is None else clock
    shoes = scripted_shoes(script_left, script_right, clock, seconds)
    sink = RecordingSink()
    service = Service(
        shoes, coach=coach, sinks=[sink], clock=clock, sleep=clock.sleep,
        stop_when_exhausted=True,
    )  # fmt: skip
    return service, sink, clock


def test_reps_of_both_shoes_at_once_the_newer_feedback_sounds_after_its_gap_then_the_other():
    """Left rep at 5.00 s, right at 5.01 s, both handed out at the 5.02 read (the left's
    first): the right double chirp cuts the left chirp at once and sounds FEEDBACK_GAP_S
    later, at 5.03, where the loop ticked the cues only at its reads (5.04); each of its
    steps ends on time; then the left chirp, cut before it was heard, plays whole."""
    clock = ManualClock(0.0)
    with mock_pins_follow(clock):
        factory = MockFactory(pin_class=MockPWMPin)
        coach = Coach(PinMap(buzzer_kind="active"), pin_factory=factory, clock=clock)
        left = [(5.0, RepEvent(rep(1.0), t_s=5.0))]
        right = [(5.01, RepEvent(rep(1.0), t_s=5.01))]
        service, _, _ = scripted_pair(left, right, coach=coach, clock=clock)
        service.run()
        buzzer = factory.pin(PinMap().buzzer)
    names = [n for _, n in coach.player.history]
    assert names[:3] == ["rep_ok", "rep_ok_right", "rep_ok"]
    gap = FEEDBACK_GAP_S
    on = 5.02 + gap
    end = on + 0.09  # the double chirp: 30 on, 30 off, 30 on
    got = [(t, v) for t, v in changes(buzzer) if t < 7.0]  # (the set closes at the end: 8 s)
    expected = [(0.0, 0.0), (5.02, 1.0), (5.02, 0.0)]  # the left chirp cut unheard (0 ms)
    expected += beeps((on, on + 0.03), (on + 0.06, end), (end + gap, end + gap + 0.05))[1:]
    assert len(got) == len(expected), got
    for (t, v), (te, ve) in zip(got, expected, strict=True):
        assert v == ve and t == pytest.approx(te, abs=1e-6), (got, expected)


# --- state -------------------------------------------------------------------------------


def test_the_state_is_built_only_when_it_changes_and_the_same_states_are_sent(monkeypatch):
    script = lambda t0: [(t0 + 7 * i, RepEvent(rep(t0 + 7 * i - 6, index=i + 1), t_s=t0 + 7 * i))  # noqa: E731
                         for i in range(3)]  # fmt: skip
    built = []
    real_state = Service.state

    def counting(self, shoe=None):
        built.append(shoe)
        return real_state(self, shoe)

    monkeypatch.setattr(Service, "state", counting)
    service, sink, _ = scripted_pair(script(7.0), script(7.5), seconds=30.0)
    service.run()
    steps = 30.0 / READ_S
    assert 0 < len(built) < 0.02 * 2 * steps  # a read rarely changes it: 3000 reads
    monkeypatch.setattr(Service, "_state_key", lambda self, shoe: object())  # never the same
    built.clear()
    again, sink_again, _ = scripted_pair(script(7.0), script(7.5), seconds=30.0)
    again.run()
    assert len(built) >= 2 * steps - 2  # every shoe at every read
    assert sink.states == sink_again.states
    assert {s["side"] for s in sink.states} == {"left", "right"}
    assert [s["rep_count"] for s in sink.states if s["side"] == "right"][-1] == 3


# --- a shoe's fetched reads --------------------------------------------------------------


def test_a_shoes_fetched_reads_go_to_its_chain_one_update_a_run_between_holes():
    clock = ManualClock(0.0)
    n = 300
    t = np.arange(n) / 100.0
    acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    imu = ArrayImu(t, acc, np.zeros((n, 3)), clock=clock, gaps=[(1.0, 1.2, "fifo_overflow")])
    analyzer = ScriptedAnalyzer()
    shoe = Shoe(imu, analyzer, "left")
    shoe.open()
    for now in (0.5, 0.7, 0.9, 1.3, 1.5):
        clock.set(now)
        shoe.fetch()
    events = shoe.process()
    assert analyzer.calls == [
        ("update", 0.0, 0.99, 100),  # four reads (the last one stops at the hole), one update
        ("mark_gap", 1.0, 1.2, "fifo_overflow"),
        ("update", 1.21, 1.5, 30),  # the two after the hole
    ]
    assert [e.kind for e in events] == ["gap"] and shoe.gaps == 1


# --- the player: one buzzer, two shoes -----------------------------------------------------


def test_the_other_shoes_feedback_cut_before_its_first_sound_ended_plays_again_after():
    p = PatternPlayer()
    p.play(REP_OK, 0.0)  # left: 50 ms chirp
    p.advance(0.02)
    p.play(REP_OK_RIGHT, 0.02)  # right, 20 ms in: cuts it, the left's chirp again after
    for k in range(3, 40):
        p.advance(k / 100)
    assert [n for _, n in p.history] == ["rep_ok", "rep_ok_right", "rep_ok"]
    start = p.history[2][0]
    assert start == pytest.approx(0.02 + FEEDBACK_GAP_S + REP_OK_RIGHT.duration_s + 0.01, abs=0.011)


def test_feedback_heard_in_full_or_the_same_shoes_is_dropped_when_cut():
    p = PatternPlayer()
    p.play(REP_OK_RIGHT, 0.0)  # 30 on, 30 off, 30 on
    p.advance(0.04)  # its first chirp heard
    p.play(REP_FAULT, 0.04)
    p.advance(0.05)
    p.play(REP_OK, 0.05)  # the left's again: its fault buzz is superseded, not replayed
    for k in range(6, 200):
        p.advance(k / 100)
    assert [n for _, n in p.history] == ["rep_ok_right", "rep_fault", "rep_ok"]


def test_a_cut_feedback_is_not_replayed_once_it_is_stale():
    p = PatternPlayer(max_wait_s=0.3)
    p.play(REP_OK, 0.0)
    p.play(REP_FAULT_RIGHT, 0.0)  # 450 ms: the left chirp would come 0.46 s after its rep
    for k in range(1, 100):
        p.advance(k / 100)
    assert [n for _, n in p.history] == ["rep_ok", "rep_fault_right"]
