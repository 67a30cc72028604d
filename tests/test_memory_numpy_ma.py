"""numpy's ``ma`` stand-in (:class:`heelraise.deferred.NumpyMaStandIn`): numpy asks it
whether an array is masked without loading ``numpy.ma``, and every other use is the real
module's. Each test runs in a fresh Python (pytest's own process may have ``numpy.ma``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _child(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_unique_median_percentile_give_numpys_results_without_loading_numpy_ma():
    code = """
        import json, sys
        import numpy as np
        rng = np.random.default_rng(5)
        x = rng.normal(size=1001)
        x[1::2] = x[::2][:500]  # repeated values for unique
        def results():
            u, inv, cnt = np.unique(np.round(x, 1), return_inverse=True, return_counts=True)
            return {
                "unique": np.unique(np.round(x, 1)).tolist(),
                "unique_full": [u.tolist(), inv.tolist(), cnt.tolist()],
                "median_odd": float(np.median(x)),
                "median_even": float(np.median(x[:-1])),
                "median_nan": repr(float(np.median(np.r_[x, np.nan]))),
                "percentile": np.percentile(x, (25, 50, 75)).tolist(),
            }
        if sys.argv[-1] == "stand-in":
            from heelraise.deferred import defer_numpy_ma
            defer_numpy_ma()
        got = results()
        print(json.dumps({"got": got, "ma_loaded": "numpy.ma" in sys.modules}))
    """
    plain = _child(code.replace('sys.argv[-1] == "stand-in"', "False"))
    light = _child(code.replace('sys.argv[-1] == "stand-in"', "True"))
    assert plain["ma_loaded"] is True  # numpy itself loads it for these calls
    assert light["ma_loaded"] is False
    assert light["got"] == plain["got"]


def test_masked_arrays_still_work_and_the_real_module_takes_over():
    got = _child(
        """
        import json, sys, types
        import numpy as np
        from heelraise.deferred import NumpyMaStandIn, defer_numpy_ma
        defer_numpy_ma()
        was_stand_in = isinstance(np.ma, NumpyMaStandIn)
        plain = np.arange(4.0)
        masked_before = [np.ma.is_masked(plain), np.ma.isMaskedArray(plain)]
        m = np.ma.masked_array([3.0, 1.0, 2.0, 1.0], mask=[0, 1, 0, 0])  # the real module
        print(json.dumps({
            "was_stand_in": was_stand_in,
            "masked_before": masked_before,
            "now_real": np.ma is sys.modules["numpy.ma"] and not isinstance(np.ma, NumpyMaStandIn),
            "is_masked": bool(np.ma.is_masked(m)),
            "unique": str(np.unique(m)),
            "ma_median": float(np.ma.median(m)),
        }))
        """
    )
    assert got == {
        "was_stand_in": True,
        "masked_before": [False, False],
        "now_real": True,
        "is_masked": True,
        "unique": "[1.0 2.0 3.0 --]",  # numpy's own answer for a masked array
        "ma_median": 2.0,
    }


def test_the_stand_in_asks_the_real_module_once_masked_arrays_exist():
    """A stand-in still held after ``numpy.ma`` was imported by name: its questions about a
    masked array are the real module's answers."""
    got = _child(
        """
        import json
        import numpy as np
        from heelraise.deferred import NumpyMaStandIn
        stand_in = NumpyMaStandIn()
        import numpy.ma
        m = numpy.ma.masked_array([1.0, 2.0], mask=[0, 1])
        print(json.dumps([stand_in.is_masked(m), stand_in.isMaskedArray(m), stand_in.isMA(m)]))
        """
    )
    assert got == [True, True, True]
