"""The anchor for ``bench/speed.py``: what a plain script does with a recording.

    python bench/anchor_imufusion.py FILE.csv

``numpy.loadtxt`` reads the whole file, then imufusion's AHRS (x-io Fusion, in C) is called
once per sample from Python (``Ahrs.set_sample_period`` from the median step, then
``Ahrs.update_no_magnetometer(gyr_dps, acc_g)``): orientation alone, no reps.
``heelraise analyze`` (reading, the whole chain, reps, phases, faults) is timed against
this script as a whole process on the same file.
"""

from __future__ import annotations

import sys

import imufusion
import numpy as np


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        skip = 0
        for line in f:  # comments, then the header t,ax,ay,az,gx,gy,gz
            skip += 1
            if not line.startswith("#"):
                break
    data = np.loadtxt(path, delimiter=",", skiprows=skip)
    t, acc, gyr = data[:, 0], np.ascontiguousarray(data[:, 1:4]), np.ascontiguousarray(data[:, 4:7])
    ahrs = imufusion.Ahrs()
    ahrs.set_sample_period(float(np.median(np.diff(t))))
    update = ahrs.update_no_magnetometer
    for g, a in zip(gyr, acc, strict=True):
        update(g, a)
    w, x, y, z = ahrs.get_quaternion()
    print(f"{len(t)} samples, final quaternion {w:.3f} {x:.3f} {y:.3f} {z:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
