"""gpiozero, imported without its plug-in lookup and statistics until they are used.

gpiozero 2 imports ``importlib.metadata`` (with ``email``, ``csv``) for its pin-factory
and mock-pin plug-ins and ``statistics`` (with ``fractions``, ``decimal``) for the running
average of smoothed inputs, at the top of ``gpiozero.devices`` and friends, and its colour
library imports ``fractions`` for colour-space maths: 1.9 MB of the shoe's memory
(``bench/service_cpu.py``); ``subprocess`` (0.2 MB) is there for its PingServer alone.
The cues use an LED, a buzzer and a button with the pin factory given explicitly (or
gpiozero's default order, which imports each factory by name), so none of them runs; when
one does (``GPIOZERO_PIN_FACTORY`` names a plug-in, a smoothed input averages), it is
imported then (:mod:`heelraise.deferred`). Every gpiozero module the device imports comes
through :func:`gpiozero_module`.
"""

from __future__ import annotations

from heelraise.deferred import StandIn, import_deferring


def gpiozero_module(name: str = "gpiozero"):
    """The gpiozero module ``name`` (``gpiozero``, ``gpiozero.pins.mock``), imported light."""
    return import_deferring(
        name,
        StandIn("importlib.metadata", functions=("entry_points",)),
        StandIn("statistics", functions=("median", "mean")),
        # colorzero (gpiozero's colours) calls Fraction only in its CIE Lab conversions
        StandIn("fractions", functions=("Fraction",)),
        # only gpiozero's PingServer runs a command (ping), which the cues never build
        StandIn("subprocess"),
    )
