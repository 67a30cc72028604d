"""Memory and start-up of the commands a user runs, as processes: does it fit a Pi Zero 2 W?

    python bench/footprint.py [--repeat 3] [--dir DIR]

Recordings: a simulated 20-minute workout at 100 Hz and at 1 kHz (``heelraise simulate``,
11 sets of 15), its first minute and its first 5 seconds, and the 100 Hz one played 12 times
end to end (4.4 hours; the times shifted, as text, so this process stays small: a child
spawned from a big parent may count the parent's pages in its peak RSS). Measured, best of
``--repeat`` (peak RSS from ``wait4``, the largest of the runs):

* ``heelraise analyze FILE``: peak RSS for 1 minute to 4.4 hours (target <= 80 MB whatever the
  length), CPU for a 5 s file (target <= 0.15 s);
* ``heelraise run --imu replay:FILE --speed max --no-cues`` on the 20-minute 1 kHz file (the
  service reading the file as a driver would, 20 ms reads on a virtual clock): peak RSS
  (target <= 50 MB).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from speed import heelraise_command, run_process, simulated_recording, warm_up

ANALYZE_RSS_MB = 80.0
REPLAY_RSS_MB = 50.0
SMALL_CPU_S = 0.15


def head(src: Path, dst: Path, seconds: float) -> Path:
    """The first ``seconds`` of a recording, as text."""
    with open(src) as f, open(dst, "w") as out:
        t0 = None
        for line in f:
            if line[0].isdigit() or line[0] == "-":
                t = float(line.split(",", 1)[0])
                t0 = t if t0 is None else t0
                if t - t0 > seconds:
                    break
            out.write(line)
    return dst


def tiled(src: Path, dst: Path, times: int) -> Path:
    """``src`` played ``times`` times end to end (t shifted by its length plus one step),
    line by line: nothing of it is held in memory."""
    times_s = []
    with open(src) as f:
        for line in f:
            if line[0].isdigit() or line[0] == "-":
                times_s.append(float(line.split(",", 1)[0]))
                if len(times_s) == 2:
                    break
        last = line
        for last in f:  # noqa: B007 - the last line is wanted
            pass
    period = float(last.split(",", 1)[0]) - times_s[0] + (times_s[1] - times_s[0])
    with open(dst, "w") as out:
        for k in range(times):
            with open(src) as f:
                for line in f:
                    if line[0].isdigit() or line[0] == "-":
                        t, rest = line.split(",", 1)
                        out.write(f"{float(t) + k * period:.6f},{rest}")
                    elif k == 0:
                        out.write(line)
    return dst


def best(runs: list[dict]) -> str:
    return (
        f"peak RSS {max(r['rss_mb'] for r in runs):5.1f} MB, CPU best "
        f"{min(r['cpu'] for r in runs):.3f} s, wall best {min(r['wall'] for r in runs):.3f} s"
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", help="keep the recordings here (default: a temporary folder)")
    args = p.parse_args(argv)
    tmp = None if args.dir else tempfile.TemporaryDirectory(prefix="heelraise-footprint-")
    d = Path(args.dir or tmp.name)
    d.mkdir(parents=True, exist_ok=True)
    cmd = heelraise_command()
    ok = True
    try:
        r100, _ = simulated_recording(d, 100.0, 20.0)
        r1k, _ = simulated_recording(d, 1000.0, 20.0)
        files = {
            "100 Hz, 1 min": head(r100, d / "one_minute.csv", 60.0),
            "100 Hz, 22 min": r100,
            "100 Hz, 4.4 h": tiled(r100, d / "four_hours.csv", 12),
            "1 kHz, 22 min": r1k,
        }
        warm_up([*cmd, "analyze", str(files["100 Hz, 1 min"])])  # the .pyc files, as installed
        warm_up([*cmd, "run", "--help"])
        print(f"heelraise analyze as {' '.join(cmd)}, best of {args.repeat}, compiled .pyc")
        for label, path in files.items():
            runs = [run_process([*cmd, "analyze", str(path)]) for _ in range(args.repeat)]
            rss = max(r["rss_mb"] for r in runs)
            ok &= rss <= ANALYZE_RSS_MB
            size = path.stat().st_size / 1e6
            print(f"  analyze {label:<15} ({size:5.0f} MB file): {best(runs)}")
        print(f"  target peak RSS <= {ANALYZE_RSS_MB:g} MB whatever the length")
        small = head(r1k, d / "five_seconds.csv", 5.0)
        runs = [run_process([*cmd, "analyze", str(small)]) for _ in range(args.repeat)]
        cpu = min(r["cpu"] for r in runs)
        ok &= cpu <= SMALL_CPU_S
        print(f"  analyze a 5 s file at 1 kHz: {best(runs)} (target CPU <= {SMALL_CPU_S:g} s: "
              f"{'meets' if cpu <= SMALL_CPU_S else 'MISSES'})")  # fmt: skip
        replay = [*cmd, "run", "--imu", f"replay:{r1k}", "--speed", "max", "--no-cues"]
        runs = [run_process(replay) for _ in range(args.repeat)]
        rss = max(r["rss_mb"] for r in runs)
        ok &= rss <= REPLAY_RSS_MB
        verdict = "meets" if rss <= REPLAY_RSS_MB else "MISSES"
        print(f"  run --imu replay: of the 22-min 1 kHz file: {best(runs)} (target peak RSS <= "
              f"{REPLAY_RSS_MB:g} MB: {verdict})")  # fmt: skip
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
