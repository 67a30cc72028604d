"""The streaming core (API fixed; implementation lands with the signal chain)."""

from __future__ import annotations

from dataclasses import dataclass

from heelraise.settings import AnalyzerSettings


@dataclass
class AnalyzerState:
    """What the core knows right now, for cues, live plots and the MQTT ``state``."""

    t_s: float | None = None
    calibrated: bool = False
    phase: str = "uncalibrated"  # uncalibrated|still|rising|top|lowering|bottom|walking|moving
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    set_index: int = 0  # 1-based index of the open set; 0 before the first rep
    reps_in_set: int = 0
    rep_count: int = 0  # whole session
    set_open: bool = False


class Analyzer:
    """Feed it chunks of samples of any size; it returns events in stream order.

    >>> a = Analyzer(AnalyzerSettings(tempo="3-0-2-1"))
    >>> events = a.update(t_s, acc_g, gyr_dps)   # (N,), (N,3) g, (N,3) deg/s
    >>> events += a.finish()                      # end of stream: closes the open set
    """

    def __init__(self, settings: AnalyzerSettings | None = None):
        self.settings = settings or AnalyzerSettings()
        self.state = AnalyzerState()

    def update(self, t_s, acc_g, gyr_dps) -> list:
        raise NotImplementedError("signal chain lands shortly")

    def mark_gap(self, start_s: float, end_s: float, reason: str = "gap") -> list:
        """The next samples follow a hole: any rep in progress is dropped, never counted."""
        raise NotImplementedError

    def end_set(self) -> list:
        """Close the open set now (button, MQTT ``end_set``)."""
        raise NotImplementedError

    def set_tempo(self, tempo) -> None:
        """Change the target tempo (a Tempo, a string like '3-0-2-1', or None)."""
        raise NotImplementedError

    def finish(self) -> list:
        """End of stream: closes the open set; returns the last events."""
        raise NotImplementedError
