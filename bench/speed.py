"""Speed of ``heelraise analyze`` as a user runs it: whole processes, against a plain script.

    python bench/speed.py [--minutes 20] [--rates 100,1000] [--repeat 3] [--dir DIR]

For each rate, a simulated workout of about ``--minutes`` is written as a recording, then,
interleaved and ``--repeat`` times each (same run, same machine load):

* ``heelraise analyze FILE`` as a process (the console script, or ``python -m heelraise.cli``):
  wall time, CPU (user + system, from ``wait4``) and peak RSS;
* the anchor, ``bench/anchor_imufusion.py FILE``: ``numpy.loadtxt`` of the whole file then
  imufusion's AHRS called per sample from Python (orientation only, no reps), as a process;

and, in this process, on the same samples:

* the chain alone: ``analyze_arrays`` over the arrays (no file, no start-up), CPU;
* streaming at 1 kHz: the Analyzer fed 20 ms reads (20 samples) as the service does, CPU ms
  per second of data (target <= 1 ms).

Printed: best and median of each, and the ratio anchor / analyze of the best wall times
(targets: >= 2x at 1 kHz, >= 1.3x at 100 Hz). Then the real walks in ``tests/data``.
One BLAS thread in every process (as the ``heelraise`` command sets for itself).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from heelraise.cli import BLAS_THREADS

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"
ANCHOR = HERE / "anchor_imufusion.py"
TARGETS = {100.0: 1.3, 1000.0: 2.0}  # anchor wall / analyze wall, best of 3
STREAM_TARGET_MS = 1.0  # CPU ms per second of 1 kHz data in 20 ms reads
CHUNK_S = 0.02
#: The processes timed here import our package from compiled ``.pyc`` files, as an installed
#: one does (pip compiles at install; ``firmware/deploy/install.md`` runs compileall), kept in
#: a folder of their own whatever this machine's ``PYTHONDONTWRITEBYTECODE`` says (set here, it
#: made every run compile every module of the package, 0.02 s of a 5 s file's 0.17 s): the
#: libraries beside it (numpy, imufusion) were compiled by their install.
PYCACHE = Path(tempfile.gettempdir()) / "heelraise-bench-pycache"
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    **BLAS_THREADS,
    "PYTHONPYCACHEPREFIX": str(PYCACHE),
}
# This process too, before numpy is imported: its in-process rows (the chain alone, streaming)
# otherwise run with a BLAS thread per core spinning on the chain's small products (2 to 8x
# the CPU on this 2-core machine).
os.environ.update(BLAS_THREADS)


def heelraise_command() -> list[str]:
    """The console script beside this Python (not a pyenv shim, which adds a shell and
    pyenv's start-up), else ``python -m heelraise.cli`` (the same ``main``)."""
    script = Path(sys.executable).parent / "heelraise"
    return [str(script)] if script.exists() else [sys.executable, "-m", "heelraise.cli"]


def warm_up(argv: list[str]) -> None:
    """Run ``argv`` once, unmeasured, so the ``.pyc`` files of what it imports exist (in
    ``PYCACHE``) before any timed run, as after an install."""
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, check=True)


def run_process(argv: list[str]) -> dict:
    """Wall time, CPU (user + system) and peak RSS of one process (its output thrown away).

    Through GNU time when there is one: Linux counts the memory a process had before exec
    in its peak RSS, and a child forked from this (large) process would carry this one's.
    GNU time is small when it forks the command."""
    gnu_time = Path("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        wrapped = [str(gnu_time), "-f", "%e %U %S %M", "-o", out.name] if gnu_time.exists() else []
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*wrapped, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err = proc.stderr.read().decode()
        proc.stderr.close()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({code}): {err.strip()}")
        if wrapped:
            wall, user, system, rss_kb = out.read().split()[-4:]
            return {
                "wall": float(wall),
                "cpu": float(user) + float(system),
                "rss_mb": int(rss_kb) / 1024.0,
            }
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024.0,
    }


def simulated_recording(directory: Path, rate_hz: float, minutes: float, seed: int = 7):
    """``heelraise simulate`` in a process of its own (this one stays small: a child forked
    from a big parent would count the parent's pages in its peak RSS)."""
    sets = max(1, int(round(minutes * 60 / 110)))  # sets of 15 with rests and walking
    path = directory / f"sim_{rate_hz:.0f}hz_{sets}x15.csv"
    if not path.exists():
        argv = ["simulate", str(path), "--sets", str(sets), "--reps", "15"]
        run_process([*heelraise_command(), *argv, "--rate", f"{rate_hz:g}", "--seed", str(seed)])
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    return path, truth["rep_count"]


