"""The movements the chain ruled out are kept (200 of them) without their arrays.

``Analyzer.rejected`` keeps the latest ruled-out movements for their reasons (the report's
"every movement was ruled out (...)"). Each candidate carried its grid rows and its
lever-arm fit (about 15 kB of numpy arrays): in the service that was the slow growth of
its memory, about 0.9 MB an hour until 200 were kept (3 MB; ``bench/service_cpu.py``).
"""

from __future__ import annotations

import collections
import gc

import numpy as np
from heelraise.chain.analyzer import Analyzer
from heelraise.chain.offline import analyze_arrays
from heelraise.plot import why_nothing_counted
from heelraise.sim import SessionSpec, simulate_session


def _arrays_bytes(root) -> int:
    """Bytes of the numpy arrays reachable from ``root`` (each counted once)."""
    seen, todo, total = set(), [root], 0
    while todo:
        o = todo.pop()
        if id(o) in seen or isinstance(o, type):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            total += o.nbytes
            continue
        todo.extend(gc.get_referents(o))
    return total


def _session():
    sim = simulate_session(SessionSpec(sets=2, reps=6, walking=True, rate_hz=100, seed=22))
    return sim.t_s, sim.acc_g, sim.gyr_dps


def test_ruled_out_movements_are_kept_with_their_reasons_and_no_arrays():
    result = analyze_arrays(*_session())
    kept = list(result.analyzer.rejected)
    assert len(kept) >= 2 and result.summary.rep_count >= 10
    for c in kept:
        assert c.rejected and c.end_s > c.start_s
        assert (c.pivot, c.t_s, c.tilt_deg, c.rate_dps) == (None, None, None, None)
    assert _arrays_bytes(result.analyzer.rejected) == 0


def test_what_is_counted_does_not_depend_on_the_kept_movements(monkeypatch):
    """The chain never reads them: keeping none counts the same reps, to the last digit."""
    t, acc, gyr = _session()
    kept = analyze_arrays(t, acc, gyr)
    real_init = Analyzer.__init__

    def keeping_none(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.rejected = collections.deque(maxlen=0)

    monkeypatch.setattr(Analyzer, "__init__", keeping_none)
    none = analyze_arrays(t, acc, gyr)
    assert len(none.analyzer.rejected) == 0
    assert [r.to_dict() for r in none.summary.reps] == [r.to_dict() for r in kept.summary.reps]


def test_the_no_rep_report_still_names_why():
    """The report's line for a recording with no rep reads the kept movements' reasons."""
    a = analyze_arrays(*_session()).analyzer
    reasons = collections.Counter(c.rejected for c in a.rejected)
    a.state.rep_count = 0  # as if nothing had counted
    text = why_nothing_counted(a)
    assert text.startswith("no rep counted: every movement was ruled out (")
    for reason, n in reasons.items():
        assert f"{reason} x{n}" in text
