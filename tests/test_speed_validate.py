"""Each read's times are checked (finite, in order) by a short test of its ends and steps;
what is wrong is still named, with the sample, and the reads before it are kept."""

import numpy as np
import pytest
from heelraise.chain.analyzer import Analyzer


def read(t):
    t = np.asarray(t, dtype=float)
    return t, np.tile([0.0, 0.0, 1.0], (len(t), 1)), np.zeros((len(t), 3))


@pytest.mark.parametrize(
    ("times", "where"),
    [([1.0, np.nan, 1.2], 11), ([np.nan, 1.1], 10), ([1.0, 1.1, np.inf], 12), ([-np.inf], 10)],
)
def test_a_non_finite_time_is_named_with_its_sample(times, where):
    a = Analyzer()
    a.update(*read(np.arange(10) * 0.01))
    with pytest.raises(ValueError, match=f"t_s has a non-finite value at sample {where}$"):
        a.update(*read(times))
    assert a.samples_seen == 10


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ([0.5, 0.6, 0.55], "time goes backwards at sample 12: 0.55 s after 0.6 s"),
        ([0.05, 0.2], "time goes backwards at sample 10: 0.05 s after 0.09 s"),
        ([0.08], "time goes backwards at sample 10: 0.08 s after 0.09 s"),
    ],
)
def test_time_going_back_is_named_with_its_sample(times, message):
    a = Analyzer()
    a.update(*read(np.arange(10) * 0.01))
    with pytest.raises(ValueError, match=message):
        a.update(*read(times))
    a.update(*read([0.1, 0.11]))  # the stream goes on from the good reads
    assert a.samples_seen == 12 and a.last_t == 0.11


def test_repeated_times_and_one_sample_reads_pass():
    a = Analyzer()
    a.update(*read([0.0, 0.01, 0.01, 0.02]))
    a.update(*read([0.02]))
    a.update(*read([0.03]))
    assert a.samples_seen == 6 and a.last_t == 0.03
