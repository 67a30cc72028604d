"""heelraise: an embedded heel-raise (calf-raise) rep counter and tempo coach.

The signal chain reads top to bottom, one module per step::

    recording / imu  ->  chain.resample  ->  chain.calibration  ->  chain.orientation
        ->  chain.detection  ->  chain.faults / chain.sets  ->  events
        ->  cues / sinks / mqtt

:class:`heelraise.chain.analyzer.Analyzer` is the one streaming core; offline
analysis feeds it a whole recording, the service feeds it sensor reads.
"""

__version__ = "0.1.0"
