"""Gradient similarity (SPEC §6, Definition 2), Fig. 11 matrix and Table VII aggregation."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from transferlab.compare.reference import paper_table
from transferlab.metrics.similarity import (
    gradient_similarity,
    input_gradients,
    intra_architecture_matrix,
    similarity_summary,
)
from transferlab.tables.table7 import table7


class NegatedLogits(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -self.net(x)


def tiny_net(num_classes: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 25, num_classes),
    ).double()


def samples(n: int, num_classes: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 5, 5, generator=generator, dtype=torch.float64)
    return x, torch.randint(0, num_classes, (n,), generator=generator)


def one_sample_gradient(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Independent reference: a separate forward/backward of a single sample."""
    net.eval()
    xk = x.unsqueeze(0).clone().requires_grad_(True)
    F.cross_entropy(net(xk), y.reshape(1)).backward()
    return xk.grad.reshape(-1)


def test_input_gradients_are_each_samples_own_gradient() -> None:
    net = tiny_net(4, seed=1)
    net.train()
    x, y = samples(6, 4)
    grads = input_gradients(net, x, y, batch_size=4)
    assert net.training  # restored
    reference = torch.stack([one_sample_gradient(net, x[k], y[k]) for k in range(6)])
    torch.testing.assert_close(grads, reference)


def test_similarity_matches_cosine_of_separately_computed_gradients() -> None:
    f, g = tiny_net(4, seed=1), tiny_net(4, seed=2)
    x, y = samples(5, 4)
    values = gradient_similarity(f, g, x, y, batch_size=2)
    reference = torch.stack(
        [
            F.cosine_similarity(
                one_sample_gradient(f, x[k], y[k]), one_sample_gradient(g, x[k], y[k]), dim=0
            )
            for k in range(5)
        ]
    )
    torch.testing.assert_close(values, reference)
    assert values.abs().max() < 0.999  # genuinely different models


def test_similarity_with_itself_is_one() -> None:
    f = tiny_net(4, seed=1)
    x, y = samples(6, 4)
    torch.testing.assert_close(
        gradient_similarity(f, f, x, y), torch.ones(6, dtype=torch.float64), rtol=0, atol=1e-12
    )


def test_negated_binary_classifier_has_similarity_minus_one() -> None:
    # CE gradient: ∇ₓℓ_f = Jᵀ(p − e_y); for g = −f, ∇ₓℓ_g = −Jᵀ(p' − e_y), p' = softmax(−f).
    # With C = 2 and y = 0: p − e_0 = p₁(−1, 1) and p' = (p₁, p₀), so p' − e_0 = p₀(−1, 1);
    # hence ∇ℓ_g = −(p₀/p₁)∇ℓ_f and the cosine is exactly −1 (likewise for y = 1).
    # For C > 2, p' − e_y is generally not parallel to p − e_y, so −1 is NOT implied there.
    f = tiny_net(2, seed=3)
    g = NegatedLogits(f)
    x, y = samples(6, 2)
    torch.testing.assert_close(
        gradient_similarity(f, g, x, y), -torch.ones(6, dtype=torch.float64), rtol=0, atol=1e-10
    )
    # C = 3: compare with the formula above evaluated on an explicit Jacobian.
    f3 = tiny_net(3, seed=3).eval()
    x3, y3 = samples(6, 3)
    values = gradient_similarity(f3, NegatedLogits(f3), x3, y3)
    expected = []
    for k in range(6):
        jac = torch.autograd.functional.jacobian(lambda z: f3(z.unsqueeze(0))[0], x3[k]).reshape(
            3, -1
        )
        logits = f3(x3[k].unsqueeze(0))[0].detach()
        onehot = F.one_hot(y3[k], 3).double()
        grad_f = jac.T @ (torch.softmax(logits, 0) - onehot)
        grad_g = -jac.T @ (torch.softmax(-logits, 0) - onehot)
        expected.append(F.cosine_similarity(grad_f, grad_g, dim=0))
    torch.testing.assert_close(values, torch.stack(expected))
    assert (values > -1 + 1e-6).any()


