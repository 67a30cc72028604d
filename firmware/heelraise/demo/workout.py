"""The demo's workout and the service configuration it runs under.

One job: say *what* the demo plays. Three sets of ten heel raises on a step at
a 3-1-2-0 tempo, with walking before, between and after the sets, toe taps and
weight shifts while resting, and about one rep in seven carrying a form fault
(too fast, too slow, partial, bounce, ankle roll, not past neutral). The seed
is fixed, so every demo is the same session and the tests can count on it
(the real analyzer finds exactly its 30 reps and 3 sets).

    >>> spec = demo_spec()
    >>> spec.sets, spec.reps, spec.tempo, spec.surface
    (3, 10, '3-1-2-0', 'step')

``heelraise demo --pair`` plays two shoes (:func:`demo_pair_spec`): the left one this
workout, then the right one, weaker, while the left stands.
"""

from __future__ import annotations

import math
from dataclasses import asdict

from heelraise.sim import SessionSpec

DEVICE_ID = "demo-shoe"
TEMPO = "3-1-2-0"
#: Seed of the simulated session (the analyzer counts this one exactly: 30 reps, 3 sets).
SEED = 1
#: ``heelraise demo --pair``: the weaker (involved) shoe; it makes 80 % of the reps per set
#: at 80 % of the heel height (heelraise.sim.pair), after the other shoe's turn.
PAIR_WEAKER = "right"
#: Sensor rate of the simulated MPU-6050. 100 Hz keeps the emulated FIFO (85 samples) and the
#: analyzer's cost comfortable at high speed factors; the analyzer resamples anyway.
RATE_HZ = 100
#: The service reads the sensor every 20 ms of its clock at real time. Faster clocks read
#: larger blocks (the analyzer's cost is mostly per call), at most this much sensor time,
#: well inside the emulated FIFO.
MAX_READ_INTERVAL_S = 0.25


def demo_spec(**overrides) -> SessionSpec:
    """The workout: 3 x 10 heel raises on a step, tempo 3-1-2-0, walking, ~15 % faults."""
    spec = SessionSpec(
        sets=3,
        reps=10,
        tempo=TEMPO,
        surface="step",
        walking=True,
        fault_rate=0.15,
        rate_hz=float(RATE_HZ),
        seed=SEED,
    )
    if overrides:
        spec = SessionSpec(**{**asdict(spec), **overrides})
    return spec


def demo_pair_spec():
    """Two shoes: :func:`demo_spec` on the left, then the weaker right shoe (fewer, lower
    raises: :class:`heelraise.sim.pair.PairSpec`'s defaults)."""
    from heelraise.sim.pair import PairSpec

    return PairSpec(demo_spec(), weaker=PAIR_WEAKER)


def read_interval_s(speed: float) -> float:
    """Sensor seconds between reads so the loop runs about 50 times a second of wall time."""
    if math.isinf(speed):
        return MAX_READ_INTERVAL_S
    return min(MAX_READ_INTERVAL_S, max(0.02, 0.02 * speed))


def demo_config_text(
    *, port: int, outbox_path: str, host: str = "127.0.0.1", pair: bool = False
) -> str:
    """The service configuration (TOML) of the demo shoe: simulated sensor, free mode with
    a target tempo (each rep judged, a chirp or a fault buzz), live pitch on, MQTT to
    ``host:port``. ``pair``: two shoes, the right one the involved (weaker) side."""
    sensors = f"""
[sensor]
type = "sim"
rate_hz = {RATE_HZ}
"""
    if pair:
        sensors += f"""[sensor.left]
[sensor.right]

[user]
involved_side = "{PAIR_WEAKER}"
"""
    return f"""
[device]
id = "{DEVICE_ID}"
{sensors}
[pins]
button = "none"

[tempo]
target = "{TEMPO}"
mode = "free"

[mqtt]
host = "{host}"
port = {int(port)}
protocol = "3.1.1"  # the embedded amqtt broker speaks 3.1.1 only
live = true
outbox_path = {_toml_str(outbox_path)}
reconnect_min_s = 0.2
reconnect_max_s = 2.0
close_timeout_s = 30.0

[log]
level = "WARNING"
"""


def _toml_str(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
