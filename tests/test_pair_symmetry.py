"""The LSI rule (heelraise.symmetry): involved / uninvolved x 100, left / right without an
involved side, and no number when only one side was measured."""

from __future__ import annotations

import doctest

import pytest
from heelraise import symmetry
from heelraise.exceptions import SettingsError
from heelraise.sim.kinematics import G_MPS2
from heelraise.symmetry import side_totals


def test_the_module_examples_hold():
    failed, tried = doctest.testmod(symmetry)
    assert tried >= 8 and failed == 0


def test_work_is_body_mass_times_standard_gravity_times_heel_height():
    assert G_MPS2 == 9.80665
    t = side_totals([50.0, 70.0], body_mass_kg=80.0)
    assert t.work_j == pytest.approx(80 * 9.80665 * 0.120)
    assert t.mean_heel_rise_mm == pytest.approx(60.0)


def test_involved_side_is_the_numerator():
    strong = side_totals([60.0] * 20, 70)
    weak = side_totals([42.0] * 17, 70)
    s = symmetry.symmetry({"left": weak, "right": strong}, involved="left")
    assert s["reps_lsi"] == 85.0
    assert s["heel_rise_lsi"] == 70.0
    assert s["work_lsi"] == pytest.approx(100 * 17 * 42 / (20 * 60), abs=0.05)
    assert s["ratio"] == "involved/uninvolved" and s["involved"] == "left"
    assert s["note"] is None
    # the other way round is the reciprocal
    r = symmetry.symmetry({"left": weak, "right": strong}, involved="right")
    assert r["reps_lsi"] == pytest.approx(100 * 20 / 17, abs=0.05)


def test_no_involved_side_is_left_over_right_and_labelled_so():
    s = symmetry.symmetry({"left": side_totals([50.0], 70), "right": side_totals([40.0] * 2, 70)})
    assert s["involved"] is None and s["ratio"] == "left/right"
    assert "left / right" in s["label"]
    assert s["reps_lsi"] == 50.0 and s["heel_rise_lsi"] == 125.0


@pytest.mark.parametrize("side", ["left", "right"])
def test_one_side_says_so_instead_of_a_number(side):
    s = symmetry.symmetry({side: side_totals([50.0], 70)}, involved="left")
    assert s["reps_lsi"] is None and s["heel_rise_lsi"] is None and s["work_lsi"] is None
    assert s["note"] == f"only the {side} side was measured: no symmetry"


def test_an_uninvolved_side_without_reps_gives_no_lsi_and_says_why():
    s = symmetry.symmetry(
        {"left": side_totals([], 70), "right": side_totals([50.0], 70)}, involved="right"
    )
    assert s["reps_lsi"] is None and "left side made no reps" in s["note"]
    s = symmetry.symmetry(
        {"left": side_totals([], 70), "right": side_totals([50.0], 70)}, involved="left"
    )
    assert s["reps_lsi"] == 0.0 and s["work_lsi"] == 0.0 and s["heel_rise_lsi"] is None


def test_a_side_that_is_not_left_or_right_is_refused_by_name():
    with pytest.raises(SettingsError, match="involved side must be 'left' or 'right', not 'up'"):
        symmetry.symmetry({"left": side_totals([1.0], 70)}, involved="up")
    with pytest.raises(SettingsError, match="'middle'"):
        symmetry.symmetry({"middle": side_totals([1.0], 70)})
