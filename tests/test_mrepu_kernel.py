"""Kernel vs depth at initialisation: finite-width measurement against the theory (mrepu task)."""
import math

import pytest

from actlab.suites.mrepu.task import CLASS_CODE, behaviour, execute_mrepu, reference_point


@pytest.mark.parametrize("act", ["tanh", "mrepu(p=2)"])
def test_measured_kernel_matches_theory_at_criticality(act):
    res = execute_mrepu({"part": "kernel", "act": act, "K0": 1e-3, "depth": 8, "width": 512, "n_nets": 30,
                         "n_explicit": 1}, None)
    assert res.metrics["C_W_used"] == pytest.approx(1.0) and res.metrics["C_b_used"] == 0.0
    assert res.metrics["max_rel_dev"] < 0.05                  # O(depth/width) corrections
    assert res.metrics["class_pred"] == res.metrics["class_meas"] == CLASS_CODE["stable"]


def test_repu_explodes_or_vanishes_around_its_fixed_point():
    C_b, C_W, how = reference_point("repu(p=2)", 1e-3)
    assert C_b == 0.0 and C_W == pytest.approx(1e-3 / (1.5 * 1e-6)) and "fixed point" in how
    up = execute_mrepu({"part": "kernel", "act": "repu(p=2)", "K0": 1e-3, "cw_scale": 1.2, "depth": 10,
                        "width": 128, "n_nets": 8, "n_explicit": 1}, None)
    down = execute_mrepu({"part": "kernel", "act": "repu(p=2)", "K0": 1e-3, "cw_scale": 0.8, "depth": 10,
                          "width": 128, "n_nets": 8, "n_explicit": 1}, None)
    assert up.metrics["class_pred"] == up.metrics["class_meas"] == CLASS_CODE["explode"]
    assert down.metrics["class_pred"] == CLASS_CODE["vanish"]
    assert down.metrics["class_meas"] != CLASS_CODE["stable"]
    # double exponential: (1.2)^(2^9) ≫ 10^10 by the last layer, where the theory says so
    assert up.metrics["log10_K_ratio_pred"] > 10


def test_behaviour_classes():
    assert behaviour(1.0, 1.0) == "stable"
    assert behaviour(1e3, 1.0) == "explode"
    assert behaviour(math.inf, math.nan) == "explode"
    assert behaviour(1e-3, 1.0) == "vanish"
    assert behaviour(1.0, 1e-4) == "vanish"
    assert behaviour(1.0, math.nan) == "explode"


def test_phase_point_predicted_and_measured():
    res = execute_mrepu({"part": "phase", "act": "mrepu(p=2)", "C_b": 0.0, "C_W": 4.0, "depth": 8, "width": 64,
                         "steps": 0}, None)
    assert res.metrics["class_pred"] == res.metrics["class_meas"] == CLASS_CODE["explode"]
    classes = res.extra["phase"]["class_pred"]
    assert len(classes) == 8 and classes[0] == CLASS_CODE["stable"]
