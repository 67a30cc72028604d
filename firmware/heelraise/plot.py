"""``--plot``: the pitch trace with each rep's phases shaded (needs matplotlib)."""

from __future__ import annotations

import numpy as np

PHASE_COLOURS = {"raise": "#4c9be8", "hold": "#f2b134", "lower": "#e8604c"}


def plot_analysis(rec, result, out_png: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - optional extra
        from heelraise.exceptions import HeelraiseError

        raise HeelraiseError("--plot needs matplotlib: pip install 'heelraise[plot]'") from e
    a = result.analyzer
    fig, ax = plt.subplots(figsize=(12, 4))
    if a.trace and a.axis.known:
        rows = np.concatenate(a.trace)
        pitch, _ = a.axis.pitch_roll(rows[:, 1:3])
        ax.plot(rows[:, 0], pitch, lw=0.8, color="black", label="pitch (deg)")
    for r in result.summary.reps:
        ax.axvspan(r.start_s, r.top_start_s, color=PHASE_COLOURS["raise"], alpha=0.3, lw=0)
        ax.axvspan(r.top_start_s, r.top_end_s, color=PHASE_COLOURS["hold"], alpha=0.3, lw=0)
        ax.axvspan(r.top_end_s, r.end_s, color=PHASE_COLOURS["lower"], alpha=0.3, lw=0)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("t (s)")
    ax.set_ylabel("pitch (deg, heel up +)")
    ax.set_title(f"{rec.path}: {result.summary.rep_count} reps")
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
