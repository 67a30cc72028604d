"""The coach behind the real signal chain: a simulated session's events become cues."""

from __future__ import annotations

from gpiozero.pins.mock import MockFactory, MockPWMPin
from heelraise.chain.analyzer import Analyzer
from heelraise.clock import ManualClock
from heelraise.cues.coach import Coach
from heelraise.cues.testing import changes, mock_pins_follow, step_until
from heelraise.settings import AnalyzerSettings
from heelraise.sim import simulate_session


def test_simulated_session_gets_one_feedback_cue_per_rep_and_set():
    sim = simulate_session(sets=2, reps=4, seed=3, fault_rate=0.3, walking=False)
    clock = ManualClock(float(sim.t_s[0]))
    with mock_pins_follow(clock):
        factory = MockFactory(pin_class=MockPWMPin)
        coach = Coach(pin_factory=factory, clock=clock)
        analyzer = Analyzer(AnalyzerSettings(tempo=sim.spec.tempo))
        events = []
        chunk = 5  # 50 ms at 100 Hz, like the service's reads
        for i in range(0, len(sim.t_s), chunk):
            sl = slice(i, i + chunk)
            clock.set(float(sim.t_s[sl][-1]))
            new = analyzer.update(sim.t_s[sl], sim.acc_g[sl], sim.gyr_dps[sl])
            for event in new:
                coach.on_event(event)
            coach.on_state(analyzer.state)
            coach.tick()
            events += new
        for event in analyzer.finish():
            coach.on_event(event)
            events.append(event)
        step_until(coach, clock, clock() + 3.0)  # let the last arpeggio play out
        coach.close()

    reps = [e.rep for e in events if e.kind == "rep"]
    sets = [e for e in events if e.kind == "set"]
    assert len(reps) >= 6 and len(sets) == 2  # the chain found the session
    played = [name for _, name in coach.player.history]
    clean = sum(1 for r in reps if not r.faults)
    # each rep's cue was started (none dropped: sets are seconds apart, reps too)
    assert played.count("rep_ok") == clean
    assert played.count("rep_fault") == len(reps) - clean
    assert played.count("set_done") == len(sets)
    # each pattern is a distinct burst on the buzzer pin: count its on-edges
    on_edges = sum(1 for _, v in changes(factory.pin(18)) if v == 1.0)
    assert on_edges == clean * 1 + (len(reps) - clean) * 2 + len(sets) * 4
    assert factory.pin(18).state == 0 and factory.pin(17).state == 0  # closed: all off
