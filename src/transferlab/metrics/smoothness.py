"""Model smoothness: the dominant eigenvalue of the per-sample input Hessian (SPEC §5).

Definition 1 of the paper: σ(x, y) = dominant eigenvalue of ∇²ₓ ℓ(f(x), y), with
ℓ the cross-entropy of ONE sample and x the raw [0,1] pixels (normalization is
the model's first layer). A model's smoothness is the mean of σ over a sample
set; smaller means smoother.

It must be computed per sample: the Hessian of a batch's mean loss is
block-diagonal with blocks H_b / B, so its top eigenvalue is max_b λ_b / B, which
is neither a per-sample value nor their mean. Both estimators here keep samples
apart while still running the network on whole batches, which is valid because
in eval mode (BN with running statistics, no dropout) sample b's logits depend
on x_b only.

Two estimators:

* ``exact`` — for networks piecewise linear in x (ReLU, max/avg pooling, affine
  BN, linear layers). Then f is locally affine, so almost everywhere
  H = Jᵀ S J with J = ∂f/∂x (C×D) and S = diag(p) − ppᵀ, p = softmax(f).
  Writing S = Aᵀ A with A = diag(√p)(I − 1pᵀ) (check: Aᵀ A = diag(p) − 2ppᵀ +
  p(Σp)pᵀ = S), the non-zero eigenvalues of H = (AJ)ᵀ(AJ) are those of the
  symmetric PSD C×C matrix M = (AJ)(AJ)ᵀ. J comes from C vector-Jacobian
  products (one backward per class for the whole batch) and M's eigenvalues
  from ``eigvalsh`` in float64. No square root of S and no non-symmetric
  product (JJᵀ)S is formed, so the result is symmetric by construction.
* ``iterative`` — for any twice-differentiable network: Lanczos with full
  re-orthogonalization on Hessian-vector products (double backprop), one Krylov
  space per sample, all samples of a batch advanced together by one batched
  HVP per iteration.

"Dominant" is taken as largest magnitude and reported as |λ_max| (the authors
report |λ_max| from Lanczos; SPEC §5): the iterative estimator returns the
absolute value of the Ritz value of largest magnitude; for the exact estimator
H is PSD, so |λ_max| is its largest eigenvalue.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from transferlab.precision import full_precision

Method = Literal["auto", "exact", "iterative"]
METHODS: tuple[str, ...] = ("auto", "exact", "iterative")


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run ``model`` in eval mode with frozen parameters; restore both flags after.

    Only input derivatives are needed; with ``requires_grad`` left on, the
    convolution backward kernels still spend time on weight gradients (slower
    VJPs: benchmarks/README.md), so parameters are frozen for the duration.
    """
    modes = [(module, module.training) for module in model.modules()]
    flags = [(parameter, parameter.requires_grad) for parameter in model.parameters()]
    model.eval()
    for parameter, _ in flags:
        parameter.requires_grad_(False)
    try:
        yield model
    finally:
        for module, training in modes:
            module.train(training)
        for parameter, requires_grad in flags:
            parameter.requires_grad_(requires_grad)


def check_samples(x: Tensor, y: Tensor) -> None:
    """Raise ValueError unless ``x`` is a float batch (N, ...) and ``y`` int labels (N,)."""
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() < 2:
        raise ValueError(
            "x must be a floating-point tensor of shape (N, ...) with N samples, e.g. "
            f"float32 images (N, 3, H, W) in [0,1]; got {type(x).__name__} "
            f"{getattr(x, 'dtype', '')} {tuple(getattr(x, 'shape', ()))}"
        )
    if not isinstance(y, Tensor) or y.dtype != torch.int64 or y.shape != (x.shape[0],):
        raise ValueError(
            f"y must be an int64 label tensor of shape ({x.shape[0]},) matching x; got "
            f"{type(y).__name__} {getattr(y, 'dtype', '')} {tuple(getattr(y, 'shape', ()))}"
        )


def check_batch_size(batch_size: int) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")


