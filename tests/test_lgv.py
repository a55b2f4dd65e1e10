"""LGV collections (SPEC §4 "LGV") and ensemble attacks on them (SPEC §7 "LGV")."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import transferlab
from tests.test_attacks import batch, tiny_model
from transferlab import data
from transferlab.attacks import (
    EnsembleSurrogate,
    build_attack,
    collection_surrogate,
    member_order,
    run_attack,
)
from transferlab.lgv.collection import COLLECTION_FORMAT, load_collection, load_collection_record
from transferlab.lgv.finetune import build_collection, collection_points
from transferlab.models import build_model, place_model
from transferlab.training.checkpoints import load_model, load_model_record
from transferlab.training.loop import epoch_seed, train_model
from transferlab.training.optimization import SGD
from transferlab.transfer.crafting import craft_adversarial_sets
from transferlab.transfer.store import load_adversarial

DATASET = {"name": "digits", "options": {"size": 8}}
# digits at size 8: 1,347 training images, so 11 batches of 128 per epoch
BATCHES_PER_EPOCH = 11


def quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("lgv") / "base.pt"
    spec = {
        "dataset": DATASET,
        "architecture": {"arch": "resnet18", "width": 0.125},
        "training": {"epochs": 1, "warmup_epochs": 0, "lr": 0.05, "batch_size": 128},
        "mechanism": {"name": "st", "tau_index": 1, "tau": None, "settings": {}},
        "seed": 3,
    }
    train_model(spec, path, log=quiet)
    return path


def lgv_spec(base: Path, **lgv: object) -> dict:
    settings = {"optimizer": "sgd", "tau": None, "epochs": 1, "per_epoch": 3, **lgv}
    return {"base": str(base), "dataset": DATASET, "lgv": settings, "seed": 5}


@pytest.fixture(scope="module")
def collection(base_model: Path) -> Path:
    path = base_model.with_name("collection.pt")
    build_collection(lgv_spec(base_model), path, log=quiet)
    return path


def states_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- building a collection ----------------------------------------------------------------


def test_collection_points_hand_values() -> None:
    # floor(11·j/3), j = 1, 2, 3; floor(8·j/4)
    assert collection_points(11, 3) == [3, 7, 11]
    assert collection_points(8, 4) == [2, 4, 6, 8]
    assert collection_points(5, 1) == [5]
    with pytest.raises(ValueError, match="per_epoch=6 exceeds the 5 batches"):
        collection_points(5, 6)


def test_collection_holds_k_distinct_fine_tuned_members(base_model: Path, collection: Path) -> None:
    record = torch.load(collection, weights_only=True)
    assert record["format"] == COLLECTION_FORMAT
    members = record["members"]
    assert len(members) == 3 and record["lgv"]["members"] == 3
    assert record["lgv"]["collection_points"] == [3, 7, 11]
    base = load_model_record(base_model)
    assert record["architecture"] == base["architecture"]
    assert record["base"]["sha256"] == hashlib.sha256(base_model.read_bytes()).hexdigest()
    assert record["base"]["fingerprint"] == base["fingerprint"]
    assert record["base"]["mechanism"]["name"] == "st" and record["base"]["seed"] == 3
    assert record["dataset"]["name"] == "digits" and record["seed"] == 5
    for i, member in enumerate(members):
        assert not states_equal(member, base["state_dict"])
        for other in members[i + 1 :]:
            assert not states_equal(member, other)
    models = load_collection(collection)
    assert len(models) == 3 and all(not m.training for m in models)
    x = torch.rand(4, 3, 8, 8)
    outputs = [m(x) for m in models]
    assert all(o.shape == (4, 10) for o in outputs)
    assert not torch.equal(outputs[0], outputs[1])
    # the package-level API returns the same members
    assert torch.equal(transferlab.load_collection(collection)[2](x), outputs[2])


def test_first_member_is_the_hand_written_fine_tuning_after_3_batches(
    base_model: Path, collection: Path
) -> None:
    # Independent loop: SGD (momentum 0.9, wd 1e-4, lr 0.05) on the mean CE, the
    # epoch's batches drawn from the generator seeded by epoch_seed(seed, 0, LGV's stream):
    # the optimizer and the architecture, never the base model's own training stream.
    base = load_model_record(base_model)
    model = place_model(build_model(**{**base["architecture"], "pretrained": False}), "cpu")
    model.load_state_dict(base["state_dict"])
    model.train()
    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    stream = "lgv:sgd:" + json.dumps(base["architecture"], sort_keys=True, separators=(",", ":"))
    generator = torch.Generator().manual_seed(epoch_seed(5, 0, stream))
    batches = data.training_data("digits", size=8).batches(128, generator)
    for _ in range(3):
        x, y = next(batches)
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    first = load_collection_record(collection)["members"][0]
    assert states_equal(first, model.state_dict())


def test_stop_and_resume_gives_the_same_collection_bit_for_bit(
    base_model: Path, tmp_path: Path
) -> None:
    spec = lgv_spec(base_model, epochs=2, per_epoch=2)
    full = tmp_path / "full.pt"
    build_collection(spec, full, log=quiet)
    resumed = tmp_path / "resumed.pt"
    checkpoint = tmp_path / "resumed.pt.epoch.pt"
    assert build_collection(spec, resumed, log=quiet, stop_after_epoch=1) == {}
    shard = tmp_path / "resumed.pt.epoch.pt.members-e1.pt"
    assert not resumed.exists() and checkpoint.exists()
    assert torch.load(checkpoint, weights_only=True)["member_files"] == [shard.name]
    assert len(torch.load(shard, weights_only=True)["members"]) == 2

    other = lgv_spec(base_model, epochs=2, per_epoch=2, lr=0.04)
    messages: list[str] = []
    build_collection(other, tmp_path / "other.pt", log=messages.append, stop_after_epoch=1)
    assert not any("resuming" in m for m in messages)

    messages = []
    build_collection(spec, resumed, log=messages.append)
    assert any("continuing at epoch 2" in m for m in messages)
    assert not checkpoint.exists() and not shard.exists()
    a = torch.load(full, weights_only=True)["members"]
    b = torch.load(resumed, weights_only=True)["members"]
    assert len(a) == len(b) == 4
    assert all(states_equal(m, n) for m, n in zip(a, b, strict=True))


def test_checkpoint_of_another_spec_is_not_resumed(base_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.pt"
    build_collection(
        lgv_spec(base_model, epochs=2, per_epoch=1), out, log=quiet, stop_after_epoch=1
    )
    messages: list[str] = []
    build_collection(lgv_spec(base_model, epochs=2, per_epoch=1, lr=0.04), out, log=messages.append)
    assert any("belongs to another spec" in m for m in messages)
    assert len(load_collection_record(out)["members"]) == 2


def test_checkpoint_without_its_member_shard_is_not_resumed(
    base_model: Path, tmp_path: Path
) -> None:
    spec = lgv_spec(base_model, epochs=2, per_epoch=1)
    out = tmp_path / "c.pt"
    build_collection(spec, out, log=quiet, stop_after_epoch=1)
    (tmp_path / "c.pt.epoch.pt.members-e1.pt").unlink()
    messages: list[str] = []
    build_collection(spec, out, log=messages.append)
    assert any("lacks its members" in m for m in messages)
    assert not any("resuming" in m for m in messages)
    build_collection(spec, tmp_path / "fresh.pt", log=quiet)
    a = load_collection_record(out)["members"]
    b = load_collection_record(tmp_path / "fresh.pt")["members"]
    assert all(states_equal(m, n) for m, n in zip(a, b, strict=True))


@pytest.mark.parametrize(("optimizer", "tau"), [("sam", 0.05), ("sam_jr", [0.05, 0.05])])
def test_sam_optimizers_build_collections(
    base_model: Path, tmp_path: Path, optimizer: str, tau: object
) -> None:
    out = tmp_path / f"{optimizer}.pt"
    record = build_collection(
        lgv_spec(base_model, optimizer=optimizer, tau=tau, per_epoch=1), out, log=quiet
    )
    assert record["lgv"]["mechanism"] == optimizer and record["lgv"]["tau"] == tau
    (member,) = load_collection_record(out)["members"]
    assert not states_equal(member, load_model_record(base_model)["state_dict"])


def test_bad_specs_raise_clear_errors(base_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "never.pt"
    with pytest.raises(FileNotFoundError, match="lgv spec 'base'"):
        build_collection(lgv_spec(tmp_path / "missing.pt"), out, log=quiet)
    not_a_model = tmp_path / "other.pt"
    torch.save({"format": "something-else/1"}, not_a_model)
    with pytest.raises(ValueError, match="'base' must be a trained model file"):
        build_collection(lgv_spec(not_a_model), out, log=quiet)
    with pytest.raises(ValueError, match=r"lgv.optimizer='adam' is unknown.*sam_jr"):
        build_collection(lgv_spec(base_model, optimizer="adam"), out, log=quiet)
    with pytest.raises(ValueError, match="K = epochs × per_epoch = 0 × 3"):
        build_collection(lgv_spec(base_model, epochs=0), out, log=quiet)
    with pytest.raises(ValueError, match=f"per_epoch=12 exceeds the {BATCHES_PER_EPOCH} batches"):
        build_collection(lgv_spec(base_model, per_epoch=12), out, log=quiet)
    with pytest.raises(ValueError, match="'sgd' takes no tau"):
        build_collection(lgv_spec(base_model, tau=0.1), out, log=quiet)
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['members_per_step'\]"):
        build_collection(lgv_spec(base_model, members_per_step=1), out, log=quiet)
    wrong_data = {**lgv_spec(base_model), "dataset": {"name": "digits", "options": {"size": 16}}}
    with pytest.raises(ValueError, match="differs from the base model's"):
        build_collection(wrong_data, out, log=quiet)
    assert not out.exists()


def test_loading_a_model_file_as_a_collection_names_the_format(base_model: Path) -> None:
    with pytest.raises(ValueError, match="expected a 'transferlab-lgv-collection/1' file"):
        load_collection(base_model)


# --- attacking a collection ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["pgd", "mi", "di", "dim"])
@pytest.mark.parametrize("targeted", [False, True])
def test_one_member_ensemble_equals_the_single_model_attack(name: str, targeted: bool) -> None:
    model = tiny_model(seed=0)
    x, y = batch(n=10)
    attack = build_attack(name, eps=8 / 255, steps=6, random_start=True, targeted=targeted)
    single = attack(model, x, y, generator=torch.Generator().manual_seed(7))
    ensemble = EnsembleSurrogate([model])
    assert torch.equal(attack(ensemble, x, y, generator=torch.Generator().manual_seed(7)), single)
    assert not ensemble.training and not model.training  # the attack left the modes as found


def test_two_members_mean_loss_equals_pgd_on_the_hand_averaged_loss() -> None:
    m1, m2 = tiny_model(seed=0), tiny_model(seed=1)
    x, y = batch(n=10)
    eps, alpha, steps = 8 / 255, 2 / 255, 5
    attack = build_attack("pgd", eps=eps, steps=steps, step_size=alpha)
    surrogate = EnsembleSurrogate([m1, m2], members_per_step=2)
    ours = attack(surrogate, x, y, generator=torch.Generator().manual_seed(0))

    x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        ce1 = F.cross_entropy(m1(x_adv), y, reduction="sum")
        ce2 = F.cross_entropy(m2(x_adv), y, reduction="sum")
        (grad,) = torch.autograd.grad((ce1 + ce2) / 2, x_adv)
        x_adv = x_adv.detach() + alpha * grad.sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)
    assert torch.equal(ours, x_adv)
    # and it is not what either member alone gives
    assert not torch.equal(ours, attack(m1, x, y, generator=torch.Generator().manual_seed(0)))


class RecordingMember(nn.Module):
    """A tiny model that appends its number to a shared list on every forward."""

    def __init__(self, number: int, calls: list[int]) -> None:
        super().__init__()
        self.number, self.calls = number, calls
        self.net = tiny_model(seed=number)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(self.number)
        return self.net(x)


def test_cycling_uses_the_members_in_the_documented_order() -> None:
    calls: list[int] = []
    members = [RecordingMember(i, calls) for i in range(3)]
    x, y = batch(n=6)
    attack = build_attack("pgd", eps=8 / 255, steps=7)
    surrogate = EnsembleSurrogate(members, order=[2, 0, 1])
    attack(surrogate, x, y, generator=torch.Generator().manual_seed(0))
    assert calls == [2, 0, 1, 2, 0, 1, 2]  # π[t mod K]

    calls.clear()  # n = 2: step t uses π[(2t) mod 3], π[(2t + 1) mod 3]
    surrogate = EnsembleSurrogate(members, order=[2, 0, 1], members_per_step=2)
    build_attack("pgd", eps=8 / 255, steps=3)(
        surrogate, x, y, generator=torch.Generator().manual_seed(0)
    )
    assert calls == [2, 0, 1, 2, 0, 1]

    calls.clear()  # every batch restarts the cycle at π[0]
    surrogate = EnsembleSurrogate(members, order=[1, 2, 0])
    run_attack(build_attack("pgd", eps=8 / 255, steps=2), surrogate, x, y, batch_size=3, seed=0)
    assert calls == [1, 2, 1, 2]


def test_ensemble_prediction_is_the_mean_of_member_logits() -> None:
    members = [tiny_model(seed=i) for i in range(3)]
    x, _ = batch(n=5)
    with torch.no_grad():
        expected = (members[0](x) + members[1](x) + members[2](x)) / 3
        torch.testing.assert_close(EnsembleSurrogate(members)(x), expected, rtol=0, atol=1e-6)


def test_member_order_is_a_seeded_permutation() -> None:
    order = member_order(40, seed=0)
    assert sorted(order) == list(range(40))
    assert order == member_order(40, seed=0) and order != member_order(40, seed=1)
    assert collection_surrogate([tiny_model()] * 40, seed=0).order == order


def test_ensemble_surrogate_rejects_bad_arguments() -> None:
    members = [tiny_model(seed=i) for i in range(2)]
    with pytest.raises(ValueError, match="members_per_step=3 must be an integer in 1..2"):
        EnsembleSurrogate(members, members_per_step=3)
    with pytest.raises(ValueError, match="must be a permutation of 0..1"):
        EnsembleSurrogate(members, order=[0, 0])
    with pytest.raises(ValueError, match="at least one member"):
        EnsembleSurrogate([])


def test_collection_crafting_writes_the_ae_format_with_its_identity(
    collection: Path, tmp_path: Path
) -> None:
    evaluation = {"split": "test", "n_samples": 12}
    outputs = [{"path": tmp_path / "t.h5", "mode": "targeted", "eps": 8}]
    attack = {"name": "pgd", "settings": {"steps": 3}}
    craft_adversarial_sets(
        collection, outputs, dataset=DATASET, evaluation=evaluation, attack=attack,
        batch_size=6, seed=2, collection=True, members_per_step=1, log=quiet,
    )  # fmt: skip
    adv = load_adversarial(tmp_path / "t.h5")
    assert adv.attrs["surrogate_sha256"] == hashlib.sha256(collection.read_bytes()).hexdigest()
    assert adv.attrs["surrogate_checkpoint"] == str(collection)
    assert adv.attrs["surrogate_kind"] == "lgv-collection"
    assert adv.attrs["members"] == 3 and adv.attrs["members_per_step"] == 1
    assert adv.attrs["member_order"] == member_order(3, seed=2)
    x, _ = data.load_dataset("digits", "test", limit=12, size=8)
    with torch.no_grad():
        mean_logits = sum(m(x) for m in load_collection(collection)) / 3
    assert (adv.pred_clean == mean_logits.argmax(1).numpy()).all()


def test_one_member_collection_crafts_what_its_model_file_crafts(
    base_model: Path, tmp_path: Path
) -> None:
    base = load_model_record(base_model)
    single = tmp_path / "single.pt"
    torch.save(
        {"format": COLLECTION_FORMAT, "architecture": base["architecture"],
         "members": [base["state_dict"]]},
        single,
    )  # fmt: skip
    kwargs = {
        "dataset": DATASET,
        "evaluation": {"split": "test", "n_samples": 12},
        "attack": {"name": "mi", "settings": {"steps": 3}},
        "batch_size": 6,
        "seed": 4,
        "log": quiet,
    }
    craft_adversarial_sets(
        base_model, [{"path": tmp_path / "m.h5", "mode": "untargeted", "eps": 8}], **kwargs
    )
    craft_adversarial_sets(
        single,
        [{"path": tmp_path / "c.h5", "mode": "untargeted", "eps": 8}],
        collection=True,
        **kwargs,
    )
    a, b = load_adversarial(tmp_path / "m.h5"), load_adversarial(tmp_path / "c.h5")
    assert (a.x_adv == b.x_adv).all() and (a.pred_adv == b.pred_adv).all()
    assert (a.pred_clean == b.pred_clean).all()
    assert not torch.equal(load_model(base_model)(torch.zeros(1, 3, 8, 8)), torch.zeros(1, 10))
