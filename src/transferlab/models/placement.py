"""Where a model's weights live: device and memory format.

On the CPU, convolutions in channels-last (NHWC) layout run through oneDNN's
blocked kernels, which the tiny digits networks and the CIFAR Inception-v3 and
DenseNet need: training steps and evaluation passes are faster than in the
default NCHW layout for every architecture (benchmarks/README.md,
bench_memory_format.py). On CUDA, cuDNN's
tensor-core convolutions (bf16, and TF32 for fp32 on Ampere and later) are NHWC
kernels: channels-last there saves the layout transposes around every
convolution (the GPU path, docs/scale.md), so CUDA is placed the same way.
Other devices (mps) keep the default layout.
Inputs need no conversion: a convolution whose weight is channels-last returns
channels-last activations whatever the layout of its input. Values are the
same function of the inputs in either layout, up to float rounding.
"""

from __future__ import annotations

import torch
from torch import nn


def preferred_memory_format(device: torch.device | str) -> torch.memory_format:
    """``torch.channels_last`` on the CPU and CUDA, ``torch.contiguous_format`` elsewhere."""
    if torch.device(device).type in ("cpu", "cuda"):
        return torch.channels_last
    return torch.contiguous_format


def place_model(model: nn.Module, device: torch.device | str) -> nn.Module:
    """Move ``model`` to ``device`` in that device's preferred memory format (in place)."""
    return model.to(device=device, memory_format=preferred_memory_format(device))
