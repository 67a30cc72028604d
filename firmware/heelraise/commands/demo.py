"""``heelraise demo``: the whole product on one machine, no Pi, no sensor, no broker needed.

    heelraise demo                          # real time (about 5 minutes), dashboard on :8080
    heelraise demo --speed 10               # ten times faster
    heelraise demo --speed max --exit-when-done
    heelraise demo --pair                   # two shoes, the right one weaker: LSIs
    heelraise demo --broker 127.0.0.1:1884 --bind 127.0.0.1:9000 --seconds 120

Starts an MQTT broker in this process (amqtt) unless one already listens at
``--broker``, serves the dashboard on ``--bind`` and plays a simulated workout
(3 x 10 heel raises on a step at tempo 3-1-2-0, walking between sets, some
form faults) through the real service: simulated MPU-6050 -> analyzer -> LED
and buzzer cues (gpiozero mock pins, drawn in the terminal) -> MQTT -> the
dashboard. When the workout has played out it prints a summary and keeps
serving until Ctrl-C (or ``--seconds`` / ``--exit-when-done``). Ctrl-C and
SIGTERM end everything cleanly, exit status 0. See docs/demo.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

from heelraise.commands import argtypes

HELP = "the whole product on one machine: simulated shoe, cues, MQTT, dashboard"

log = logging.getLogger("heelraise.demo")

#: After the workout, wait at most this long for the dashboard to store the session event.
DELIVERY_TIMEOUT_S = 30.0


def add_arguments(parser) -> None:
    parser.add_argument(
        "--speed",
        type=argtypes.speed(1000),
        default=1.0,
        metavar="N",
        help="play the workout N times faster than real time (default 1; 'max': as fast as"
        " the CPU allows, on a virtual clock)",
    )
    parser.add_argument(
        "--broker",
        type=_loopback_broker,
        default=1883,
        dest="port",
        metavar="127.0.0.1:PORT",
        help="MQTT broker on this machine: an existing broker there is used, else one is"
        " started in this process (default 127.0.0.1:1883), as 'heelraise dashboard --broker'",
    )
    parser.add_argument(
        "--bind",
        default="127.0.0.1:8080",
        dest="http",
        metavar="ADDR:PORT",
        help="where the dashboard listens (default 127.0.0.1:8080; port 0: any free port),"
        " as 'heelraise dashboard --bind'",
    )
    # The old spellings, kept working with a note on stderr.
    parser.add_argument(
        "--port", type=argtypes.port, dest="port", action=_Deprecated, new="--broker 127.0.0.1:P"
    )
    parser.add_argument("--http", dest="http", action=_Deprecated, new="--bind ADDR:PORT")
    parser.add_argument(
        "--seconds",
        type=argtypes.seconds,
        metavar="N",
        help="end the demo N seconds (wall clock) after it started, workout done or not",
    )
    parser.add_argument(
        "--exit-when-done",
        action="store_true",
        help="exit once the workout has played out and reached the dashboard",
    )
    parser.add_argument(
        "--no-browser-hint",
        action="store_true",
        help="do not suggest opening the dashboard in a browser",
    )
    parser.add_argument(
        "--db",
        metavar="FILE",
        help="keep the dashboard's store in this SQLite file (default: in memory, gone when"
        " the demo ends); 'heelraise dashboard --db FILE' shows it again later",
    )
    parser.add_argument(
        "--pair",
        action="store_true",
        help="two shoes: the workout on the left, then a weaker right shoe (fewer, lower"
        " raises); each side's totals and the LSIs at the end",
    )
    parser.add_argument(
        "--no-cues",
        action="store_true",
        help="do not draw the LED and buzzer in the terminal (the coach still drives them)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level on stderr (default WARNING)",
    )


class _Deprecated(argparse.Action):
    """An old option name: still works, says which to use instead (hidden from --help)."""

    def __init__(self, option_strings, dest, new, **kwargs):
        kwargs.setdefault("help", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        print(
            f"heelraise demo: {option_string} is deprecated; use {self.new}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def _loopback_broker(text: str) -> int:
    """``127.0.0.1:PORT`` (or ``localhost:PORT``, or a bare port): the demo's broker is local."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError(text)
    return argtypes.port(port)


