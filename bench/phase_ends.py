"""Phase timing by end: which of a rep's four instants carries the phase errors (issue 10).

``bench/accuracy.py`` scores the three phase durations; a duration's error is the difference
of its two ends' errors, so an end read late and the next one read late too cancel there, and
a long phase read short may be either end. This bench runs the same sessions (each session i
is family ``FAMILIES[i % len(families)]`` with seed ``first_seed + i``, analysed by the
offline path: ``heelraise.sim.scoring.run_family_session``), matches each rep read to its
true rep as the accuracy bench does (``matched_reps``), and prints, per family and per true
speed profile of the phase, the signed median and the median (90th percentile) of the abs.
error of each end: the rise's start and stop (``start_s``, ``top_start_s``), the lowering's
start and stop (``top_end_s``, ``end_s``). Positive: read late. Then the same for all four
ends by what else shapes them: the sample rate, step or floor (on a step, whether the
lowering went past neutral), and the true lowering's length (classic's long lowerings,
their slow flanks under the top's sway, read short at both ends: issue 10).

Seeds as in ``bench/accuracy.py``: below 10000 for development; it refuses 90000 and up
(the lead's held-out range) outright.

``python bench/phase_ends.py [--first-seed 2000] [--sessions 240]
[--families classic,brisk,slow,deep_drop] [--jobs 1]``
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from heelraise.settings import AnalyzerSettings
from heelraise.sim.families import FAMILIES
from heelraise.sim.scoring import matched_reps, run_family_session

HELD_OUT_FIRST_SEED = 90000
#: each end: (the instant's name in a rep and its truth, which phase's profile shapes it)
ENDS = (
    ("start_s", "rise_profile"),
    ("top_start_s", "rise_profile"),
    ("top_end_s", "lower_profile"),
    ("end_s", "lower_profile"),
)
#: s: the true lowering's length is shown in these bands (the slowest classic tempo is 4 s)
LOWER_BANDS_S = (1.5, 2.5, 3.5)
PAST_NEUTRAL_DEG = AnalyzerSettings().past_neutral_deg


def _bottom(surface: str, depth_deg: float | None) -> str:
    """Where the lowering ended: on the floor, or on a step past neutral or not."""
    if surface == "floor":
        return "floor"
    return "step, past neutral" if (depth_deg or 0.0) >= PAST_NEUTRAL_DEG else "step, not past"


def _lower_band(lower_s: float) -> str:
    """The true lowering's length band, e.g. "2.5-3.5 s"."""
    edges = (0.0, *LOWER_BANDS_S)
    k = sum(lower_s >= e for e in LOWER_BANDS_S)
    return (
        f"{edges[k]:.1f}-{LOWER_BANDS_S[k]:.1f} s"
        if k < len(LOWER_BANDS_S)
        else f">= {edges[k]:.1f} s"
    )


def end_errors(family: str, seed: int) -> list[dict]:
    """One session's matched reps: per rep, each end's signed error (s, read minus true)
    and the true profiles of its rise and lowering (the family's name where the truth has
    none: classic), the sample rate, where the lowering ended and its true length."""
    spec, sim, reps = run_family_session(family, seed)
    out = []
    for rep, true in matched_reps(sim.truth["reps"], reps):
        if true is None:
            continue
        out.append(
            {
                "family": family,
                **{k: true.get(k, family) for _, k in ENDS},
                "rate": f"{spec.rate_hz:g} Hz",
                "bottom": _bottom(spec.surface, true.get("depth_deg")),
                "lowering": _lower_band(true["end_s"] - true["top_end_s"]),
                **{name: getattr(rep, name) - true[name] for name, _ in ENDS},
            }
        )
    return out


def _cell(err: list) -> str:
    x = np.asarray(err)
    if not len(x):
        return "-"
    return f"{np.median(x):+.3f} {np.median(np.abs(x)):.3f} ({np.percentile(np.abs(x), 90):.2f})"


def table(rows: list[dict]) -> str:
    """Per family, then per true profile of the phase each end belongs to: n and, for each
    end, signed median, abs. median (abs. p90), s."""
    head = f"{'':24s} {'n':>5s}  " + "  ".join(f"{name:>21s}" for name, _ in ENDS)
    lines = [head]
    for family in sorted({r["family"] for r in rows}):
        sel = [r for r in rows if r["family"] == family]
        cells = "  ".join(f"{_cell([r[name] for r in sel]):>21s}" for name, _ in ENDS)
        lines.append(f"{'family ' + family:24s} {len(sel):5d}  {cells}")
    for phase, key in (("rise", "rise_profile"), ("lowering", "lower_profile")):
        for prof in sorted({r[key] for r in rows}):
            sel = [r for r in rows if r[key] == prof]
            ends = [name for name, k in ENDS if k == key]
            cells = "  ".join(
                f"{_cell([r[name] for r in sel]) if name in ends else '':>21s}" for name, _ in ENDS
            )
            lines.append(f"{phase + ' ' + prof:24s} {len(sel):5d}  {cells}")
    for key, label in (("rate", "rate"), ("bottom", "at"), ("lowering", "lower_s")):
        for value in sorted({r[key] for r in rows if key in r}, key=_order):
            sel = [r for r in rows if r.get(key) == value]
            cells = "  ".join(f"{_cell([r[name] for r in sel]):>21s}" for name, _ in ENDS)
            lines.append(f"{label + ' ' + value:24s} {len(sel):5d}  {cells}")
    return "\n".join(lines)


def _order(value: str):
    """Rates and lengths in numeric order, the rest by name."""
    head = value.lstrip(">= ").split(" ")[0].split("-")[0]
    try:
        return (0, float(head), value)
    except ValueError:
        return (1, 0.0, value)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--first-seed", type=int, default=2000, help="first seed (default 2000)")
    ap.add_argument("--sessions", type=int, default=240, help="sessions in all (default 240)")
    ap.add_argument("--families", default="classic,brisk,slow,deep_drop")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    args = ap.parse_args(argv)
    families = args.families.split(",")
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        ap.error(f"--families: unknown {', '.join(unknown)} (choose from {', '.join(FAMILIES)})")
    if args.sessions < 1:
        ap.error(f"--sessions must be at least 1, not {args.sessions}")
    if args.first_seed + args.sessions > HELD_OUT_FIRST_SEED:
        ap.error(
            f"seeds {args.first_seed} to {args.first_seed + args.sessions - 1} reach the "
            f"held-out range ({HELD_OUT_FIRST_SEED} and up): use development seeds"
        )
    jobs = [(families[i % len(families)], args.first_seed + i) for i in range(args.sessions)]
    t0 = time.time()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            parts = list(pool.map(end_errors, *zip(*jobs, strict=True)))
    else:
        parts = [end_errors(f, s) for f, s in jobs]
    rows = [r for part in parts for r in part]
    print(
        f"{args.sessions} sessions (seeds {args.first_seed}+, {','.join(families)}), "
        f"{len(rows)} matched reps, {time.time() - t0:.0f} s"
    )
    print("signed median, abs. median (abs. p90) of each end's error, s (positive: read late)")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
