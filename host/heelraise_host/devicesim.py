"""Contract-exact MQTT messages of a made-up training session, for tests, bench and demos.

One job: produce what a shoe (or a pair of shoes) would publish (``state``, ``event/rep``,
``event/set``, ``event/session``, ``live``) for a session with known content,
without a sensor or the signal chain. Reps are built from
:class:`heelraise.events.Rep`, so their JSON is exactly ``Rep.to_dict()``.
Deterministic: the same arguments give the same bytes (message ids come from
``seed``).

>>> msgs = session_messages("shoe-1", "s-1", reps_per_set=[3, 2], tempo="3-0-2-1")
>>> [m.topic for m in msgs][:3]
['heelraise/shoe-1/state', 'heelraise/shoe-1/event/rep', 'heelraise/shoe-1/state']
>>> len(msgs), msgs[1].qos, msgs[1].json()["rep"]["raise_s"]
(16, 1, 1.976)
>>> msgs == session_messages("shoe-1", "s-1", reps_per_set=[3, 2], tempo="3-0-2-1")
True

A pair of shoes on one device (the weaker right one: fewer reps, a lower heel), each
message saying its side, and one session message with both and their symmetry:

>>> pair = pair_messages("pair-1", "s-1", reps_per_set=[10], involved="right")
>>> sorted({m.json().get("side") for m in pair})
['both', 'left', 'right']
>>> pair[-1].json()["symmetry"]["reps_lsi"], pair[-1].topic
(70.0, 'heelraise/pair-1/event/session')

Example (needs a broker)::

    publish_all(client, msgs)            # a connected paho client
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass

from heelraise.events import Rep, RepEvent, SessionEvent, SessionSummary, SetEvent, SetSummary
from heelraise.physics import G_MPS2
from heelraise.protocol import payloads
from heelraise.protocol.topics import Topics
from heelraise.symmetry import SIDES, check_side, side_totals
from heelraise.tempo import Tempo, phase_verdict


@dataclass(frozen=True)
class OutMessage:
    topic: str
    payload: bytes
    qos: int
    retain: bool = False

    def json(self) -> dict:
        return json.loads(self.payload)


class _Wire:
    """The protocol's own envelope and topics, on a made-up clock: wall time is ``start``
    plus the sensor time, ids come from ``rng``, so the same arguments give the same bytes.

    Unlike a shoe's, set and session ids are drawn from ``rng`` too (not derived from the
    device and session), and the device id is not checked: tests make two devices share
    ids, two messages compete for one slot, and device names no shoe would take."""

    def __init__(self, device, session, prefix, start, rng):
        self.topics = Topics(prefix.strip("/"), device, checked=False)
        self.start, self._t_s = start, 0.0
        self.env = payloads.Envelope(
            device,
            session,
            wall_clock=lambda: self.start + dt.timedelta(seconds=self._t_s),
            ids=self._draw_id,
        )
        self._rng, self._last_id = rng, ""

    def _draw_id(self) -> str:
        self._last_id = uuid.UUID(int=self._rng.getrandbits(128), version=4).hex
        return self._last_id

    def at(self, t_s: float) -> payloads.Envelope:
        """The envelope maker with the wall clock at sensor time ``t_s``."""
        self._t_s = t_s
        return self.env

    def out(self, payload: dict, topic: str, qos=1, retain=False) -> OutMessage:
        return OutMessage(topic, payloads.encode(payload), qos, retain)

    def drawn_id(self, payload: dict) -> dict:
        """``payload`` with the id its envelope drew from ``rng``, not the derived one."""
        payload["id"] = self._last_id
        return payload


def session_messages(
    device: str = "shoe-1",
    session: str = "s-1",
    *,
    reps_per_set=(5,),
    tempo: str | None = "3-0-2-1",
    prefix: str = "heelraise",
    start: dt.datetime | None = None,
    seed: int = 0,
    live: bool = False,
    endurance: bool = False,
    faults_every: int = 4,
    side: str | None = None,
    heel_scale: float = 1.0,
) -> list[OutMessage]:
    """Every message of one session of one shoe, in publish order.

    Rep ``k`` of a set rises ``heel_rise_mm`` = 60 - k mm, never under 20 (so fatigue
    shows in history), times ``heel_scale``, with phase times near ``tempo``; every
    ``faults_every``-th rep is ``too_fast`` on the raise. ``live`` adds pitch batches
    during each rep; ``endurance`` adds an endurance result to the session message.
    ``side`` ("left" / "right", None: one unnamed sensor) goes in every message; a named
    side's totals are the session's ``sides`` (its symmetry says one side was measured).
    """
    rng = random.Random(seed)
    start = start or dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
    wire = _Wire(device, session, prefix, start, rng)
    shoe = _Shoe(wire, rng, side, reps_per_set, tempo, endurance, faults_every, heel_scale, live)
    out = shoe.messages()
    out.append(_session(wire, {side: shoe}, shoe.t, endurance, None, side))
    return out


#: What the weaker shoe of :func:`pair_messages` does: fewer reps per set, a lower heel.
WEAKER_REPS_FEWER = 3
WEAKER_HEEL_SCALE = 0.8


def pair_messages(
    device: str = "pair-1",
    session: str = "s-1",
    *,
    reps_per_set=(10, 10, 10),
    weaker: str = "right",
    involved: str | None = "right",
    tempo: str | None = "3-0-2-1",
    prefix: str = "heelraise",
    start: dt.datetime | None = None,
    seed: int = 0,
    faults_every: int = 4,
) -> list[OutMessage]:
    """Every message of one session of a pair of shoes on one device, in publish order
    (the two sides' messages merged by sensor time), then one session message (side
    "both") with each side's totals and their :func:`heelraise.symmetry.symmetry`.

    The ``weaker`` side does :data:`WEAKER_REPS_FEWER` fewer reps a set (at least one)
    with its heel :data:`WEAKER_HEEL_SCALE` as high: its LSIs show it. ``involved`` is the
    injured side of the LSIs (None: left / right).
    """
    check_side(weaker, "the weaker side")
    check_side(involved, "the involved side")
    rng = random.Random(seed)
    start = start or dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
    wire = _Wire(device, session, prefix, start, rng)
    shoes = {}
    for side in SIDES:
        weak = side == weaker
        reps = [max(n - WEAKER_REPS_FEWER, 1) if weak else n for n in reps_per_set]
        scale = WEAKER_HEEL_SCALE if weak else 1.0
        shoes[side] = _Shoe(wire, rng, side, reps, tempo, False, faults_every, scale, False)
    timed = [(t, i, m) for side in SIDES for i, (t, m) in enumerate(shoes[side].timed())]
    out = [m for _, _, m in sorted(timed, key=lambda x: (x[0], x[1]))]
    end = max(shoe.t for shoe in shoes.values())
    out.append(_session(wire, shoes, end, False, involved, None))
    return out


class _Shoe:
    """One shoe's messages of a session (state, reps, sets, live), with their sensor times."""

    def __init__(
        self, wire, rng, side, reps_per_set, tempo, endurance, faults_every, heel_scale, live
    ):
        self.wire, self.rng, self.side = wire, rng, side
        self.reps_per_set = list(reps_per_set)
        self.target = Tempo.parse(tempo) if tempo else None
        self.endurance, self.faults_every = endurance, faults_every
        self.heel_scale, self.live = float(heel_scale), live
        self.sets: list[SetSummary] = []
        self.t = 2.0
        self._timed: list[tuple[float, OutMessage]] | None = None

    def messages(self) -> list[OutMessage]:
        return [m for _, m in self.timed()]

    def timed(self) -> list[tuple[float, OutMessage]]:
        if self._timed is None:
            self._timed = self._make()
        return self._timed

    def _make(self) -> list[tuple[float, OutMessage]]:
        wire, target, rng, side = self.wire, self.target, self.rng, self.side
        topics = wire.topics
        out: list[tuple[float, OutMessage]] = []
        rep_total = 0

        def state(t_s, phase, set_index, reps_in_set):
            snapshot = {
                "side": side,
                "mode": "endurance" if self.endurance else ("guided" if target else "free"),
                "calibrated": True,
                "phase": phase,
                "set": set_index,
                "reps_in_set": reps_in_set,
                "rep_count": rep_total,
                "tempo": None if target is None else str(target),
            }
            payload = payloads.state_payload(wire.at(t_s), snapshot, t_s)
            out.append((t_s, wire.out(payload, topics.side_state(side), retain=True)))

        t = self.t
        state(0.5, "still", 0, 0)
        for set_index, n in enumerate(self.reps_per_set, start=1):
            reps: list[Rep] = []
            set_start = t
            for k in range(1, n + 1):
                fast = self.faults_every and k % self.faults_every == 0
                raise_s = (0.8 if fast else 2.0) + rng.uniform(-0.15, 0.15)
                top_s = 1.0 + rng.uniform(-0.1, 0.1)
                lower_s = 3.0 + rng.uniform(-0.2, 0.2)
                scale = self.heel_scale
                rep = Rep(
                    set=set_index,
                    index=k,
                    start_s=t,
                    top_start_s=t + raise_s,
                    top_end_s=t + raise_s + top_s,
                    end_s=t + raise_s + top_s + lower_s,
                    peak_deg=round(scale * max(24.0 - 0.4 * k, 9.0) + rng.uniform(-0.5, 0.5), 2),
                    depth_deg=0.0,
                    heel_rise_mm=round(scale * max(60.0 - k, 20.0) + rng.uniform(-0.5, 0.5), 1),
                    roll_deg=round(rng.uniform(-3, 3), 2),
                    surface="floor",
                )
                if target is not None:
                    rep.tempo = target.as_dict()
                    rep.deviation_s = {  # as heelraise.chain.analyzer makes it
                        "raise_s": round(rep.raise_s - target.raise_s, 3),
                        "top_hold_s": round(rep.top_hold_s - target.top_s, 3),
                        "lower_s": round(rep.lower_s - target.lower_s, 3),
                    }
                    for measured, goal in (
                        (rep.raise_s, target.raise_s),
                        (rep.top_hold_s, target.top_s),
                        (rep.lower_s, target.lower_s),
                    ):
                        verdict = phase_verdict(measured, goal)
                        if verdict and verdict not in rep.faults:
                            rep.faults.append(verdict)
                if self.live:
                    out.extend((m.json()["sensor_t_s"], m) for m in _live_batches(wire, rep))
                if reps:
                    reps[-1].bottom_hold_s = rep.start_s - reps[-1].end_s
                reps.append(rep)
                rep_total += 1
                decided = rep.end_s + 0.3
                payload = payloads.rep_payload(wire.at(decided), RepEvent(rep, decided, side))
                out.append((decided, wire.out(payload, topics.event("rep"))))
                state(decided, "bottom", set_index, k)
                t = rep.end_s + 0.1 + rng.uniform(0, 0.2)
            summary = SetSummary(set_index, set_start, t, reps, "pause")
            self.sets.append(summary)
            t += 8.0
            event = SetEvent(summary, t, side)
            payload = wire.drawn_id(payloads.set_payload(wire.at(t), event))
            out.append((t, wire.out(payload, topics.event("set"))))
            state(t, "still", set_index, 0)
            t += 20.0
        self.t = t
        return out

    def heights(self) -> list[float]:
        self.timed()
        return [r.heel_rise_mm for s in self.sets for r in s.reps]


