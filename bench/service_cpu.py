"""CPU and memory of the service's own process over an hour of 1 kHz data, with cues and MQTT.

    python bench/service_cpu.py [--minutes 60] [--no-mqtt] [--dir DIR] [--pair] [--repeats 3]

The real command, ``heelraise run --config CFG --speed max --json``, in a process of its
own: a simulated 1 kHz workout (``heelraise simulate``, 22 minutes) played end to end for
``--minutes`` through the replay IMU (the file read block by block, as a driver hands out
samples), the loop reading every 20 ms of sensor time on a virtual clock, so an hour runs
as fast as this CPU allows; the coach on mock pins, the JSON-lines sink, and MQTT to a
throwaway mosquitto (outbox included), in the environment the systemd unit gives it
(``MEMORY_ENV``: ``PYTHONOPTIMIZE=2``, malloc's arenas and trimming), after a first minute-long
run that is not measured and compiles the ``.pyc`` files, as the install does
(``firmware/deploy/install.md``). Nothing simulated runs in the measured process: the
samples come from the file, as on the Pi they come from the chip (the I2C driver's own cost:
``bench/imu_read.py``).

Printed: CPU of one core per second of sensor data (user + system of the service process,
from GNU time; target <= 5 %), peak RSS (target <= 45 MB), and RSS (``/proc``) at the
10th minute and at the end of the sensor data, and the least-squares slope of every RSS
sample between them (the RSS swings by about 0.5 MB within a set, which two samples can
catch at either end): growth under 1 MB an hour wanted; each of ``--repeats`` runs (the
peak's median and maximum over them last). ``--minutes 240``: four hours, to show a slope.

``--pair``: the same command with one sensor and with two (``[sensor.left]`` and
``[sensor.right]``, each replaying the recording at 1 kHz: one chain per shoe), run
interleaved ``--repeats`` times; printed: each one's median CPU and their ratio (issue 15's
target: two sensors at most 1.8x one).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from brokers import start_mosquitto
from footprint import tiled
from speed import ENV, heelraise_command, simulated_recording

UNIT = Path(__file__).resolve().parents[1] / "firmware" / "deploy" / "heelraise.service"
#: what the systemd unit sets for the process that matters to its memory (malloc's arenas
#: and trimming, Python's -OO)
MEMORY_ENV = ("MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "PYTHONOPTIMIZE")
CPU_TARGET_PCT = 5.0
RSS_TARGET_MB = 45.0
GROWTH_TARGET_MB = 1.0
PAIR_RATIO_TARGET = 1.8
#: seconds of data of the unmeasured first run, which writes the .pyc files
WARM_UP_S = 60.0


def unit_env() -> dict[str, str]:
    """The unit's ``Environment=`` settings named in MEMORY_ENV: the service measured as it
    runs on the Pi (the pin factory and the rest stay as the bench needs them)."""
    env = {}
    for line in UNIT.read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line[len("Environment=") :].partition("=")
            if key in MEMORY_ENV:
                env[key] = value
    return env


def service_env(d: Path) -> dict[str, str]:
    """The service's environment: the unit's memory settings, and the ``.pyc`` files of its
    optimisation level cached under ``d`` (``PYTHONPYCACHEPREFIX``) as an install compiles
    them (``firmware/deploy/install.md``), whatever this machine's ``__pycache__`` holds
    or ``PYTHONDONTWRITEBYTECODE`` says: each run after the warm-up imports compiled code."""
    env = {**ENV, **unit_env(), "PYTHONPYCACHEPREFIX": str(d / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def child_of(pid: int) -> int | None:
    """The one child of ``pid`` (GNU time's command)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except OSError:
        return None


def run_service(d: Path, sensor_toml: str, seconds: float, port: int | None):
    """``heelraise run`` on ``sensor_toml`` for ``seconds`` of data, its own process under GNU
    time: ``(cpu_s, peak_mb, wall_s, json_lines, [(sensor_s, rss_mb)], last_sensor_s)``."""
    config = f'[device]\nid = "bench"\n{sensor_toml}[tempo]\ntarget = "3-0-2-1"\n'
    if port is not None:
        config += (
            f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\noutbox_path = "{d / "outbox.sqlite3"}"\n'
        )
    cfg = d / "config.toml"
    cfg.write_text(config)
    times = d / "service.time"
    argv = [*heelraise_command(), "run", "--config", str(cfg), "--speed", "max"]
    argv += ["--seconds", f"{seconds:g}", "--json"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(times), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=service_env(d),
        text=True,
    )
    sensor_t = [0.0]
    lines = [0]

    def read_events():
        for line in proc.stdout:
            lines[0] += 1
            try:
                sensor_t[0] = max(sensor_t[0], float(json.loads(line).get("t_s") or 0.0))
            except ValueError:
                pass

    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    samples = []  # (sensor seconds so far, RSS MB)
    service = None
    while proc.poll() is None:
        service = service or child_of(proc.pid)
        rss = rss_mb(service) if service else None
        if rss is not None:
            samples.append((sensor_t[0], rss))
        time.sleep(0.05)
    reader.join(5.0)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode})")
    _, user, system, peak_kb = times.read_text().split()[-4:]
    cpu = float(user) + float(system)
    return cpu, int(peak_kb) / 1024.0, wall, lines[0], samples, sensor_t[0]


