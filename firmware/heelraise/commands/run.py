"""``heelraise run``: the service. Sensor -> signal chain -> cues, console / JSON lines, MQTT.

    heelraise run                                  # /etc/heelraise/config.toml, real sensor
    heelraise run --imu sim                        # the simulator, in real time, on a laptop
    heelraise run --imu sim --speed 20 --seconds 600 --json
    heelraise run --imu replay:session.csv --speed 4

SIGTERM (systemd stop) and Ctrl-C end the run cleanly with exit status 0: the
open set is closed, the cues go off, the session event is published and every
sink is flushed. A bad config exits 78 (EX_CONFIG: systemd does not restart it),
a missing or failing sensor 69 (EX_UNAVAILABLE: restarted); see
``heelraise.service.exit_codes``. Logs go to stderr, one line each (``LEVEL name: message``),
which journald stores with its own timestamps. On a terminal the cue status
line is redrawn in place and log lines are written above it, never into it;
on a laptop (gpiozero mock pins) the Enter key is the set button (``h`` then
Enter: a hold, the endurance test). ``--seconds`` counts wall-clock seconds.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from heelraise.commands import argtypes

HELP = "the service: sensor -> signal chain -> cues and events"

log = logging.getLogger("heelraise.service")


def _imu_kind(text: str) -> str:
    if text in ("mpu6050", "lsm6ds", "sim") or (text.startswith("replay:") and len(text) > 7):
        return text
    raise ValueError(text)


_imu_kind.__name__ = "IMU kind (mpu6050, lsm6ds, sim or replay:FILE)"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config (default /etc/heelraise/config.toml; built-in defaults when "
        "that file does not exist and --imu is given)",
    )
    parser.add_argument(
        "--imu",
        type=_imu_kind,
        metavar="KIND",
        help="override [sensor]: mpu6050, lsm6ds, sim or replay:FILE",
    )
    parser.add_argument(
        "--speed",
        type=argtypes.speed(10000),
        metavar="X",
        help="run the clock X times real time (sim / replay; 'max': as fast as possible)",
    )
    parser.add_argument("--json", action="store_true", help="JSON lines on stdout, one per event")
    parser.add_argument(
        "--seconds",
        type=argtypes.seconds,
        metavar="N",
        help="stop after N seconds of wall-clock time (whatever --speed is)",
    )
    parser.add_argument(
        "--no-cues", action="store_true", help="no LED / buzzer / button (no GPIO at all)"
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="override [log] level",
    )


def run(args) -> int:
    """The run, with its exit status: a config mistake and a sensor fault differ."""
    from heelraise.exceptions import SensorError, SettingsError
    from heelraise.service import exit_codes

    try:
        return _run(args)
    except SensorError as e:
        print(f"heelraise run: {e}", file=sys.stderr)
        return exit_codes.SENSOR
    except SettingsError as e:  # ConfigError, and settings a driver refuses (a chip's rates)
        print(f"heelraise run: {e}", file=sys.stderr)
        return exit_codes.CONFIG


def _run(args) -> int:
    from heelraise.service import exit_codes
    from heelraise.service.assemble import assemble
    from heelraise.service.config import DEFAULT_PATH, Config, load_config

    if args.config is None and args.imu is not None:
        import os

        config = load_config(DEFAULT_PATH) if os.path.exists(DEFAULT_PATH) else _defaults()
    else:
        config = load_config(args.config or DEFAULT_PATH)
    assert isinstance(config, Config)
    logging.getLogger().setLevel(args.log_level or config.log.level)
    if (
        args.speed is not None
        and args.speed != 1.0
        and (args.imu or config.sensor.imu_kind)
        in (
            "mpu6050",
            "lsm6ds",
        )
    ):
        log.error("--speed only applies to --imu sim or replay:FILE, not a real sensor")
        return exit_codes.USAGE

    kind = args.imu or config.sensor.imu_kind
    parts = assemble(
        config,
        imu_kind=args.imu,
        speed=args.speed,
        json_lines=args.json,
        cues=not args.no_cues,
        stop_when_exhausted=kind == "sim" or kind.startswith("replay:"),
    )
    service = parts.service
    log.info(
        "session %s on device %s (config %s)",
        parts.session_id,
        config.device.id,
        config.path or "built-in defaults",
    )

    def on_signal(signum, frame):
        log.info("%s: stopping", signal.Signals(signum).name)
        service.stop()

    console = _cue_console(parts)
    if console is not None:
        _log_above(console)
    if _enter_is_the_button(args, parts):
        _start_enter_button(service, console)
    timer = None
    if args.seconds is not None:
        # Wall-clock seconds, whatever --speed is: "--speed 10 --seconds 60" runs 60 s.
        def time_up():
            log.info("ran for %g s (wall clock) as asked; stopping", args.seconds)
            service.stop()

        timer = threading.Timer(args.seconds, time_up)
        timer.daemon = True

    previous = {
        sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    try:
        if timer is not None:
            timer.start()
        service.run()
    finally:
        if timer is not None:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if console is not None:
            sys.stdout.write("\n")  # the shell prompt goes below the last cue line
        sys.stdout.flush()
    return exit_codes.OK


def _cue_console(parts):
    """The in-place cue status line on the terminal, if the run draws one."""
    console = getattr(parts.coach, "on_output", None)
    if console is None:  # no cue line drawn (JSON lines, not a terminal): nothing to import
        return None
    from heelraise.cues.render import CueConsole

    return console if isinstance(console, CueConsole) and console.inline else None


def _log_above(console) -> None:
    """Log lines go above the cue status line instead of into it."""
    from heelraise.cues.render import LinesAboveCueLine

    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and handler.stream in (
            sys.stderr,
            sys.stdout,
        ):
            above = LinesAboveCueLine(console, handler.stream)
            above.setFormatter(handler.formatter)
            above.setLevel(handler.level)
            root.removeHandler(handler)
            root.addHandler(above)


def _enter_is_the_button(args, parts) -> bool:
    """On a laptop (mock pins) at a terminal, the keyboard stands in for the button."""
    if args.json or parts.button is None or parts.pin_factory is None:
        return False
    mock = sys.modules.get("gpiozero.pins.mock")  # a mock factory exists only once it is imported
    if mock is None or not isinstance(parts.pin_factory, mock.MockFactory):
        return False
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _start_enter_button(service, console) -> None:
    hint = (
        "heelraise run: no button here: press Enter to start or end a set"
        " (h then Enter: start or stop the endurance test)"
    )
    if console is not None:
        console.above(hint, sys.stdout)
    else:
        print(hint, flush=True)

    def read_keys():
        for line in sys.stdin:
            if line.strip().lower() == "h":
                service.hold_button()
            else:
                service.press_button()

    threading.Thread(target=read_keys, name="heelraise-enter-button", daemon=True).start()


def _defaults():
    from heelraise.service.config import parse_config

    log.info("no /etc/heelraise/config.toml: using the built-in defaults")
    return parse_config("")
