"""``--plot`` always draws: the trace even when nothing was counted, and says why."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.offline import analyze_arrays
from heelraise.plot import build_figure, plot_analysis
from heelraise.sim import SessionSpec, simulate_session

pytest.importorskip("matplotlib")


def _texts(fig):
    ax = fig.axes[0]
    return ax.get_title() + " ".join(t.get_text() for t in ax.texts)


def test_standing_only_draws_the_tilt_and_says_no_axis_was_found():
    rng = np.random.default_rng(0)
    n = 1000
    t = np.arange(n) / 100.0
    acc = np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 0.002, (n, 3))
    gyr = rng.normal(0, 0.3, (n, 3))
    result = analyze_arrays(t, acc, gyr, keep_trace=True)
    fig = build_figure("standing", result)
    lines = fig.axes[0].get_lines()
    assert any(len(line.get_xdata()) > 500 for line in lines)  # the tilt trace is drawn
    assert "axis unknown" in fig.axes[0].get_legend().get_texts()[0].get_text()
    assert "no rep counted" in _texts(fig) and "pitch axis" in _texts(fig)


def test_never_still_says_so():
    rng = np.random.default_rng(1)
    n = 600
    t = np.arange(n) / 100.0
    acc = np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 0.2, (n, 3))
    gyr = rng.normal(0, 40.0, (n, 3))
    result = analyze_arrays(t, acc, gyr, strict=False, keep_trace=True)
    assert "never still" in _texts(build_figure("shaking", result))


def test_a_session_draws_phases_rep_numbers_faults_and_a_legend(tmp_path):
    sim = simulate_session(SessionSpec(sets=1, reps=8, fault_rate=0.5, seed=3, walking=False))
    result = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, keep_trace=True)
    reps = result.summary.reps
    assert len(reps) == 8 and any(r.faults for r in reps)
    fig = build_figure("session", result)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"raise", "hold", "lower", "fault"} <= set(legend)
    labels = {t.get_text() for t in ax.texts}
    assert {f"1.{i}" for i in range(1, 9)} <= labels
    assert any(f in labels for r in reps for f in [", ".join(r.faults)] if r.faults)
    assert "no rep counted" not in ax.get_title()

    class Rec:
        path = "session.csv"

    out = tmp_path / "p.png"
    plot_analysis(Rec(), result, str(out))
    assert out.stat().st_size > 10000