def replay_toml(path: Path, table: str = "sensor") -> str:
    return f'[{table}]\ntype = "replay"\nreplay_file = "{path}"\nrate_hz = 1000\n'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=60.0, help="minutes of sensor data")
    p.add_argument("--no-mqtt", action="store_true", help="no broker, no MQTT sink")
    p.add_argument("--dir", help="keep the recordings here (default: a temporary folder)")
    p.add_argument("--pair", action="store_true", help="one sensor against two, interleaved")
    p.add_argument("--repeats", type=int, default=3, help="runs (with --pair: of each)")
    args = p.parse_args(argv)
    tmp = None if args.dir else tempfile.TemporaryDirectory(prefix="heelraise-service-cpu-")
    d = Path(args.dir or tmp.name)
    d.mkdir(parents=True, exist_ok=True)
    broker = None
    try:
        src, _ = simulated_recording(d, 1000.0, 20.0)
        with open(src) as f:
            last = f.readlines()[-1]
        tiles = math.ceil(args.minutes * 60.0 / float(last.split(",", 1)[0]))
        hour = d / f"replay_{tiles}x.csv"
        if not hour.exists():
            tiled(src, hour, tiles)
        port = None
        if not args.no_mqtt:
            broker, port = start_mosquitto(d)
        seconds = args.minutes * 60.0
        mqtt = "with" if not args.no_mqtt else "without"
        run_service(d, replay_toml(hour), WARM_UP_S, port)  # compiles the .pyc files
        if args.pair:
            return pair(d, hour, seconds, port, args.repeats, mqtt)
        peaks = []
        for run in range(1, args.repeats + 1):
            peaks.append(single(d, hour, seconds, port, mqtt, args.minutes, run))
        peak = statistics.median(peaks)
        print(
            f"peak RSS over {len(peaks)} runs: median {peak:.1f} MB, max {max(peaks):.1f} MB "
            f"(target <= {RSS_TARGET_MB:g} MB: {'meets' if peak <= RSS_TARGET_MB else 'MISSES'})"
        )
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(10)
        if tmp is not None:
            tmp.cleanup()
    return 0


