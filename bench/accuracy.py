"""Accuracy benchmark: simulated sessions over seeds, mountings, rates, tempos, surfaces.

Seeds 10000+ are never looked at while developing the chain (development used seeds < 100).
Prints the figures the README quotes. ``python bench/accuracy.py [--sessions N] [--jobs J]``
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from heelraise.chain.offline import analyze_arrays
from heelraise.recording import read_recording
from heelraise.settings import AnalyzerSettings
from heelraise.sim import simulate_session
from heelraise.sim.scoring import Score, varied_spec

REAL_DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def one(seed: int) -> Score:
    spec = varied_spec(seed)
    sim = simulate_session(spec)
    tempo = None if "X" in spec.tempo else spec.tempo
    result = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, AnalyzerSettings(tempo=tempo))
    score = Score()
    name = (
        f"seed {seed} ({spec.surface}, {spec.rate_hz:g} Hz, {spec.tempo}"
        f"{', walk-only' if spec.walk_only else ''})"
    )
    score.add(name, sim.truth, result.summary.reps)
    return score


def run(seeds, jobs: int) -> Score:
    total = Score()
    with ProcessPoolExecutor(jobs) as pool:
        for s in pool.map(one, seeds, chunksize=4):
            total.merge(s)
    return total


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sessions", type=int, default=240)
    p.add_argument("--first-seed", type=int, default=10000)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    t0 = time.time()
    score = run(range(args.first_seed, args.first_seed + args.sessions), args.jobs)
    print(score.report())
    for f in score.failures[:20]:
        print("  miss:", f)
    print("real recordings (truth: 0 reps):")
    for path in sorted(REAL_DATA.glob("*.csv")):
        rec = read_recording(path)
        res = analyze_arrays(rec.t_s, rec.acc_g, rec.gyr_dps)
        print(f"  {path.name}: {res.summary.rep_count} reps")
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
