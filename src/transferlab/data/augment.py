"""Training-time augmentation (SPEC §2), with all randomness from a ``torch.Generator``.

In-memory data sets (digits, CIFAR-10) augment whole batches at once on
tensors: zero-pad by ``pad``, crop back to the original size at a random
offset, optionally mirror horizontally — torchvision's RandomCrop(padding=pad)
followed by RandomHorizontalFlip, without per-sample Python work.
ImageNette augments per sample on PIL images (RandomResizedCrop + flip) with
crop boxes drawn here from a per-sample generator.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from transferlab.data.base import TrainingData, check_batch_size


def shift_crop(images: Tensor, pad: int, offsets: Tensor, flip: Tensor | None = None) -> Tensor:
    """Batched pad-and-crop (and mirror) with per-sample parameters.

    With P the images zero-padded by ``pad`` on every side and (oy_b, ox_b) =
    ``offsets[b]`` in [0, 2·pad]:
    out[b,c,i,j] = P[b, c, oy_b + i, ox_b + j], or P[b, c, oy_b + i, ox_b + W−1−j]
    where ``flip[b]`` (the crop is mirrored after cropping). Any dtype.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (N,C,H,W), got shape {tuple(images.shape)}")
    B, C, H, W = images.shape
    if offsets.shape != (B, 2):
        raise ValueError(f"offsets must have shape ({B}, 2), got {tuple(offsets.shape)}")
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    Hp, Wp = H + 2 * pad, W + 2 * pad
    padded = images.new_zeros(B, C, Hp, Wp)
    padded[:, :, pad : pad + H, pad : pad + W] = images
    offsets = offsets.to(device=images.device, dtype=torch.int64)
    rows = offsets[:, 0:1] + torch.arange(H, device=images.device)  # (B, H)
    col_range = torch.arange(W, device=images.device).expand(B, W)
    if flip is not None:
        col_range = torch.where(flip.to(images.device).view(B, 1), (W - 1) - col_range, col_range)
    cols = offsets[:, 1:2] + col_range  # (B, W)
    flat_index = (rows[:, :, None] * Wp + cols[:, None, :]).view(B, 1, H * W).expand(B, C, H * W)
    return torch.gather(padded.view(B, C, Hp * Wp), 2, flat_index).view(B, C, H, W)


def quantize_8bit(images: Tensor) -> Tensor:
    """8-bit pixels q = clamp(⌊255·x + ½⌋, 0, 255) of float images x in [0,1] (SPEC §7).

    Round half up, not truncation: 0.5/255 → 1, 0.49/255 → 0. The product is taken
    in float32, whose correctly rounded 255·x lands exactly on k + ½ for
    x = (k + ½)/255 where float64 would not. ``to_unit_float`` is the inverse on the
    grid: ``quantize_8bit(to_unit_float(q)) == q`` for every uint8 q.
    """
    scaled = images.detach().to(torch.float32) * 255.0
    return torch.floor(scaled + 0.5).clamp_(0, 255).to(torch.uint8)


def to_unit_float(images: Tensor) -> Tensor:
    """uint8 pixels p -> float32 p/255 (as torchvision's ToTensor); floats pass through."""
    if images.dtype == torch.uint8:
        return images.to(torch.float32).div_(255.0)
    return images.to(torch.float32)


class InMemoryTrainingData(TrainingData):
    """Training split held in memory, augmented by ``shift_crop`` per batch.

    ``images`` (N,3,H,W) uint8 (converted to [0,1] per batch) or float32 in
    [0,1]; ``pad`` the crop padding; ``flip`` whether to mirror with p=1/2.
    Per epoch, drawn from the generator in this order when ``batches`` is
    called: the permutation (randperm N), the crop offsets (N×2 ints in
    [0, 2·pad]), then, if ``flip``, N mirror bits.

    ``to(device)`` holds the images on an accelerator (the GPU path): the draws
    still come from the CPU generator, are copied to the device once per epoch,
    and every batch is indexed, cropped and converted there, so an epoch is the
    same sequence of batches as on the CPU, with no host round trip per batch.
    """

    def __init__(self, images: Tensor, labels: Tensor, *, pad: int, flip: bool) -> None:
        if images.ndim != 4 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"images (N,C,H,W) and labels (N,) must agree, got {tuple(images.shape)} "
                f"and {tuple(labels.shape)}"
            )
        self.images = images.contiguous()
        self.labels = labels.to(torch.int64)
        self.pad = pad
        self.flip = flip

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def device(self) -> torch.device:
        return self.images.device

    def to(self, device: torch.device | str) -> InMemoryTrainingData:
        """The same data held on ``device`` (a new object; CIFAR-10's 50k uint8 images are
        150 MiB)."""
        return InMemoryTrainingData(
            self.images.to(device), self.labels.to(device), pad=self.pad, flip=self.flip
        )

    def batches(
        self, batch_size: int, generator: torch.Generator, drop_last: bool = False
    ) -> Iterator[tuple[Tensor, Tensor]]:
        check_batch_size(batch_size)
        n = len(self)
        order = torch.randperm(n, generator=generator)
        offsets = torch.randint(0, 2 * self.pad + 1, (n, 2), generator=generator)
        flips = torch.randint(0, 2, (n,), generator=generator).bool() if self.flip else None
        # one copy per epoch to where the images are (a no-op on the CPU)
        order, offsets = order.to(self.device), offsets.to(self.device)
        flips = None if flips is None else flips.to(self.device)
        stop = n - n % batch_size if drop_last else n
        return self._epoch(order, offsets, flips, batch_size, stop)

    def _epoch(
        self, order: Tensor, offsets: Tensor, flips: Tensor | None, batch_size: int, stop: int
    ) -> Iterator[tuple[Tensor, Tensor]]:
        for start in range(0, stop, batch_size):
            end = min(start + batch_size, stop)
            index = order[start:end]
            batch_flips = None if flips is None else flips[start:end]
            cropped = shift_crop(self.images[index], self.pad, offsets[start:end], batch_flips)
            yield to_unit_float(cropped), self.labels[index]


def sample_resized_crop_box(
    height: int,
    width: int,
    generator: torch.Generator,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> tuple[int, int, int, int]:
    """Crop box (top, left, h, w) of RandomResizedCrop, drawn from ``generator``.

    Up to 10 tries: area fraction s ~ U(scale), log aspect r ~ U(log ratio),
    w = round(√(s·H·W·r)), h = round(√(s·H·W/r)); accept if it fits, with a
    uniform position. Otherwise a centred crop with the aspect ratio clamped to
    ``ratio`` — the same distribution as torchvision's RandomResizedCrop.
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        draws = torch.rand(2, generator=generator, dtype=torch.float64)
        target_area = area * (scale[0] + (scale[1] - scale[0]) * float(draws[0]))
        aspect = math.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * float(draws[1]))
        w = round(math.sqrt(target_area * aspect))
        h = round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, (1,), generator=generator))
            left = int(torch.randint(0, width - w + 1, (1,), generator=generator))
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, round(width / min(ratio))
    elif in_ratio > max(ratio):
        h, w = height, round(height * max(ratio))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w