def test_similarity_is_equivariant_to_sample_order() -> None:
    f, g = tiny_net(4, seed=1), tiny_net(4, seed=2)
    x, y = samples(7, 4)
    order = torch.randperm(7, generator=torch.Generator().manual_seed(0))
    values = gradient_similarity(f, g, x, y, batch_size=3)
    permuted = gradient_similarity(f, g, x[order], y[order], batch_size=5)
    torch.testing.assert_close(permuted, values[order])


def test_zero_gradient_gives_cosine_zero() -> None:
    constant = nn.Sequential(nn.Flatten(), nn.Linear(75, 3)).double()
    nn.init.zeros_(constant[1].weight)  # logits independent of x → ∇ₓℓ = 0 exactly
    f = tiny_net(3, seed=1)
    x, y = samples(3, 3)
    values = gradient_similarity(f, constant, x, y)
    assert torch.equal(values, torch.zeros(3, dtype=torch.float64))


def test_similarity_summary_reports_mean_and_min() -> None:
    summary = similarity_summary(torch.tensor([0.5, -0.1, 0.2]))
    assert summary["mean"] == pytest.approx(0.2)
    assert summary["min"] == pytest.approx(-0.1)
    assert summary["median"] == pytest.approx(0.2)
    assert summary["std"] == pytest.approx(0.3)
    assert summary["n"] == 3


def _write_gradients(path, gradients: torch.Tensor) -> str:
    from transferlab.metrics.measurements import GRADIENTS_FORMAT
    from transferlab.training.checkpoints import atomic_torch_save

    atomic_torch_save(
        {"format": GRADIENTS_FORMAT, "y": torch.zeros(len(gradients)), "gradients": gradients},
        path,
    )
    return str(path)


def test_fig11_cells_follow_the_seed_shift_protocol_and_are_asymmetric(tmp_path) -> None:
    """Hand-made gradients, 3 seeds: the similarity command's Fig. 11 pairs and
    intra_architecture_matrix give cell (a, b) = mean_s S(a_s, b_(s+1) mod 3)."""
    import json

    import numpy as np

    from transferlab.cli import main

    rng = np.random.default_rng(0)
    methods, seeds, n, dim = ["ST", "MU"], [0, 1, 2], 6, 5
    grads = {(m, s): rng.normal(size=(n, dim)) for m in methods for s in seeds}
    entries = [
        {
            "gradients": _write_gradients(tmp_path / f"{m}{s}.pt", torch.tensor(grads[m, s])),
            "label": m,
            "method": m,
            "seed": s,
        }
        for m in methods
        for s in seeds
    ]
    out = tmp_path / "intra.csv"
    code = main(
        [
            "similarity", "--sources", json.dumps(entries), "--targets", json.dumps(entries),
            "--seed-pairs", "shifted", "--out", str(out), "--samples", str(tmp_path / "s.csv.gz"),
        ]
    )  # fmt: skip
    assert code == 0
    pairs = pd.read_csv(out)
    assert sorted(zip(pairs["source_seed"], pairs["target_seed"], strict=True)) == sorted(
        [(0, 1), (1, 2), (2, 0)] * 4
    )
    frame = pairs.drop(columns=["source_method", "target_method"]).rename(
        columns={"source_label": "source_method", "target_label": "target_method"}
    )
    matrix = intra_architecture_matrix(frame)

    def cosine(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)

    for a in methods:
        for b in methods:
            expected = np.mean([cosine(grads[a, s], grads[b, (s + 1) % 3]).mean() for s in seeds])
            assert matrix.loc[a, b] == pytest.approx(expected, abs=1e-12)
    assert abs(matrix.loc["ST", "MU"] - matrix.loc["MU", "ST"]) > 1e-3
    # the old protocol (every ordered different-seed pair) would make it symmetric
    everything = np.mean(
        [cosine(grads["ST", s], grads["MU", t]).mean() for s in seeds for t in seeds if s != t]
    )
    assert matrix.loc["ST", "MU"] != pytest.approx(everything, abs=1e-6)


