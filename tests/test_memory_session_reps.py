"""The service keeps each finished set's totals for the session summary, not whole reps.

The session's summary (``event/session``, the console's last lines, the demo's table, each
side's totals) reads five numbers and the faults of every rep. The service kept every
:class:`~heelraise.events.Rep` of the session, twice referenced (the session's sets and
the analyzer's), with its times, tempo and deviation dicts: about 0.5 MB an hour of
Python objects at 450 reps an hour (``bench/service_cpu.py``, diffed by set over an
hour). Now the session keeps :meth:`SetSummary.kept <heelraise.events.SetSummary.kept>`
(a :class:`~heelraise.events.KeptRep` of those values per rep) and the service's analyzers
count their sets without keeping them (``Analyzer(keep_sets=False)``); every total and
every event stays the same.
"""

from __future__ import annotations

import gc
import tracemalloc
import types

import pytest
from heelraise.chain.analyzer import Analyzer
from heelraise.chain.offline import analyze_arrays
from heelraise.clock import ManualClock
from heelraise.events import KeptRep, Rep, SessionSummary, SetEvent
from heelraise.service.assemble import build_service
from heelraise.service.config import parse_config
from heelraise.service.sinks import EventSink
from heelraise.service.testing import ArrayImu
from heelraise.sim import simulate_session
from heelraise.symmetry import side_totals

TEMPO = '[tempo]\ntarget = "3-0-2-1"\n'  # a target: each rep carries tempo and deviation dicts


@pytest.fixture(scope="module")
def sim():
    return simulate_session(sets=3, reps=6, rate_hz=100.0, seed=61, rest_s=(15.0, 20.0))


class Sink(EventSink):
    def __init__(self):
        self.events = []

    def on_event(self, event):
        self.events.append(event)


def _run(sim):
    clock = ManualClock(5000.0)
    imu = ArrayImu(sim.t_s + 5000.0, sim.acc_g, sim.gyr_dps, clock=clock, t0_s=0.0, name="sim")
    sink = Sink()
    service = build_service(
        parse_config(TEMPO),
        imu=imu,
        sinks=[sink],
        clock=clock,
        sleep=clock.sleep,
        stop_when_exhausted=True,
    )
    summary = service.run()
    return service, sink, summary


def _reachable(roots, kind, skip=()) -> int:
    """How many ``kind`` objects the object graph from ``roots`` holds (modules, types,
    functions and ``skip`` not followed: what they hold is not the roots' own)."""
    seen, todo, n = {id(o) for o in skip}, list(roots), 0
    while todo:
        o = todo.pop()
        if id(o) in seen or isinstance(o, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(o))
        n += isinstance(o, kind)
        todo.extend(gc.get_referents(o))
    return n


def test_the_service_holds_no_finished_rep(sim):
    """After the session, neither the session nor the shoes' chains hold a Rep: each set
    is kept as its totals (the sink here keeps the events, as a test's sink does)."""
    service, sink, summary = _run(sim)
    sets = [e for e in sink.events if isinstance(e, SetEvent)]
    assert len(sets) == 3 and summary.rep_count >= 15
    roots = [service.session, *(shoe.analyzer for shoe in service.shoes)]
    skip = [service, *service.sinks]  # the session's emit is the service's, which has the sinks
    assert _reachable(roots, Rep, skip) == 0
    assert _reachable(roots, KeptRep, skip) == summary.rep_count


def test_the_session_summary_is_the_one_the_whole_reps_give(sim):
    """The session event's summary and side totals, to the last digit, against the same
    totals taken from the whole sets the set events carried."""
    service, sink, summary = _run(sim)
    whole = [e.summary for e in sink.events if isinstance(e, SetEvent)]
    session = sink.events[-1]
    assert session.kind == "session"
    assert session.summary.to_dict() == SessionSummary(sets=whole).to_dict()
    assert summary.to_dict() == SessionSummary(sets=whole).to_dict()
    assert any(s.to_dict()["fault_counts"] for s in whole)  # faults counted, too
    heights = [r.heel_rise_mm for s in whole for r in s.reps]
    kept = [r.heel_rise_mm for s in summary.sets for r in s.reps]
    assert side_totals(kept, 70.0) == side_totals(heights, 70.0)


def test_a_kept_set_is_the_same_set_in_a_fraction_of_the_memory(sim):
    """SetSummary.kept: the same to_dict(); a rep's kept values under a third of a Rep's
    memory (tracemalloc, the tempo dicts included)."""
    full = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps).summary.sets
    assert len(full) == 3
    for s in full:
        k = s.kept()
        assert k.to_dict() == s.to_dict()
        assert [type(r) for r in k.reps] == [KeptRep] * s.rep_count
        for r, kr in zip(s.reps, k.reps, strict=True):
            assert (kr.raise_s, kr.top_hold_s, kr.lower_s) == (r.raise_s, r.top_hold_s, r.lower_s)
            assert (kr.peak_deg, kr.heel_rise_mm, kr.faults) == (
                r.peak_deg,
                r.heel_rise_mm,
                tuple(r.faults),
            )
            assert type(kr.peak_deg) is type(r.peak_deg)  # the same rounding in the means
    reps = [r for s in full for r in s.reps]
    tempo = {"text": "3-0-2-1", "lower_s": 3.0, "bottom_s": 0.0, "raise_s": 2.0, "top_s": 1.0}
    tracemalloc.start()
    try:
        t0 = tracemalloc.get_traced_memory()[0]
        whole = [
            Rep(r.set, r.index, r.start_s, r.top_start_s, r.top_end_s, r.end_s, r.peak_deg,
                r.depth_deg, r.heel_rise_mm, r.roll_deg, r.surface, list(r.faults), 0.5,
                dict(tempo), {"raise_s": 0.1, "top_hold_s": -0.1, "lower_s": 0.2})
            for r in reps
        ]  # fmt: skip
        t1 = tracemalloc.get_traced_memory()[0]
        kept = [KeptRep(r) for r in whole]
        t2 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept) == len(whole)
    assert (t2 - t1) * 3 < (t1 - t0), (t1 - t0, t2 - t1)


def test_an_analyzer_that_keeps_no_sets_gives_the_same_events(sim):
    """keep_sets=False changes what is kept, nothing the chain decides: the same events,
    the same set numbers; summary() says it has none to give."""
    keeping, counting = Analyzer(), Analyzer(keep_sets=False)
    got = {}
    for name, a in (("keeping", keeping), ("counting", counting)):
        events = a.update(sim.t_s, sim.acc_g, sim.gyr_dps) + a.finish()
        got[name] = [(e.kind, e.t_s, e.body()) for e in events]
    assert got["keeping"] == got["counting"]
    assert sum(k == "set" for k, _, _ in got["counting"]) == 3
    assert counting.sets_closed == len(keeping.sets) == 3
    assert counting.state.set_index == keeping.state.set_index == 3
    with pytest.raises(ValueError, match="keep_sets"):
        counting.summary()