def single(d: Path, hour: Path, seconds: float, port, mqtt: str, minutes: float, run: int):
    """One run of the service on the hour's recording: its figures printed, its peak RSS
    returned."""
    cpu, peak, wall, lines, samples, last_t = run_service(d, replay_toml(hour), seconds, port)
    print(
        f"run {run}: heelraise run --imu replay (1 kHz) {mqtt} "
        f"MQTT, cues on mock pins: {minutes:g} min of sensor data in {wall:.0f} s "
        f"wall; {lines} JSON lines"
    )
    pct = 100.0 * cpu / seconds
    print(
        f"  CPU per second of data: {pct:.2f} % of one core ({cpu:.1f} s in all, start-up "
        f"included; target <= {CPU_TARGET_PCT:g} %: "
        f"{'meets' if pct <= CPU_TARGET_PCT else 'MISSES'})"
    )
    # where the peak is reached: the first RSS sample within 0.1 MB of GNU time's peak
    near = [t for t, r in samples if r >= peak - 0.1]
    when = f", reached at minute {near[0] / 60:.0f} of the data" if near else ""
    print(
        f"  peak RSS {peak:.1f} MB{when} (target <= {RSS_TARGET_MB:g} MB: "
        f"{'meets' if peak <= RSS_TARGET_MB else 'MISSES'})"
    )
    at10 = [r for t, r in samples if 600.0 <= t <= 660.0]
    end = [r for t, r in samples if t >= last_t - 60.0]
    if at10 and end:
        growth = end[-1] - at10[0]
        per_hour = growth * 3600.0 / max(last_t - 600.0, 1.0)
        print(
            f"  RSS {at10[0]:.1f} MB at minute 10, {end[-1]:.1f} MB at minute "
            f"{last_t / 60:.0f}: {per_hour:+.2f} MB an hour (target < "
            f"{GROWTH_TARGET_MB:g})"
        )
    slope = rss_slope_mb_per_h(samples, last_t)
    if slope is not None:
        print(
            f"  RSS slope from minute 10 to the end (least squares over every sample, so "
            f"the RSS's swing within a set does not decide it): {slope:+.2f} MB an hour"
        )
    return peak


def rss_slope_mb_per_h(samples, last_t: float) -> float | None:
    """The least-squares slope (MB an hour) of RSS against sensor time over the samples
    from minute 10 to the end of the data (None for a run shorter than 20 minutes)."""
    pts = [(t, r) for t, r in samples if 600.0 <= t <= last_t]
    if last_t < 1200.0 or len(pts) < 10:
        return None
    mt = statistics.fmean(t for t, _ in pts)
    mr = statistics.fmean(r for _, r in pts)
    num = sum((t - mt) * (r - mr) for t, r in pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    return 3600.0 * num / den if den else None


def pair(d: Path, recording: Path, seconds: float, port, repeats: int, mqtt: str) -> int:
    """One sensor against two (each replaying ``recording``), interleaved, medians."""
    one = replay_toml(recording)
    two = replay_toml(recording, "sensor.left") + replay_toml(recording, "sensor.right")
    cpus: dict[str, list[float]] = {"one sensor": [], "two sensors": []}
    peaks: dict[str, list[float]] = {"one sensor": [], "two sensors": []}
    for _ in range(repeats):
        for name, sensors in (("one sensor", one), ("two sensors", two)):
            cpu, peak, *_ = run_service(d, sensors, seconds, port)
            cpus[name].append(cpu)
            peaks[name].append(peak)
    print(
        f"heelraise run, 1 kHz replay per sensor, {mqtt} MQTT, cues on mock pins, "
        f"{seconds / 60:g} min of data, {repeats} interleaved runs each (CPU s, start-up "
        "included):"
    )
    for name in cpus:
        runs = " / ".join(f"{c:.2f}" for c in cpus[name])
        print(
            f"  {name}: CPU median {statistics.median(cpus[name]):.2f} s ({runs}), "
            f"peak RSS median {statistics.median(peaks[name]):.1f} MB"
        )
    ratio = statistics.median(cpus["two sensors"]) / statistics.median(cpus["one sensor"])
    verdict = "meets" if ratio <= PAIR_RATIO_TARGET else "MISSES"
    print(f"  two / one: {ratio:.2f}x (target <= {PAIR_RATIO_TARGET:g}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
