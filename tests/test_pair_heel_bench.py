"""bench/pair_heel.py: a pair's heel-LSI error taken apart reproduces the accuracy bench's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCHES = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_bench_heel", BENCHES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def heel():
    return _load("pair_heel")


def test_the_decomposition_matches_the_accuracy_bench_and_the_truth(heel):
    job = ("deep_drop", 60139)  # a short dev pair: 4 and 5 reps
    r = heel.one_pair(job)
    # the chain's heel LSI error is the accuracy bench's own figure for the same pair
    assert r["err"]["chain"] == pytest.approx(
        _load("accuracy").one_pair(job)["err"]["heel_rise_lsi"]
    )
    # every rep matched to a true rep: their true heights give the truth's LSI
    assert r["err"]["matched_truth"] == pytest.approx(0.0, abs=0.05)
    # the true axis is the foot's: read along it, the tops are the true peaks to a degree
    # (a wrong axis, e.g. another row of the mount matrix, reads them many degrees off)
    rows = [x for side in r["sides"].values() for x in side]
    assert all(x["true_peak_deg"] is not None for x in rows)
    off = [abs(x["true_axis_peak_deg"] - x["true_peak_deg"]) for x in rows]
    assert np.median(off) < 1.0 and max(off) < 2.0, off


def test_it_refuses_seeds_outside_the_development_ranges(heel, capsys):
    with pytest.raises(SystemExit):
        heel.main(["--first-seed", "73000", "--sessions", "1"])
    assert "development seeds only" in capsys.readouterr().err


def test_the_truth_names_the_sensor_errors_it_drew_without_changing_the_recording():
    from heelraise.sim.kinematics import Motion
    from heelraise.sim.sensor import SensorModel

    t = np.arange(0.0, 2.0, 0.001)
    true_acc = np.tile([0.1, -0.2, 0.97], (len(t), 1))
    motion = Motion(t, true_acc, np.zeros((len(t), 3)), np.zeros(len(t)), np.zeros(len(t)))
    sensor = SensorModel(drop_fraction=0.0, drop_bursts_per_min=0.0)
    errors: dict = {}
    plain = sensor.record(motion, np.random.default_rng(5))
    told = sensor.record(motion, np.random.default_rng(5), errors)
    for a, b in zip(plain, told, strict=True):  # the same draws: the same recording
        np.testing.assert_array_equal(a, b)
    # at rest the accelerometer reads its matrix times the true force plus its offset
    # (a wrong matrix, e.g. the gyro's, or the offset left out, reads 0.01-0.1 g off)
    want = np.asarray(errors["acc_matrix"]) @ true_acc[0] + errors["acc_bias_g"]
    np.testing.assert_allclose(told[1].mean(axis=0), want, atol=2e-3)
    assert not np.allclose(errors["acc_matrix"], errors["gyr_matrix"])


def test_true_gains_give_the_ceiling_the_gain_fit_leaves(heel):
    # deep_drop 60139: the right gyro's gain along the pitch axis is 1.041, the fit leaves
    # it at 1.026, and its 8 deg raises read 0.3-0.5 deg low: heel LSI 9 pp off
    fitted = heel.one_pair(("deep_drop", 60139))
    perfect = heel.one_pair(("deep_drop", 60139, True))
    gains = {s: rows[0]["gyro_gain"] for s, rows in fitted["sides"].items()}
    assert all(abs(g["true"] - 1.0) < 0.1 for g in gains.values())
    assert max(abs(g["true"] - g["fitted"]) for g in gains.values()) > 0.01
    assert all(
        rows[0]["gyro_gain"]["fitted"] == rows[0]["gyro_gain"]["true"]
        for rows in perfect["sides"].values()
    )
    assert abs(fitted["err"]["chain"]) > 5.0
    assert abs(perfect["err"]["chain"]) < 3.0
