"""RetinaNet head plus the Re-ID branch: per anchor, class logits, box deltas and an embedding."""

from typing import List

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from detectron2.config import configurable
from detectron2.layers import CycleBatchNormList, ShapeSpec, get_norm
from detectron2.modeling.meta_arch.retinanet import RetinaNetHead


class LWFTrackerHead(RetinaNetHead):
    """RetinaNetHead with a third tower: conv layers then a conv to D embedding channels per anchor.

    The Re-ID tower has its own parameters (like the cls and box towers) so appearance features do
    not compete with detection features inside one tower.

    With ``sparse_inference``, :meth:`forward` in eval mode returns ``None`` for the embeddings and
    :meth:`embeddings_at` computes them at the kept detections only.
    """

    # Norms that act on every position alone, so a patch gives the same result as the full map.
    PER_POSITION_NORMS = ("", "BN", "SyncBN", "FrozenBN")

    @configurable
    def __init__(
        self,
        *,
        input_shape: List[ShapeSpec],
        num_classes: int,
        num_anchors: int,
        conv_dims: List[int],
        reid_conv_dims: List[int],
        embed_dim: int,
        norm="",
        prior_prob=0.01,
        sparse_inference: bool = False,
    ):
        """
        Args:
            reid_conv_dims: output channels of each conv of the Re-ID tower.
            embed_dim: D, channels of the (not yet normalised) embedding per anchor.
            sparse_inference: in eval mode, leave the embeddings to :meth:`embeddings_at`.
            Others: see :class:`RetinaNetHead`.
        """
        if sparse_inference and norm not in self.PER_POSITION_NORMS:
            raise ValueError(
                f"sparse Re-ID inference needs a per-position norm {self.PER_POSITION_NORMS}, "
                f"got {norm!r}: set MODEL.REID.SPARSE_INFERENCE False"
            )
        super().__init__(
            input_shape=input_shape,
            num_classes=num_classes,
            num_anchors=num_anchors,
            conv_dims=conv_dims,
            norm=norm,
            prior_prob=prior_prob,
        )
        self.embed_dim = embed_dim
        self.num_anchors = num_anchors
        self.sparse_inference = sparse_inference
        layers = []
        in_channels = input_shape[0].channels
        for out_channels in reid_conv_dims:
            layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
            if norm:
                layers.append(self._make_norm(norm, out_channels, len(input_shape)))
            layers.append(nn.ReLU())
            in_channels = out_channels
        self.reid_subnet = nn.Sequential(*layers)
        self.reid_embed = nn.Conv2d(in_channels, num_anchors * embed_dim, kernel_size=3, padding=1)
        for layer in [*self.reid_subnet.modules(), self.reid_embed]:
            if isinstance(layer, nn.Conv2d):
                nn.init.normal_(layer.weight, mean=0, std=0.01)
                nn.init.constant_(layer.bias, 0)

    @staticmethod
    def _make_norm(norm: str, channels: int, num_levels: int) -> nn.Module:
        """Per-level BN as RetinaNetHead does (BN statistics differ between FPN levels)."""
        if norm in ("BN", "SyncBN"):
            bn_class = nn.BatchNorm2d if norm == "BN" else nn.SyncBatchNorm
            return CycleBatchNormList(length=num_levels, bn_class=bn_class, num_features=channels)
        return get_norm(norm, channels)

    @classmethod
    def from_config(cls, cfg, input_shape: List[ShapeSpec]):
        ret = super().from_config(cfg, input_shape)
        ret["reid_conv_dims"] = [input_shape[0].channels] * cfg.MODEL.REID.NUM_CONVS
        ret["embed_dim"] = cfg.MODEL.REID.EMBED_DIM
        ret["sparse_inference"] = cfg.MODEL.REID.SPARSE_INFERENCE
        return ret

    def forward(self, features: List[Tensor]):
        """
        Returns:
            logits, bbox_reg: as :meth:`RetinaNetHead.forward`.
            embeddings (list[Tensor] or None): per level (N, A*D, Hi, Wi), not normalised; None
                in eval mode with ``sparse_inference`` (see :meth:`embeddings_at`).
        """
        logits, bbox_reg = super().forward(features)
        if self.sparse_inference and not self.training:
            return logits, bbox_reg, None
        embeddings = [self.reid_embed(self.reid_subnet(f)) for f in features]
        return logits, bbox_reg, embeddings

    def embeddings_at(self, features: List[Tensor], anchor_indices: List[Tensor]) -> List[Tensor]:
        """(K_l, D) embeddings, not normalised, of the given anchors of one image, per level.

        Equal to the dense tower's output at those anchors: the tower (r 3x3 convs in all) runs
        "valid" on the (2r+1)^2 patch around each anchor's position, and positions outside the
        map are zeroed before each conv, as the dense convs' zero padding does. The patches of
        all levels go through each conv together (the convs are shared across levels).

        Args:
            features: per level, (C, H_l, W_l) of one image.
            anchor_indices: per level, (K_l,) indices into the level's (H x W x A) anchors, in the
                order of ``DenseDetector._transpose_dense_predictions``.
        """
        counts = [len(indices) for indices in anchor_indices]
        if sum(counts) == 0:
            return [features[0].new_zeros((0, self.embed_dim)) for _ in counts]
        radius = 1 + sum(isinstance(m, nn.Conv2d) for m in self.reid_subnet)
        patches, masks, anchors = [], [], []
        for feature, indices in zip(features, anchor_indices):
            if len(indices) == 0:
                continue
            patch, mask = self._patches(feature, indices, radius)
            patches.append(patch)
            masks.append(mask)
            anchors.append(indices % self.num_anchors)
        x, mask = torch.cat(patches), torch.cat(masks)
        for layer in [*self.reid_subnet, self.reid_embed]:
            if isinstance(layer, nn.Conv2d):
                x = F.conv2d(x * mask, layer.weight, layer.bias)
                mask = mask[:, :, 1:-1, 1:-1]
            elif isinstance(layer, CycleBatchNormList):  # per-level statistics
                x = torch.cat([layer[i](part) for i, part in enumerate(x.split(counts))])
            else:
                x = layer(x)
        embeddings = x.reshape(len(x), self.num_anchors, self.embed_dim)
        embeddings = embeddings[torch.arange(len(x), device=x.device), torch.cat(anchors)]
        return list(embeddings.split(counts))

    def _patches(self, feature: Tensor, anchor_indices: Tensor, radius: int):
        """(K, C, P, P) patches of ``feature`` (C, H, W) centred on the anchors' positions, and
        (K, 1, P, P) masks of the positions inside the map; P = 2 radius + 1. Both are windows
        of the zero-padded map (a strided view, then one gather): fewer small ops than building
        clamped indices per patch, about 0.1 ms a frame less at the demo's size."""
        height, width = feature.shape[-2:]
        size = 2 * radius + 1
        positions = torch.div(anchor_indices, self.num_anchors, rounding_mode="floor")
        rows, cols = torch.div(positions, width, rounding_mode="floor"), positions % width

        def windows(tensor: Tensor) -> Tensor:
            padded = F.pad(tensor, (radius, radius, radius, radius))
            return padded.unfold(1, size, 1).unfold(2, size, 1)[:, rows, cols].transpose(0, 1)

        return windows(feature), windows(feature.new_ones((1, height, width)))
