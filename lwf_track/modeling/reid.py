"""Re-ID identity classifier and the focal Re-ID loss (paper eq. 6)."""

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def default_id_scale(num_identities: int) -> float:
    """s = sqrt(2) * ln(nID - 1), the logit scale JDE and FairMOT use on normalised embeddings."""
    return math.sqrt(2) * math.log(max(num_identities - 1, 2))


class IdentityClassifier(nn.Module):
    """Linear classifier over the training identities, applied to s * normalised embedding.

    Only used for training: at inference the normalised embedding itself is the Re-ID feature.
    """

    def __init__(self, embed_dim: int, num_identities: int, scale: float = 0.0):
        super().__init__()
        if num_identities < 1:
            raise ValueError(f"num_identities must be >= 1, got {num_identities}")
        self.num_identities = num_identities
        self.scale = scale if scale > 0 else default_id_scale(num_identities)
        self.fc = nn.Linear(embed_dim, num_identities)
        nn.init.normal_(self.fc.weight, std=0.01)
        nn.init.constant_(self.fc.bias, 0.0)

    def forward(self, normalized_embeddings: Tensor) -> Tensor:
        return self.fc(self.scale * normalized_embeddings)


def focal_identity_loss(logits: Tensor, targets: Tensor, alpha: float, gamma: float) -> Tensor:
    """Softmax focal loss averaged over samples; zero (not NaN) when there are no samples.

    FL = -alpha_t (1 - p_t)^gamma log p_t with p_t the probability of the true identity;
    alpha < 0 disables the alpha_t factor (the multi-class case has no natural alpha_t).
    """
    if targets.numel() == 0:
        return logits.sum() * 0.0
    ce = F.cross_entropy(logits, targets, reduction="none")
    p_t = torch.exp(-ce)
    loss = (1.0 - p_t) ** gamma * ce
    if alpha >= 0:
        loss = alpha * loss
    return loss.mean()
