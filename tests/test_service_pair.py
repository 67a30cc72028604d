"""Two shoes in the service (issue 15): config, one chain per shoe on one clock, side on
every rep / set / state, per-side cues, single-leg mode, the session's per-side totals and
symmetry, the endurance test per side. ManualClock and MockFactory only."""

from __future__ import annotations

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from heelraise.chain.analyzer import Analyzer
from heelraise.clock import ManualClock
from heelraise.cues.coach import Coach
from heelraise.events import Rep, RepEvent, SetEvent, SetSummary
from heelraise.exceptions import ConfigError, SettingsError
from heelraise.service.assemble import build_service
from heelraise.service.config import parse_config
from heelraise.service.runner import Service
from heelraise.service.session import SessionPlan
from heelraise.service.shoe import Shoe
from heelraise.service.testing import ArrayImu
from heelraise.sim.pair import PairSpec, simulate_pair
from heelraise.sim.session import SessionSpec
from heelraise.symmetry import symmetry
from test_service_loop import RecordingSink, ScriptedAnalyzer

PAIR_CONFIG = """
[sensor]
type = "sim"
[sensor.left]
[sensor.right]
[user]
involved_side = "right"
"""


# --- config ---------------------------------------------------------------------------------


def test_two_sensor_tables_share_what_sensor_says_and_each_names_its_side():
    config = parse_config(
        '[sensor]\ntype = "mpu6050"\nrate_hz = 500\n'
        "[sensor.left]\naddress = 0x68\n[sensor.right]\naddress = 0x69\n"
    )
    left, right = config.shoe_sensors
    assert (left.side, left.address, left.rate_hz) == ("left", 0x68, 500)
    assert (right.side, right.address, right.rate_hz) == ("right", 0x69, 500)
    assert config.sensor is left


