"""The pages' own copies of a rule agree with the Python they mirror: the tempo tolerance,
the phases that are judged for too_fast / too_slow, and the phase names."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from heelraise import tempo
from heelraise.chain import faults
from heelraise.mqtt.discovery import PHASES
from heelraise.settings import AnalyzerSettings

STATIC = Path(__file__).resolve().parents[1] / "host" / "heelraise_host" / "static"
COMMON = (STATIC / "common.js").read_text()


def _const(name: str) -> float:
    return float(re.search(rf"const {name} = ([0-9.]+);", COMMON).group(1))


def test_tolerance_is_the_chains():
    assert _const("TOLERANCE_FRACTION") == tempo.TOLERANCE_FRACTION
    assert _const("TOLERANCE_MIN_S") == tempo.TOLERANCE_MIN_S


def test_only_the_judged_phases_are_outlined():
    judged = re.search(r"const JUDGED = new Set\(\[([^\]]*)\]\)", COMMON).group(1).split(",")
    assert {j.strip().strip('"') for j in judged} == {"raise", "lower"}
    # The chain judges tempo from the raise and the lowering only: its fault rule is not
    # even given the hold or the pause, and a raise and lowering on target give no fault.
    params = set(inspect.signature(faults.rep_faults).parameters)
    assert {"raise_s", "lower_s"} <= params and not {p for p in params if "hold" in p}
    on_target = faults.rep_faults(
        settings=AnalyzerSettings(tempo="3-0-2-1"),
        surface="floor",
        peak_deg=30.0,
        depth_deg=0.0,
        roll_deg=0.0,
        rebound_dps=0.0,
        lower_peak_dps=50.0,
        best_peak_deg=30.0,
        raise_s=2.0,
        lower_s=3.0,
    )
    assert on_target == []
    assert "too_fast" in faults.rep_faults(
        settings=AnalyzerSettings(tempo="3-0-2-1"),
        surface="floor",
        peak_deg=30.0,
        depth_deg=0.0,
        roll_deg=0.0,
        rebound_dps=0.0,
        lower_peak_dps=50.0,
        best_peak_deg=30.0,
        raise_s=0.8,
        lower_s=3.0,
    )


def test_every_phase_has_a_human_name():
    block = re.search(r"const PHASE_LABELS = \{(.*?)\};", COMMON, re.S).group(1)
    labels = dict(re.findall(r"(\w+): \"([^\"]+)\"", block))
    assert set(labels) == set(PHASES)
    assert labels["searching"] == "waiting for a rep"
    assert labels["uncalibrated"] == "stand still to calibrate"
