"""Architecture registry and model construction (SPEC §3).

Every model takes float32 images in [0,1] (normalization is its first layer)
and returns logits. Importing this package registers every family module.
"""

from transferlab.models import densenet, imagenet, inception, mobilenet, resnet, vgg  # noqa: F401
from transferlab.models.build import architecture_info, architecture_names, build_model
from transferlab.models.catalog import ARCHITECTURES, ArchitectureInfo, register_architecture
from transferlab.models.imagenet import PretrainedWeightsUnavailable
from transferlab.models.normalization import Normalize, NormalizedClassifier
from transferlab.models.placement import place_model, preferred_memory_format

__all__ = [
    "ARCHITECTURES",
    "ArchitectureInfo",
    "Normalize",
    "NormalizedClassifier",
    "PretrainedWeightsUnavailable",
    "architecture_info",
    "architecture_names",
    "build_model",
    "place_model",
    "preferred_memory_format",
    "register_architecture",
]
