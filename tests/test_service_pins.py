"""The stand-in pins the service drives off a Pi keep a bounded history (constant memory)."""

from __future__ import annotations

from gpiozero import PWMOutputDevice
from heelraise.service.assemble import MOCK_PIN_STATES, pick_pin_factory


def test_off_a_pi_the_service_pins_keep_only_their_recent_states(monkeypatch):
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    factory = pick_pin_factory()
    buzzer = PWMOutputDevice(18, frequency=880, pin_factory=factory)
    try:
        for i in range(3 * MOCK_PIN_STATES):  # a long session's chirps
            buzzer.value = 0.5 if i % 2 else 0.0
        states = buzzer.pin.states
        assert len(states) == MOCK_PIN_STATES
        assert states[-1].state == buzzer.pin.state  # the newest state is kept
        buzzer.pin.clear_states()
        assert len(buzzer.pin.states) == 1
    finally:
        buzzer.close()