#: The body mass the simulated shoes' work is taken with, kg.
BODY_MASS_KG = 70.0


def _session(wire, shoes: dict, t: float, endurance: bool, involved, side) -> OutMessage:
    """The session message: totals of every set of every shoe, per-side totals, symmetry."""
    all_sets = [s for shoe in shoes.values() for s in shoe.sets]
    total = SessionSummary(all_sets, sample_rate_hz=100.0)
    endurance_body = None
    if endurance and total.reps:
        heights = [r.heel_rise_mm for r in total.reps]
        endurance_body = {
            "reps": len(heights),
            "first_heel_rise_mm": heights[0],
            "last_heel_rise_mm": heights[-1],
            "mean_heel_rise_mm": round(sum(heights) / len(heights), 1),
            "decline_pct": round(100 * (heights[0] - heights[-1]) / heights[0], 1),
            "work_j": round(BODY_MASS_KG * G_MPS2 * sum(heights) / 1000, 1),
            "stopped_by": "pause",
        }
    named = {s: shoe for s, shoe in shoes.items() if s is not None}
    totals = {s: side_totals(named[s].heights(), BODY_MASS_KG) for s in SIDES if s in named}
    event = SessionEvent(total, t, endurance_body, side=side, sides=totals, involved=involved)
    payload = wire.drawn_id(payloads.session_payload(wire.at(t), event))
    return wire.out(payload, wire.topics.event("session"))


