"""transferlab: surrogate training, smoothness, gradient similarity and transfer attacks.

Rebuilds "Why Does Little Robustness Help?" (IEEE S&P 2024). The notebook API:

- ``load_model(path)``: a trained model, eval mode, on [0,1] images.
- ``load_collection(path)``: the members of an LGV collection, eval-mode models as above.
- ``load_dataset(name, split, **options)``: evaluation images in [0,1] and labels.
- ``load_adversarial(path)``: a stored set of adversarial examples.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_adversarial", "load_collection", "load_dataset", "load_model"]


def load_model(path: Any, device: Any = "cpu") -> Any:
    """A trained model from its file, in eval mode, taking [0,1] images."""
    from transferlab.training.checkpoints import load_model as _load_model

    return _load_model(path, device=device)


def load_collection(path: Any, device: Any = "cpu") -> Any:
    """The K members of an LGV collection file (collection order), eval mode, on [0,1] images."""
    from transferlab.lgv.collection import load_collection as _load_collection

    return _load_collection(path, device=device)


def load_dataset(name: str, split: str = "test", **options: Any) -> Any:
    """Evaluation images (float32 in [0,1], N×3×H×W) and int64 labels of a data set split."""
    from transferlab.data import load_dataset as _load_dataset

    return _load_dataset(name, split, **options)


def load_adversarial(path: Any, **kwargs: Any) -> Any:
    """The arrays and attributes of one stored adversarial-example file."""
    from transferlab.transfer.store import load_adversarial as _load_adversarial

    return _load_adversarial(path, **kwargs)
