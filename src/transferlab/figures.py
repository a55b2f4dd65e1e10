"""Figures 3-11 of one data set from the per-model metric files (SPEC §10).

Gathers the tidy inputs that ``plots`` draws: smoothness summaries of every
surrogate (mechanism × τ × seed) and surrogate→target / intra-architecture
similarity tables. File names say what a figure shows; the paper's figure
numbers are in ``FIGURES``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

# pandas, seaborn (plots) and torch (similarity) load inside the functions: the
# Snakefile imports FIGURES while building the DAG, and those imports cost ~3 s there.
if TYPE_CHECKING:
    import pandas as pd

# File stem -> the paper's figures it corresponds to (CIFAR-10 / ImageNette panels).
FIGURES = {
    "smoothness_vs_at_eps": "Fig. 3",
    "similarity_vs_at_eps": "Fig. 4",
    "similarity_vs_tau_augmentations": "Figs. 5-6",
    "smoothness_vs_tau_augmentations": "Figs. 7-8",
    "smoothness_vs_tau_regularizers": "Figs. 9-10",
    "similarity_matrix": "Fig. 11",
}
AUGMENTATIONS = ("MU", "CM", "CO", "LS")
REGULARIZERS = ("IR", "JR", "ER", "SAM")


def smoothness_frame(models: list[dict[str, Any]], dataset: str) -> pd.DataFrame:
    """One row per surrogate: dataset, method (label), tau_index, tau, seed, value (mean σ)."""
    import pandas as pd

    rows = []
    for m in models:
        summary = json.loads(Path(m["summary"]).read_text())
        rows.append(
            {
                "dataset": dataset,
                "method": m["method"],
                "tau_index": m["tau_index"],
                "tau": m["tau"],
                "seed": m["seed"],
                "value": summary["mean"],
            }
        )
    return pd.DataFrame(rows)


def similarity_frame(path: str | Path, dataset: str) -> pd.DataFrame:
    """Surrogate→target similarities as dataset, method, tau_index, tau, seed, target, value."""
    import pandas as pd

    pairs = pd.read_csv(path)
    return pd.DataFrame(
        {
            "dataset": dataset,
            "method": pairs["source_method"],
            "tau_index": pairs["source_tau_index"],
            "tau": pairs["source_tau"],
            "seed": pairs["source_seed"],
            "target": pairs["target_label"],
            "value": pairs["similarity_mean"],
        }
    )


def at_frame(df: pd.DataFrame) -> pd.DataFrame:
    """AT surrogates by their ε, with ST as ε = 0."""
    import pandas as pd

    at = df[df["method"] == "AT"].assign(eps=lambda d: d["tau"].astype(float))
    st = df[df["method"] == "ST"].assign(eps=0.0)
    return pd.concat([st, at], ignore_index=True).drop(columns=["method", "tau", "tau_index"])


def metric_figures(spec: dict[str, Any], log: Callable[[str], None] = print) -> list[Path]:
    """Write every figure of ``FIGURES`` for one data set into ``spec['out_dir']``.

    ``spec``: dataset (label), out_dir, smoothness (list of {summary, method,
    tau_index, tau, seed}), similarity (CSV of surrogate→target pairs),
    intra (CSV of intra-architecture pairs), architecture (surrogate label).
    """
    import pandas as pd

    from transferlab import plots
    from transferlab.similarity import intra_architecture_matrix

    out = Path(spec["out_dir"])
    dataset = spec["dataset"]
    smooth = smoothness_frame(spec["smoothness"], dataset)
    sim = similarity_frame(spec["similarity"], dataset)
    written: list[Path] = []

    def keep(df: pd.DataFrame, methods: tuple[str, ...]) -> pd.DataFrame:
        return df[df["method"].isin(("ST", *methods))]

    written += plots.plot_vs_at_eps(at_frame(smooth), "smoothness", out / "smoothness_vs_at_eps")
    written += plots.plot_vs_at_eps(at_frame(sim), "similarity", out / "similarity_vs_at_eps")
    written += plots.plot_vs_tau(
        keep(sim, AUGMENTATIONS), "similarity", out / "similarity_vs_tau_augmentations"
    )
    written += plots.plot_vs_tau(
        keep(smooth, AUGMENTATIONS), "smoothness", out / "smoothness_vs_tau_augmentations"
    )
    written += plots.plot_vs_tau(
        keep(smooth, REGULARIZERS), "smoothness", out / "smoothness_vs_tau_regularizers"
    )
    try:
        intra = pd.read_csv(spec["intra"])
    except pd.errors.EmptyDataError:
        intra = pd.DataFrame()
    if intra.empty:
        written += plots.plot_message(
            f"{dataset}: the intra-architecture similarity matrix (Fig. 11) compares models "
            "trained with different seeds; configure at least two seeds.",
            out / "similarity_matrix",
        )
    else:
        intra = intra.drop(columns=["source_method", "target_method"]).rename(
            columns={"source_label": "source_method", "target_label": "target_method"}
        )
        written += plots.plot_similarity_heatmap(
            intra_architecture_matrix(intra),
            out / "similarity_matrix",
            dataset=dataset,
            architecture=spec["architecture"],
        )
    for path in written:
        log(f"wrote {path}")
    return written
