"""Model labels and table rows follow the paper's spelling (../shared/paper/*.csv)."""

from __future__ import annotations

import pandas as pd

from transferlab.compare.reference import paper_table
from transferlab.config.labels import surrogate_label
from transferlab.config.rows import table_rows

PAPER_GRIDS = {
    "st": {"grid": [None]},
    "mu": {"grid": [0.1, 0.3, 0.5, 0.7, 0.9]},
    "cm": {"grid": [0.1, 0.3, 0.5, 0.7, 0.9]},
    "co": {"grid": [8, 12, 16, 20, 24]},
    "ls": {"grid": [0.1, 0.2, 0.3, 0.4, 0.5]},
    "at": {"grid": [0.01, 0.03, 0.05, 0.1, 0.2, 0.5, 1], "table_tau": 6},
    "ir": {"grid": [0.1, 0.3, 0.5, 0.7, 1], "table_tau": 1},
    "jr": {"grid": [1e-5, 1e-4, 0.01, 0.05, 0.1], "table_tau": 4},
    "er": {"grid": [1e-3, 5e-3, 0.01, 0.05, 0.1], "table_tau": 3},
    "sam": {"grid": [0.01, 0.05, 0.1, 0.15, 0.2], "table_tau": 3},
    "sam_ir": {"grid": [[0.1, 0.1]]},
    "sam_jr": {"grid": [[0.1, 0.05]]},
}


def test_table_rows_are_the_papers_rows_in_order() -> None:
    rows = table_rows(PAPER_GRIDS)
    paper = pd.unique(paper_table("table2_cifar10_pgd")["surrogate"])
    assert [label for label, _, _ in rows] == list(paper)
    assert ("AT", "at", 6) in rows and ("MU tau=5", "mu", 5) in rows


def test_table_rows_subset_keeps_order() -> None:
    rows = table_rows(PAPER_GRIDS, only=["sam_jr", "st", "sam"])
    assert rows == [("ST", "st", 1), ("SAM", "sam", 3), ("SAM&JR", "sam_jr", 1)]


def test_surrogate_labels_like_table12() -> None:
    assert surrogate_label("st", 1, [None]) == "ST"
    assert surrogate_label("mu", 1, PAPER_GRIDS["mu"]["grid"]) == "MU tau=1"
    assert surrogate_label("co", 5, PAPER_GRIDS["co"]["grid"]) == "CO tau=5"
    assert surrogate_label("at", 6, PAPER_GRIDS["at"]["grid"]) == "AT eps=0.5"
    assert surrogate_label("at", 7, PAPER_GRIDS["at"]["grid"]) == "AT eps=1"
    assert surrogate_label("jr", 1, PAPER_GRIDS["jr"]["grid"]) == "JR lambda=1e-05"
    assert surrogate_label("sam", 3, PAPER_GRIDS["sam"]["grid"]) == "SAM rho=0.1"
    assert surrogate_label("sam_jr", 1, [[0.1, 0.05]]) == "SAM&JR"
    assert surrogate_label("sam_ir", 2, [[0.1, 0.1], [0.2, 0.3]]) == "SAM&IR rho=0.2,lambda=0.3"


def test_table7_at_row_uses_the_papers_small_budget_on_config_yaml() -> None:
    """Paper, text under Tab. VII: the AT surrogate row is AT with ε = 0.01, not Table II's."""
    import yaml

    from tests.conftest import REPO
    from transferlab.config.rows import table7_rows, table7_surrogate_taus

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    tcfg = config["tables"]["table7"]
    mechanisms = config["datasets"][tcfg["dataset"]]["mechanisms"]
    rows = {label: (method, tau) for label, method, tau in table7_rows(
        mechanisms, tcfg.get("surrogates"), table7_surrogate_taus(tcfg)
    )}  # fmt: skip
    method, tau = rows["AT"]
    assert mechanisms[method]["grid"][tau - 1] == 0.01
    # Table II's AT row stays at table_tau (eps = 0.5)
    table2 = {label: tau for label, _, tau in table_rows(mechanisms)}
    assert mechanisms["at"]["grid"][table2["AT"] - 1] == 0.5
    # mechanisms Table VII does not list keep their Table II tau
    assert rows["SAM"] == ("sam", table2["SAM"])
    assert table7_surrogate_taus({"target_trainings": {"at": 1}, "surrogate_tau": {"at": 3}}) == {
        "at": 3
    }
