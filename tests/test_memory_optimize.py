"""The service runs under ``PYTHONOPTIMIZE=2`` (the unit's ``python -OO``: no docstrings, no
asserts; 2 to 3 MB of its memory, ``bench/service_cpu.py``): its output must not change,
and the install must compile the ``-OO`` ``.pyc`` files the read-only service cannot write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[1] / "firmware" / "deploy"


def _run(optimize: str, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONOPTIMIZE": optimize}
    return subprocess.run(
        [sys.executable, "-m", "heelraise.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_service_under_python_oo_prints_the_same_events(tmp_path):
    from heelraise.cli import main

    recording = tmp_path / "rec.csv"
    assert main(["simulate", str(recording), "--sets", "2", "--reps", "4", "--seed", "21"]) == 0
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nid = "shoe-1"\n[sensor]\ntype = "replay"\nreplay_file = "{recording}"\n'
        '[tempo]\ntarget = "2-1-2-1"\n'
    )
    argv = ("run", "--config", str(config), "--speed", "max", "--json")
    plain, light = _run("0", *argv), _run("2", *argv)
    assert plain.returncode == 0, plain.stderr
    assert light.returncode == 0, light.stderr
    kinds = [line.split('"type":"')[1].split('"')[0] for line in plain.stdout.splitlines()]
    assert kinds.count("rep") >= 6 and kinds.count("set") == 2 and "session" in kinds
    assert light.stdout == plain.stdout


def test_the_commands_help_and_config_check_work_without_docstrings(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text((DEPLOY / "config.example.toml").read_text())
    checked = _run("2", "config", "--check", str(config))
    assert checked.returncode == 0, checked.stderr
    for argv in (["--help"], ["run", "--help"], ["analyze", "--help"]):
        out = _run("2", *argv)
        assert out.returncode == 0, (argv, out.stderr)
        assert out.stdout.startswith("usage: heelraise")


def test_the_unit_runs_python_oo_and_the_install_compiles_for_it():
    unit = (DEPLOY / "heelraise.service").read_text().splitlines()
    assert "Environment=PYTHONOPTIMIZE=2" in unit
    install = (DEPLOY / "install.md").read_text()
    assert "/opt/heelraise/venv/bin/python -OO -m compileall -q /opt/heelraise/venv" in install
    assert "sudo python3 -OO -m compileall -q /usr/lib/python3.11" in install


def test_the_bench_measures_the_service_in_the_units_memory_settings(monkeypatch):
    monkeypatch.syspath_prepend(str(DEPLOY.parents[1] / "bench"))
    # the bench's modules set the BLAS thread count in os.environ: on a copy, for this test
    monkeypatch.setattr(os, "environ", dict(os.environ))
    import service_cpu

    env = service_cpu.unit_env()
    assert env == {
        "MALLOC_ARENA_MAX": "2",
        "MALLOC_TRIM_THRESHOLD_": "65536",
        "MALLOC_TOP_PAD_": "0",
        "PYTHONOPTIMIZE": "2",
    }
    served = service_cpu.service_env(Path("/tmp/x"))
    assert served["PYTHONPYCACHEPREFIX"] == "/tmp/x/pycache"
    assert "PYTHONDONTWRITEBYTECODE" not in served
    assert all(served[k] == v for k, v in env.items())
