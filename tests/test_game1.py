"""Game 1 on the measured profile (gametheory.serving.game1), function by function: the rows obey the game's
own identities and agree with the game solved directly."""

from __future__ import annotations

import math

import pytest

from gametheory.serving import game1


def test_game_at_is_the_paper_setup():
    game = game1.game_at(100.0)
    assert game.total_gpus == 24 and game.step == 4 and game.weights == (1.0, 128.0)


def test_across_load_rows_agree_with_the_game():
    rows = game1.across_load([50.0, 100.0, 5000.0])
    ok = [r for r in rows if r["feasible"]]
    assert len(ok) == 2 and not rows[-1]["feasible"] and rows[-1]["reason"]
    for r in ok:
        game = game1.game_at(r["rate_rps"])
        assert r["eq_prefill_gpus"] == pytest.approx(game.equilibrium().split[0], rel=1e-12)
        assert r["poa"] == pytest.approx(game.price_of_anarchy(), rel=1e-12) and r["poa"] >= 1
        assert r["poa_int"] == pytest.approx(game.price_of_anarchy(method="enumeration"), rel=1e-12)
        assert r["prefill_regime"] in ("below", "transition", "saturated") and r["certificates"] < 1e-7


def test_layouts_never_beat_their_budget_optimum():
    for row in game1.layouts_across_load([100.0, 300.0]):
        for name in game1.LAYOUTS:
            ratio = row[f"{name}_vs_opt"]
            assert math.isnan(ratio) or ratio >= 1 - 1e-12


def test_goodput_under_slos_identities():
    rows = game1.goodput_under_slos()
    assert [(r["ttft_slo_ms"], r["itl_slo_ms"]) for r in rows] == list(game1.SLOS_MS)
    for r in rows:
        assert r["best_goodput_rps"] == max(r["goodput_by_split"].values())
        assert r["best_goodput_rps"] >= r["ve_goodput_rps"] and (r["goodput_loss"] >= 1 or r["ve_goodput_rps"] == 0)