def _live_batches(shoe: _Shoe, rep: Rep, rate_hz: float = 25.0, batch: int = 5):
    """Pitch samples across one rep, a batch of ``batch`` samples per message (QoS 0)."""
    n = int((rep.end_s - rep.start_s) * rate_hz)
    ts, pitch, phase = [], [], []
    for i in range(n):
        t = rep.start_s + i / rate_hz
        if t < rep.top_start_s:
            p, ph = rep.peak_deg * (t - rep.start_s) / rep.raise_s, "rising"
        elif t < rep.top_end_s:
            p, ph = rep.peak_deg, "top"
        else:
            p, ph = rep.peak_deg * (rep.end_s - t) / rep.lower_s, "lowering"
        ts.append(round(t, 3))
        pitch.append(round(p, 2))
        phase.append(ph)
    out = []
    for i in range(0, n, batch):
        env = shoe.at(ts[i : i + batch][-1])  # a batch is sent at its last sample
        payload = payloads.live_payload(env, ts[i : i + batch], pitch[i : i + batch], phase[i])
        out.append(shoe.out(payload, shoe.topics.live, qos=0))
    return out


def publish_all(client, msgs, timeout_s: float = 10.0) -> None:
    """Publish ``msgs`` on a connected paho client and wait until QoS 1 ones are acknowledged."""
    infos = [client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain) for m in msgs]
    for info, m in zip(infos, msgs, strict=True):
        if m.qos:
            info.wait_for_publish(timeout_s)
            if not info.is_published():
                raise TimeoutError(f"{m.topic} not acknowledged within {timeout_s} s")