def cpu_runs(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        out.append(time.process_time() - c0)
    return out


def streaming_ms(rec, repeat: int) -> tuple[float, float, int]:
    """CPU ms per second of data, fed in CHUNK_S reads (by sample count, as a FIFO gives)."""
    from heelraise.chain.analyzer import Analyzer

    n = max(1, int(round(CHUNK_S * rec.sample_rate_hz)))
    t, acc, gyr = rec.t_s, rec.acc_g, rec.gyr_dps
    chunks = [(t[i : i + n], acc[i : i + n], gyr[i : i + n]) for i in range(0, len(t), n)]
    reps = []

    def go():
        a = Analyzer()
        for c in chunks:
            a.update(*c)
        a.finish()
        reps.append(a.summary().rep_count)

    runs = cpu_runs(go, repeat)
    seconds = rec.duration_s
    return 1000 * min(runs) / seconds, 1000 * statistics.median(runs) / seconds, reps[-1]


def fmt_runs(runs: list[dict], key: str, unit: str = "s") -> str:
    values = [r[key] for r in runs]
    return f"best {min(values):.3f} {unit}, median {statistics.median(values):.3f} {unit}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=20.0, help="length of each recording")
    p.add_argument("--rates", default="100,1000", help="sample rates, Hz, comma-separated")
    p.add_argument("--repeat", type=int, default=3, help="runs of each process")
    p.add_argument("--dir", help="keep the recordings here (default: a temporary folder)")
    args = p.parse_args(argv)
    import numpy as np

    cmd = heelraise_command()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores; "
          f"analyze as {' '.join(cmd)}")  # fmt: skip
    tmp = None if args.dir else tempfile.TemporaryDirectory(prefix="heelraise-speed-")
    directory = Path(args.dir or tmp.name)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        rows = []
        for rate in (float(r) for r in args.rates.split(",")):
            path, true_reps = simulated_recording(directory, rate, args.minutes)
            ours, anchor = [], []
            warm_up([*cmd, "analyze", str(path)])
            warm_up([sys.executable, str(ANCHOR), str(path)])
            for _ in range(args.repeat):  # interleaved: both see the same machine load
                ours.append(run_process([*cmd, "analyze", str(path)]))
                anchor.append(run_process([sys.executable, str(ANCHOR), str(path)]))
            rows.append((rate, path, true_reps, ours, anchor))
        walks = [
            (path, [run_process([*cmd, "analyze", str(path)]) for _ in range(args.repeat)])
            for path in sorted(DATA.glob("*.csv"))
        ]
        # In this process from here on (it grows: every process run is done).
        verdicts = [report(rate, path, true_reps, ours, anchor, args.repeat)
                    for rate, path, true_reps, ours, anchor in rows]  # fmt: skip
        print("\nreal walks (tests/data), analyze as a process:")
        for path, runs in walks:
            print(f"  {path.name}: wall {fmt_runs(runs, 'wall')}; CPU {fmt_runs(runs, 'cpu')}; "
                  f"peak RSS {max(r['rss_mb'] for r in runs):.0f} MB")  # fmt: skip
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0 if all(verdicts) else 1


def report(rate, path, true_reps, ours, anchor, repeat) -> bool:
    from heelraise.chain.offline import analyze_recording
    from heelraise.recording import read_recording

    rec = read_recording(path)
    size_mb = path.stat().st_size / 1e6
    print(f"\n{rate:.0f} Hz: {rec.duration_s / 60:.1f} min, {len(rec)} samples, "
          f"{size_mb:.0f} MB, {true_reps} true reps")  # fmt: skip
    chain = cpu_runs(lambda: analyze_recording(rec), repeat)
    reps = analyze_recording(rec).summary.rep_count
    ratio = min(r["wall"] for r in anchor) / min(r["wall"] for r in ours)
    rss = max(r["rss_mb"] for r in ours)
    print(f"  heelraise analyze (process)  wall {fmt_runs(ours, 'wall')}; "
          f"CPU {fmt_runs(ours, 'cpu')}; peak RSS {rss:.0f} MB")  # fmt: skip
    print(f"  anchor loadtxt + imufusion   wall {fmt_runs(anchor, 'wall')}; "
          f"CPU {fmt_runs(anchor, 'cpu')}; peak RSS "
          f"{max(r['rss_mb'] for r in anchor):.0f} MB")  # fmt: skip
    print(f"  chain alone (in process)     CPU best {min(chain):.3f} s, median "
          f"{statistics.median(chain):.3f} s: {len(rec) / min(chain) / 1e6:.2f} M "
          f"samples/s, {reps}/{true_reps} reps")  # fmt: skip
    target = TARGETS.get(rate)
    verdict = ""
    if target is not None:
        verdict = f" (target >= {target:g}x: {'meets' if ratio >= target else 'MISSES'})"
    print(f"  analyze is {ratio:.2f}x as fast as the anchor, best wall times{verdict}")
    cpu_ratio = min(r["cpu"] for r in anchor) / min(r["cpu"] for r in ours)
    print(f"  ({cpu_ratio:.2f}x in best CPU times, steadier on a shared machine)")
    if rate == 1000.0:
        best, median, reps = streaming_ms(rec, repeat)
        ok = "meets" if best <= STREAM_TARGET_MS else "MISSES"
        print(f"  streaming in {1000 * CHUNK_S:g} ms reads: best {best:.2f}, median "
              f"{median:.2f} CPU ms per second of data ({reps} reps; target <= "
              f"{STREAM_TARGET_MS:g}: {ok})")  # fmt: skip
    return target is None or ratio >= target


if __name__ == "__main__":
    sys.exit(main())
