"""Score an analysis against simulator ground truth (for benchmarks and regression tests).

:func:`varied_spec` is the classic benchmark's variety (unchanged: the same sessions for the
same seeds as before the motion families); :func:`family_spec` draws a session of any
family; :class:`Score` adds up one family (or all), :class:`FamilyScores` keeps one
:class:`Score` per family plus the overall one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from heelraise.chain.offline import analyze_arrays
from heelraise.events import FAULTS, Rep
from heelraise.settings import AnalyzerSettings
from heelraise.sim.families import FAMILIES, NON_REP_FAMILIES
from heelraise.sim.session import SessionSpec, SimulatedSession, simulate_session

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


def family_spec(family: str, seed: int) -> SessionSpec:
    """One session of ``family`` drawn from ``seed``: classic is :func:`varied_spec`; the
    others are short (1-2 sets of 5-12 reps, or one or two bouts of the activity) at a
    random rate, surface and fault rate, so hundreds run in a few minutes."""
    if family == "classic":
        return varied_spec(seed)
    if family not in FAMILIES:
        raise ValueError(f"unknown motion family {family!r}: choose from {', '.join(FAMILIES)}")
    rng = np.random.default_rng([seed, FAMILIES.index(family)])
    surface = "step" if family == "deep_drop" else str(rng.choice(["floor", "step"]))
    return SessionSpec(
        family=family,
        sets=int(rng.integers(1, 3)),
        reps=int(rng.integers(5, 13)),
        surface=surface,
        rate_hz=float(rng.choice(VARIED_RATES_HZ)),
        seed=seed,
        fault_rate=float(rng.uniform(0.0, 0.3)),
    )


def analysis_tempo(spec: SessionSpec) -> str | None:
    """The tempo target a benchmark gives the analysis for ``spec`` (None: no target): a
    classic session's own, as its user would set it ("X", explosive, included: the other
    phases keep their targets, and the truth judges them)."""
    if spec.family != "classic":
        return None
    return spec.tempo


def run_family_session(family: str, seed: int) -> tuple[SessionSpec, SimulatedSession, list[Rep]]:
    """One benchmark session: ``family_spec(family, seed)`` simulated, then analysed offline
    with its :func:`analysis_tempo`; returns the spec, the simulation and the reps read."""
    spec = family_spec(family, seed)
    sim = simulate_session(spec)
    settings = AnalyzerSettings(tempo=analysis_tempo(spec))
    return spec, sim, analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, settings).summary.reps


def expects_no_reps(truth: dict) -> bool:
    """A session in which nothing may be counted: walking-only, or a non-rep family."""
    spec = truth["spec"]
    return bool(spec.get("walk_only")) or spec.get("family", "classic") in NON_REP_FAMILIES


def matched_reps(true: list, reps: list):
    """Each rep read, in order, with the true rep it matches (the one whose start is
    nearest, within ``MATCH_S``, not matched before), or None: (rep, true rep or None)."""
    used = set()
    for r in reps:
        j = min(range(len(true)), key=lambda k: abs(true[k]["start_s"] - r.start_s), default=None)
        if j is None or j in used or abs(true[j]["start_s"] - r.start_s) > MATCH_S:
            yield r, None
            continue
        used.add(j)
        yield r, true[j]


def p90_abs(x) -> float:
    return float(np.percentile(np.abs(x), 90)) if len(x) else float("nan")


@dataclass
class Score:
    sessions: int = 0
    exact: int = 0
    walk_sessions: int = 0
    walk_zero: int = 0
    zero_sessions: int = 0  # sessions that must count nothing (walk-only, non-rep families)
    zero_ok: int = 0  # ... and counted nothing
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
    # signed phase errors by the true speed profile of the phase (new families' truth)
    raise_err_by_profile: dict = field(default_factory=dict)
    lower_err_by_profile: dict = field(default_factory=dict)

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
        if expects_no_reps(truth):
            self.zero_sessions += 1
            self.zero_ok += len(reps) == 0
        self.true_reps += len(true)
        self.found_reps += len(reps)
        for r, t in matched_reps(true, reps):
            if t is None:
                for f in r.faults:
                    self.fault_fp[f] += 1
                continue
            self.matched += 1
            self.raise_err.append(r.raise_s - t["raise_s"])
            self.lower_err.append(r.lower_s - t["lower_s"])
            self.hold_err.append(r.top_hold_s - t["top_hold_s"])
            self.peak_err.append(r.peak_deg - t["peak_deg"])
            if "rise_profile" in t:
                by = self.raise_err_by_profile.setdefault(t["rise_profile"], [])
                by.append(r.raise_s - t["raise_s"])
                by = self.lower_err_by_profile.setdefault(t["lower_profile"], [])
                by.append(r.lower_s - t["lower_s"])
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
                    if f in mine:
                        mine[f] += v[f]  # a count, or a list extended in place
                    else:
                        mine[f] = list(v[f]) if isinstance(v[f], list) else v[f]

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

    def fault_totals(self):
        """Precision and recall over all faults together, and the true count."""
        tp = sum(self.fault_tp.values())
        fp = sum(self.fault_fp.values())
        fn = sum(self.fault_fn.values())
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        return p, r, tp + fn

    def report(self) -> str:
        lines = [
            f"sessions: {self.sessions} (walking-only {self.walk_sessions}, "
            f"no reps expected {self.zero_sessions})",
            f"exact rep count: {self.exact}/{self.sessions} = {100 * self.exact_fraction:.1f}%",
            f"sessions with zero reps where none are true: {self.zero_ok}/{self.zero_sessions}",
            f"reps: true {self.true_reps}, counted {self.found_reps}, matched {self.matched}",
            f"median |error|: raise_s {self.median_abs(self.raise_err):.3f} s, "
            f"lower_s {self.median_abs(self.lower_err):.3f} s, "
            f"top_hold_s {self.median_abs(self.hold_err):.3f} s, "
            f"peak_deg {self.median_abs(self.peak_err):.2f} deg",
            f"90th pct |error|: raise_s {p90_abs(self.raise_err):.3f} s, "
            f"lower_s {p90_abs(self.lower_err):.3f} s, "
            f"top_hold_s {p90_abs(self.hold_err):.3f} s"
            if self.raise_err
            else "",
            "faults (precision / recall / true count):",
        ]
        for f in FAULTS:
            p, r, n = self.precision_recall(f)
            lines.append(f"  {f:<17} {p:6.2f} / {r:6.2f} / {n}")
        return "\n".join(x for x in lines if x)


ROW_HEADER = (
    f"{'family':<10} {'sessions':>8} {'exact':>7} {'zero':>7} {'reps':>9} "
    f"{'raise med/p90':>13} {'lower med/p90':>13} {'hold med/p90':>13} {'peak':>5} "
    f"{'fault P/R':>9}"
)


def _row(name: str, s: Score) -> str:
    def pair(err):
        return f"{s.median_abs(err):.3f}/{p90_abs(err):.2f}" if err else "-"

    p, r, n = s.fault_totals()
    faults = f"{p:.2f}/{r:.2f}" if n else "-"
    zero = f"{s.zero_ok}/{s.zero_sessions}" if s.zero_sessions else "-"
    peak = f"{s.median_abs(s.peak_err):.2f}" if s.peak_err else "-"
    return (
        f"{name:<10} {s.sessions:>8} {100 * s.exact_fraction:>6.1f}% {zero:>7} "
        f"{s.found_reps:>4}/{s.true_reps:<4} {pair(s.raise_err):>13} {pair(s.lower_err):>13} "
        f"{pair(s.hold_err):>13} {peak:>5} {faults:>9}"
    )


@dataclass
class FamilyScores:
    """One :class:`Score` per motion family; ``overall`` merges them."""

    by_family: dict = field(default_factory=dict)

    def add(self, name: str, truth: dict, reps: list) -> None:
        family = truth["spec"].get("family", "classic")
        self.by_family.setdefault(family, Score()).add(name, truth, reps)

    def merge(self, other: FamilyScores) -> None:
        for family, score in other.by_family.items():
            self.by_family.setdefault(family, Score()).merge(score)

    @property
    def overall(self) -> Score:
        total = Score()
        for score in self.by_family.values():
            total.merge(score)
        return total

    def table(self) -> str:
        """One line per family (in FAMILIES order) and the overall line."""
        lines = [ROW_HEADER]
        for family in FAMILIES:
            if family in self.by_family:
                lines.append(_row(family, self.by_family[family]))
        lines.append(_row("overall", self.overall))
        return "\n".join(lines)
