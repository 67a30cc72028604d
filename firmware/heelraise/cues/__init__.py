"""Tempo cues on the Pi: an LED and a buzzer (and a set button) driven by gpiozero.

One module per job:

- :mod:`~heelraise.cues.pins`: the default pin map (= ``hardware/pins.toml``)
- :mod:`~heelraise.cues.patterns`: the cue vocabulary (rhythms, pitches, priorities)
- :mod:`~heelraise.cues.metronome`: when guided / endurance cues are due, what the LED shows
- :mod:`~heelraise.cues.player`: one pattern at a time, rep feedback at once, else by priority
- :mod:`~heelraise.cues.outputs`: the LED, buzzer and button (gpiozero, ``pin_factory=``)
- :mod:`~heelraise.cues.coach`: what the service calls (events, state, modes, tick); the
  endurance test's rules are the service's (:mod:`heelraise.service.endurance`), the coach
  only plays its cues
- :mod:`~heelraise.cues.render`: the LED and buzzer as text in a terminal

``from heelraise.cues import Coach`` works; gpiozero is imported only then.
"""

_LAZY = {
    "Coach": "heelraise.cues.coach",
    "CueSettings": "heelraise.cues.settings",
    "PinMap": "heelraise.cues.pins",
    "DEFAULT_PINS": "heelraise.cues.pins",
    "load_pin_map": "heelraise.cues.pins",
    "SetButton": "heelraise.cues.outputs",
    "CueConsole": "heelraise.cues.render",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'heelraise.cues' has no attribute {name!r}")


__all__ = list(_LAZY)
