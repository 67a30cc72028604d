"""The pitch axis and its sign, found from the data whatever the mounting and the first move."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.offline import analyze_arrays
from heelraise.sim import SessionSpec, simulate_session


@pytest.mark.parametrize("seed", [720, 721, 722])
def test_heels_dropped_in_a_stretch_before_the_first_rep_do_not_turn_the_axis_round(seed):
    """On a step, a held calf stretch (heels below the step) is the first big movement.

    Taken for a raise, it would turn every rep upside down: peaks the size of the stretch,
    raise and lowering swapped. The sign is checked on the first rep and corrected.
    """
    sim = simulate_session(
        SessionSpec(sets=2, reps=6, surface="step", stretch_first=True, seed=seed)
    )
    truth = sim.truth["reps"]
    one = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps)
    reps = one.summary.reps
    assert len(reps) == len(truth)
    peaks = np.array([r.peak_deg for r in reps])
    true_peaks = np.array([t["peak_deg"] for t in truth])
    assert np.median(np.abs(peaks - true_peaks)) < 3.0
    raise_err = [r.raise_s - t["raise_s"] for r, t in zip(reps, truth, strict=True)]
    assert np.median(np.abs(raise_err)) < 0.15
    # the correction happens at the same sample however the stream is cut
    chunked = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, chunk=17)
    assert [round(r.start_s, 3) for r in chunked.summary.reps] == [
        round(r.start_s, 3) for r in reps
    ]
