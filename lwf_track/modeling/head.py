"""RetinaNet head plus the Re-ID branch: per anchor, class logits, box deltas and an embedding."""

from functools import partial
from typing import Callable, List, Tuple

import torch
from torch import Tensor, nn

from detectron2.config import configurable
from detectron2.layers import CycleBatchNormList, ShapeSpec, get_norm
from detectron2.modeling.meta_arch.retinanet import RetinaNetHead

from .sparse_conv import convs_at, position_grid


class LWFTrackerHead(RetinaNetHead):
    """RetinaNetHead with a third tower: conv layers then a conv to D embedding channels per anchor.

    The Re-ID tower has its own parameters (like the cls and box towers) so appearance features do
    not compete with detection features inside one tower.

    With ``sparse_inference``, :meth:`forward` in eval mode returns ``None`` for the embeddings and
    :meth:`embeddings_at` computes them at the kept detections only.
    """

    # Norms that act on every position alone, so a few positions give the same result as the map.
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

    def embeddings_at(self, features: List[Tensor], levels: Tensor, anchors: Tensor) -> Tensor:
        """(K, D) embeddings, not normalised, of K anchors of one image.

        Equal to the dense tower's output at those anchors: each conv of the tower runs only at
        the positions the next one reads (:func:`~.sparse_conv.convs_at`), all levels together
        (the convs are shared across levels, the BN statistics per level).

        Args:
            features: per level, (C, H_l, W_l) of one image.
            levels: (K,) FPN level of each anchor.
            anchors: (K,) index of each into its level's (H x W x A) anchors, in the order of
                ``DenseDetector._transpose_dense_predictions``.
        """
        if len(anchors) == 0:
            return features[0].new_zeros((0, self.embed_dim))
        grid = position_grid(tuple(tuple(f.shape[-2:]) for f in features), features[0].device)
        positions = torch.div(anchors, self.num_anchors, rounding_mode="floor")
        wanted = grid.id_of_row[grid.first_row[levels] + positions]
        x = convs_at(features, grid, wanted, self._reid_stages())
        embeddings = x.reshape(len(x), self.num_anchors, self.embed_dim)
        return embeddings[torch.arange(len(x), device=x.device), anchors % self.num_anchors]

    def _reid_stages(self) -> List[Tuple[nn.Conv2d, Callable[[Tensor, Tensor], Tensor]]]:
        """The Re-ID tower and embedding conv as :func:`~.sparse_conv.convs_at` stages: each conv
        with the layers that follow it, applied to rows of positions of known levels."""
        stages = []
        for layer in [*self.reid_subnet, self.reid_embed]:
            if isinstance(layer, nn.Conv2d):
                stages.append((layer, []))
            else:
                stages[-1][1].append(layer)
        return [(conv, partial(_rows_through, following)) for conv, following in stages]


def _rows_through(layers: List[nn.Module], rows: Tensor, levels: Tensor) -> Tensor:
    """Per-position layers (activations, eval-mode norms) on rows (N, C) of positions whose FPN
    levels are ``levels``; a per-level BN list uses each level's own BN."""
    for layer in layers:
        if isinstance(layer, CycleBatchNormList):
            out = torch.empty_like(rows)
            for level, norm in enumerate(layer):
                chosen = levels == level
                out[chosen] = norm(rows[chosen][:, :, None, None]).flatten(1)
            rows = out
        else:
            rows = layer(rows[:, :, None, None]).flatten(1)
    return rows
