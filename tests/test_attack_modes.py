"""Which modes each surrogate's attack job crafts (transferlab.transfer.modes)."""

from __future__ import annotations

import copy

import pytest

from transferlab.transfer.modes import (
    analysis_modes,
    attack_job_name,
    attack_modes,
    every_mode_surrogates,
)

CONFIG = {
    "modes": ["untargeted", "targeted"],
    "claims": {"mode": "untargeted"},
    "datasets": {
        "d": {
            "mechanisms": {
                "st": {"grid": [None]},
                "mu": {"grid": [0.1, 0.5, 0.9]},
                "at": {"grid": [0.01, 0.1, 0.5, 1.0], "table_tau": 3},
                "sam": {"grid": [0.05, 0.1], "table_tau": 2},
            },
            "lgv": {"bases": ["sam"]},
        },
        "other": {"mechanisms": {"st": {"grid": [None]}}},
    },
    "tables": {
        "table2": {"dataset": "d"},
        "table4": {"dataset": "d", "attacks": ["mi"], "surrogates": ["st"]},
        "table8": {"dataset": "d", "target_trainings": [["at", 1], ["mu", 2]]},
    },
}


def test_every_mode_surrogates_are_the_table_rows_and_table8_columns() -> None:
    # by hand: Table II rows ST, MU τ=1, MU τ=3 (first and last), AT τ=3, SAM τ=2;
    # Table IV: MI of ST; Table VIII: its rows ST/SAM plus ★ columns AT τ=1, MU τ=2
    expected = {
        ("pgd", "st", 1), ("pgd", "mu", 1), ("pgd", "mu", 3), ("pgd", "at", 3),
        ("pgd", "sam", 2), ("mi", "st", 1), ("pgd", "at", 1), ("pgd", "mu", 2),
    }  # fmt: skip
    assert every_mode_surrogates(CONFIG, "d") == expected
    assert every_mode_surrogates(CONFIG, "other") == set()


def test_table5_bases_need_every_mode_even_without_table2() -> None:
    config = copy.deepcopy(CONFIG)
    config["tables"] = {"table5": {"dataset": "d"}}
    assert every_mode_surrogates(config, "d") == {("pgd", "sam", 2)}


def test_grid_surrogates_get_the_analysis_mode_only() -> None:
    assert attack_modes(CONFIG, "d", "pgd", "at", 2) == ["untargeted"]
    assert attack_modes(CONFIG, "d", "pgd", "at", 4) == ["untargeted"]
    assert attack_modes(CONFIG, "d", "pgd", "at", 3) == ["untargeted", "targeted"]
    assert attack_modes(CONFIG, "d", "mi", "st", 1) == ["untargeted", "targeted"]
    # a targeted claims check needs both modes of every surrogate
    config = copy.deepcopy(CONFIG)
    config["claims"]["mode"] = "targeted"
    assert analysis_modes(config) == ["untargeted", "targeted"]
    assert attack_modes(config, "d", "pgd", "at", 2) == ["untargeted", "targeted"]
    # an untargeted-only configuration has nothing to split
    config["modes"] = ["untargeted"]
    assert attack_modes(config, "d", "pgd", "at", 2) == ["untargeted"]


def test_job_names_keep_the_attack_for_every_mode_and_suffix_one_mode() -> None:
    modes = ["untargeted", "targeted"]
    assert attack_job_name("pgd", modes, modes) == "pgd"
    assert attack_job_name("pgd", ["untargeted"], modes) == "pgd.untargeted"
    assert attack_job_name("pgd", ["untargeted"], ["untargeted"]) == "pgd"
    with pytest.raises(ValueError, match="one of them"):
        attack_job_name("pgd", ["targeted", "untargeted"], modes)
