"""A session's first raise is read with the sensor's gains fitted from the poses before it.

On a step a set opens with the heels dropped 18-32 deg below neutral and held (a calf
stretch); the first raise then rises 30-50 deg out of that bottom to its top. The bottom is
read by the accelerometer (the filter blends it through the hold) and the rise by the gyro:
uncorrected, an MPU-6050's 30 mg offset and 2 % scale and cross-axis errors bend that bottom
by up to a degree and the gyro's 2 % gain adds as much over the rise, so the first rep's
height came out 1-2.5 deg off on raises of 8-15 deg (deep_drop dev pairs 1000-1039: the
session's first reps' |error| p90 0.83 deg against 0.56 for the reps after them), a 10-25 %
error on one rep, which the heel-height LSI takes in whole on a side of 4-8 reps. The
self-calibration waited for 3 pose pairs before its first fit, and the stand and the drop's
hold make only one or two before that rep; it now fits from the first pair (the datasheet's
spreads hold a one-pair fit near no correction across the turn it cannot see).

Development seeds of the pair bench's deep_drop family (``bench/accuracy.py --pairs``), each
side's first rep against its truth; on the chain that waited for 3 pairs they read 1.84,
0.97 and 0.90 deg off.
"""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.offline import analyze_arrays
from heelraise.settings import AnalyzerSettings
from heelraise.sim.pair import PairSpec, simulate_pair
from heelraise.sim.scoring import analysis_tempo, family_spec, matched_reps
from heelraise.symmetry import SIDES

#: deg: the first rep's height within this of the truth (its sensor's gains fitted by then)
FIRST_REP_DEG = 0.5


def bench_pair(seed: int):
    """The pair bench's deep_drop pair of ``seed`` (``bench/accuracy.py``'s ``pair_spec``)."""
    from dataclasses import replace

    rng = np.random.default_rng([seed, 15])
    weaker = str(rng.choice(SIDES))
    first = str(rng.choice(SIDES))
    spec = PairSpec(
        replace(family_spec("deep_drop", seed), walk_only=False),
        weaker=weaker,
        weak_reps_fraction=float(rng.uniform(0.5, 0.95)),
        weak_heel_fraction=float(rng.uniform(0.6, 0.95)),
        order=(first, "right" if first == "left" else "left"),
    )
    return spec, simulate_pair(spec)


@pytest.mark.parametrize("seed, side", [(1018, "left"), (1012, "left"), (1024, "right")])
def test_first_raise_out_of_a_heel_drop_is_read_with_fitted_gains(seed, side):
    spec, pair = bench_pair(seed)
    sim = pair.sides[side]
    settings = AnalyzerSettings(tempo=analysis_tempo(spec.session))
    reps = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, settings).summary.reps
    first = [(r, t) for r, t in matched_reps(sim.truth["reps"], reps) if t is not None]
    rep, true = first[0]
    assert (true["set"], true["index"]) == (1, 1)  # the session's first rep was counted
    err = rep.peak_deg - true["peak_deg"]
    assert abs(err) < FIRST_REP_DEG, (seed, side, rep.peak_deg, true["peak_deg"])
