"""``heelraise simulate``: write a simulated recording and its ground truth.

``--family`` picks the motion (``heelraise.sim.families``): the classic sets of raises, brisk
or slow raises, a deep heel drop before shallow raises, or an activity that must count
nothing (slow walking, shuffling, squats, lunges, jumps, hops, step-ups, running).
"""

from __future__ import annotations

import json
from pathlib import Path

from heelraise.commands import argtypes
from heelraise.sim.families import (
    FAMILIES,
    NON_REP_FAMILIES,
    PROFILED_FAMILIES,
    SITE_DIRECTIONS,
)
from heelraise.sim.profiles import PROFILE_NAMES

SITES = tuple(SITE_DIRECTIONS)

HELP = "write a simulated recording and its ground truth"


def add_arguments(p):
    p.add_argument(
        "out", metavar="OUT.csv", help="recording to write (truth goes to OUT.truth.json)"
    )
    p.add_argument(
        "--family",
        choices=FAMILIES,
        default="classic",
        metavar="FAMILY",
        help="motion family (default classic): "
        + ", ".join(FAMILIES)
        + f"; {', '.join(NON_REP_FAMILIES)} make no reps",
    )
    p.add_argument(
        "--profile",
        choices=("mixed", *PROFILE_NAMES),
        default="mixed",
        metavar="PROFILE",
        help=f"speed profile of the {', '.join(PROFILED_FAMILIES)} movements: mixed (default, "
        "one drawn per movement), " + ", ".join(PROFILE_NAMES),
    )
    p.add_argument("--sets", type=int, default=3, help="sets (default 3)")
    p.add_argument("--reps", type=int, default=10, help="reps per set (default 10)")
    p.add_argument(
        "--tempo",
        default="3-0-2-1",
        help="lower-bottom-raise-top seconds, e.g. 3-0-2-1 (default; the classic family's)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--step",
        dest="surface",
        action="store_const",
        const="step",
        help="on a step, heels past neutral (default)",
    )
    g.add_argument(
        "--floor", dest="surface", action="store_const", const="floor", help="on the floor"
    )
    p.add_argument("--rate", type=float, default=100.0, help="sample rate, Hz (25 to 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--faults", type=argtypes.fraction, default=0.15, help="chance of a form fault per rep"
    )
    p.add_argument("--no-walking", action="store_true", help="no walking before/between/after")
    p.add_argument(
        "--walk-only",
        action="store_true",
        help="classic family with no reps: standing, walking, steps",
    )
    p.add_argument(
        "--mount",
        choices=("random", *SITES),
        default="random",
        metavar="SITE",
        help="where the sensor sits on the shoe: random (default), " + ", ".join(SITES),
    )
    p.add_argument("--ideal", action="store_true", help="a perfect sensor (no errors)")
    p.set_defaults(surface="step")


def run(args) -> int:
    from heelraise.exceptions import SettingsError
    from heelraise.recording import write_recording
    from heelraise.sim import SessionSpec, families, simulate_session
    from heelraise.tempo import Tempo

    if not 25 <= args.rate <= 1000:
        raise SettingsError(f"--rate {args.rate:g} Hz is outside 25 to 1000 Hz")
    if args.sets < 0 or args.reps < 1:
        raise SettingsError("--sets must be 0 or more and --reps 1 or more")
    Tempo.parse(args.tempo)
    if args.walk_only and args.family != "classic":
        raise SettingsError(
            f"--walk-only belongs to the classic family, not --family {args.family} "
            f"(for a session with no reps pick one of: {', '.join(NON_REP_FAMILIES)})"
        )
    try:
        families.check(args.family, args.profile, args.surface)
    except ValueError as e:
        raise SettingsError(str(e)) from None
    spec = SessionSpec(
        sets=args.sets,
        reps=args.reps,
        tempo=args.tempo,
        surface=args.surface,
        rate_hz=args.rate,
        seed=args.seed,
        fault_rate=args.faults,
        walking=not args.no_walking,
        walk_only=args.walk_only,
        ideal_sensor=args.ideal,
        family=args.family,
        profile=args.profile,
        mount=args.mount,
    )
    sim = simulate_session(spec)
    out = Path(args.out)
    write_recording(
        out,
        sim.t_s,
        sim.acc_g,
        sim.gyr_dps,
        meta={
            "sample_rate_hz": args.rate,
            "simulated": "heelraise",
            "seed": args.seed,
            "surface": args.surface,
            "tempo": args.tempo,
            "family": args.family,
        },
    )
    truth_path = out.with_suffix(".truth.json")
    truth_path.write_text(json.dumps(sim.truth, indent=1))
    print(
        f"wrote {out} ({len(sim.t_s)} samples, {sim.t_s[-1] - sim.t_s[0]:.1f} s, "
        f"{args.family}, {sim.truth['rep_count']} reps) and {truth_path}"
    )
    return 0
