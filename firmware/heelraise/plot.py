"""``--plot``: the tilt trace, every rep's phases shaded and numbered, faults marked.

It always draws: with no pitch axis found the trace is the whole tilt (its magnitude), and a
line under the title says why nothing was counted (see :func:`why_nothing_counted`).
"""

from __future__ import annotations

import numpy as np

from heelraise.chain.axis import AXIS

PHASE_COLOURS = {"raise": "#4c9be8", "hold": "#f2b134", "lower": "#e8604c"}
FAULT_COLOUR = "#b00020"


def why_nothing_counted(analyzer) -> str | None:
    """One line saying why a recording gave no reps (None if it gave some)."""
    if analyzer.state.rep_count:
        return None
    if not analyzer.state.calibrated:
        s = analyzer.settings
        return (
            f"no rep counted: never still for {s.neutral_still_s:g} s with the shoe flat, "
            "so no neutral to measure tilt from"
        )
    if not analyzer.axis.known:
        return (
            "no rep counted: no rep-like movement to learn the pitch axis from "
            f"(a tilt held {AXIS.qualify_deg:g} degrees or more for {AXIS.qualify_s:g} s, "
            "away from walking)"
        )
    reasons: dict[str, int] = {}
    for c in analyzer.rejected:
        reasons[c.rejected] = reasons.get(c.rejected, 0) + 1
    if not reasons:
        return (
            "no rep counted: no rise and lowering big enough "
            f"({analyzer.settings.min_peak_deg:g} degrees) after the axis was found"
        )
    listed = ", ".join(f"{k} x{v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
    return f"no rep counted: every movement was ruled out ({listed})"


def build_figure(title: str, result):
    """The figure ``--plot`` saves (matplotlib must be importable)."""
    import matplotlib.pyplot as plt

    a = result.analyzer
    fig, ax = plt.subplots(figsize=(12, 4))
    rows = np.concatenate(a.trace) if a.trace else np.empty((0, 3))
    if a.axis.known:
        trace, _ = a.axis.pitch_roll(rows[:, 1:3])
        ax.plot(rows[:, 0], trace, lw=0.8, color="black", label="pitch (deg, heel up +)")
        ax.set_ylabel("pitch (deg, heel up +)")
    else:
        trace = np.hypot(rows[:, 1], rows[:, 2])
        ax.plot(rows[:, 0], trace, lw=0.8, color="black", label="tilt (deg, axis unknown)")
        ax.set_ylabel("tilt from neutral (deg)")
    shaded = set()
    for r in result.summary.reps:
        for phase, t0, t1 in (
            ("raise", r.start_s, r.top_start_s),
            ("hold", r.top_start_s, r.top_end_s),
            ("lower", r.top_end_s, r.end_s),
        ):
            label = phase if phase not in shaded else None
            shaded.add(phase)
            ax.axvspan(t0, t1, color=PHASE_COLOURS[phase], alpha=0.3, lw=0, label=label)
        top = 0.5 * (r.top_start_s + r.top_end_s)
        ax.annotate(f"{r.set}.{r.index}", (top, r.peak_deg), ha="center", va="bottom", fontsize=7)
        if r.faults:
            label = "fault" if "fault" not in shaded else None
            shaded.add("fault")
            ax.plot([top], [r.peak_deg + 3.0], "v", color=FAULT_COLOUR, ms=6, label=label)
            ax.annotate(
                ", ".join(r.faults),
                (top, r.peak_deg + 4.5),
                ha="center",
                va="bottom",
                fontsize=6,
                color=FAULT_COLOUR,
                rotation=90,
            )
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("t (s)")
    n = result.summary.rep_count
    why = why_nothing_counted(a)
    ax.set_title(f"{title}: {n} reps" + (f"\n{why}" if why else ""), fontsize=10)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    return fig


def plot_analysis(rec, result, out_png: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - optional extra
        from heelraise.exceptions import HeelraiseError

        raise HeelraiseError("--plot needs matplotlib: pip install 'heelraise[plot]'") from e
    fig = build_figure(str(rec.path), result)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
