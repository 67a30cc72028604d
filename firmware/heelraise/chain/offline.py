"""Offline analysis: the streaming core fed a recording, whole or block by block."""

from __future__ import annotations

from dataclasses import dataclass, field

from heelraise.chain.analyzer import Analyzer
from heelraise.events import GapEvent, SessionSummary
from heelraise.recording import Recording, RecordingReader
from heelraise.settings import AnalyzerSettings


@dataclass
class Analysis:
    summary: SessionSummary
    events: list = field(default_factory=list)
    analyzer: Analyzer | None = None

    @property
    def holes(self) -> list[GapEvent]:
        """The holes in the stream the chain did not bridge (longer than ``max_gap_s``)."""
        return [e for e in self.events if isinstance(e, GapEvent)]

    def to_json(self, file: str | None, sample_rate_hz: float) -> dict:
        s = self.summary
        return {
            "file": file,
            "sample_rate_hz": round(sample_rate_hz, 2),
            "rep_count": s.rep_count,
            "sets": [
                {
                    "index": x.index,
                    "rep_count": x.rep_count,
                    "start_s": round(x.start_s, 3),
                    "end_s": round(x.end_s, 3),
                }
                for x in s.sets
            ],
            "reps": [r.to_dict() for r in s.reps],
            "holes": [
                {
                    "start_s": round(g.start_s, 3),
                    "end_s": round(g.end_s, 3),
                    "duration_s": round(g.end_s - g.start_s, 3),
                    "reason": g.reason,
                }
                for g in self.holes
            ],
            "glitches": self.analyzer.screen.to_json() if self.analyzer else None,
        }


def analyze_arrays(
    t_s,
    acc_g,
    gyr_dps,
    settings: AnalyzerSettings | None = None,
    chunk: int | None = None,
    strict: bool = True,
    keep_trace: bool = False,
) -> Analysis:
    """Run the streaming core over arrays (in one go, or in chunks of ``chunk`` samples).

    ``keep_trace`` keeps the whole tilt trace (for ``--plot``)."""
    a = Analyzer(settings, keep_trace=keep_trace)
    events: list = []
    if chunk is None:
        events += a.update(t_s, acc_g, gyr_dps)
    else:
        for i in range(0, len(t_s), chunk):
            events += a.update(t_s[i : i + chunk], acc_g[i : i + chunk], gyr_dps[i : i + chunk])
    events += a.finish(strict=strict)
    return Analysis(a.summary(), events, a)


def analyze_recording(
    rec: Recording, settings: AnalyzerSettings | None = None, keep_trace: bool = False
) -> Analysis:
    return analyze_arrays(rec.t_s, rec.acc_g, rec.gyr_dps, settings, keep_trace=keep_trace)


def analyze_reader(
    reader: RecordingReader, settings: AnalyzerSettings | None = None, keep_trace: bool = False
) -> Analysis:
    """A recording analysed block by block as it is read: memory is that of one block and
    the analyzer's bounded history, whatever the recording's length, and the result is
    the whole recording's (the analyzer does not depend on how its input is chunked).
    The reader's checks of the whole file raise before the end of stream is analysed."""
    a = Analyzer(settings, keep_trace=keep_trace)
    events: list = []
    for block in reader:
        events += a.update(block.t_s, block.acc_g, block.gyr_dps)
    events += a.finish(strict=True)
    return Analysis(a.summary(), events, a)
