"""Deterministic time for cue tests and demos: a settable clock that gpiozero's mock pins share.

gpiozero's ``MockPin`` stamps each state change with ``time.monotonic()``.
:func:`mock_pins_follow` points that at a :class:`~heelraise.clock.ManualClock`, so the pin
history (``pin.states``) is in the same exact, injected time as the coach::

    >>> from gpiozero.pins.mock import MockFactory, MockPWMPin
    >>> from heelraise.clock import ManualClock
    >>> from heelraise.cues.coach import Coach
    >>> clock = ManualClock()
    >>> with mock_pins_follow(clock):
    ...     factory = MockFactory(pin_class=MockPWMPin)
    ...     coach = Coach(pin_factory=factory, clock=clock)
    ...     coach.start_guided("2-0-2-0")
    ...     step_until(coach, clock, 2.5)
    ...     changes(factory.pin(18))[:3]
    [(0.0, 0.0), (0.0, 1.0), (0.03, 0.0)]
"""

from __future__ import annotations

import contextlib

from heelraise.clock import ManualClock


@contextlib.contextmanager
def mock_pins_follow(clock):
    """Within the block, gpiozero mock pins time their states with ``clock``."""
    import gpiozero.pins.mock as mock

    saved = mock.monotonic
    mock.monotonic = clock
    try:
        yield clock
    finally:
        mock.monotonic = saved


def step_until(coach, clock: ManualClock, until_s: float, step_ms: int = 5) -> None:
    """Tick ``coach`` every ``step_ms`` on an exact millisecond grid up to ``until_s``."""
    ms = round(clock.t_s * 1000)
    end = round(until_s * 1000)
    while ms < end:
        ms = min(ms + step_ms, end)
        clock.set(ms / 1000)
        coach.tick()


def changes(pin, origin_s: float = 0.0) -> list[tuple[float, float]]:
    """A mock pin's history as (absolute time, state), rounded to 0.1 ms.

    ``origin_s`` is when the pin was made (or last had ``clear_states()``).
    """
    out = []
    t = origin_s
    for i, st in enumerate(pin.states):
        if i:
            t += st.timestamp
        out.append((round(t, 4), float(st.state)))
    return out


#: s: how far a recorded pin change may be from the time a test expects it
TOL_S = 0.001


def assert_history(pin, expected) -> None:
    """``expected``: (absolute time s, state) for every recorded state, the initial one first.

    Checks the number of states too (gpiozero's ``assert_states_and_times`` zips)."""
    got = changes(pin)
    assert len(got) == len(expected), f"{len(got)} states, expected {len(expected)}: {got}"
    for (t, v), (te, ve) in zip(got, expected, strict=True):
        assert abs(v - ve) <= 1e-9, (got, expected)
        assert abs(t - te) <= TOL_S, (got, expected)
    # gpiozero's own check, on the deltas
    deltas = [(0.0, expected[0][1])] + [
        (b[0] - a[0], b[1]) for a, b in zip(expected, expected[1:], strict=False)
    ]
    pin.assert_states_and_times(deltas)


def beeps(*spans) -> list[tuple[float, float]]:
    """(on_s, off_s) spans -> an on/off history starting from the initial off state."""
    out = [(0.0, 0.0)]
    for on, off in spans:
        out += [(on, 1.0), (off, 0.0)]
    return out