#: Each kind of hostile or broken message :func:`hostile_messages` makes -> the reason
#: the dashboard refuses it with (``heelraise_host.messages.REJECT_KINDS``).
HOSTILE_KINDS = {
    "nested_100000_deep": "too_deep",
    "huge_integer_set": "out_of_range",
    "nan_raise": "not_finite",
    "infinite_heel": "not_finite",
    "float_overflow": "not_finite",
    "impossible_date": "bad_time",
    "absurd_raise_1e300_s": "out_of_range",
    "absurd_heel_minus_5e6_mm": "out_of_range",
    "replaces_a_rep": "conflict",
    "not_json": "malformed_json",
    "oversized": "oversized",
}


def hostile_messages(
    device: str = "evil-1", *, each: int = 25, prefix: str = "heelraise", seed: int = 0
) -> list[tuple[str, OutMessage]]:
    """``each`` messages of every kind in :data:`HOSTILE_KINDS` from one device (QoS 1), as
    ``(kind, message)``, after one good rep that the ``replaces_a_rep`` ones try to
    overwrite (that first pair is ``("good", message)``). Every message has its own id,
    so none is a mere redelivery."""
    rng = random.Random(seed)
    good = next(
        m
        for m in session_messages(device, "s-evil", reps_per_set=[1], prefix=prefix, seed=seed)
        if m.topic.endswith("/event/rep")
    )
    template = good.json()
    topic = good.topic

    def rep_with(**changes) -> dict:
        body = json.loads(json.dumps(template))
        body["id"] = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        for key, value in changes.items():
            if key in body:
                body[key] = value
            else:
                body["rep"][key] = value
        return body

    def text(body) -> bytes:
        return json.dumps(body, separators=(",", ":")).encode()  # NaN/Infinity as Python writes

    makers = {
        "nested_100000_deep": lambda: b"[" * 100_000 + b"]" * 100_000,
        "huge_integer_set": lambda: text(rep_with(set=10**30)),
        "nan_raise": lambda: text(rep_with(raise_s=float("nan"))),
        "infinite_heel": lambda: text(rep_with(heel_rise_mm=float("inf"))),
        "float_overflow": lambda: text(rep_with(raise_s=1.0)).replace(
            b'"raise_s":1.0', b'"raise_s":1e400'
        ),
        "impossible_date": lambda: text(rep_with(time="2026-13-45T25:61:61.000Z")),
        "absurd_raise_1e300_s": lambda: text(rep_with(raise_s=1e300)),
        "absurd_heel_minus_5e6_mm": lambda: text(rep_with(heel_rise_mm=-5e6)),
        "replaces_a_rep": lambda: text(rep_with(heel_rise_mm=1.0)),
        "not_json": lambda: b'{"schema": 1, "id": ',
        "oversized": lambda: text(rep_with(session="x" * 100)) + b" " * (300 * 1024),
    }
    out = [("good", good)]
    for kind, make in makers.items():
        out += [(kind, OutMessage(topic, make(), 1)) for _ in range(each)]
    return out
