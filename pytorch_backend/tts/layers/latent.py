"""Gaussian latents of the VAE-style models: reparameterized sampling, the KL term with a
free-bits floor, and the KL weight schedule.

KL(q || p) for diagonal Gaussians q = N(mu, exp(logvar)), p = N(prior_mu, I), per dimension:
``0.5 * (exp(logvar) + (mu - prior_mu)^2 - 1 - logvar)``.

Posterior collapse (the decoder learns to ignore the latent because the KL term drives it to
the prior) is held off two ways:
- annealing: the KL weight rises from 0 after ``start`` steps, over ``anneal_steps`` steps
  (linear, or logistic centred halfway), so the latent is first used before it is regularized;
- a floor ("free bits", Kingma et al. 2016): each latent dimension's batch-mean KL counts as at
  least ``floor`` nats, so nothing pushes a dimension below that much information.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ANNEAL_SHAPES = ("linear", "logistic", "constant")


class GaussianHead(nn.Module):
    """A summary vector -> (mu, logvar) of a ``dim``-dimensional diagonal Gaussian."""

    def __init__(self, in_dim: int, dim: int):
        super().__init__()
        self.mu = nn.Linear(in_dim, dim)
        self.logvar = nn.Linear(in_dim, dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mu(x), self.logvar(x).clamp(-10.0, 10.0)


def sample(mu: torch.Tensor, logvar: torch.Tensor, training: bool) -> torch.Tensor:
    """Reparameterized sample in training; the mean otherwise (deterministic synthesis)."""
    if not training:
        return mu
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


def kl_per_dim(mu, logvar, prior_mu=None) -> torch.Tensor:
    """Batch-mean KL per latent dimension (D,)."""
    diff = mu if prior_mu is None else mu - prior_mu
    return (0.5 * (logvar.exp() + diff.pow(2) - 1.0 - logvar)).mean(0)


def kl_with_floor(mu, logvar, prior_mu=None, floor: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(KL summed over dims with each dim floored at ``floor`` nats, the raw KL summed) ."""
    per_dim = kl_per_dim(mu.float(), logvar.float(), None if prior_mu is None else prior_mu.float())
    return per_dim.clamp(min=floor).sum(), per_dim.sum()


def kl_weight_at(step: int, weight: float, start: int = 0, anneal_steps: int = 0,
                 shape: str = "linear") -> float:
    """The KL weight at ``step``: 0 before ``start``, then rising to ``weight`` over ``anneal_steps``."""
    if shape not in ANNEAL_SHAPES:
        raise ValueError(f"kl_anneal must be one of {ANNEAL_SHAPES}, got '{shape}'")
    if shape == "constant" or anneal_steps <= 0:
        return weight if step >= start else 0.0
    x = (step - start) / anneal_steps
    if x <= 0:
        return 0.0
    if shape == "linear":
        return weight * min(1.0, x)
    return weight / (1.0 + math.exp(-10.0 * (x - 0.5)))  # logistic: 0.007 at x=0, 0.5 at x=0.5
