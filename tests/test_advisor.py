"""The init advisor (`python -m isometry advise`): recommendations and numbers come from isometry.theory."""

import json
import math

import pytest

from isometry import advisor
from isometry.theory import meanfield as mf
from isometry.theory import random_walk as rw
from isometry.theory import spectra



@pytest.fixture(scope="module")
def relu():
    return advisor.advise("relu", 100, 256)


def test_relu_recommendation_and_numbers(relu):
    r = relu["recommended"]
    assert r["scheme"] == "orthogonal" and r["sigma_w2"] == pytest.approx(2.0) and r["sigma_b2"] == 0.0
    mfd = relu["mean_field"]
    assert mfd["chi_1"] == pytest.approx(1.0) and math.isinf(mfd["xi_c"]) and math.isinf(mfd["six_xi_c"])
    sp = relu["jacobian_spectrum"]
    # PSG: at criticality Gaussian ReLU variance L/p = 2L, orthogonal L (1-p)/p = L
    assert sp["gaussian"]["mean"] == pytest.approx(1.0) and sp["gaussian"]["variance"] == pytest.approx(200.0)
    assert sp["orthogonal"]["variance"] == pytest.approx(100.0)
    assert sp["orthogonal"]["largest"] == pytest.approx(spectra.spectral_edge("relu", "orthogonal", 100,
                                                                              sigma_w2=2.0, sigma_b2=0.0))
    w = relu["random_walk"]
    assert w["gain_star"] == pytest.approx(rw.optimal_gain(256, "relu"))
    m, v = rw.log_norm_increment_stats(256, "relu", math.sqrt(2.0))
    assert w["drift_over_depth"] == pytest.approx(100 * m) and w["sd_over_depth"] == pytest.approx(math.sqrt(100 * v))
    schemes = {a["scheme"] for a in relu["alternatives"]}
    assert {"he", "looks_linear", "random_walk"} <= schemes
    assert relu["trainable"]
    assert any("no dynamical isometry" in x for x in relu["warnings"])
    assert not any("deeper than theory" in x for x in relu["warnings"])


def test_warns_when_deeper_than_six_xi_c():
    rep = advisor.advise("tanh", 200, 256, sigma_b2=0.05, sigma_w2=3.0)
    assert rep["recommended"]["scheme"] == "critical_orthogonal"
    assert rep["recommended"]["sigma_w2"] == pytest.approx(float(mf.critical_sigma_w2("tanh", 0.05)))
    y = rep["your_choice"]
    assert y["six_xi_c"] == pytest.approx(6 * float(mf.xi_c("tanh", 3.0, 0.05)))
    assert 40 < y["six_xi_c"] < 70            # papers.md / SGGS: ~54 at sigma_w^2 = 3
    assert not rep["trainable"]
    assert any("deeper than theory" in x for x in rep["warnings"])


def test_conv_and_relu_bias_warning():
    rep = advisor.advise("relu", 10, 64, conv=True, sigma_b2=0.05)
    assert rep["recommended"]["scheme"] == "delta_orthogonal"
    assert math.isinf(rep["mean_field"]["q_star"])
    assert any("q* is infinite" in x for x in rep["warnings"])


def test_main_json_and_plot(tmp_path, capsys):
    png = tmp_path / "spec.png"
    assert advisor.main(["--nonlinearity", "relu", "--depth", "20", "--width", "64", "--json",
                         "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recommended"]["scheme"] == "orthogonal"
    assert out["mean_field"]["xi_c"] == "inf"            # infinities are the string "inf"
    assert png.exists() and png.with_suffix(".caption.txt").exists()
    assert advisor.main(["--nonlinearity", "linear", "--depth", "5", "--width", "8"]) == 0
    text = capsys.readouterr().out
    assert "Recommended" in text and "6 xi_c" in text


def test_main_rejects_bad_input():
    with pytest.raises(SystemExit) as e:
        advisor.main(["--nonlinearity", "sigmoid", "--depth", "5", "--width", "8"])
    assert e.value.code == 2
    assert advisor.main(["--nonlinearity", "relu", "--depth", "0", "--width", "8"]) == 2


def test_cli_dispatch_with_separator(capsys):
    from isometry.cli import main

    assert main(["advise", "--", "--nonlinearity", "linear", "--depth", "3", "--width", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recommended"]["sigma_w2"] == pytest.approx(1.0)


def test_cli_dispatch_plain(capsys):
    from isometry.cli import main

    assert main(["advise", "--nonlinearity", "linear", "--depth", "3", "--width", "4", "--json"]) == 0
