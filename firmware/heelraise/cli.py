"""The ``heelraise`` command: one sub-command per module under ``heelraise.commands``.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Only the chosen command's module is imported, so
``heelraise analyze`` on a laptop never imports gpiozero or paho.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from heelraise import __version__
from heelraise.exceptions import HeelraiseError

#: name -> one-line help; the module is heelraise.commands.<name>
COMMANDS = {
    "simulate": "write a simulated recording and its ground truth",
    "analyze": "count reps and time every phase in recordings",
    "run": "the service: sensor -> signal chain -> cues and events",
    "record": "capture raw IMU samples to a recording file",
    "probe": "scan the I2C bus for IMUs and self-check them",
    "config": "print or check the service configuration",
    "demo": "the whole product on one machine: simulated shoe, cues, MQTT, dashboard",
    "dashboard": "serve the web dashboard (subscribes to MQTT)",
    "watch": "a live terminal table of reps arriving over MQTT",
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="heelraise",
        description="Heel-raise rep counter and tempo coach.",
        epilog="commands:\n"
        + "\n".join(f"  {n:<10} {h}" for n, h in COMMANDS.items())
        + "\n\n'heelraise COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"heelraise {__version__}")
    parser.add_argument("command", choices=list(COMMANDS), metavar="COMMAND")
    return parser


#: numpy's BLAS spins threads on the chain's small products: one is faster, and leaves the
#: Pi's other cores to the rest (set before numpy is imported; a user's own setting wins)
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv=None) -> int:
    for key, value in BLAS_THREADS.items():
        os.environ.setdefault(key, value)
    argv = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    if not argv or argv[0].startswith("-"):
        top.parse_args(argv or ["--help"])
        return 2
    name = argv[0]
    if name not in COMMANDS:
        top.parse_args(argv[:1])  # prints the choices and exits 2
        return 2
    module = importlib.import_module(f"heelraise.commands.{name}")
    parser = argparse.ArgumentParser(prog=f"heelraise {name}", description=COMMANDS[name])
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    logging.basicConfig(
        level=getattr(args, "log_level", "WARNING") if hasattr(args, "log_level") else "WARNING",
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(module.run(args) or 0)
    except HeelraiseError as e:
        print(f"heelraise {name}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except FileNotFoundError as e:  # an output file in a folder that is not there, ...
        print(f"heelraise {name}: {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    except (PermissionError, IsADirectoryError, NotADirectoryError) as e:
        print(f"heelraise {name}: {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `heelraise analyze ... | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
