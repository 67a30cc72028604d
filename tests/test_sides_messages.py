"""Two shoes in the messages: every rep, set, state and session message says its side, and
the session message carries each side's totals and their symmetry (issue 15)."""

from __future__ import annotations

import dataclasses

import pytest
from heelraise.events import SessionEvent, SessionSummary
from heelraise.exceptions import PayloadInvalid
from heelraise.mqtt.testing import fake_set
from heelraise.protocol import payloads, validation
from heelraise.protocol.topics import Topics, parse_topic
from heelraise.symmetry import side_totals, symmetry
from heelraise_host import messages
from heelraise_host.devicesim import (
    WEAKER_HEEL_SCALE,
    WEAKER_REPS_FEWER,
    pair_messages,
    session_messages,
)

ENV = payloads.Envelope("pair-1", "sess-1", wall_clock=lambda: 1795576500.0)
STATE = {
    "mode": "free",
    "calibrated": True,
    "phase": "top",
    "set": 1,
    "reps_in_set": 3,
    "rep_count": 3,
    "tempo": None,
}


def _sided(events, side):
    return [dataclasses.replace(e, side=side) for e in events]


@pytest.mark.parametrize("side", ["left", "right", None])
def test_rep_set_state_messages_carry_their_side(side):
    events = _sided(fake_set(1, 3), side)
    rep = payloads.rep_payload(ENV, events[0])
    st = payloads.set_payload(ENV, events[-1])
    state = payloads.state_payload(ENV, {**STATE, "side": side}, 1.0)
    for kind, body in (("rep", rep), ("set", st), ("state", state)):
        assert body["side"] == side
        validation.validate(kind, body)


def test_the_two_sides_sets_have_their_own_ids_and_an_unnamed_sensors_stay_as_they_were():
    left = payloads.set_payload(ENV, _sided(fake_set(1, 2), "left")[-1])
    right = payloads.set_payload(ENV, _sided(fake_set(1, 2), "right")[-1])
    unnamed = payloads.set_payload(ENV, fake_set(1, 2)[-1])
    assert len({left["id"], right["id"], unnamed["id"]}) == 3
    assert unnamed["id"] == payloads.derived_id("pair-1", "sess-1", "set", 1)
    # the same set closed again (the journal) is the same message
    assert payloads.set_payload(ENV, _sided(fake_set(1, 2), "left")[-1])["id"] == left["id"]


def test_side_is_required_and_only_left_right_or_null():
    rep = payloads.rep_payload(ENV, _sided(fake_set(1, 1), "left")[0])
    for bad in ("middle", "both", "LEFT", 1):
        with pytest.raises(PayloadInvalid, match="side"):
            validation.validate("rep", {**rep, "side": bad})
    without = {k: v for k, v in rep.items() if k != "side"}
    with pytest.raises(PayloadInvalid, match="side"):
        validation.validate("rep", without)


def _session(**kw):
    events = fake_set(1, 3)
    summary = SessionSummary(sets=[events[-1].summary])
    return payloads.session_payload(ENV, SessionEvent(summary, 40.0, **kw))


def test_session_of_two_shoes_has_per_side_totals_and_the_symmetry_block():
    left = side_totals([60.0, 62.0, 58.0], body_mass_kg=70.0)
    right = side_totals([45.0, 48.0], body_mass_kg=70.0)
    d = _session(sides={"left": left, "right": right}, involved="right")
    validation.validate("session", d)
    assert d["side"] == "both"
    assert d["sides"] == {"left": left.to_dict(), "right": right.to_dict()}
    assert d["symmetry"] == symmetry({"left": left, "right": right}, involved="right")
    assert (d["symmetry"]["reps_lsi"], d["symmetry"]["work_lsi"]) == (66.7, 51.7)
    # no involved side: left / right, labelled so
    d = _session(sides={"left": left, "right": right})
    validation.validate("session", d)
    assert d["symmetry"]["ratio"] == "left/right" and d["symmetry"]["reps_lsi"] == 150.0
    assert "left / right" in d["symmetry"]["label"]


def test_session_of_one_side_says_so_instead_of_reporting_symmetry():
    left = side_totals([60.0, 62.0], body_mass_kg=70.0)
    d = _session(side="left", sides={"left": left})
    validation.validate("session", d)
    assert d["side"] == "left" and list(d["sides"]) == ["left"]
    sym = d["symmetry"]
    assert sym["reps_lsi"] is sym["heel_rise_lsi"] is sym["work_lsi"] is None
    assert sym["note"] == "only the left side was measured: no symmetry"
    # one unnamed sensor: no side, no totals per side, no symmetry
    d = _session()
    validation.validate("session", d)
    assert d["side"] is None and d["sides"] == {} and d["symmetry"]["reps_lsi"] is None
    with pytest.raises(PayloadInvalid, match="sides"):
        validation.validate("session", {**d, "sides": {"middle": left.to_dict()}})


def test_each_shoe_has_its_own_retained_state_and_last_rep_topic():
    t = Topics("heelraise", "pair-1")
    assert t.side_state(None) == t.state == "heelraise/pair-1/state"
    assert t.side_state("right") == "heelraise/pair-1/state/right"
    assert t.side_last_rep("left") == "heelraise/pair-1/last_rep/left"
    with pytest.raises(ValueError, match="middle"):
        t.side_state("middle")
    for side in ("left", "right"):
        assert parse_topic(t.side_state(side), "heelraise") == ("pair-1", "state")


def test_devicesim_pair_one_weaker_shoe_every_message_valid_and_sided():
    msgs = pair_messages("pair-1", "s-1", reps_per_set=[10, 10], weaker="right")
    parsed = [messages.parse(m.topic, m.payload) for m in msgs]
    reps = {"left": [], "right": []}
    for m in parsed:
        if m.type == "rep":
            reps[m.body["side"]].append(m.body["rep"]["heel_rise_mm"])
        if m.type == "state":
            assert m.topic.endswith("/state/" + m.body["side"])
    assert len(reps["left"]) == 20 and len(reps["right"]) == 20 - 2 * WEAKER_REPS_FEWER
    session = parsed[-1].body
    assert session["side"] == "both"
    assert session["sides"]["left"]["reps"] == 20 and session["sides"]["right"]["reps"] == 14
    assert session["symmetry"]["involved"] == "right"
    assert session["symmetry"]["reps_lsi"] == 70.0
    # the weaker heel shows in its LSI (within the made-up jitter of half a millimetre)
    assert session["symmetry"]["heel_rise_lsi"] < 100 * WEAKER_HEEL_SCALE + 5
    # messages come in sensor-time order, both sides interleaved
    times = [m.body["sensor_t_s"] for m in parsed]
    assert times == sorted(times)
    assert pair_messages("pair-1", "s-1", reps_per_set=[10, 10]) == msgs


def test_devicesim_one_shoe_named_or_not():
    left = [messages.parse(m.topic, m.payload) for m in session_messages(side="left")]
    assert {m.body["side"] for m in left} == {"left"}
    assert left[-1].body["symmetry"]["note"] == "only the left side was measured: no symmetry"
    unnamed = [messages.parse(m.topic, m.payload) for m in session_messages()]
    assert {m.body["side"] for m in unnamed} == {None}
    assert unnamed[-1].body["sides"] == {}
