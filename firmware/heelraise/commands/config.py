"""``heelraise config``: print the commented default configuration, or check a file.

heelraise config --default > /etc/heelraise/config.toml
heelraise config --check /etc/heelraise/config.toml
"""

from __future__ import annotations

import sys

HELP = "print or check the service configuration"


def add_arguments(parser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--default", action="store_true", help="print the commented default config file"
    )
    group.add_argument(
        "--check", metavar="FILE", help="validate FILE; exit 0 when it is fine, 2 when not"
    )


def run(args) -> int:
    from heelraise.service.config import default_config_text, load_config

    if args.default:
        sys.stdout.write(default_config_text())
        return 0
    config = load_config(args.check)  # a ConfigError is printed by the CLI, exit status 2
    mqtt = "off" if config.mqtt is None else f"to {getattr(config.mqtt, 'host', '?')}"
    print(
        f"{args.check}: OK (device {config.device.id}, sensor {config.sensor.type}, "
        f"tempo {config.tempo.target or 'none'} {config.tempo.mode}, MQTT {mqtt})"
    )
    return 0
