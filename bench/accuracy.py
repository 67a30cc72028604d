"""Accuracy benchmark: simulated sessions of every motion family, scored against their truth.

Each session i of the run is family ``FAMILIES[i % len(families)]`` (the ``--families`` list)
with seed ``first_seed + i``, made by ``heelraise.sim.scoring.family_spec`` and analysed by
the offline path (``heelraise.chain.offline.analyze_arrays``, the same chain as streaming).
The classic family is ``varied_spec``: ``--families classic`` runs exactly the sessions the
benchmark ran before the families existed, so old figures stay comparable. It prints, per
family and overall: exact rep count per session, zero-rep sessions where nothing is true,
reps counted / true, median and 90th-percentile abs. error of ``raise_s``, ``lower_s``,
``top_hold_s``, median abs. error of ``peak_deg``, fault precision / recall; then each
fault's figures, the misses, and the real walking recordings in ``tests/data/`` (0 reps).

Seed discipline:
- development and tuning use seeds below 10000 (the default range starts at 1000);
- 10000 to 89999 hold earlier held-out runs of the classic bench (10000+, 30000+, 40000+,
  50000+), already seen;
- 90000 and up is the held-out evaluation range: nobody runs it until the lead does, once,
  at the end, and says so beside the figures. The bench refuses it without ``--held-out``.

``python bench/accuracy.py [--first-seed 1000] [--sessions 600] [--families all] [--jobs 1]``
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from heelraise.chain.offline import analyze_arrays
from heelraise.events import FAULTS
from heelraise.recording import read_recording
from heelraise.settings import AnalyzerSettings
from heelraise.sim import simulate_session
from heelraise.sim.families import FAMILIES
from heelraise.sim.scoring import FamilyScores, analysis_tempo, family_spec, p90_abs

REAL_DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
HELD_OUT_FIRST_SEED = 90000


def one(job: tuple[str, int]) -> FamilyScores:
    family, seed = job
    spec = family_spec(family, seed)
    sim = simulate_session(spec)
    settings = AnalyzerSettings(tempo=analysis_tempo(spec))
    result = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, settings)
    scores = FamilyScores()
    if sim.truth["rep_count"]:
        what = f"{spec.sets}x{spec.reps}, {spec.surface}"
    else:
        what = "walk-only" if spec.walk_only else "no reps"
    name = f"{family} seed {seed} ({what}, {spec.rate_hz:g} Hz)"
    scores.add(name, sim.truth, result.summary.reps)
    return scores


def jobs_for(families: list[str], first_seed: int, sessions: int) -> list[tuple[str, int]]:
    return [(families[i % len(families)], first_seed + i) for i in range(sessions)]


def run(jobs: list[tuple[str, int]], workers: int) -> FamilyScores:
    total = FamilyScores()
    if workers <= 1:
        for job in jobs:
            total.merge(one(job))
        return total
    with ProcessPoolExecutor(workers) as pool:
        for s in pool.map(one, jobs, chunksize=4):
            total.merge(s)
    return total


def family_list(text: str) -> list[str]:
    if text == "all":
        return list(FAMILIES)
    names = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in names if x not in FAMILIES]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown family {', '.join(bad) or '(none given)'}: choose from all, "
            + ", ".join(FAMILIES)
        )
    return names


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sessions", type=int, default=600, help="sessions in all (default 600)")
    p.add_argument("--first-seed", type=int, default=1000, help="first seed (default 1000)")
    p.add_argument(
        "--families",
        type=family_list,
        default=list(FAMILIES),
        help="comma-separated motion families, or all (default)",
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--held-out",
        action="store_true",
        help=f"allow seeds from {HELD_OUT_FIRST_SEED} up (the lead's one evaluation run)",
    )
    args = p.parse_args(argv)
    if args.sessions < 1 or args.jobs < 1 or args.first_seed < 0:
        p.error("--sessions and --jobs must be 1 or more, --first-seed 0 or more")
    last = args.first_seed + args.sessions - 1
    if last >= HELD_OUT_FIRST_SEED and not args.held_out:
        p.error(
            f"seeds {args.first_seed} to {last} reach the held-out range "
            f"({HELD_OUT_FIRST_SEED}+), which is run once, by the lead: add --held-out"
        )
    t0 = time.time()
    jobs = jobs_for(args.families, args.first_seed, args.sessions)
    scores = run(jobs, args.jobs)
    print(f"seeds {args.first_seed} to {last}, families: {', '.join(args.families)}")
    print(scores.table())
    print()
    overall = scores.overall
    print("overall:")
    print(overall.report())
    print("faults per family (precision / recall / true count):")
    for family, s in sorted(scores.by_family.items(), key=lambda kv: FAMILIES.index(kv[0])):
        cells = []
        for f in FAULTS:
            fp, fr, n = s.precision_recall(f)
            if n or s.fault_fp[f]:
                cells.append(f"{f} {fp:.2f}/{fr:.2f}/{n}")
        if cells:
            print(f"  {family}: " + ", ".join(cells))
    print("phase error by true speed profile (median / p90 abs. error s, signed median, n):")
    for phase, by in (
        ("raise_s", overall.raise_err_by_profile),
        ("lower_s", overall.lower_err_by_profile),
    ):
        for prof in sorted(by):
            err = np.asarray(by[prof])
            print(
                f"  {phase} {prof:<13} {overall.median_abs(err):.3f} / {p90_abs(err):.3f}"
                f"  {np.median(err):+.3f}  {len(err)}"
            )
    print(f"misses ({len(overall.failures)}):")
    for f in overall.failures[:40]:
        print("  ", f)
    print("real recordings (truth: 0 reps):")
    for path in sorted(REAL_DATA.glob("*.csv")):
        rec = read_recording(path)
        res = analyze_arrays(rec.t_s, rec.acc_g, rec.gyr_dps)
        print(f"  {path.name}: {res.summary.rep_count} reps")
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
