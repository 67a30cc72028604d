"""``heelraise watch``: a live terminal table of reps arriving over MQTT, per device.

heelraise watch                          # broker 127.0.0.1:1883, prefix heelraise
heelraise watch --broker pi.local:1883 --rows 12
"""

from __future__ import annotations

HELP = "a live terminal table of reps arriving over MQTT"


def add_arguments(parser) -> None:
    from heelraise.commands.dashboard import add_mqtt_arguments

    add_mqtt_arguments(parser)
    parser.add_argument("--rows", type=int, default=8, help="reps shown per device (default 8)")


def run(args) -> int:
    from heelraise_host.watch import watch

    from heelraise.commands.dashboard import secret
    from heelraise.exceptions import SettingsError

    if args.rows < 1:
        raise SettingsError(f"--rows must be at least 1, not {args.rows}")
    return watch(
        args.broker,
        prefix=args.prefix,
        rows_per_device=args.rows,
        username=args.username,
        password=secret(args, "password", "HEELRAISE_MQTT_PASSWORD"),
        tls_ca=args.ca,
        protocol=args.protocol,
    )
