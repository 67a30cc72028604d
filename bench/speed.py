"""Speed of the signal chain, on one core, with two AHRS filters as reference points.

    python bench/speed.py [--minutes 10] [--repeat 3] [--madgwick-s 60]

Measures, on about ten simulated minutes at 100, 200, 400 Hz and 1 kHz, and on
the real walking recordings in ``tests/data/`` (400 Hz):

* offline: ``analyze_arrays`` over the whole recording in one go, samples per
  second of CPU and seconds of recording per CPU second (best of ``--repeat``;
  target >= 3 million samples/s, judged at 400 Hz and 1 kHz: the chain works on
  a 100 Hz grid, so its cost is per second of recording, and a 100 Hz input
  has a quarter of the samples of a 400 Hz one for the same work);
* streaming: the Analyzer fed 20 ms chunks at 1 kHz as the service does, CPU ms
  per second of data (``time.process_time``; target <= 3 ms);
* reference points on the same data: imufusion's AHRS (x-io Fusion, C) called
  once per sample from Python, ``Ahrs.update_no_magnetometer``, and the ``ahrs``
  package's Madgwick filter in batch (``ahrs.filters.Madgwick(gyr=rad/s,
  acc=m/s^2, frequency=...)``; pure Python, so it runs on the first
  ``--madgwick-s`` seconds and its rate is scaled per sample).

The ratios say how many times cheaper the whole chain (resample, calibrate,
tilt, axis, detection, faults) is than orientation alone with each library.
Use ``taskset -c 0`` to pin it to one core; the chain itself is single-threaded
(numpy's BLAS threads do not come into play on these small arrays).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from heelraise.chain.analyzer import Analyzer
from heelraise.chain.offline import analyze_arrays, analyze_recording
from heelraise.recording import read_recording
from heelraise.sim import SessionSpec, simulate_session

G_MPS2 = 9.80665
OFFLINE_TARGET = 3e6  # samples per CPU second
STREAM_TARGET_MS = 3.0  # CPU ms per second of 1 kHz data
CHUNK_S = 0.02
TARGET_FROM_HZ = 400.0  # the offline target is judged on 400 Hz and 1 kHz recordings
DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def session(rate_hz: float, minutes: float, seed: int = 7):
    """A simulated workout of about ``minutes`` (sets of 15 reps with rests and walking)."""
    sets = max(1, int(round(minutes * 60 / 110)))
    sim = simulate_session(SessionSpec(sets=sets, reps=15, rate_hz=rate_hz, seed=seed))
    return sim


def cpu_best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        c0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - c0)
    return best, out


def offline(sim, repeat):
    cpu, result = cpu_best(lambda: analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps), repeat)
    return len(sim.t_s) / cpu, result.summary.rep_count


def streaming(sim, repeat):
    """CPU ms per second of data, fed in CHUNK_S chunks (by sample count, as a FIFO gives)."""
    n = max(1, int(round(CHUNK_S * sim.spec.rate_hz)))
    t, acc, gyr = sim.t_s, sim.acc_g, sim.gyr_dps
    chunks = [(t[i : i + n], acc[i : i + n], gyr[i : i + n]) for i in range(0, len(t), n)]

    def go():
        a = Analyzer()
        for c in chunks:
            a.update(*c)
        a.finish()
        return a.summary().rep_count

    cpu, reps = cpu_best(go, repeat)
    seconds = float(t[-1] - t[0])
    return 1000.0 * cpu / seconds, len(chunks) / seconds, reps


def imufusion_loop(sim, repeat):
    import imufusion

    gyr = np.ascontiguousarray(sim.gyr_dps)
    acc = np.ascontiguousarray(sim.acc_g)
    dt = 1.0 / sim.spec.rate_hz

    def go():
        ahrs = imufusion.Ahrs()
        ahrs.set_sample_period(dt)
        update = ahrs.update_no_magnetometer
        for g, a in zip(gyr, acc, strict=True):
            update(g, a)
        return ahrs.get_quaternion()

    cpu, _ = cpu_best(go, repeat)
    return len(gyr) / cpu


def madgwick_batch(sim, seconds, repeat):
    from ahrs.filters import Madgwick

    n = min(len(sim.t_s), int(seconds * sim.spec.rate_hz))
    gyr = np.radians(sim.gyr_dps[:n])
    acc = sim.acc_g[:n] * G_MPS2
    cpu, _ = cpu_best(lambda: Madgwick(gyr=gyr, acc=acc, frequency=sim.spec.rate_hz), repeat)
    return n / cpu


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="length of each session")
    p.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    p.add_argument("--madgwick-s", type=float, default=60.0,
                   help="seconds of data for the (slow) Madgwick reference")  # fmt: skip
    args = p.parse_args(argv)
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = []
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"allowed cores {cores} (pin with taskset -c 0)")  # fmt: skip

    rows = []
    for rate in (100.0, 200.0, 400.0, 1000.0):
        t0 = time.time()
        sim = session(rate, args.minutes)
        secs = sim.t_s[-1] - sim.t_s[0]
        print(f"simulated {secs / 60:.1f} min at {rate:g} Hz: {len(sim.t_s)} samples, "
              f"{sim.truth['rep_count']} reps ({time.time() - t0:.0f} s)", flush=True)  # fmt: skip
        off_sps, off_reps = offline(sim, args.repeat)
        row = {"name": f"{rate:.0f} Hz", "rate": rate, "n": len(sim.t_s), "secs": secs,
               "offline": off_sps, "reps": off_reps, "truth": sim.truth["rep_count"]}  # fmt: skip
        if rate >= TARGET_FROM_HZ:  # the reference filters cost the same per sample at any rate
            row["fusion"] = imufusion_loop(sim, args.repeat)
            row["madgwick"] = madgwick_batch(sim, args.madgwick_s, 1)
        if rate == 1000.0:
            row["stream_ms"], row["calls_per_s"], row["stream_reps"] = streaming(sim, args.repeat)
        rows.append(row)
    for path in sorted(DATA.glob("*.csv")):  # the real recordings (walking: 0 reps expected)
        rec = read_recording(path)
        cpu, result = cpu_best(lambda rec=rec: analyze_recording(rec), args.repeat)
        rows.append({"name": path.stem[:14], "rate": rec.sample_rate_hz, "n": len(rec),
                     "secs": rec.duration_s, "offline": len(rec) / cpu,
                     "reps": result.summary.rep_count, "truth": 0})  # fmt: skip

    print()
    print(f"offline analysis, whole recording in one go (CPU, best of {args.repeat})")
    print(f"{'recording':>14} {'rate':>6} {'samples':>8} {'chain Msamp/s':>14} {'x real time':>12} "
          f"{'imufusion':>10} {'Madgwick':>9} {'x imufusion':>12} {'x Madgwick':>11} "
          f"{'reps':>9}")  # fmt: skip
    for r in rows:
        cpu_s = r["n"] / r["offline"]
        ref = (
            f"{r['fusion'] / 1e6:>10.3f} {r['madgwick'] / 1e6:>9.4f} "
            f"{r['offline'] / r['fusion']:>12.1f} {r['offline'] / r['madgwick']:>11.0f}"
            if "fusion" in r
            else f"{'-':>10} {'-':>9} {'-':>12} {'-':>11}"
        )
        print(
            f"{r['name']:>14} {r['rate']:>4.0f}Hz {r['n']:>8d} {r['offline'] / 1e6:>14.2f} "
            f"{r['secs'] / cpu_s:>12.0f} {ref} {r['reps']:>4d}/{r['truth']:<4d}"
        )
    judged = [r for r in rows if r["rate"] >= TARGET_FROM_HZ - 5]
    worst = min(r["offline"] for r in judged)
    verdict = "meets" if worst >= OFFLINE_TARGET else "MISSES"
    print(f"  target >= {OFFLINE_TARGET / 1e6:g} M samples/s at {TARGET_FROM_HZ:g} Hz and up, "
          f"simulated and real: {verdict} (slowest {worst / 1e6:.2f} M/s)")  # fmt: skip
    low = [r for r in rows if r["rate"] < TARGET_FROM_HZ - 5]
    print("  below that the cost is per 10 ms grid row and per rep, not per input sample: "
          + ", ".join(f"{r['name']} {r['offline'] / 1e6:.2f} M/s" for r in low))  # fmt: skip
    print("  (imufusion and Madgwick columns: M samples/s for orientation alone; Madgwick on the "
          f"first {args.madgwick_s:g} s)")  # fmt: skip

    r = next(r for r in rows if "stream_ms" in r)
    fus_ms = 1000.0 * r["rate"] / r["fusion"]
    mad_ms = 1000.0 * r["rate"] / r["madgwick"]
    print()
    print(f"streaming at 1 kHz in {1000 * CHUNK_S:g} ms chunks ({r['calls_per_s']:.0f} "
          f"update calls per second of data)")  # fmt: skip
    print(f"  chain:                  {r['stream_ms']:7.2f} CPU ms per second of data "
          f"({r['stream_reps']}/{r['truth']} reps)")  # fmt: skip
    print(f"  imufusion per sample:   {fus_ms:7.2f} CPU ms per second of data "
          f"(chain costs {r['stream_ms'] / fus_ms:.2f}x)")  # fmt: skip
    print(f"  Madgwick (ahrs) batch:  {mad_ms:7.1f} CPU ms per second of data "
          f"(chain costs {r['stream_ms'] / mad_ms:.3f}x)")  # fmt: skip
    verdict = "meets" if r["stream_ms"] <= STREAM_TARGET_MS else "MISSES"
    print(f"  target <= {STREAM_TARGET_MS:g} ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
