"""``heelraise analyze LEFT.csv RIGHT.csv --pair``: both shoes and their limb symmetry.

Each file is analysed alone, exactly as ``heelraise analyze FILE`` does (each shoe has its
own sensor and clock; nothing is aligned between them). The LSIs of reps, mean heel height
and total work follow :mod:`heelraise.symmetry`: involved / uninvolved x 100 with
``--involved``, left / right x 100 (and labelled so) without.

``--json`` prints ``{"sides": {"left": {...}, "right": {...}}, "totals": {...},
"symmetry": {"reps_lsi", "heel_rise_lsi", "work_lsi", "involved", ...}}``, each side's
object being the one ``heelraise analyze FILE --json`` prints. A recording whose
``# side=`` metadata names the other side is refused, naming the file.
"""

from __future__ import annotations

import json
import sys

SIDES = ("left", "right")  # heelraise.symmetry.SIDES (not imported: keeps --help light)


def add_arguments(p) -> None:
    """The options ``heelraise analyze`` gains for two shoes."""
    p.add_argument(
        "--pair",
        action="store_true",
        help="two files, LEFT then RIGHT: both shoes and their limb symmetry (LSI)",
    )
    p.add_argument(
        "--involved",
        choices=SIDES,
        help="with --pair: the injured side (LSI = involved / uninvolved x 100; "
        "without it, left / right)",
    )
    p.add_argument(
        "--body-mass-kg",
        type=float,
        default=None,
        help="with --pair: body mass for the work (default the analysis setting, 70 kg)",
    )


def wanted(args) -> bool:
    """Whether ``heelraise analyze`` was given any of the two-shoe options."""
    return args.pair or args.involved is not None or args.body_mass_kg is not None


def run(args) -> int:
    from heelraise.chain.offline import analyze_recording
    from heelraise.commands.analyze import _table
    from heelraise.exceptions import HeelraiseError, RecordingError
    from heelraise.recording import read_recording
    from heelraise.settings import AnalyzerSettings
    from heelraise.symmetry import side_totals, symmetry

    if not args.pair:
        print("heelraise analyze: --involved and --body-mass-kg go with --pair", file=sys.stderr)
        return 2
    if len(args.files) != 2:
        print(
            f"heelraise analyze: --pair takes two files, LEFT.csv then RIGHT.csv, "
            f"not {len(args.files)}",
            file=sys.stderr,
        )
        return 2
    if args.plot:
        print("heelraise analyze: --plot takes one file, not --pair", file=sys.stderr)
        return 2
    extra = {} if args.body_mass_kg is None else {"body_mass_kg": args.body_mass_kg}
    settings = AnalyzerSettings(tempo=args.tempo, surface=args.surface, **extra)
    recs, results = {}, {}
    for side, path in zip(SIDES, args.files, strict=True):
        try:
            rec = read_recording(path)
            _check_side(path, rec.meta.get("side"), side)
            results[side] = analyze_recording(rec, settings)
        except RecordingError as e:
            print(f"heelraise analyze: {e}", file=sys.stderr)
            return 2
        except HeelraiseError as e:
            print(f"heelraise analyze: {path}: {e}", file=sys.stderr)
            return 2
        recs[side] = rec
    totals = {
        side: side_totals([r.heel_rise_mm for r in res.summary.reps], settings.body_mass_kg)
        for side, res in results.items()
    }
    sym = symmetry(totals, involved=args.involved)
    if args.json:
        out = {
            "sides": {
                side: results[side].to_json(path, recs[side].sample_rate_hz)
                for side, path in zip(SIDES, args.files, strict=True)
            },
            "totals": {side: totals[side].to_dict() for side in SIDES},
            "symmetry": sym,
        }
        print(json.dumps(out, indent=1))
        return 0
    for side, path in zip(SIDES, args.files, strict=True):
        print(f"== {side} ==")
        print(_table(path, recs[side], results[side]))
        print()
    print(symmetry_table(totals, sym))
    return 0


def _check_side(path: str, meta_side, given: str) -> None:
    from heelraise.exceptions import RecordingError

    if meta_side is None or meta_side == given:
        return
    if meta_side not in SIDES:
        raise RecordingError(path, None, f"side={meta_side!r} in its metadata is not left or right")
    raise RecordingError(
        path,
        None,
        f"its metadata says side={meta_side} but it was given as the {given} file "
        "(--pair takes LEFT.csv then RIGHT.csv)",
    )


def symmetry_table(totals: dict, sym: dict) -> str:
    """The two sides' totals and their LSIs, one line each."""
    if sym["ratio"] == "involved/uninvolved":
        other = "right" if sym["involved"] == "left" else "left"
        head = f"LSI ({sym['involved']} / {other})"
    else:
        head = "LSI (left / right)"

    def pct(x):
        return "-" if x is None else f"{x:.1f}%"

    def num(x, fmt):
        return "-" if x is None else format(x, fmt)

    rows = [
        ("reps", "reps", "d", "reps_lsi"),
        ("mean heel, mm", "mean_heel_rise_mm", ".0f", "heel_rise_lsi"),
        ("work, J", "work_j", ".1f", "work_lsi"),
    ]
    lines = [f"{'':<14} {'left':>8} {'right':>8}  {head}"]
    for label, key, fmt, lsi_key in rows:
        left = num(getattr(totals["left"], key), fmt)
        right = num(getattr(totals["right"], key), fmt)
        lines.append(f"{label:<14} {left:>8} {right:>8}  {pct(sym[lsi_key])}")
    lines.append(sym["label"])
    if sym["note"]:
        lines.append(sym["note"])
    return "\n".join(lines)