def test_fig11_with_two_seeds_is_symmetric_by_design_and_says_so(tmp_path) -> None:
    import json

    from transferlab.metrics.similarity import shifted_seed_pairs, symmetric_by_design
    from transferlab.report.figures import similarity_matrix_note, write_matrix_record

    assert shifted_seed_pairs([2, 0, 1]) == [(0, 1), (1, 2), (2, 0)]
    assert shifted_seed_pairs([5, 3]) == [(3, 5), (5, 3)]
    assert shifted_seed_pairs([0]) == []
    assert symmetric_by_design(2) and not symmetric_by_design(3)
    assert "symmetric by design" in similarity_matrix_note(2)
    assert "symmetric" not in similarity_matrix_note(3)
    cells = [("ST", "ST", 0.5), ("ST", "MU", 0.2), ("MU", "ST", 0.2), ("MU", "MU", 0.4)]
    rows = [(a, b, s, t, v) for (a, b, v) in cells for s, t in [(0, 1), (1, 0)]]
    df = pd.DataFrame(
        rows,
        columns=["source_method", "target_method", "source_seed", "target_seed", "similarity_mean"],
    )
    matrix = intra_architecture_matrix(df)
    record = json.loads(write_matrix_record(matrix, df, tmp_path / "m.json").read_text())
    assert record["symmetric_by_design"] is True and record["seeds"] == [0, 1]
    assert record["seed_pairs"] == [[0, 1], [1, 0]]
    assert record["matrix"] == [[0.5, 0.2], [0.2, 0.4]]


def test_fig11_matrix_ignores_other_pairs_and_rejects_incomplete_cells() -> None:
    rows = []
    for source, target, base in [("ST", "ST", 0.5), ("ST", "MU", 0.2), ("MU", "ST", 0.1)]:
        for s in range(3):
            for t in range(3):
                # pairs outside the protocol carry a large offset that must not leak in
                shifted = t == (s + 1) % 3
                rows.append((source, target, s, t, base + 0.01 * s + (0.0 if shifted else 100.0)))
    df = pd.DataFrame(
        rows,
        columns=["source_method", "target_method", "source_seed", "target_seed", "similarity_mean"],
    )
    matrix = intra_architecture_matrix(df)
    assert list(matrix.index) == ["ST", "MU"] and list(matrix.columns) == ["ST", "MU"]
    assert matrix.loc["ST", "ST"] == pytest.approx(0.51)
    assert matrix.loc["ST", "MU"] == pytest.approx(0.21)
    assert matrix.loc["MU", "ST"] == pytest.approx(0.11)
    assert pd.isna(matrix.loc["MU", "MU"])
    with pytest.raises(ValueError, match="similarity_mean"):
        intra_architecture_matrix(df.drop(columns="similarity_mean"))
    incomplete = df[~((df["source_method"] == "ST") & (df["source_seed"] == 2))]
    with pytest.raises(ValueError, match="seed pairs"):
        intra_architecture_matrix(incomplete)


def test_table7_on_hand_built_frame() -> None:
    df = pd.DataFrame(
        [
            ("ST", "ST", 0.30),
            ("ST", "ST", 0.10),  # two pairs → cell mean 0.20
            ("ST", "AT", 0.10),
            ("MU", "ST", 0.25),
            ("MU", "AT", 0.05),
            ("SAM", "ST", 0.20),
            ("SAM", "AT", 0.40),
        ],
        columns=["source_method", "target_method", "similarity_mean"],
    )
    long, scores = table7(df)
    assert list(long.columns) == ["surrogate", "target_training", "value", "is_increment"]
    got = {(r.surrogate, r.target_training): (r.value, r.is_increment) for r in long.itertuples()}
    assert got[("ST", "ST")] == (pytest.approx(0.20), False)
    assert got[("ST", "AT")] == (pytest.approx(0.10), False)
    assert got[("MU", "ST")] == (pytest.approx(0.05), True)
    assert got[("MU", "AT")] == (pytest.approx(-0.05), True)
    assert got[("SAM", "ST")] == (pytest.approx(0.0), True)
    assert got[("SAM", "AT")] == (pytest.approx(0.30), True)
    assert list(long["surrogate"].unique()) == ["ST", "MU", "SAM"]
    assert dict(zip(scores["surrogate"], scores["score"], strict=True)) == {
        "ST": 0,
        "MU": 0,
        "SAM": 1,
    }
    with pytest.raises(ValueError, match="reference 'XX'"):
        table7(df, reference="XX")


