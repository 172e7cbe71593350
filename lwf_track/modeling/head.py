"""RetinaNet head plus the Re-ID branch: per anchor, class logits, box deltas and an embedding."""

from typing import List

from torch import Tensor, nn

from detectron2.config import configurable
from detectron2.layers import CycleBatchNormList, ShapeSpec, get_norm
from detectron2.modeling.meta_arch.retinanet import RetinaNetHead


class LWFTrackerHead(RetinaNetHead):
    """RetinaNetHead with a third tower: conv layers then a conv to D embedding channels per anchor.

    The Re-ID tower has its own parameters (like the cls and box towers) so appearance features do
    not compete with detection features inside one tower.
    """

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
    ):
        """
        Args:
            reid_conv_dims: output channels of each conv of the Re-ID tower.
            embed_dim: D, channels of the (not yet normalised) embedding per anchor.
            Others: see :class:`RetinaNetHead`.
        """
        super().__init__(
            input_shape=input_shape,
            num_classes=num_classes,
            num_anchors=num_anchors,
            conv_dims=conv_dims,
            norm=norm,
            prior_prob=prior_prob,
        )
        self.embed_dim = embed_dim
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
        return ret

    def forward(self, features: List[Tensor]):
        """
        Returns:
            logits, bbox_reg: as :meth:`RetinaNetHead.forward`.
            embeddings (list[Tensor]): per level (N, A*D, Hi, Wi), not normalised.
        """
        logits, bbox_reg = super().forward(features)
        embeddings = [self.reid_embed(self.reid_subnet(f)) for f in features]
        return logits, bbox_reg, embeddings
