"""Score an analysis against simulator ground truth (for benchmarks and regression tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from heelraise.events import FAULTS
from heelraise.sim.session import SessionSpec

MATCH_S = 1.0  # a detected rep matches the true rep whose start is within this

#: The accuracy benchmark's variety (bench/accuracy.py, and the regression guard in
#: tests/test_chain_accuracy.py): tempos ("X": as fast as comfortable) and sample rates.
VARIED_TEMPOS = ("3-0-2-1", "3-0-2-0", "2-1-2-1", "3-1-2-0", "4-0-2-2", "2-0-1-1", "3-0-X-1")
VARIED_RATES_HZ = (50, 100, 200, 400)


def varied_spec(seed: int, stretch_first: bool = True) -> SessionSpec:
    """One session of the benchmark's variety, drawn from ``seed``: sets, reps, tempo,
    surface, rate, faults, walking; every tenth seed walking only. ``stretch_first``: a calf
    stretch before the first set on about 30% of them."""
    rng = np.random.default_rng(seed)
    return SessionSpec(
        sets=int(rng.integers(1, 4)),
        reps=int(rng.integers(6, 16)),
        tempo=str(rng.choice(VARIED_TEMPOS)),
        surface=str(rng.choice(["floor", "step"])),
        rate_hz=float(rng.choice(VARIED_RATES_HZ)),
        seed=seed,
        fault_rate=float(rng.uniform(0.0, 0.3)),
        walking=bool(rng.random() < 0.8),
        walk_only=seed % 10 == 0,
        stretch_first=stretch_first and bool(rng.random() < 0.3),  # drawn last, if at all
    )


@dataclass
class Score:
    sessions: int = 0
    exact: int = 0
    walk_sessions: int = 0
    walk_zero: int = 0
    true_reps: int = 0
    found_reps: int = 0
    matched: int = 0
    raise_err: list = field(default_factory=list)
    lower_err: list = field(default_factory=list)
    hold_err: list = field(default_factory=list)
    peak_err: list = field(default_factory=list)
    fault_tp: dict = field(default_factory=lambda: {f: 0 for f in FAULTS})
    fault_fp: dict = field(default_factory=lambda: {f: 0 for f in FAULTS})
    fault_fn: dict = field(default_factory=lambda: {f: 0 for f in FAULTS})
    failures: list = field(default_factory=list)

    def add(self, name: str, truth: dict, reps: list) -> None:
        true = truth["reps"]
        walk_only = truth["spec"].get("walk_only", False)
        self.sessions += 1
        if len(reps) == len(true):
            self.exact += 1
        else:
            self.failures.append(f"{name}: {len(reps)} reps counted, {len(true)} true")
        if walk_only:
            self.walk_sessions += 1
            self.walk_zero += len(reps) == 0
        self.true_reps += len(true)
        self.found_reps += len(reps)
        used = set()
        for r in reps:
            j = min(
                range(len(true)), key=lambda k: abs(true[k]["start_s"] - r.start_s), default=None
            )
            if j is None or j in used or abs(true[j]["start_s"] - r.start_s) > MATCH_S:
                for f in r.faults:
                    self.fault_fp[f] += 1
                continue
            used.add(j)
            t = true[j]
            self.matched += 1
            self.raise_err.append(r.raise_s - t["raise_s"])
            self.lower_err.append(r.lower_s - t["lower_s"])
            self.hold_err.append(r.top_hold_s - t["top_hold_s"])
            self.peak_err.append(r.peak_deg - t["peak_deg"])
            for f in FAULTS:
                got, want = f in r.faults, f in t["faults"]
                if got and want:
                    self.fault_tp[f] += 1
                elif got:
                    self.fault_fp[f] += 1
                elif want:
                    self.fault_fn[f] += 1

    def merge(self, other: Score) -> None:
        for k, v in vars(other).items():
            mine = getattr(self, k)
            if isinstance(v, int):
                setattr(self, k, mine + v)
            elif isinstance(v, list):
                mine.extend(v)
            elif isinstance(v, dict):
                for f in v:
                    mine[f] += v[f]

    @property
    def exact_fraction(self) -> float:
        return self.exact / self.sessions if self.sessions else float("nan")

    @staticmethod
    def median_abs(x) -> float:
        return float(np.median(np.abs(x))) if len(x) else float("nan")

    def precision_recall(self, fault: str):
        tp, fp, fn = self.fault_tp[fault], self.fault_fp[fault], self.fault_fn[fault]
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        return p, r, tp + fn

    def report(self) -> str:
        lines = [
            f"sessions: {self.sessions} (walking-only {self.walk_sessions})",
            f"exact rep count: {self.exact}/{self.sessions} = {100 * self.exact_fraction:.1f}%",
            f"walking-only sessions with zero reps: {self.walk_zero}/{self.walk_sessions}",
            f"reps: true {self.true_reps}, counted {self.found_reps}, matched {self.matched}",
            f"median |error|: raise_s {self.median_abs(self.raise_err):.3f} s, "
            f"lower_s {self.median_abs(self.lower_err):.3f} s, "
            f"top_hold_s {self.median_abs(self.hold_err):.3f} s, "
            f"peak_deg {self.median_abs(self.peak_err):.2f} deg",
            f"95th pct |error|: raise_s {np.percentile(np.abs(self.raise_err), 95):.3f} s, "
            f"lower_s {np.percentile(np.abs(self.lower_err), 95):.3f} s"
            if self.raise_err
            else "",
            "faults (precision / recall / true count):",
        ]
        for f in FAULTS:
            p, r, n = self.precision_recall(f)
            lines.append(f"  {f:<17} {p:6.2f} / {r:6.2f} / {n}")
        return "\n".join(x for x in lines if x)
