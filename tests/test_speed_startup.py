"""``heelraise analyze`` does not import ``numpy.ma`` (numpy loads it only to ask whether a
plain array is masked: start-up time for nothing), and gives the same report."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from heelraise.recording import write_recording
from heelraise.sim import SessionSpec, simulate_session


def test_analyze_leaves_numpy_ma_unloaded_with_the_same_report(tmp_path):
    path = tmp_path / "s.csv"
    sim = simulate_session(SessionSpec(sets=1, reps=4, rate_hz=100.0, seed=3))
    write_recording(path, sim.t_s, sim.acc_g, sim.gyr_dps)
    code = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        from heelraise.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["analyze", "--json", {str(path)!r}])
        ma = "numpy.ma" in sys.modules
        import numpy as np
        np.ma.masked_array  # a use of the module loads the real one
        print(json.dumps({{"code": code, "ma": ma, "real": "numpy.ma.core" in sys.modules,
                          "report": json.loads(out.getvalue())}}))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["code"] == 0
    assert got["ma"] is False
    assert got["real"] is True
    from heelraise.chain.offline import analyze_reader
    from heelraise.recording import RecordingReader

    want = analyze_reader(RecordingReader(path)).to_json(str(path), 100.0)
    assert got["report"]["rep_count"] == want["rep_count"] == 4
    assert got["report"]["reps"] == json.loads(json.dumps(want["reps"]))