def exact_top_eigenvalue(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Exact σ for one batch of a piecewise-linear model (Definition 1, SPEC §5).

    σ_b = λ_max(M_b), M_b = A_b J_b J_bᵀ A_bᵀ, A_b = diag(√p_b)(I − 1p_bᵀ), which
    equals λ_max(J_bᵀ(diag(p_b) − p_b p_bᵀ)J_b) = λ_max(∇²ₓℓ(f(x_b), y_b)) a.e.
    The label drops out: the CE Hessian of a locally affine f does not depend
    on y. Returns float64 values of shape (B,).
    """
    del y  # the Gauss-Newton form is label-free; kept for a uniform signature
    x = x.detach().requires_grad_(True)
    logits = model(x)
    if logits.dim() != 2 or logits.shape[0] != x.shape[0]:
        raise ValueError(f"model must return logits (B, C); got shape {tuple(logits.shape)}")
    num_classes = logits.shape[1]
    rows: list[Tensor] = []
    for c in range(num_classes):
        # Sum over the batch is the batched VJP with one-hot e_c per sample:
        # sample b's gradient only sees f_c(x_b) in eval mode.
        (grad,) = torch.autograd.grad(logits[:, c].sum(), x, retain_graph=c < num_classes - 1)
        rows.append(grad.reshape(x.shape[0], -1).to(torch.float64))
    jacobian = torch.stack(rows, dim=1)  # (B, C, D)
    p = torch.softmax(logits.detach().to(torch.float64), dim=1)  # (B, C)
    # (AJ)_i = √p_i (J_i − Σ_j p_j J_j): centring in float64 before the Gram
    # product avoids cancellation when all classes share a large gradient part.
    centred = jacobian - torch.einsum("bc,bcd->bd", p, jacobian).unsqueeze(1)
    scaled = p.sqrt().unsqueeze(2) * centred
    gram = scaled @ scaled.transpose(1, 2)  # (B, C, C), symmetric PSD
    gram = 0.5 * (gram + gram.transpose(1, 2))
    return torch.linalg.eigvalsh(gram)[:, -1]


def hessian_vector_product_fn(model: nn.Module, x: Tensor, y: Tensor) -> Callable[[Tensor], Tensor]:
    """Return v ↦ (∇²ₓ ℓ(f(x_b), y_b) v_b)_b for a batch, sharing one double-backprop graph.

    Summing the per-sample losses is exact here: ∂²(Σ_b ℓ_b)/∂x_b∂x_b' = 0 for
    b ≠ b' in eval mode, so the batched HVP is the stack of per-sample HVPs.
    """
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x, create_graph=True)

    def hvp(v: Tensor) -> Tensor:
        (hv,) = torch.autograd.grad(
            grad, x, grad_outputs=v.reshape(x.shape).to(x.dtype), retain_graph=True
        )
        return hv.reshape(x.shape[0], -1).to(torch.float64)

    return hvp


def lanczos_top_eigenvalue(
    hvp: Callable[[Tensor], Tensor], start: Tensor, *, tol: float = 1e-4, max_iter: int = 100
) -> tuple[Tensor, Tensor]:
    """Batched Lanczos: the largest-magnitude eigenvalue of B symmetric operators.

    ``hvp`` maps (B, D) float64 to (B, D) float64 (row b: H_b v_b); ``start`` is
    (B, D). Full re-orthogonalization against all previous Lanczos vectors keeps
    the Ritz values free of ghost copies. Sample b stops when the residual bound
    |β_k s_k| of its largest-magnitude Ritz pair (the a-posteriori error bound
    for a symmetric matrix) is ≤ tol·|θ|, or when its Krylov space becomes
    invariant (β ≈ 0: the Ritz values are then exact). Returns (values (B,),
    converged (B,) bool).
    """
    batch, dim = start.shape
    q = start / start.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
    basis: list[Tensor] = [q]
    alphas: list[Tensor] = []
    betas: list[Tensor] = []
    value = torch.zeros(batch, dtype=torch.float64, device=start.device)
    done = torch.zeros(batch, dtype=torch.bool, device=start.device)
    steps = min(max_iter, dim)
    for k in range(steps):
        w = hvp(q)
        alpha = (w * q).sum(dim=1)
        alphas.append(alpha)
        stacked = torch.stack(basis, dim=1)  # (B, k+1, D)
        # Two passes of classical Gram-Schmidt ("twice is enough").
        for _ in range(2):
            w = w - torch.einsum("bk,bkd->bd", torch.einsum("bkd,bd->bk", stacked, w), stacked)
        beta = w.norm(dim=1)
        tridiagonal = torch.diag_embed(torch.stack(alphas, dim=1))
        if betas:
            off = torch.stack(betas, dim=1)
            tridiagonal = tridiagonal + torch.diag_embed(off, 1) + torch.diag_embed(off, -1)
        ritz, vectors = torch.linalg.eigh(tridiagonal)
        pick = ritz.abs().argmax(dim=1)
        theta = ritz.gather(1, pick[:, None]).squeeze(1)
        last = vectors[:, -1, :].gather(1, pick[:, None]).squeeze(1)
        residual = (beta * last).abs()
        scale = torch.maximum(theta.abs(), alpha.abs()).clamp_min(torch.finfo(torch.float64).tiny)
        invariant = beta <= 1e-10 * scale
        newly = ~done & ((residual <= tol * theta.abs()) | invariant)
        value = torch.where(newly, theta, value)
        done = done | newly
        if bool(done.all()) or k == steps - 1:
            value = torch.where(done, value, theta)
            break
        # An invariant subspace leaves nothing to expand; a zero vector keeps
        # that sample's later (ignored) rows well defined.
        q = torch.where(
            invariant[:, None], torch.zeros_like(w), w / beta.clamp_min(1e-300)[:, None]
        )
        betas.append(torch.where(invariant, torch.zeros_like(beta), beta))
        basis.append(q)
    return value, done


def iterative_top_eigenvalue(
    model: nn.Module, x: Tensor, y: Tensor, *, tol: float = 1e-4, max_iter: int = 100, seed: int = 0
) -> Tensor:
    """σ for one batch by batched Lanczos on input-Hessian-vector products (Definition 1).

    The start vector is one fixed random direction (from ``seed``) shared by all
    samples, so a sample's value does not depend on the batch it is in.
    Returns float64 values (B,): |λ| of the eigenvalue of largest magnitude (SPEC §5),
    like the exact estimator, whatever its sign.
    """
    hvp = hessian_vector_product_fn(model, x, y)
    dim = x[0].numel()
    generator = torch.Generator().manual_seed(seed)
    direction = torch.randn(dim, generator=generator, dtype=torch.float64).to(x.device)
    start = direction.expand(x.shape[0], dim).clone()
    values, converged = lanczos_top_eigenvalue(hvp, start, tol=tol, max_iter=max_iter)
    if not bool(converged.all()):
        warnings.warn(
            f"Lanczos did not reach tol={tol} within max_iter={max_iter} for "
            f"{int((~converged).sum())} of {converged.numel()} samples; their values are the "
            "last Ritz estimates (raise max_iter)",
            RuntimeWarning,
            stacklevel=3,
        )
    return values.abs()


def input_hessian_top_eigenvalue(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    method: Method = "auto",
    batch_size: int = 32,
    tol: float = 1e-4,
    max_iter: int = 100,
    seed: int = 0,
) -> Tensor:
    """Per-sample model smoothness σ(x_n, y_n) (Definition 1, SPEC §5), shape (N,), float64.

    σ(x, y) = dominant eigenvalue of ∇²ₓ CE(f(x), y) w.r.t. raw [0,1] pixels, one
    sample at a time, model in eval mode (its train/eval flags are restored after).

    ``method``: ``"exact"`` computes λ_max(Jᵀ(diag(p) − ppᵀ)J) from C
    vector-Jacobian products — the Hessian itself only for networks piecewise
    linear in x (a model whose ``piecewise_linear`` attribute is False is
    rejected); ``"iterative"`` runs Lanczos on Hessian-vector products and works
    for any twice-differentiable model (``tol``: relative residual bound,
    ``max_iter``: Lanczos steps cap; ``seed``: start vector); ``"auto"`` picks
    ``exact`` when ``model.piecewise_linear`` is True, else ``iterative``.
    ``batch_size`` only trades memory for speed: values do not depend on it.
    Always float32 arithmetic: an enclosing autocast is disabled.
    """
    check_samples(x, y)
    check_batch_size(batch_size)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not (isinstance(tol, float | int) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    if not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
    declared = getattr(model, "piecewise_linear", None)
    if method == "auto":
        method = "exact" if declared is True else "iterative"
    if method == "exact" and declared is False:
        raise ValueError(
            "method='exact' needs a network that is piecewise linear in x, but "
            "model.piecewise_linear is False; use method='iterative' (or 'auto')"
        )
    out: list[Tensor] = []
    # σ is a measurement: float32 even inside a bf16 autocast region (transferlab.precision).
    with eval_mode(model), full_precision(x.device):
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            if method == "exact":
                out.append(exact_top_eigenvalue(model, xb, yb))
            else:
                out.append(
                    iterative_top_eigenvalue(
                        model, xb, yb, tol=float(tol), max_iter=max_iter, seed=seed
                    )
                )
    return torch.cat(out).detach().cpu()


def smoothness_summary(values: Tensor | Sequence[float]) -> dict[str, float]:
    """Summary of per-sample σ values: the model's smoothness is their mean (SPEC §5).

    Returns ``{"mean", "std" (sample std, ddof=1; NaN when n = 1), "median", "n"}``.
    """
    summary = describe_values(values, name="smoothness values")
    return {key: summary[key] for key in ("mean", "std", "median", "n")}


def describe_values(values: Tensor | Sequence[float], *, name: str) -> dict[str, float]:
    """mean, sample std (ddof=1), median, min and count of a 1-D set of finite values."""
    v = torch.as_tensor(values, dtype=torch.float64).detach().cpu().reshape(-1)
    if v.numel() == 0:
        raise ValueError(f"{name} is empty; pass at least one per-sample value")
    bad = int((~torch.isfinite(v)).sum())
    if bad:
        raise ValueError(f"{name} has {bad} non-finite entries (NaN/inf); fix the inputs first")
    n = v.numel()
    return {
        "mean": float(v.mean()),
        "std": float(v.std(correction=1)) if n > 1 else math.nan,
        "median": float(v.median()) if n % 2 else float(v.quantile(0.5)),
        "min": float(v.min()),
        "n": n,
    }