_loopback_broker.__name__ = "broker on this machine (127.0.0.1:PORT)"


def _say(text: str, stream=None) -> None:
    stream = stream or sys.stdout
    clear = "\r\033[K" if _isatty(stream) else ""
    stream.write(clear + text + "\n")
    stream.flush()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run(args) -> int:
    from heelraise.demo.runner import Demo
    from heelraise.demo.summary import pair_lines, speed_text, summary_lines

    logging.getLogger().setLevel(args.log_level)
    for noisy in ("amqtt", "transitions"):  # amqtt's connection chatter
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))

    t0 = time.monotonic()
    db = os.path.expanduser(args.db) if args.db else ":memory:"
    demo = Demo(
        speed=args.speed,
        port=args.port,
        http=args.http,
        db=db,
        render_cues=not args.no_cues,
        pair=args.pair,
    )

    def on_signal(signum, frame):
        log.info("%s: stopping", signal.Signals(signum).name)
        if demo.stopping and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: give up waiting for a clean stop
        demo.stop()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, on_signal)
    timer = None
    if args.seconds is not None:
        timer = threading.Timer(args.seconds, demo.stop)
        timer.daemon = True
        timer.start()
    try:
        demo.start()
        broker = demo.broker
        _say(
            f"heelraise demo: MQTT broker {broker.host}:{broker.port} "
            + ("(embedded amqtt, started by the demo)" if broker.embedded else "(already running)")
        )
        _say(f"heelraise demo: dashboard {demo.url}")
        if not args.no_browser_hint:
            _say(
                "heelraise demo: open that address in a browser to watch the reps arrive live;"
                " Ctrl-C ends the demo"
            )
        what = "3 sets x 10 heel raises (tempo 3-1-2-0, on a step)"
        if args.pair:
            what += " on the left shoe, then fewer and lower ones on the right (weaker) shoe"
        _say(
            f"heelraise demo: playing {what} at"
            f" speed {speed_text(args.speed)}, session {demo.session_id}"
        )
        summary = demo.play()
        delivered = False
        if not demo.stopping:
            delivered = demo.wait_delivered(DELIVERY_TIMEOUT_S)
        truth = demo.sim_imu.session.truth if demo.sim_imu.session is not None else None
        set_sides = None
        if args.pair:  # each side's truth is in pair_lines below
            truth = None
            of = {
                id(x): side for side, xs in demo.parts.service.session.side_sets.items() for x in xs
            }
            set_sides = [of.get(id(x)) for x in summary.sets]
        lines = summary_lines(
            summary,
            speed=args.speed,
            wall_s=demo.play_wall_s,
            truth=truth,
            stored=demo.stored() if delivered else None,
            session_url=demo.session_url(),
            gaps=demo.gaps,
            finished=demo.workout_finished,
            set_sides=set_sides,
        )
        if args.pair:
            service = demo.parts.service
            truths = {side: imu.session.truth for side, imu in demo.sim_imus.items()}
            lines[1:1] = pair_lines(
                service.side_totals(),
                involved=service.involved_side,
                truths=truths,
                body_mass_kg=service.session.body_mass_kg,
            )
        for line in lines:
            _say(line)
        if not demo.stopping and not delivered:
            _say(
                f"heelraise demo: the dashboard had not stored the session after"
                f" {DELIVERY_TIMEOUT_S:g} s (see the log above)"
            )
        if not demo.stopping and not args.exit_when_done:
            left = ""
            if args.seconds is not None:
                left = f" for another {max(0.0, args.seconds - (time.monotonic() - t0)):.0f} s"
            _say(f"heelraise demo: still serving {demo.url}{left}; Ctrl-C ends the demo")
            while not demo.wait_stop(0.5):
                pass
    finally:
        if timer is not None:
            timer.cancel()
        demo.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    broker = demo.broker
    if broker is not None and broker.embedded:
        _say("heelraise demo: stopped (the embedded broker too)")
    else:
        _say("heelraise demo: stopped")
    return 0