def test_table7_reproduces_published_scores_from_published_values() -> None:
    published = paper_table("table7_cifar10_similarity")
    published_scores = paper_table("table7_scores")
    st = published[published["surrogate"] == "ST"].set_index("target_training")["value"]
    absolute = published.assign(
        similarity_mean=published["value"]
        + published["is_increment"] * published["target_training"].map(st)
    ).rename(columns={"surrogate": "source_method", "target_training": "target_method"})
    long, scores = table7(absolute)
    merged = long.merge(published, on=["surrogate", "target_training"], suffixes=("", "_paper"))
    assert len(merged) == len(published)
    assert (merged["value"] - merged["value_paper"]).abs().max() < 1e-9
    assert (merged["is_increment"] == merged["is_increment_paper"]).all()
    pd.testing.assert_frame_equal(
        scores.reset_index(drop=True), published_scores.reset_index(drop=True), check_dtype=False
    )


def test_pairwise_similarities_keeps_list_valued_identities(tmp_path) -> None:
    from transferlab.metrics.measurements import GRADIENTS_FORMAT, pairwise_similarities
    from transferlab.training.checkpoints import atomic_torch_save

    a = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    paths = {}
    for name, grads in {"a": a, "b": -a}.items():
        paths[name] = tmp_path / f"{name}.pt"
        atomic_torch_save({"format": GRADIENTS_FORMAT, "gradients": grads}, paths[name])
    pairs = [{"source": str(paths["a"]), "target": str(paths["b"]), "tau": [0.1, 0.05]}]
    summary = pairwise_similarities(
        pairs, summary_csv=tmp_path / "s.csv", samples_csv=tmp_path / "p.csv.gz"
    )
    samples = pd.read_csv(tmp_path / "p.csv.gz")
    assert summary["similarity_mean"].tolist() == pytest.approx([-1.0])
    assert samples["similarity"].tolist() == pytest.approx([-1.0, -1.0, -1.0])
    assert samples["tau"].tolist() == ["[0.1, 0.05]"] * 3


def test_similarity_pairs_lists_every_pair_or_the_shifted_seeds_only() -> None:
    from transferlab.metrics.measurements import similarity_pairs

    sources = [{"gradients": f"s{s}.pt", "summary": "x.json", "seed": s} for s in (0, 1, 2)]
    targets = [{"gradients": f"t{s}.pt", "seed": s, "method": "st"} for s in (0, 1, 2)]
    every = similarity_pairs(sources, targets, seed_pairs="all")
    assert [(p["source"], p["target"]) for p in every][:4] == [
        ("s0.pt", "t0.pt"),
        ("s0.pt", "t1.pt"),
        ("s0.pt", "t2.pt"),
        ("s1.pt", "t0.pt"),
    ]
    assert len(every) == 9
    # Paths are not identity columns; the other keys are, with their side's prefix.
    assert set(every[0]) == {"source", "target", "source_seed", "target_seed", "target_method"}
    shifted = similarity_pairs(sources, targets, seed_pairs="shifted")
    assert [(p["source_seed"], p["target_seed"]) for p in shifted] == [(0, 1), (1, 2), (2, 0)]
    with pytest.raises(ValueError, match="seed_pairs"):
        similarity_pairs(sources, targets, seed_pairs="some")
