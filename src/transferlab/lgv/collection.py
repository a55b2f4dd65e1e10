"""LGV collection files: the K members of an LGV run with their provenance, and loading them
(SPEC §4 "LGV"; Gubri et al., ECCV 2022; the paper's Sec. 5.2 and Tab. V).

``finetune.build_collection`` writes the file; it loads with ``torch.load(weights_only=True)``:

- collection (``COLLECTION_FORMAT``): ``members`` (K state dicts, collection
  order), ``architecture`` (``build_model`` kwargs, the base's), ``dataset``,
  ``base`` {path, sha256, fingerprint, mechanism, seed}, ``lgv`` (the resolved
  ``LGVConfig`` plus mechanism, members, batches_per_epoch,
  collection_points), ``seed``, ``fingerprint``, ``versions``, ``created``.

``LGVConfig`` is in ``config``; ``load_collection`` gives the members as eval-mode models.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from transferlab.training.checkpoints import load_file

COLLECTION_FORMAT = "transferlab-lgv-collection/1"


def load_collection_record(path: str | Path) -> dict[str, Any]:
    """The whole collection file (format checked): members plus provenance (module docstring)."""
    record = load_file(path, COLLECTION_FORMAT)
    members = record.get("members")
    if not isinstance(members, list) or not members:
        raise ValueError(f"{path}: an LGV collection needs a non-empty 'members' list")
    return record


def collection_models(
    record: Mapping[str, Any], device: str | torch.device = "cpu"
) -> list[nn.Module]:
    """The members of a loaded collection record as eval-mode models on [0,1] images."""
    from transferlab.models import build_model, place_model

    # One build (its random initialization is overwritten), then a copy per member.
    template = build_model(**{**record["architecture"], "pretrained": False})
    models = []
    for state in record["members"]:
        member = copy.deepcopy(template)
        member.load_state_dict(state)
        place_model(member, device)
        models.append(member.eval())
    return models


def load_collection(path: str | Path, device: str | torch.device = "cpu") -> list[nn.Module]:
    """The K members of an LGV collection file, in collection order, as eval-mode models
    taking [0,1] images (like ``load_model``); ValueError if it is not a collection file."""
    return collection_models(load_collection_record(path), device)
