"""Which attack modes each surrogate's attack job crafts.

The ASR tables (II, III, IV, V through its base rows, VIII) read every mode of their
surrogate rows only. Table VI, Fig. 2 and the claims check read one mode (untargeted, or
``claims.mode``) of every surrogate, so the τ-grid surrogates that no table lists need
that mode alone: in the embedded default, 102 of 156 PGD jobs, whose targeted half
would be crafted and evaluated for nothing.

A job crafting every configured mode keeps the name of its attack (``pgd``); a job
crafting one mode is named ``<attack>.<mode>`` (``pgd.untargeted``), in both its AE
folder and its transfer files, so the two never claim the same file.
"""

from __future__ import annotations

from typing import Any

from transferlab.config.rows import table8_rows, table8_targets, table_rows

ASR_TABLES = ("table2", "table3", "table4")
ANALYSIS_MODE = "untargeted"  # Table VI and Fig. 2 (SPEC §9: the paper's untargeted theory)


def every_mode_surrogates(config: dict[str, Any], dataset: str) -> set[tuple[str, str, int]]:
    """(attack, mechanism, τ index) of ``dataset`` whose AEs some table reads in every mode."""
    tables = config.get("tables", {})
    mechanisms = config["datasets"][dataset]["mechanisms"]
    wanted: set[tuple[str, str, int]] = set()

    def read_by(name: str) -> dict[str, Any] | None:
        tcfg = tables.get(name)
        return tcfg if tcfg and tcfg.get("dataset") == dataset else None

    for name in ASR_TABLES:
        if tcfg := read_by(name):
            for _, method, tau in table_rows(mechanisms, tcfg.get("surrogates")):
                wanted |= {(attack, method, tau) for attack in tcfg.get("attacks", ["pgd"])}
    if read_by("table5"):
        bases = config["datasets"][dataset]["lgv"]["bases"]
        wanted |= {("pgd", method, tau) for _, method, tau in table_rows(mechanisms, bases)}
    if tcfg := read_by("table8"):
        wanted |= {("pgd", method, tau) for _, method, tau in table8_rows(mechanisms, tcfg)}
        columns = table8_targets(mechanisms, tcfg["target_trainings"])
        wanted |= {("pgd", method, tau) for _, method, tau in columns}
    return wanted


def analysis_modes(config: dict[str, Any]) -> list[str]:
    """The modes Table VI, Fig. 2 and the claims check read of every surrogate (in the
    order of ``config["modes"]``)."""
    wanted = {ANALYSIS_MODE, config.get("claims", {}).get("mode", ANALYSIS_MODE)}
    return [mode for mode in config["modes"] if mode in wanted]


def attack_modes(
    config: dict[str, Any],
    dataset: str,
    attack: str,
    method: str,
    tau_index: int,
    every_mode: set[tuple[str, str, int]] | None = None,
) -> list[str]:
    """The modes one surrogate's ``attack`` job crafts: every configured mode where a table
    reads them all, else the analysis modes (``every_mode``: a precomputed
    :func:`every_mode_surrogates`)."""
    if every_mode is None:
        every_mode = every_mode_surrogates(config, dataset)
    if (attack, method, int(tau_index)) in every_mode:
        return list(config["modes"])
    return analysis_modes(config) or list(config["modes"])


def attack_job_name(attack: str, modes: list[str], all_modes: list[str]) -> str:
    """``attack`` for a job crafting every configured mode, ``attack.mode`` for one mode."""
    if list(modes) == list(all_modes):
        return attack
    if len(modes) != 1 or modes[0] not in all_modes:
        raise ValueError(f"an attack job crafts every mode {all_modes} or one of them; got {modes}")
    return f"{attack}.{modes[0]}"