def test_one_sensor_stays_valid_unnamed_or_named():
    assert [s.side for s in parse_config("").shoe_sensors] == [None]
    assert [s.side for s in parse_config('[sensor]\nside = "right"').shoe_sensors] == ["right"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[sensor.left]\n[sensor.right]\n", r"\[sensor.right\] address = 104: is the left"),
        ("[sensor.middle]\n", r"unknown table \[sensor.middle\]"),
        ('[sensor]\nside = "up"\n', r"\[sensor\] side = \"up\": must be \"left\" or \"right\""),
        ("[sensor.left]\nrate_hz = 5\n", r"\[sensor.left\] rate_hz = 5: must be 25 to 1000"),
        ('[user]\ninvolved_side = "both"\n', r"\[user\] involved_side = \"both\""),
        ('[sensor]\nside = "left"\n[user]\nsingle_leg = "right"\n', "only sensor is on the left"),
    ],
)
def test_a_bad_two_shoe_config_is_refused_by_name(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(text, "x.toml")


# --- the service with two simulated shoes -------------------------------------------------


@pytest.fixture(scope="module")
def pair():
    return simulate_pair(PairSpec(SessionSpec(sets=1, reps=10, seed=3), weaker="right"))


def pair_service(pair, config_text=PAIR_CONFIG, coach=None):
    clock = ManualClock(1000.0)
    imus = []
    for side in ("left", "right"):
        sim = pair.sides[side]  # each on its own sensor clock: played from the loop's start
        imus.append((side, ArrayImu(sim.t_s, sim.acc_g, sim.gyr_dps, clock=clock, name=side)))
    sink = RecordingSink()
    service = build_service(
        parse_config(config_text),
        imus=imus,
        coach=coach,
        sinks=[sink],
        clock=clock,
        sleep=clock.sleep,
        stop_when_exhausted=True,
    )
    return service, sink


def test_each_shoe_has_its_chain_and_every_rep_set_and_state_says_which(pair):
    service, sink = pair_service(pair)
    service.run()
    for side in ("left", "right"):
        reps = [e for e in sink.events if e.kind == "rep" and e.side == side]
        assert len(reps) == len(pair.sides[side].truth["reps"]), side
        sets = [e for e in sink.events if e.kind == "set" and e.side == side]
        assert sum(s.summary.rep_count for s in sets) == len(reps)
        states = [s for s in sink.states if s["side"] == side]
        assert states and states[-1]["rep_count"] == len(reps)
    assert {e.side for e in sink.events if e.kind in ("rep", "set")} == {"left", "right"}
    session = sink.events[-1]
    assert session.kind == "session" and session.side is None and session.involved == "right"
    truth = pair.truth
    for side in ("left", "right"):
        assert session.sides[side].reps == truth["sides"][side]["reps"]
        mean = session.sides[side].mean_heel_rise_mm
        assert mean == pytest.approx(truth["sides"][side]["mean_heel_rise_mm"], rel=0.1)
    both = truth["sides"]["left"]["reps"] + truth["sides"]["right"]["reps"]
    assert session.summary.rep_count == both
    lsis = symmetry(session.sides, involved=session.involved)
    assert lsis["reps_lsi"] == truth["symmetry"]["reps_lsi"] == 80.0  # right / left x 100


def test_single_leg_mode_counts_the_working_side_only_and_says_so(pair):
    service, sink = pair_service(pair, PAIR_CONFIG + 'single_leg = "left"\n')
    service.run()
    assert {e.side for e in sink.events if e.kind in ("rep", "set")} == {"left"}
    assert all(s["working_side"] == "left" for s in sink.states)
    session = sink.events[-1]
    assert list(session.sides) == ["left"]
    assert session.summary.rep_count == len(pair.sides["left"].truth["reps"])


def test_a_single_leg_set_by_command_names_a_shoe_that_exists():
    clock = ManualClock(0.0)
    imu = ArrayImu(np.arange(2) / 100.0, np.zeros((2, 3)), np.zeros((2, 3)), clock=clock)
    service = build_service(parse_config(""), imu=imu, clock=clock, sleep=clock.sleep)
    service.open()
    f = service.submit_command("start_set", {"side": "left"})
    service.step()
    assert f.result(timeout=0) == (
        False,
        "start_set: there is no left shoe (the shoes: one unnamed sensor)",
    )
    service.close()
    with pytest.raises(SettingsError, match="single_leg 'right': there is no right shoe"):
        Service([Shoe(imu, Analyzer(), "left")], plan=SessionPlan(single_leg="right"))


# --- per-side cues ------------------------------------------------------------------------


def rep(start_s, mm=50.0, index=1, faults=()):
    return Rep(
        1, index, start_s, start_s + 2, start_s + 3, start_s + 6, 20.0, 0.0, mm, faults=list(faults)
    )


def test_the_rep_chirp_and_fault_buzz_come_from_the_side_that_did_the_rep():
    clock = ManualClock(0.0)
    coach = Coach(pin_factory=MockFactory(pin_class=MockPWMPin), clock=clock)
    for t, side, faults in ((1.0, "left", ()), (2.0, "right", ()), (3.0, "right", ["partial"])):
        clock.set(t)
        coach.on_event(RepEvent(rep(t - 1, faults=faults), t_s=t, side=side))
        coach.tick()
    clock.set(4.0)
    coach.on_event(RepEvent(rep(3.0, faults=["partial"]), t_s=4.0, side="left"))
    names = [n for _, n in coach.player.history]
    assert names == ["rep_ok", "rep_ok_right", "rep_fault_right", "rep_fault"]
    coach.close()


# --- the endurance test per side -----------------------------------------------------------


def scripted_shoes(script_left, script_right, clock, seconds):
    """A left and a right shoe standing still at 100 Hz, whose chains play the scripts."""
    n = int(seconds * 100)
    t = np.arange(n) / 100.0
    acc = np.zeros((n, 3))
    acc[:, 2] = 1.0
    return [
        Shoe(ArrayImu(t, acc, np.zeros((n, 3)), clock=clock, name=side), ScriptedAnalyzer(s), side)
        for side, s in (("left", script_left), ("right", script_right))
    ]


def scripted_pair(script_left, script_right, config_text=None):
    """Two shoes whose chains are scripted (the loop is what is tested), no coach."""
    clock = ManualClock(0.0)
    shoes = scripted_shoes(script_left, script_right, clock, seconds=60.0)
    sink = RecordingSink()
    service = Service(
        shoes,
        sinks=[sink],
        plan=SessionPlan(involved_side="right"),
        clock=clock,
        sleep=clock.sleep,
        stop_when_exhausted=True,
    )
    return service, sink, clock


def one_set(start_s, heights, end_s):
    rs = [rep(start_s + 7 * i, mm, i + 1) for i, mm in enumerate(heights)]
    script = [(r.end_s + 0.2, RepEvent(r, r.end_s + 0.2)) for r in rs]
    summary = SetSummary(1, rs[0].start_s, end_s, rs, "pause")
    return script + [(end_s, SetEvent(summary, end_s))]


def run_out(service, clock):
    """Step the service until both scripted shoes have run dry, then close it."""
    while not all(s.imu.finished for s in service.shoes):
        service.step()
        clock.sleep(0.02)
    service.close()


def test_the_endurance_test_runs_left_then_right_and_reports_both_and_their_lsis():
    # no coach: each side's test is unpaced and ends with that side's set
    left = one_set(2.0, (60.0, 60.0, 60.0, 60.0), 30.0)  # 4 reps at 60 mm, set ends at 30 s
    right = one_set(31.0, (45.0, 45.0, 45.0), 58.0)  # 3 reps at 45 mm after the left's turn
    service, sink, clock = scripted_pair(left, right)
    service.open()
    f = service.submit_command("start_endurance_test", {})
    service.step()
    assert f.result(timeout=0) == (True, None)
    assert service.state()["working_side"] == "left"
    run_out(service, clock)
    e = sink.events[-1].endurance
    assert e["sides"]["left"]["reps"] == 4 and e["sides"]["left"]["stopped_by"] == "set_end"
    assert e["sides"]["right"]["reps"] == 3 and e["sides"]["right"]["stopped_by"] == "set_end"
    sym = e["symmetry"]
    assert sym["involved"] == "right" and sym["reps_lsi"] == 75.0
    assert sym["heel_rise_lsi"] == 75.0 and sym["work_lsi"] == pytest.approx(56.2, abs=0.1)


def test_an_endurance_test_of_one_side_says_only_that_side_was_measured():
    left = one_set(2.0, (60.0, 60.0), 20.0)
    service, sink, clock = scripted_pair(left, [])
    service.open()
    service.submit_command("start_endurance_test", {"side": "left"})
    service.step()
    run_out(service, clock)
    e = sink.events[-1].endurance
    assert e["reps"] == 2 and e["stopped_by"] == "set_end"  # one side: its result as it is


def test_a_two_sided_endurance_result_is_a_valid_session_message():
    from heelraise.protocol import payloads, validation

    left = one_set(2.0, (60.0, 60.0, 60.0), 25.0)
    right = one_set(31.0, (50.0, 50.0), 50.0)
    service, sink, clock = scripted_pair(left, right)
    service.open()
    service.submit_command("start_endurance_test", {"first": "left"})
    service.step()
    run_out(service, clock)
    event = sink.events[-1]
    assert set(event.endurance) == {"sides", "symmetry"}
    body = payloads.session_payload(
        payloads.Envelope("shoe-1", "s-1", wall_clock=lambda: 0.0), event
    )
    validation.validate("session", body)
    body["endurance"]["sides"]["left"]["reps"] = -1
    with pytest.raises(validation.SchemaViolation, match="reps"):
        validation.validate("session", body)
