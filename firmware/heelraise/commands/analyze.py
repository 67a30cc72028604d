"""``heelraise analyze``: count reps and time every phase in recordings."""

from __future__ import annotations

import json
import sys

from heelraise.commands import analyze_pair

HELP = "count reps and time every phase in recordings"


def add_arguments(p):
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings (t,ax,ay,az,gx,gy,gz CSV)")
    p.add_argument("--tempo", help="target tempo lower-bottom-raise-top, e.g. 3-0-2-1")
    p.add_argument(
        "--surface",
        choices=("auto", "floor", "step"),
        default="auto",
        help="floor or step (default: judged from each set)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "--json", action="store_true", help="JSON: one object (several files: one line each)"
    )
    out.add_argument("--csv", action="store_true", help="a CSV summary, one row per file")
    p.add_argument("--plot", metavar="OUT.png", help="pitch trace with phases shaded (one file)")
    analyze_pair.add_arguments(p)


def run(args) -> int:
    from heelraise.chain.offline import analyze_reader
    from heelraise.deferred import defer_numpy_ma
    from heelraise.exceptions import HeelraiseError, RecordingError
    from heelraise.recording import RecordingReader
    from heelraise.settings import AnalyzerSettings

    # Before the reader's first np.median: numpy.ma is imported only if something uses it
    # (a plot), not to be asked whether a plain array is masked (5 to 10 ms of start-up).
    defer_numpy_ma()
    if analyze_pair.wanted(args):
        return analyze_pair.run(args)
    if args.plot and len(args.files) > 1:
        print("heelraise analyze: --plot takes one file", file=sys.stderr)
        return 2
    settings = AnalyzerSettings(tempo=args.tempo, surface=args.surface)
    many = len(args.files) > 1
    tty = sys.stderr.isatty()
    status = 0
    if args.csv:
        import csv

        table = csv.writer(sys.stdout, lineterminator="\n")
        table.writerow(CSV_COLUMNS)
    for n, path in enumerate(args.files, 1):
        if many and tty:
            bar = "#" * int(30 * (n - 1) / len(args.files))
            print(
                f"\r[{bar:<30}] {n - 1}/{len(args.files)} {path[-40:]:<40}",
                end="",
                file=sys.stderr,
                flush=True,
            )
        try:
            rec = RecordingReader(path)  # read block by block as it is analysed
            result = analyze_reader(rec, settings, keep_trace=bool(args.plot))
        except RecordingError as e:
            _clear(many and tty)
            print(f"heelraise analyze: {e}", file=sys.stderr)
            status = 2
            continue
        except HeelraiseError as e:
            _clear(many and tty)
            print(f"heelraise analyze: {path}: {e}", file=sys.stderr)
            status = 2
            continue
        _clear(many and tty)
        if args.json:
            doc = result.to_json(path, rec.sample_rate_hz)
            print(json.dumps(doc, indent=None if many else 1), flush=many)  # JSON lines
        elif args.csv:
            table.writerow(_csv_row(path, rec, result.summary))
        elif many:
            s = result.summary
            print(
                f"{path}: {s.rep_count} reps in {len(s.sets)} sets, "
                f"{rec.duration_s:.0f} s at {rec.sample_rate_hz:.0f} Hz{_trouble(result, '; ')}"
            )
        else:
            print(_table(path, rec, result))
        if args.plot:
            from heelraise.plot import plot_analysis

            plot_analysis(rec, result, args.plot)
            print(f"heelraise analyze: wrote the plot to {args.plot}", file=sys.stderr)
    if many and tty:
        print(f"\r[{'#' * 30}] {len(args.files)}/{len(args.files)}", file=sys.stderr)
    return status


#: ``--csv``: one row per file
CSV_COLUMNS = (
    "file",
    "sample_rate_hz",
    "duration_s",
    "rep_count",
    "set_count",
    "mean_raise_s",
    "mean_top_hold_s",
    "mean_lower_s",
    "mean_peak_deg",
    "mean_heel_rise_mm",
    "faulty_reps",
)


def _csv_row(path, rec, summary) -> list:
    d = summary.to_dict()
    faulty = sum(1 for st in summary.sets for r in st.reps if r.faults)

    def r(key, digits):
        v = d.get(key)
        return "" if v is None else round(v, digits)

    return [
        path,
        round(rec.sample_rate_hz, 1),
        round(rec.duration_s, 2),
        summary.rep_count,
        len(summary.sets),
        r("mean_raise_s", 3),
        r("mean_top_hold_s", 3),
        r("mean_lower_s", 3),
        r("mean_peak_deg", 2),
        r("mean_heel_rise_mm", 1),
        faulty,
    ]


def _clear(on):
    if on:
        print("\r" + " " * 80 + "\r", end="", file=sys.stderr)


def _trouble(result, lead: str) -> str:
    """Holes not bridged and glitches dropped, in a few words ("" if none)."""
    parts = []
    holes = result.holes
    if holes:
        total = sum(g.end_s - g.start_s for g in holes)
        longest = max(holes, key=lambda g: g.end_s - g.start_s)
        parts.append(
            f"{len(holes)} hole{'s' if len(holes) > 1 else ''} in the data ({_span(total)} in "
            f"all, the longest {_span(longest.end_s - longest.start_s)} from "
            f"{longest.start_s:.1f} s; reps across a hole are not counted)"
        )
    screen = result.analyzer.screen
    if screen.count:
        parts.append(
            f"{screen.count} glitch{'es' if screen.count > 1 else ''} dropped (values beyond "
            f"any IMU's range, first at {screen.first_t_s:.3f} s)"
        )
    return lead + "; ".join(parts) if parts else ""


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def _table(path, rec, result) -> str:
    summary = result.summary

    def f(x):
        return "   -" if x is None else f"{x:4.1f}"

    lines = [f"{path}: {rec.duration_s:.0f} s at {rec.sample_rate_hz:.0f} Hz"]
    for st in summary.sets:
        lines.append("")
        lines.append(
            f"set {st.index}: {st.rep_count} reps, {st.start_s:.1f} to {st.end_s:.1f} s "
            f"(ended by {st.ended_by})"
        )
        lines.append(" rep  raise  hold  lower  pause   peak   depth  heel mm  faults")
        for r in st.reps:
            lines.append(
                f" {r.index:3d}  {f(r.raise_s)}  {f(r.top_hold_s)}  {f(r.lower_s)}  "
                f"{f(r.bottom_hold_s)}  {r.peak_deg:5.1f}  {r.depth_deg:5.1f}  "
                f"{r.heel_rise_mm:7.0f}"
                f"  {', '.join(r.faults) or '-'}"
            )
    lines.append("")
    d = summary.to_dict()
    if summary.rep_count:
        lines.append(
            f"total: {summary.rep_count} reps in {len(summary.sets)} sets; mean raise "
            f"{d['mean_raise_s']:.1f} s, hold {d['mean_top_hold_s']:.1f} s, lower "
            f"{d['mean_lower_s']:.1f} s, peak {d['mean_peak_deg']:.0f} deg, heel "
            f"{d['mean_heel_rise_mm']:.0f} mm"
        )
    else:
        lines.append("total: 0 reps")
    trouble = _trouble(result, "")
    if trouble:
        lines.append(f"note: {trouble}")
    return "\n".join(lines)
