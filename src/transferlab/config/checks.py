"""Semantic checks of a pipeline configuration.

The JSON schema (workflow/schemas/config.schema.yaml) checks types, unknown
keys and fills defaults; this module checks what a schema cannot: names
against the registries, each grid value against its mechanism's range, and
cross-references between keys. Every error names the key and the allowed
values, and all are raised before Snakemake schedules a job.
"""

from __future__ import annotations

import math
from typing import Any

from transferlab.config.rows import dataset_budgets, table_datasets
from transferlab.registry import UnknownNameError


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the key."""


def _check_tau(key: str, mech: type, value: Any) -> None:
    if mech.tau_name is None:
        if value is not None:
            raise ConfigError(f"{key}: {mech.label} takes no tau; use grid: [null]")
        return
    values = value if mech.tau_pair else [value]
    names = list(mech.tau_name) if mech.tau_pair else [mech.tau_name]
    if mech.tau_pair and (not isinstance(value, list) or len(value) != 2):
        raise ConfigError(f"{key}: {mech.label} takes a pair [{', '.join(names)}], got {value!r}")
    for name, v in zip(names, values, strict=True):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"{key}: {mech.label} {name} must be a number, got {v!r}")
        if mech.tau_is_integer and int(v) != v:
            raise ConfigError(f"{key}: {mech.label} {name} must be an integer, got {v!r}")
        if not mech.tau_min <= v <= mech.tau_max:
            raise ConfigError(
                f"{key}: {mech.label} {name}={v!r} out of range; "
                f"allowed: {mech.tau_min} <= {name} <= {mech.tau_max}"
            )


def check_config(config: dict[str, Any]) -> None:
    """Raise ``ConfigError`` for the first value that cannot work."""
    from transferlab import data
    from transferlab.mechanisms import MECHANISMS
    from transferlab.models import ARCHITECTURES

    datasets = config.get("datasets") or {}
    if not datasets:
        raise ConfigError("datasets: at least one data set must be configured")
    for ds_key, ds in datasets.items():
        where = f"datasets.{ds_key}"
        name = ds.get("name", ds_key)
        try:
            data.dataset_info(name, **ds.get("options", {}))
        except UnknownNameError as err:
            raise ConfigError(f"{where}.name: {err}") from None
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}.options: {err}") from None
        archs = ds["architectures"]
        for arch_key, arch in archs.items():
            if arch["arch"] not in ARCHITECTURES:
                raise ConfigError(
                    f"{where}.architectures.{arch_key}.arch: unknown architecture "
                    f"{arch['arch']!r}; allowed: {', '.join(ARCHITECTURES.names())}"
                )
        for role_key, names in (("surrogate", [ds["surrogate"]]), ("targets", ds["targets"])):
            for arch_key in names:
                if arch_key not in archs:
                    raise ConfigError(
                        f"{where}.{role_key}: {arch_key!r} is not a key of {where}.architectures; "
                        f"allowed: {', '.join(archs)}"
                    )
        _check_training(where, ds)
        for method, mcfg in ds["mechanisms"].items():
            mkey = f"{where}.mechanisms.{method}"
            try:
                mech = MECHANISMS.get(method)
            except UnknownNameError as err:
                raise ConfigError(f"{mkey}: {err}") from None
            unknown = set(mcfg.get("settings", {})) - set(mech.settings_defaults)
            if unknown:
                raise ConfigError(
                    f"{mkey}.settings: unknown key(s) {sorted(unknown)}; "
                    f"allowed: {sorted(mech.settings_defaults) or 'none'}"
                )
            grid = mcfg["grid"]
            for i, value in enumerate(grid):
                _check_tau(f"{mkey}.grid[{i}]", mech, value)
            selected = mcfg.get("table_tau")
            if selected is not None and not 1 <= selected <= len(grid):
                raise ConfigError(
                    f"{mkey}.table_tau: tau index {selected} out of range; "
                    f"allowed: 1..{len(grid)} (1-based index into {mkey}.grid)"
                )
    _check_attacks(config)


def _check_precision(where: str, ds: dict[str, Any]) -> None:
    """training.precision (and each architecture's override) and attacks.precision."""
    from transferlab.precision import DEFAULT_PRECISION, check_precision

    settings = {f"{where}.training.precision": ds["training"].get("precision")}
    for arch_key, arch in ds["architectures"].items():
        key = f"{where}.architectures.{arch_key}.training.precision"
        settings[key] = arch.get("training", {}).get("precision")
    settings[f"{where}.attacks.precision"] = ds.get("attacks", {}).get("precision")
    for key, value in settings.items():
        try:
            check_precision(DEFAULT_PRECISION if value is None else value, key)
        except ValueError as err:
            raise ConfigError(str(err)) from None


def _check_training(where: str, ds: dict[str, Any]) -> None:
    """The data set's training keys, and each architecture's merged with its overrides."""
    _check_precision(where, ds)
    training = ds["training"]
    if training["warmup_epochs"] >= training["epochs"]:
        raise ConfigError(
            f"{where}.training.warmup_epochs ({training['warmup_epochs']}) must be smaller "
            f"than {where}.training.epochs ({training['epochs']})"
        )
    for arch_key, arch in ds["architectures"].items():
        overrides = arch.get("training", {})
        merged = {**training, **overrides}
        if overrides and merged["warmup_epochs"] >= merged["epochs"]:
            key = f"{where}.architectures.{arch_key}.training"
            raise ConfigError(
                f"{key}: warmup_epochs ({merged['warmup_epochs']}) must be smaller than epochs "
                f"({merged['epochs']}) once {key} overrides {where}.training "
                f"(overridden: {', '.join(sorted(overrides))})"
            )


def _check_unique(key: str, values: list[Any]) -> None:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ConfigError(f"{key}: {repeated} listed more than once; list each value once")


def _check_attacks(config: dict[str, Any]) -> None:
    from transferlab.attacks import ATTACKS, attack_settings_names

    _check_unique("budgets", config["budgets"])
    _check_unique("modes", config["modes"])
    for ds_key, ds in config["datasets"].items():
        _check_unique(f"datasets.{ds_key}.budgets", ds.get("budgets", []))
        methods = ds.get("attacks", {}).get("methods", {})
        for name, settings in methods.items():
            key = f"datasets.{ds_key}.attacks.methods.{name}"
            if name not in ATTACKS:
                raise ConfigError(
                    f"{key}: unknown attack {name!r}; allowed: {', '.join(ATTACKS.names())}"
                )
            allowed = set(attack_settings_names(name)) - {"eps", "targeted"}
            unknown = set(settings) - allowed
            if unknown:
                raise ConfigError(
                    f"{key}: unknown setting(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
                )
            steps = settings.get("steps", 1)
            if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
                raise ConfigError(
                    f"{key}.steps: {steps!r}; an attack needs an integer >= 1 steps "
                    "(0 would store the clean images as adversarial examples)"
                )
    for table, tcfg in config.get("tables", {}).items():
        key = f"tables.{table}"
        if table == "table13" and ("dataset" in tcfg) == ("datasets" in tcfg):
            raise ConfigError(
                f"{key}: give either dataset (one data set) or datasets (a list), not "
                f"{'both' if 'dataset' in tcfg else 'neither'}"
            )
        for ds_key in table_datasets(tcfg):
            _check_table(config, table, tcfg, key, ds_key)


def _check_table(
    config: dict[str, Any], table: str, tcfg: dict[str, Any], key: str, ds_key: str
) -> None:
    if ds_key not in config["datasets"]:
        raise ConfigError(
            f"{key}.dataset{'s' if 'datasets' in tcfg else ''}: {ds_key!r} is not a "
            "configured data set; "
            f"allowed: {', '.join(config['datasets'])}"
        )
    ds = config["datasets"][ds_key]
    if table == "table7":
        _check_table7(tcfg, ds, ds_key)
        return
    if table == "table8":
        _check_table8(tcfg, ds, ds_key)
        _check_table_budgets(key, tcfg, config, ds_key)
        return
    if table == "table13":
        if "autoattack" not in ds.get("attacks", {}).get("methods", {}):
            raise ConfigError(
                f"tables.table13: add autoattack to datasets.{ds_key}.attacks.methods "
                "(autoattack: {}) to build Table XIII"
            )
        unknown = sorted(set(tcfg.get("seeds", [])) - set(ds.get("seeds", [])))
        if unknown:
            raise ConfigError(
                f"tables.table13.seeds: {unknown} are not in datasets.{ds_key}.seeds; "
                f"allowed: {ds.get('seeds')}"
            )
        _check_table_budgets(key, tcfg, config, ds_key)
        _check_table_surrogates(key, tcfg, ds, ds_key)
        return
    if table == "table5":
        _check_table_budgets(key, tcfg, config, ds_key)
        _check_lgv(ds, ds_key)
        return
    from transferlab.attacks import ATTACKS

    methods = ds.get("attacks", {}).get("methods", {})
    for attack in tcfg.get("attacks", ["pgd"]):
        if attack not in methods:
            raise ConfigError(
                f"{key}.attacks: {attack!r} is not in datasets.{ds_key}.attacks.methods; "
                f"allowed: {', '.join(methods)}"
            )
        # Tables II-IV craft every mode in `modes`; Table XIII runs AutoAttack untargeted.
        if "targeted" in config["modes"] and not ATTACKS.get(attack).supports_targeted:
            raise ConfigError(
                f"{key}.attacks: {attack!r} has no targeted mode, but modes includes "
                f"'targeted' and {table} crafts every mode; list {attack!r} in "
                "tables.table13 instead (untargeted)"
            )
    _check_table_budgets(key, tcfg, config, ds_key)
    _check_table_surrogates(key, tcfg, ds, ds_key)


def _check_table_budgets(
    key: str, tcfg: dict[str, Any], config: dict[str, Any], ds_key: str
) -> None:
    _check_unique(f"{key}.budgets", tcfg.get("budgets", []))
    allowed = dataset_budgets(config, ds_key)
    where = f"datasets.{ds_key}.budgets" if config["datasets"][ds_key].get("budgets") else "budgets"
    for budget in tcfg.get("budgets", []):
        if budget not in allowed:
            raise ConfigError(
                f"{key}.budgets: {budget} is not in {where} (the budgets {ds_key}'s attacks "
                f"craft); allowed: {allowed}"
            )
    if "budget" in tcfg and tcfg["budget"] not in allowed:
        raise ConfigError(f"{key}.budget: {tcfg['budget']} is not in {where}; allowed: {allowed}")


def _check_table8(tcfg: dict[str, Any], ds: dict[str, Any], ds_key: str) -> None:
    key = "tables.table8"
    _check_target_architecture(key, tcfg, ds, ds_key)
    seen = set()
    for i, (method, tau) in enumerate(tcfg["target_trainings"]):
        where = f"{key}.target_trainings[{i}]"
        _check_tau_index(where, method, tau, ds, ds_key)
        if (method, tau) in seen:
            raise ConfigError(f"{where}: [{method}, {tau}] listed more than once")
        seen.add((method, tau))
    _check_table_surrogates(key, tcfg, ds, ds_key)


def _check_lgv(ds: dict[str, Any], ds_key: str) -> None:
    lgv = ds.get("lgv", {})
    where = f"datasets.{ds_key}.lgv"
    for method in lgv.get("bases", []):
        if method not in ds["mechanisms"]:
            raise ConfigError(
                f"{where}.bases: {method!r} is not in datasets.{ds_key}.mechanisms; "
                f"allowed: {', '.join(ds['mechanisms'])}"
            )
    for optimizer in lgv.get("optimizers", []):
        if optimizer != "sgd" and optimizer not in ds["mechanisms"]:
            raise ConfigError(
                f"{where}.optimizers: {optimizer!r} fine-tunes at the table tau of "
                f"datasets.{ds_key}.mechanisms.{optimizer}, which is not configured; "
                f"add it or drop {optimizer!r}"
            )
    if "pgd" not in ds.get("attacks", {}).get("methods", {}):
        raise ConfigError(
            f"tables.table5: LGV ensembles are attacked with PGD; add pgd to "
            f"datasets.{ds_key}.attacks.methods"
        )


def _check_target_architecture(
    key: str, tcfg: dict[str, Any], ds: dict[str, Any], ds_key: str
) -> None:
    if tcfg["target"] not in ds["architectures"]:
        raise ConfigError(
            f"{key}.target: {tcfg['target']!r} is not a key of "
            f"datasets.{ds_key}.architectures; allowed: {', '.join(ds['architectures'])}"
        )


def _check_tau_index(where: str, method: str, tau: int, ds: dict[str, Any], ds_key: str) -> None:
    """``method`` is a configured mechanism and ``tau`` a 1-based index into its grid."""
    if method not in ds["mechanisms"]:
        raise ConfigError(
            f"{where}: {method!r} is not in datasets.{ds_key}.mechanisms; "
            f"allowed: {', '.join(ds['mechanisms'])}"
        )
    size = len(ds["mechanisms"][method]["grid"])
    if not 1 <= tau <= size:
        raise ConfigError(f"{where}: tau index {tau} out of range; allowed: 1..{size}")


def _check_table7(tcfg: dict[str, Any], ds: dict[str, Any], ds_key: str) -> None:
    _check_target_architecture("tables.table7", tcfg, ds, ds_key)
    for name in ("target_trainings", "surrogate_tau"):
        for method, tau in tcfg.get(name, {}).items():
            _check_tau_index(f"tables.table7.{name}.{method}", method, tau, ds, ds_key)
    _check_table_surrogates("tables.table7", tcfg, ds, ds_key)


def _check_table_surrogates(
    key: str, tcfg: dict[str, Any], ds: dict[str, Any], ds_key: str
) -> None:
    for method in tcfg.get("surrogates", []):
        if method not in ds["mechanisms"]:
            raise ConfigError(
                f"{key}.surrogates: {method!r} is not in datasets.{ds_key}.mechanisms; "
                f"allowed: {', '.join(ds['mechanisms'])}"
            )
