"""Figure writers (SPEC §10): each writes non-empty PNG and SVG from a synthetic tidy frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transferlab.report.plots import plot_similarity_heatmap, plot_vs_at_eps, plot_vs_tau

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_written(paths: list[Path], stem: Path) -> None:
    assert paths == [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")]
    png, svg = paths
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert b"<svg" in svg.read_bytes()[:2000]
    # atomic write leaves no temporary files behind
    assert sorted(p.name for p in stem.parent.iterdir()) == sorted(p.name for p in paths)


def at_frame(with_target: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for dataset in ["CIFAR-10", "ImageNette"]:
        for eps in [0.0, 0.05, 0.1, 0.5, 1.0]:
            for target in ["VGG16", "DenseNet121"] if with_target else [None]:
                for seed in range(3):
                    row = {"dataset": dataset, "eps": eps, "seed": seed}
                    row["value"] = float(np.exp(-eps) + 0.1 * rng.random())
                    if target is not None:
                        row["target"] = target
                    rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("metric", "with_target"), [("smoothness", False), ("asr", True)])
def test_plot_vs_at_eps_writes_png_and_svg(tmp_path: Path, metric: str, with_target: bool) -> None:
    stem = tmp_path / "figs" / f"at_{metric}"
    assert_written(plot_vs_at_eps(at_frame(with_target), metric, stem), stem)


def test_plot_vs_at_eps_refuses_ambiguous_rows(tmp_path: Path) -> None:
    df = at_frame(False)
    with pytest.raises(ValueError, match="rows sharing the keys"):
        plot_vs_at_eps(pd.concat([df, df]), "smoothness", tmp_path / "x")
    with pytest.raises(ValueError, match="metric"):
        plot_vs_at_eps(df, "accuracy", tmp_path / "x")


@pytest.mark.parametrize("with_target", [False, True])
def test_plot_vs_tau_writes_png_and_svg(tmp_path: Path, with_target: bool) -> None:
    taus = {"MU": [0.1, 0.2, 0.3, 0.4, 0.5], "CO": [4, 8, 12, 16, 20]}
    rows = []
    for target in ["VGG16", "ResNet50"] if with_target else [None]:
        for seed in range(3):
            extra = {"target": target} if target is not None else {}
            rows.append(
                {"dataset": "CIFAR-10", "method": "ST", "tau_index": np.nan, "tau": np.nan}
                | {"seed": seed, "value": 0.5 + 0.01 * seed}
                | extra
            )
            for method, values in taus.items():
                for index, tau in enumerate(values, start=1):
                    rows.append(
                        {"dataset": "CIFAR-10", "method": method, "tau_index": index, "tau": tau}
                        | {"seed": seed, "value": 0.5 / index + 0.01 * seed}
                        | extra
                    )
    stem = tmp_path / "tau"
    metric = "similarity" if with_target else "smoothness"
    assert_written(plot_vs_tau(pd.DataFrame(rows), metric, stem), stem)


def test_plot_similarity_heatmap_writes_png_and_svg(tmp_path: Path) -> None:
    methods = ["ST", "MU", "SAM"]
    matrix = pd.DataFrame(
        [[0.3, 0.1, 0.2], [0.05, 0.4, np.nan], [0.2, 0.1, 0.5]], index=methods, columns=methods
    )
    stem = tmp_path / "fig11"
    assert_written(
        plot_similarity_heatmap(matrix, stem, dataset="CIFAR-10", architecture="ResNet18"), stem
    )
