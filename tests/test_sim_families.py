"""The simulator's motion families: each generates, its truth holds together, its kinematics
are what the family says (brisk rise rates, lever-arm acceleration, flights, strides)."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.sim import SessionSpec, simulate_session
from heelraise.sim.families import FAMILIES, NON_REP_FAMILIES, REP_FAMILIES
from heelraise.sim.kinematics import foot_to_sensor

FINE_HZ = 1000.0


def short(family: str, seed: int, **kw) -> SessionSpec:
    base = dict(family=family, seed=seed, sets=1, reps=6, rate_hz=100.0, fault_rate=0.0)
    if family == "classic":
        base.update(walking=False, distractors=False)
    return SessionSpec(**{**base, **kw})


def idx(t_s: float) -> int:
    return int(round(t_s * FINE_HZ))


def pitch_rate_dps(sim) -> np.ndarray:
    return np.gradient(sim.motion.pitch_deg, 1.0 / FINE_HZ)


@pytest.fixture(scope="module")
def brisk():
    """Brisk sessions on floor and step, no injected faults."""
    return [
        simulate_session(short("brisk", seed, surface=surface, reps=8))
        for seed, surface in [(1, "floor"), (2, "step"), (3, "floor"), (4, "step"), (5, "floor")]
    ]


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_generates_with_consistent_truth(family):
    sim = simulate_session(short(family, 7))
    truth = sim.truth
    assert len(sim.t_s) > 100 * 10 and np.all(np.isfinite(sim.acc_g))
    assert np.all(np.diff(sim.t_s) > 0)
    reps = truth["reps"]
    if family in REP_FAMILIES:
        assert truth["rep_count"] == len(reps) == 6
        for a, b in zip(reps, reps[1:], strict=False):
            assert b["start_s"] >= a["end_s"]
        for r in reps:
            assert r["start_s"] < r["top_start_s"] <= r["top_end_s"] < r["end_s"], r
            assert r["raise_s"] == pytest.approx(r["top_start_s"] - r["start_s"], abs=1e-3)
            assert r["lower_s"] == pytest.approx(r["end_s"] - r["top_end_s"], abs=1e-3)
            assert r["peak_deg"] > 5.0
    else:
        assert truth["rep_count"] == 0 and reps == []
        assert any(s["kind"] == family for s in truth["not_reps"]), truth["not_reps"]
    if family != "classic":
        assert 0.05 <= truth["lever_m"] <= 0.15


@pytest.mark.parametrize("family", ["brisk", "slow_walk", "jump"])
def test_same_seed_same_session_other_seed_another(family):
    a, b, c = (simulate_session(short(family, s)) for s in (11, 11, 12))
    assert np.array_equal(a.acc_g, b.acc_g) and np.array_equal(a.gyr_dps, b.gyr_dps)
    assert a.truth == b.truth
    assert len(a.t_s) != len(c.t_s) or not np.array_equal(a.acc_g, c.acc_g)


def test_brisk_phase_durations_are_in_the_stated_ranges(brisk):
    for sim in brisk:
        reps = sim.truth["reps"]
        for k, r in enumerate(reps):
            assert 0.25 <= r["raise_s"] <= 0.6 + 1e-3, r
            assert 0.5 - 1e-3 <= r["lower_s"] <= 2.2 + 1e-3, r
            assert 1.1 * r["raise_s"] - 2e-3 <= r["lower_s"] <= 2.0 * r["raise_s"] + 2e-3, r
            assert 0.4 - 1e-3 <= r["top_hold_s"] <= 1.5 + 1e-3, r
            assert 29.0 <= r["peak_deg"] <= 57.0, r
            if k + 1 < len(reps):
                pause = r["bottom_hold_s"]
                assert 0.02 - 1e-3 <= pause <= 0.1 + 1e-3 or 0.3 - 1e-3 <= pause <= 0.9 + 1e-3


def test_brisk_rises_leave_rest_at_150_to_250_deg_s_within_a_tenth_of_a_second(brisk):
    for sim in brisk:
        scripted = np.gradient(sim.motion.scripted_pitch_deg, 1.0 / FINE_HZ)
        real = pitch_rate_dps(sim)  # with sway and balance ripple on top
        for r in sim.truth["reps"]:
            span = slice(idx(r["start_s"]), idx(r["top_start_s"]))
            rise = scripted[span]
            assert 150.0 - 1 <= rise.max() <= 250.0 + 1, (r["start_s"], rise.max())
            assert np.argmax(rise) / FINE_HZ <= 0.125, (r["start_s"], np.argmax(rise))
            assert abs(scripted[idx(r["start_s"])]) < 5.0  # from rest
            assert 120.0 <= real[span].max() <= 290.0


def test_brisk_top_overshoots_then_sags(brisk):
    for sim in brisk:
        p = sim.motion.pitch_deg
        for r in sim.truth["reps"]:
            top = p[idx(r["top_start_s"]) : idx(r["top_end_s"])]
            drop = top[:50].mean() - top[-50:].mean()  # overshoot (1-2) + sag (2-4)
            assert 2.0 <= drop <= 7.0, (r["start_s"], drop)


def test_brisk_balance_ripple_is_about_7_deg_s_rms_in_5_to_25_hz(brisk):
    for sim in brisk:
        rate = pitch_rate_dps(sim)
        f = np.fft.rfftfreq(len(rate), 1 / FINE_HZ)
        spec = np.fft.rfft(rate)
        spec[(f < 5) | (f > 25)] = 0
        band = np.fft.irfft(spec, len(rate))
        tops = np.concatenate(
            [
                band[idx(r["top_start_s"]) + 100 : idx(r["top_end_s"]) - 100]
                for r in sim.truth["reps"]
            ]
        )
        assert 4.0 <= np.sqrt(np.mean(tops**2)) <= 10.0


def test_lever_arm_acceleration_at_brisk_rise_starts():
    """Sensor 10-15 cm from the ball of the foot: |acc| is 0.2 to 1 g off 1 g as the rise
    leaves rest (alpha x r), a reading the chain must not take for 'foot not pivoting'."""
    devs = []
    seed = 100
    while len(devs) < 40:
        sim = simulate_session(short("brisk", seed, reps=5))
        seed += 1
        if not 0.10 <= sim.truth["lever_m"] <= 0.15:
            continue
        mag = np.linalg.norm(sim.motion.acc_g, axis=1)
        for r in sim.truth["reps"]:
            i = idx(r["start_s"])
            devs.append(np.max(np.abs(mag[i : i + 150] - 1.0)))
    devs = np.array(devs)
    assert np.all(devs >= 0.15), devs.min()
    assert np.mean((devs >= 0.2) & (devs <= 1.0)) >= 0.9, np.round(devs, 2)


def test_the_kinematics_add_tangential_and_centripetal_acceleration():
    """A pure pitch about the ball of the foot: f = R^T(a - g) with a = alpha x r + w x (w x r)."""
    t = np.arange(2000) / FINE_HZ
    pitch = np.radians(40.0) * (1 - np.cos(np.pi * t / 2.0)) / 2
    r_foot = np.array([-0.1, 0.0, 0.08])
    zero = np.zeros_like(t)
    acc, gyr = foot_to_sensor(t, pitch, zero, zero, np.zeros((len(t), 3)), r_foot, np.eye(3))
    w = np.gradient(pitch, 1 / FINE_HZ)
    alpha = np.gradient(w, 1 / FINE_HZ)
    k = slice(10, -10)
    wv = np.column_stack([zero, w, zero])
    av = np.column_stack([zero, alpha, zero])
    lever = np.cross(av, r_foot) + np.cross(wv, np.cross(wv, r_foot))  # foot frame
    c, s = np.cos(pitch), np.sin(pitch)
    g_body = np.column_stack([-s, zero, c])  # R_y(pitch)^T (0, 0, 1)
    expect = g_body + lever / 9.80665
    assert np.max(np.abs(acc[k] - expect[k])) < 1e-4
    assert np.allclose(gyr[k, 1], np.degrees(w[k]), atol=1e-6)


def test_deep_drop_opens_deeper_than_its_raises_go_up():
    for seed in range(3):
        sim = simulate_session(short("deep_drop", seed))
        p = sim.motion.pitch_deg
        first = sim.truth["reps"][0]
        drops = [s for s in sim.truth["not_reps"] if s["kind"] == "heel_drop_stretch"]
        assert drops and drops[0]["end_s"] <= first["start_s"]
        depth = -p[idx(drops[0]["start_s"]) : idx(drops[0]["end_s"])].min()
        assert depth > max(r["peak_deg"] for r in sim.truth["reps"][:3]) + 2
        assert any(s["kind"] == "return_to_neutral" for s in sim.truth["not_reps"])
        for r in sim.truth["reps"]:
            assert 5.0 <= r["peak_deg"] <= 20.0


@pytest.mark.parametrize("family", NON_REP_FAMILIES)
def test_non_rep_families_have_no_true_reps(family):
    for seed in range(3):
        sim = simulate_session(short(family, seed))
        assert sim.truth["rep_count"] == 0 and not sim.truth["counts_reps"]


def test_slow_walking_strides_stay_under_300_deg_s_and_60_deg_right_after_a_fast_one():
    followed = 0
    for seed in range(4):
        sim = simulate_session(short("slow_walk", seed))
        rate, p = pitch_rate_dps(sim), sim.motion.pitch_deg
        for seg in (s for s in sim.truth["not_reps"] if s["kind"] == "slow_walk"):
            kinds = [k for _, _, k in seg["strides"]]
            for (t0, t1, kind), nxt in zip(seg["strides"], kinds[1:] + [None], strict=True):
                span = slice(idx(t0), idx(t1))
                if kind == "slow":
                    assert np.max(np.abs(rate[span])) < 300.0
                    assert 50.0 <= p[span].max() < 60.0
                else:
                    assert np.max(np.abs(rate[span])) > 300.0
                    followed += nxt == "slow"
    assert followed >= 4


def test_squats_keep_the_shoe_nearly_flat_or_on_the_board():
    variants = set()
    for seed in range(12):
        sim = simulate_session(short("squat", seed))
        p = sim.motion.pitch_deg
        for seg in (s for s in sim.truth["not_reps"] if s["kind"] == "squat"):
            variants.add(seg["variant"])
            if seg["variant"] != "decline":
                span = p[idx(seg["start_s"]) : idx(seg["end_s"])]
                assert span.max() - span.min() < 8.0
    assert variants == {"double", "single_leg", "decline"}


@pytest.mark.parametrize("family", ["jump", "hop"])
def test_jumps_and_hops_fly_and_land_hard(family):
    sim = simulate_session(short(family, 3))
    mag = np.linalg.norm(sim.motion.acc_g, axis=1)
    seg = next(s for s in sim.truth["not_reps"] if s["kind"] == family)
    span = mag[idx(seg["start_s"]) : idx(seg["end_s"])]
    free = span < 0.3
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], free.astype(int), [0]]))))[::2]
    assert runs.max() >= 150  # at least 0.15 s of free fall
    assert span.max() >= 3.0  # landing impacts of several g
    assert sim.motion.pitch_deg.max() >= 30.0


def test_running_swings_the_foot_hard():
    sim = simulate_session(short("run", 2))
    assert np.max(np.abs(pitch_rate_dps(sim))) > 500.0
    assert sim.motion.pitch_deg.max() - sim.motion.pitch_deg.min() > 60.0


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"family": "pilates"}, "unknown motion family 'pilates'"),
        ({"family": "brisk", "profile": "sawtooth"}, "unknown speed profile 'sawtooth'"),
        (
            {"family": "classic", "profile": "cosine"},
            "applies to the brisk, slow, deep_drop families",
        ),
        ({"family": "deep_drop", "surface": "floor"}, "surface 'step'"),
    ],
)
def test_bad_family_settings_are_refused_by_name(kw, message):
    with pytest.raises(ValueError, match=message):
        simulate_session(SessionSpec(**kw))


@pytest.mark.parametrize(
    "profile", ["min_jerk", "cosine", "trapezoid", "asym_bell", "linear_onset"]
)
def test_a_named_profile_shapes_the_slow_family(profile):
    sim = simulate_session(short("slow", 5, profile=profile))
    assert sim.truth["rep_count"] == 6


def test_a_named_sensor_site_is_kept_in_every_family():
    from heelraise.sim.families import SITE_DIRECTIONS
    from heelraise.sim.session import MOUNT_SITES_M

    assert set(SITE_DIRECTIONS) == set(MOUNT_SITES_M)  # one set of site names
    for family in ("classic", "brisk", "hop"):
        sim = simulate_session(short(family, 3, mount="heel_counter"))
        assert sim.truth["mount_site"] == "heel_counter"
    with pytest.raises(ValueError, match="unknown sensor site 'toe_cap'"):
        simulate_session(short("brisk", 3, mount="toe_cap"))
