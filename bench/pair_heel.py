"""Why a pair's heel-height LSI misses: each side's reps taken apart (issue 15).

For each pair of ``bench/accuracy.py --pairs`` (the same specs, ``pair_spec``) both sides
are analysed as the bench does, and every counted rep's tilt at its top and the pitch axis
it was read along are kept (the analyzer's ``_accept`` is wrapped to look, nothing else
changes). Each rep is matched to a true rep as the accuracy bench matches them
(``sim.scoring.matched_reps``). The heel LSI is then taken three ways against the truth's:

- ``chain``: the heights the chain reported (the bench's figure);
- ``true axis``: each rep's top read along the sensor's true pitch axis (the foot's y axis
  in sensor axes, from the simulator's mount matrix, on the chain's neutral basis): what
  any better pitch axis could give at most;
- ``matched truth``: each counted rep at its matched true height (0 unless a rep is
  missed, extra or matched to another).

A miss whose ``true axis`` LSI is within the tolerance is the axis's (a rolled rep read
along an axis leaning a few degrees); one whose ``true axis`` LSI misses as much is the
per-rep height itself (each sensor's own gain and bias errors): for each miss each side's
mean ``peak_deg`` error (deg and % of its mean true peak), its rolled reps' (|roll| 8 deg
or more), the axis's error when each rep was counted (median and max, deg) and the first
rep's error are printed.

Each side also shows its gyro's gain along the foot's pitch axis, the simulated sensor's
(``truth["sensor_errors"]``) beside the self-calibration's last fit: the part of a height
error that is the gyro's gain. ``--true-gains`` runs every side with each gain fit replaced
by the sensor's true gains (its accelerometer's whole affine error, its gyro's gain along
the pitch axis; the same neutral): what a perfect self-calibration could give at most.

``python bench/pair_heel.py --first-seed 60000 --sessions 160 --jobs 2`` (development and
tuning seeds only: below 4000 or 60000-69999; the kept-apart and held-out ranges are the
accuracy bench's).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from heelraise.chain.analyzer import Analyzer
from heelraise.chain.calibration import GainCorrection, GainSelfCal, _rotation_between
from heelraise.settings import AnalyzerSettings
from heelraise.sim.families import REP_FAMILIES
from heelraise.sim.pair import simulate_pair
from heelraise.sim.scoring import analysis_tempo, matched_reps
from heelraise.symmetry import SIDES, side_totals, symmetry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import HEEL_LSI_TOLERANCE_PP, jobs_for, pair_spec  # noqa: E402

#: deg: a rep rolled this far (the injected ankle rolls, 10-15 deg) is counted as rolled
ROLLED_DEG = 8.0
#: the seeds this bench may run: development ones only
DEV_SEEDS = (range(0, 4000), range(60000, 70000))
WAYS = ("chain", "true_axis", "matched_truth")


def _angle_deg(v: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(v[1], v[0])))


def pitch_gyro_gain(truth: dict) -> float:
    """The simulated gyro's gain along the foot's pitch axis (row 1 of the mount matrix, the
    foot's y axis in sensor axes): what the gain fit's one gyro gain should come to."""
    p = np.asarray(truth["mount_matrix"])[1]
    return float(p @ np.asarray(truth["sensor_errors"]["gyr_matrix"]) @ p)


def true_correction(truth: dict, up: np.ndarray, g_ref: float) -> GainCorrection:
    """The correction a perfect self-calibration would fit: the accelerometer's drawn affine
    error undone (the neutral reading left where it is, as ``correction_of`` leaves it) and
    the gyro's gain along the pitch axis."""
    e = truth["sensor_errors"]
    inv = np.linalg.inv(np.asarray(e["acc_matrix"]))
    bias = np.asarray(e["acc_bias_g"])
    c0 = inv @ (up * g_ref - bias)
    matrix = g_ref * (_rotation_between(c0 / np.linalg.norm(c0), up) @ inv) / np.linalg.norm(c0)
    return GainCorrection(matrix, -matrix @ bias, pitch_gyro_gain(truth), np.zeros(10))


def side_reps(sim, settings: AnalyzerSettings, true_gains: bool = False) -> list[dict]:
    """Each counted rep of one side: what it reported, its top's tilt along the true axis,
    the axis's error when it was counted (deg) and the true rep it matches (or None); with
    ``true_gains`` each gain fit replaced by the sensor's true gains (:func:`true_correction`).
    The first row also carries the side's gyro gain along the pitch axis, true and fitted."""
    a = Analyzer(settings)
    if true_gains:
        fit = GainSelfCal._pose

        def perfect(cal, acc, mid_turn):
            changed = fit(cal, acc, mid_turn)
            if changed:
                cal.correction = true_correction(sim.truth, cal.up, cal.g_ref)
            return changed

        GainSelfCal._pose = perfect
    seen: list[tuple] = []
    accept = a._accept

    def looking(cand):
        p = a.axis.p.copy()
        events = accept(cand)
        if events:  # counted (not the first rep turning the axis round)
            seen.append((events[0].rep, p, cand.tilt_deg[cand.top_idx - cand.base_idx].copy()))
        return events

    a._accept = looking
    try:
        a.update(sim.t_s, sim.acc_g, sim.gyr_dps)
        a.finish()
    finally:
        if true_gains:
            GainSelfCal._pose = fit
    # The foot's pitch axis (its y axis) in sensor axes is row 1 of the mount matrix
    # (sensor -> foot); on the chain's neutral basis it is the true pitch axis.
    true_p = a.fusion.basis.T @ np.asarray(sim.truth["mount_matrix"])[1]
    true_p /= np.linalg.norm(true_p)
    if true_p @ a.axis.p < 0:  # the same sign as the chain's (heel up positive)
        true_p = -true_p
    rows = []
    matched = matched_reps(sim.truth["reps"], [rep for rep, _, _ in seen])
    for (rep, p, top), (_, tr) in zip(seen, matched, strict=True):
        p = p if p @ true_p >= 0 else -p
        err = (_angle_deg(p) - _angle_deg(true_p) + 90.0) % 180.0 - 90.0
        rows.append(
            {
                "heel_rise_mm": rep.heel_rise_mm,
                "peak_deg": rep.peak_deg,
                "true_axis_peak_deg": float(top @ true_p),
                "axis_err_deg": float(err),
                "true_peak_deg": None if tr is None else tr["peak_deg"],
                "true_heel_rise_mm": None if tr is None else tr["heel_rise_mm"],
                "true_roll_deg": None if tr is None else tr["roll_deg"],
            }
        )
    if rows:
        rows[0]["gyro_gain"] = {
            "true": pitch_gyro_gain(sim.truth),
            "fitted": float(a.fusion.correction.gyr_gain),
        }
    return rows


def one_pair(job: tuple) -> dict:
    """Both sides' reps, and the heel LSI's error (pp) read each of the three ways; a third
    item in ``job``, when true, runs the sides with their true gains (see side_reps)."""
    family, seed, *more = job
    true_gains = bool(more and more[0])
    spec = pair_spec(family, seed)
    pair = simulate_pair(spec)
    settings = AnalyzerSettings(tempo=analysis_tempo(spec.session))
    sides, totals = {}, {way: {} for way in WAYS}
    for side in SIDES:
        rows = sides[side] = side_reps(pair.sides[side], settings, true_gains)
        heights = {
            "chain": [r["heel_rise_mm"] for r in rows],
            "true_axis": [settings.heel_rise_mm(r["true_axis_peak_deg"]) for r in rows],
            "matched_truth": [r["true_heel_rise_mm"] or r["heel_rise_mm"] for r in rows],
        }
        for way in WAYS:
            totals[way][side] = side_totals(heights[way], settings.body_mass_kg)
    true = pair.truth["symmetry"]["heel_rise_lsi"]
    err = {}
    for way in WAYS:
        got = symmetry(totals[way], involved=spec.weaker)["heel_rise_lsi"]
        err[way] = float("nan") if got is None or true is None else got - true
    return {"family": family, "seed": seed, "weaker": spec.weaker, "sides": sides, "err": err}


def side_line(side: str, rows: list[dict]) -> str:
    """One side of a miss: its reps' mean height error, rolled reps', the axis's error."""
    ok = [r for r in rows if r["true_peak_deg"] is not None]
    if not ok:
        return f"    {side:<5} {len(rows)} reps, none matched"
    err = np.array([r["peak_deg"] - r["true_peak_deg"] for r in ok])
    along = np.array([r["true_axis_peak_deg"] - r["true_peak_deg"] for r in ok])
    true = np.array([r["true_peak_deg"] for r in ok])
    rolled = np.abs([r["true_roll_deg"] for r in ok]) >= ROLLED_DEG
    axis = np.abs([r["axis_err_deg"] for r in rows])
    rolled_txt = f"{err[rolled].mean():+.2f}" if rolled.any() else "-"
    gain = rows[0]["gyro_gain"]
    return (
        f"    {side:<5} {len(rows):3d} reps, true peak mean {true.mean():5.1f} deg; peak error "
        f"mean {err.mean():+.2f} deg ({100 * err.mean() / true.mean():+.1f} %), along the "
        f"true axis {along.mean():+.2f}; {int(rolled.sum())} rolled: {rolled_txt}; axis error "
        f"median {np.median(axis):.1f} max {axis.max():.0f} deg; first rep {err[0]:+.2f}; "
        f"gyro gain along the pitch axis {gain['true']:.4f}, fitted {gain['fitted']:.4f}"
    )


def report(results: list[dict]) -> str:
    lines = []
    tol = HEEL_LSI_TOLERANCE_PP
    for label in [*REP_FAMILIES, "overall"]:
        rows = [r for r in results if label in ("overall", r["family"])]
        if rows:
            cells = [
                f"{way} {sum(abs(r['err'][way]) <= tol for r in rows)}/{len(rows)}" for way in WAYS
            ]
            lines.append(f"{label:<10} heel LSI within {tol:g} pp: " + ", ".join(cells))
    misses = [r for r in results if not abs(r["err"]["chain"]) <= tol]
    lines.append(f"misses ({len(misses)}):")
    for r in misses:
        e = r["err"]
        cause = "the axis" if abs(e["true_axis"]) <= tol else "the heights"
        lines.append(
            f"  {r['family']} seed {r['seed']} (weaker {r['weaker']}): heel LSI "
            f"{e['chain']:+.1f} pp, along the true axis {e['true_axis']:+.1f}, matched truth "
            f"{e['matched_truth']:+.1f}: {cause}"
        )
        lines += [side_line(side, r["sides"][side]) for side in SIDES]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--first-seed", type=int, default=60000)
    p.add_argument("--sessions", type=int, default=160, help="pairs in all (default 160)")
    p.add_argument(
        "--families", default=",".join(REP_FAMILIES), help="rep families, comma-separated"
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--true-gains",
        action="store_true",
        help="each gain fit replaced by the sensor's true gains (the most it could give)",
    )
    args = p.parse_args(argv)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    bad = [f for f in families if f not in REP_FAMILIES]
    if bad or not families or args.sessions < 1 or args.jobs < 1:
        p.error(
            f"--families takes rep families ({', '.join(REP_FAMILIES)}); --sessions, --jobs >= 1"
        )
    last = args.first_seed + args.sessions - 1
    if not any(args.first_seed in r and last in r for r in DEV_SEEDS):
        p.error(
            f"seeds {args.first_seed} to {last}: development seeds only (below 4000, 60000-69999)"
        )
    jobs = [(*job, args.true_gains) for job in jobs_for(families, args.first_seed, args.sessions)]
    if args.jobs == 1:
        results = [one_pair(j) for j in jobs]
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(one_pair, jobs, chunksize=1))
    gains = ", each side with its sensor's true gains" if args.true_gains else ""
    print(f"seeds {args.first_seed} to {last}, pairs of: {', '.join(families)}{gains}")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
