"""The model grid of one validated configuration and the paths of its files.

A model is the key (data set, architecture, mechanism, τ index, seed); every file about it
lives under ``<results>/<kind>/<dataset>/<arch>/<method>/tau<τ>/seed<s>`` (``model_stem``),
where ``kind`` is the stage writing it (models, metrics/smoothness, adversarial, transfer,
lgv). τ and seed may be ints or the strings of Snakemake wildcards: paths are the same.
"""

from __future__ import annotations

import json
from typing import Any

from transferlab.config.labels import surrogate_label
from transferlab.config.rows import dataset_budgets, table_datasets, table_rows
from transferlab.data import DATASETS
from transferlab.mechanisms import MECHANISMS
from transferlab.transfer.modes import (
    analysis_modes,
    attack_job_name,
    attack_modes,
    every_mode_surrogates,
)

# The path of one model's file of one stage.
MODEL_STEM = "{results}/{kind}/{dataset}/{arch}/{method}/tau{tau}/seed{seed}"
WILDCARD_MODEL = {k: "{" + k + "}" for k in ("dataset", "arch", "method", "tau", "seed")}


class Plan:
    """What a validated configuration builds: its models, their files, their labels.

    ``config`` must have passed the JSON schema (defaults filled) and
    ``transferlab.config.checks.check_config``; ``results`` is the output folder.
    """

    def __init__(self, config: dict[str, Any], results: str = "results") -> None:
        self.config = config
        self.results = results
        self.every_mode = {ds: every_mode_surrogates(config, ds) for ds in config["datasets"]}

    # ---- data sets -------------------------------------------------------------------

    def dataset(self, dataset: str) -> dict[str, Any]:
        return self.config["datasets"][dataset]

    def budgets(self, dataset: str) -> list[int]:
        """L∞ budgets (1/255) of one data set (``transferlab.config.rows.dataset_budgets``)."""
        return dataset_budgets(self.config, dataset)

    def dataset_name(self, dataset: str) -> str:
        """The registry name of a data set entry (its ``name`` key, else the entry's key)."""
        return self.dataset(dataset).get("name", dataset)

    def dataset_label(self, dataset: str) -> str:
        """The data set's label in tables ("CIFAR-10"): its data class's ``label``."""
        name = self.dataset_name(dataset)
        return DATASETS.get(name).label if name in DATASETS else dataset

    def dataset_spec(self, dataset: str) -> dict[str, Any]:
        """{name, options}: what a job needs to load a data set."""
        return {"name": self.dataset_name(dataset), "options": self.dataset(dataset)["options"]}

    def mechanism_grid(self, dataset: str, method: str) -> list[Any]:
        return self.dataset(dataset)["mechanisms"][method]["grid"]

    # ---- models ----------------------------------------------------------------------

    def surrogate_models(self, dataset: str) -> list[tuple[str, str, int, int]]:
        """(arch, method, tau, seed) of every surrogate: mechanism × τ grid × seed."""
        ds = self.dataset(dataset)
        return [
            (ds["surrogate"], method, tau, seed)
            for method, mech in ds["mechanisms"].items()
            for tau in range(1, len(mech["grid"]) + 1)
            for seed in ds["seeds"]
        ]

    def target_models(self, dataset: str) -> list[tuple[str, str, int, int]]:
        ds = self.dataset(dataset)
        return [(arch, "st", 1, seed) for arch in ds["targets"] for seed in ds["target_seeds"]]

    def model_stem(
        self, dataset: str, arch: str, method: str, tau: Any, seed: Any, kind: str = "models"
    ) -> str:
        """Path stem of one model's file under results/<kind> (models, metrics/…, transfer)."""
        return MODEL_STEM.format(
            results=self.results,
            kind=kind,
            dataset=dataset,
            arch=arch,
            method=method,
            tau=tau,
            seed=seed,
        )

    def wildcard_stem(self, kind: str) -> str:
        """``model_stem`` with the model's Snakemake wildcards in place of its values."""
        return self.model_stem(kind=kind, **WILDCARD_MODEL)

    def model_label(self, dataset: str, arch: str, method: str, tau: Any, role: str) -> str:
        if role == "target":
            return arch
        return surrogate_label(method, int(tau), self.mechanism_grid(dataset, method))

    def target_model_paths(self, dataset: str) -> dict[str, str]:
        """{architecture: model file} of the data set's targets (the first target seed)."""
        ds = self.dataset(dataset)
        seed = ds["target_seeds"][0]
        return {
            arch: self.model_stem(dataset, arch, "st", 1, seed) + ".pt" for arch in ds["targets"]
        }

    # ---- attacks ---------------------------------------------------------------------

    def crafted_attacks(self, dataset: str) -> list[str]:
        """The attacks that attack_<dataset> crafts in every mode (all but AutoAttack)."""
        return [m for m in self.dataset(dataset)["attacks"]["methods"] if m != "autoattack"]

    def single_mode_attack_rules(self) -> list[str]:
        """The modes with an attack job type of their own (the analysis modes) when a
        surrogate no table lists needs fewer modes than ``config["modes"]``."""
        modes = analysis_modes(self.config)
        return [] if modes == list(self.config["modes"]) or not modes else modes

    def attack_name(self, dataset: str, method: str, tau: Any, attack: str) -> str:
        """The attack job's name in its paths: ``pgd`` (every mode) or ``pgd.untargeted``
        (transferlab.transfer.modes); AutoAttack's job is untargeted by definition."""
        if attack not in self.crafted_attacks(dataset):
            return attack
        modes = attack_modes(
            self.config, dataset, attack, method, int(tau), self.every_mode[dataset]
        )
        return attack_job_name(attack, modes, self.config["modes"])

    def transfer_stem(
        self, dataset: str, arch: str, method: str, tau: Any, seed: Any, attack: str
    ) -> str:
        """results/transfer/…/seed{s}/<attack job name> (see ``attack_name``)."""
        name = self.attack_name(dataset, method, tau, attack)
        return f"{self.model_stem(dataset, arch, method, tau, seed, kind='transfer')}/{name}"

    def attack_set_paths(self, dataset: str, modes: list[str] | None = None) -> list[str]:
        """The HDF5 files of one attack job of ``dataset`` (wildcard paths): one per mode ×
        budget (every configured mode, or the one of a single-mode job, in folder
        ``<attack>.<mode>``)."""
        modes = modes or self.config["modes"]
        folder = attack_job_name("{attack}", modes, self.config["modes"])
        return self._set_paths(dataset, folder, modes)

    def autoattack_set_paths(self, dataset: str) -> list[str]:
        """The HDF5 files of one AutoAttack job: untargeted only (the standard version)."""
        return self._set_paths(dataset, "autoattack", ["untargeted"])

    def lgv_attack_set_paths(self, dataset: str) -> list[str]:
        """The HDF5 files of one LGV ensemble attack job: one per mode × budget."""
        return self._set_paths(dataset, "lgv_{optimizer}/{attack}", self.config["modes"])

    def _set_paths(self, dataset: str, folder: str, modes: list[str]) -> list[str]:
        stem = self.wildcard_stem("adversarial")
        return [ae_file(stem, folder, mode, eps) for mode in modes for eps in self.budgets(dataset)]

    def attack_outputs(self, dataset: str, paths: list[str], modes: list[str] | None = None) -> str:
        """--outputs of the attack command: [{path, mode, eps}] in attack_set_paths order."""
        settings = [
            (mode, eps) for mode in modes or self.config["modes"] for eps in self.budgets(dataset)
        ]
        return json.dumps(
            [
                {"path": path, "mode": mode, "eps": eps}
                for path, (mode, eps) in zip(paths, settings, strict=True)
            ]
        )

    def table_seeds(self, table: str, dataset: str) -> list[int]:
        """Surrogate seeds of an ASR table: Table XIII may use a subset (AutoAttack's cost)."""
        return self.config["tables"][table].get("seeds") or self.dataset(dataset)["seeds"]

    def autoattack_evaluation(self, dataset: str) -> dict[str, Any]:
        """The evaluation images AutoAttack runs on: Table XIII's n_samples subset, if any."""
        evaluation = dict(self.dataset(dataset)["evaluation"])
        tcfg = self.config["tables"].get("table13", {})
        if tcfg and dataset in table_datasets(tcfg) and tcfg.get("n_samples"):
            evaluation["n_samples"] = min(tcfg["n_samples"], evaluation["n_samples"])
        return evaluation

    # ---- metrics (smoothness, gradients) ---------------------------------------------

    def metric_paths(
        self, dataset: str, arch: str, method: str, tau: Any, seed: Any
    ) -> dict[str, str]:
        model = (dataset, arch, method, tau, seed)
        return {
            "summary": self.model_stem(*model, kind="metrics/smoothness") + ".json",
            "gradients": self.model_stem(*model, kind="metrics/gradients") + ".pt",
        }

    def metric_entry(
        self, dataset: str, arch: str, method: str, tau: Any, seed: Any, label: str
    ) -> dict[str, Any]:
        """One model's metric files with its labels (mechanism, τ value, seed)."""
        mechanisms = self.dataset(dataset)["mechanisms"]
        grid = mechanisms[method]["grid"] if method in mechanisms else [None]
        return {
            **self.metric_paths(dataset, arch, method, tau, seed),
            "label": label,
            "method": MECHANISMS.get(method).label,
            "method_key": method,
            "tau_index": int(tau),
            "tau": grid[int(tau) - 1],
            "seed": int(seed),
            "arch": arch,
        }

    def surrogate_metric_entries(self, dataset: str) -> list[dict[str, Any]]:
        return [
            self.metric_entry(
                dataset,
                arch,
                method,
                tau,
                seed,
                self.model_label(dataset, arch, method, tau, "surrogate"),
            )
            for arch, method, tau, seed in self.surrogate_models(dataset)
        ]

    # ---- LGV collections -------------------------------------------------------------

    def lgv_bases(self, dataset: str) -> list[tuple[str, str, int]]:
        """(row label, mechanism, τ index) of the LGV base surrogates: their Table II rows."""
        ds = self.dataset(dataset)
        return table_rows(ds["mechanisms"], ds["lgv"]["bases"])

    def lgv_stem(
        self,
        dataset: str,
        arch: str,
        method: str,
        tau: Any,
        seed: Any,
        optimizer: str,
        kind: str = "lgv",
    ) -> str:
        """results/lgv/…/seed{s}/{optimizer} (the collection) or its transfer / AE folder."""
        stem = self.model_stem(dataset, arch, method, tau, seed, kind=kind)
        return f"{stem}/{optimizer}" if kind == "lgv" else f"{stem}/lgv_{optimizer}"

    def lgv_table_datasets(self) -> list[str]:
        """Data sets an LGV table (Table V) is built from."""
        tables = self.config["tables"]
        return [tables["table5"]["dataset"]] if "table5" in tables else []


def ae_file(stem: str, folder: str, mode: str, eps: Any) -> str:
    """One stored AE set: ``<adversarial stem>/<attack job folder>/<mode>-eps<k>.h5``."""
    return f"{stem}/{folder}/{mode}-eps{eps}.h5"
