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


def asr_vs_at_eps_frame(
    surrogates: pd.DataFrame, dataset: str, mode: str, eps: str
) -> pd.DataFrame:
    """Fig. 2's points: transfer ASR (%) of the ST and AT surrogates of one data set, mode
    and budget label, by AT ε (ST at 0): columns dataset, eps, seed, target, value."""
    df = surrogates[
        (surrogates["dataset"] == dataset)
        & (surrogates["mode"] == mode)
        & (surrogates["eps"] == eps)
    ]
    frame = at_frame(df)
    return frame.assign(value=100 * frame["asr"])[["dataset", "eps", "seed", "target", "value"]]


def similarity_matrix_note(n_seeds: int) -> str:
    """The protocol line of Fig. 11's caption for ``n_seeds`` seeds (SPEC §6)."""
    from transferlab.metrics.similarity import symmetric_by_design

    text = f"cell (a, b) = mean over {n_seeds} seeds s of S(a seed s, b seed s+1 mod {n_seeds})"
    if symmetric_by_design(n_seeds):
        text += "; with 2 seeds the matrix is symmetric by design (use 3 seeds)"
    return text


def write_matrix_record(matrix: pd.DataFrame | None, pairs: pd.DataFrame, path: str | Path) -> Path:
    """Fig. 11's numbers and protocol as JSON: seeds, pairs, symmetric_by_design, matrix."""
    from transferlab.atomic_files import atomic_write_text
    from transferlab.metrics.similarity import shifted_seed_pairs, symmetric_by_design

    seeds = (
        sorted(int(s) for s in set(pairs["source_seed"]) | set(pairs["target_seed"]))
        if matrix is not None
        else []
    )
    record = {
        "figure": "Fig. 11",
        "protocol": "cell (a, b) = mean over seeds s of S(a seed s, b seed s+1 mod n)",
        "seeds": seeds,
        "seed_pairs": [list(p) for p in shifted_seed_pairs(seeds)],
        "symmetric_by_design": symmetric_by_design(len(seeds)),
        "note": similarity_matrix_note(len(seeds)) if seeds else "fewer than two seeds",
        "sources": [] if matrix is None else [str(i) for i in matrix.index],
        "targets": [] if matrix is None else [str(c) for c in matrix.columns],
        "matrix": []
        if matrix is None
        else [[None if v != v else float(v) for v in row] for row in matrix.to_numpy(float)],
    }
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return Path(path)


def metric_figures(spec: dict[str, Any], log: Callable[[str], None] = print) -> list[Path]:
    """Write every figure of ``FIGURES`` for one data set into ``spec['out_dir']``.

    ``spec``: dataset (label), out_dir, smoothness (list of {summary, method,
    tau_index, tau, seed}), similarity (CSV of surrogate→target pairs),
    intra (CSV of intra-architecture pairs), architecture (surrogate label) and
    optionally matrix (path of Fig. 11's JSON record, ``write_matrix_record``).
    """
    import pandas as pd

    from transferlab.metrics.similarity import intra_architecture_matrix
    from transferlab.report import plots

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
        matrix = None
        written += plots.plot_message(
            f"{dataset}: the intra-architecture similarity matrix (Fig. 11) pairs models "
            "trained with different seeds (seed s against seed s+1 mod n); configure at "
            "least two seeds, three for an asymmetric matrix as in the paper.",
            out / "similarity_matrix",
        )
    else:
        intra = intra.drop(columns=["source_method", "target_method"]).rename(
            columns={"source_label": "source_method", "target_label": "target_method"}
        )
        matrix = intra_architecture_matrix(intra)
        n_seeds = len(set(intra["source_seed"]) | set(intra["target_seed"]))
        written += plots.plot_similarity_heatmap(
            matrix,
            out / "similarity_matrix",
            dataset=dataset,
            architecture=spec["architecture"],
            note=similarity_matrix_note(n_seeds),
        )
    if "matrix" in spec:
        written.append(write_matrix_record(matrix, intra, spec["matrix"]))
    for path in written:
        log(f"wrote {path}")
    return written
