"""Synthetic per-sample worlds with known effects for the claims and bootstrap tests.

A world is a table of surrogate configurations, each with a smoothness score
MS = −log10 σ and a gradient similarity GS chosen by the test; the transfer
success probability of a configuration is a fixed function of them,

    p = clip(0.5 + 0.1 (MS − MS_ST) + 1.0 (GS − GS_ST), 0.02, 0.98),

scaled per budget and mode, so Table VI's R²₁ is close to 1 by construction.
Per-sample values: success ~ Bernoulli(p), σ_i = σ · LogNormal(0, 0.3) / E[·],
S_i = GS + N(0, 0.05); each (configuration, seed) gets its own draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from transferlab.explain.claims import ClaimsInputs

TARGETS = ("T1", "T2")
BUDGETS = (4, 8, 16)
MODES = ("untargeted", "targeted")
TABLE7_TARGETS = ("ST", "CO", "CM", "MU", "LS", "AT")


@dataclass
class Config:
    method: str
    tau_index: int
    tau: object
    ms: float
    gs: float
    table_row: str | None = None


@dataclass
class World:
    configs: list[Config]
    seeds: tuple[int, ...] = (0, 1, 2)
    n_images: int = 400
    n_metric_images: int = 200
    dataset: str = "Toy"
    # Table VII: offset of each surrogate method's similarity to every target training
    table7_offsets: dict[str, float] = field(default_factory=dict)
    rng_seed: int = 1
    targets: tuple[str, ...] = TARGETS


def probability(ms: float, gs: float, eps: int, mode: str) -> float:
    p = 0.5 + 0.1 * ms + 1.0 * (gs - 0.3)
    p *= (eps / 8) ** 0.5 * (1.0 if mode == "untargeted" else 0.6)
    return float(np.clip(p, 0.02, 0.98))


def paper_world() -> World:
    """Every claim holds: AT rises then falls, strong augmentations hurt, SAM&X wins."""
    c = [Config("ST", 1, None, 0.0, 0.30, "ST")]
    for j, (tau, ms, gs) in enumerate(
        [(0.1, 1.0, 0.28), (0.5, 2.0, 0.25), (1.0, 2.3, 0.15), (2.0, 2.5, 0.05)], start=1
    ):
        c.append(Config("AT", j, tau, ms, gs, "AT" if j == 2 else None))
    for m in ("MU", "CM", "LS"):
        c.append(Config(m, 1, 0.1, 0.0, 0.20, f"{m} tau=1"))
        c.append(Config(m, 2, 0.5, -0.2, 0.10, f"{m} tau=2"))
    c.append(Config("CO", 1, 4, 0.0, 0.28, "CO tau=1"))
    c.append(Config("CO", 2, 8, 0.0, 0.27, "CO tau=2"))
    for m in ("IR", "JR", "ER", "SAM"):
        c.append(Config(m, 1, 0.1, 0.5, 0.30, m))
        c.append(Config(m, 2, 0.2, 1.0, 0.32))
    c.append(Config("SAM&IR", 1, [0.1, 0.1], 1.5, 0.40, "SAM&IR"))
    c.append(Config("SAM&JR", 1, [0.1, 0.05], 1.5, 0.42, "SAM&JR"))
    offsets = {m: -0.05 for m in ("CO", "CM", "MU", "LS")}
    offsets.update({m: 0.03 for m in ("IR", "JR", "ER", "SAM", "SAM&IR", "SAM&JR")})
    offsets.update({"ST": 0.0, "AT": 0.0})
    return World(c, table7_offsets=offsets)


def reversed_world() -> World:
    """Strong augmentations help, regularizers roughen, D′ surrogates align better."""
    world = paper_world()
    for config in world.configs:
        if config.method in ("MU", "CM", "LS") and config.tau_index == 2:
            config.ms, config.gs = 0.5, 0.45
        if config.method in ("IR", "JR", "ER", "SAM"):
            config.ms = -1.0
    world.table7_offsets.update({m: 0.05 for m in ("CO", "CM", "MU", "LS")})
    return world


def build_inputs(world: World, *, copy_of: dict[str, str] | None = None) -> ClaimsInputs:
    """The world's tidy per-sample frames.

    ``copy_of``: {method: "ST"} makes every configuration of that method reuse
    ST's per-sample values (identical: a paired zero difference), or with
    "ST~" a within-seed permutation of them over images (equal means, noisy).
    """
    rng = np.random.default_rng(world.rng_seed)
    copy_of = copy_of or {}
    n, n_metric = world.n_images, world.n_metric_images
    index = np.arange(n)
    y = index % 10
    models, transfer, smoothness, similarity = [], [], [], []
    stored: dict[int, dict[str, np.ndarray]] = {}
    for config in world.configs:
        for seed in world.seeds:
            keys = {
                "dataset": world.dataset,
                "method": config.method,
                "tau_index": config.tau_index,
                "seed": seed,
            }
            models.append(
                {
                    **keys,
                    "surrogate": config.table_row or f"{config.method} {config.tau_index}",
                    "tau": config.tau,
                    "test_acc": float(rng.uniform(0.88, 0.95)),
                    "table_row": config.table_row,
                }
            )
            draws: dict[str, np.ndarray] = {}
            for mode in MODES:
                for eps in BUDGETS:
                    p = probability(config.ms, config.gs, eps, mode)
                    for target in world.targets:
                        draws[f"s/{mode}/{eps}/{target}"] = rng.random(n) < p
                    draws[f"fp/{mode}/{eps}"] = rng.random(n) < 0.9
            sigma = 10.0 ** (-config.ms) * rng.lognormal(0.0, 0.3, n_metric) / np.exp(0.045)
            draws["sigma"] = sigma
            for target in world.targets:
                draws[f"gs/{target}"] = config.gs + rng.normal(0.0, 0.05, n_metric)
            source = copy_of.get(config.method)
            if config.method == "ST":
                stored[seed] = draws
            elif source == "ST":
                draws = stored[seed]
            elif source == "ST~":
                draws = {k: rng.permutation(v) for k, v in stored[seed].items()}
            for mode in MODES:
                for eps in BUDGETS:
                    for target in world.targets:
                        transfer.append(
                            pd.DataFrame(
                                {
                                    **keys,
                                    "mode": mode,
                                    "eps": eps,
                                    "target": target,
                                    "index": index,
                                    "y": y,
                                    "success_plain": draws[f"s/{mode}/{eps}/{target}"],
                                    "surrogate_success": draws[f"fp/{mode}/{eps}"],
                                }
                            )
                        )
            smoothness.append(
                pd.DataFrame(
                    {**keys, "index": index[:n_metric], "y": y[:n_metric], "sigma": draws["sigma"]}
                )
            )
            for target in world.targets:
                similarity.append(
                    pd.DataFrame(
                        {
                            **keys,
                            "target": target,
                            "index": index[:n_metric],
                            "similarity": draws[f"gs/{target}"],
                        }
                    )
                )
    table7 = []
    for method, offset in world.table7_offsets.items():
        for seed in world.seeds:
            for t, target in enumerate(TABLE7_TARGETS):
                table7.append(
                    pd.DataFrame(
                        {
                            "dataset": world.dataset,
                            "source_label": method,
                            "source_method": method,
                            "source_seed": seed,
                            "target_label": target,
                            "index": index[:n_metric],
                            "similarity": 0.1 + 0.01 * t + offset + rng.normal(0.0, 0.05, n_metric),
                        }
                    )
                )
    frames = {
        "models": pd.DataFrame(models),
        "transfer": pd.concat(transfer, ignore_index=True),
        "smoothness": pd.concat(smoothness, ignore_index=True),
        "similarity": pd.concat(similarity, ignore_index=True),
    }
    if table7:
        frames["table7"] = pd.concat(table7, ignore_index=True)
    return ClaimsInputs(**frames)
