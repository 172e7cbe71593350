"""LWFTracker: RetinaNet with a Re-ID branch, three task losses and a learned loss weighting."""

from typing import Dict, List

import torch
from fvcore.nn import sigmoid_focal_loss_jit
from torch import Tensor, nn
from torch.nn import functional as F

from detectron2.config import configurable
from detectron2.layers import batched_nms, cat
from detectron2.modeling import META_ARCH_REGISTRY, RetinaNet
from detectron2.modeling.box_regression import _dense_box_regression_loss
from detectron2.structures import Boxes, ImageList, Instances, pairwise_iou
from detectron2.utils import comm
from detectron2.utils.events import get_event_storage

from ..weighting import TASK_LOSS_KEYS, TASKS, build_loss_weighting
from .head import LWFTrackerHead
from .identities import check_weights_path, resolve_num_identities
from .reid import IdentityClassifier, focal_identity_loss


def _build_weighting_off_the_global_rng(cfg) -> nn.Module:
    """The weighting module, initialised from a forked RNG so it draws nothing from the global one.

    Runs of one SEED are paired across weighting methods: the network's initial weights and every
    later draw (data order, augmentation, workers' seeds) must not depend on whether the method
    has randomly initialised parameters (LWF's MLP) or none (Fixed, DWA).
    """
    with torch.random.fork_rng(devices=[]):
        return build_loss_weighting(cfg)


@META_ARCH_REGISTRY.register()
class LWFTracker(RetinaNet):
    """One-stage joint detection and embedding (the paper's Fig. 1).

    RetinaNet supplies preprocessing, anchors, anchor matching, box decoding and NMS. On top of it:
    a Re-ID tower giving every anchor an L2-normalised embedding, an identity classifier over the
    training identities, and a loss-weighting module that turns the raw task losses
    (L_cls, L_reg, L_reid) into the weighted terms the trainer sums.
    """

    @configurable
    def __init__(
        self,
        *,
        id_classifier: IdentityClassifier,
        loss_weighting: nn.Module,
        embed_dim: int,
        reid_focal_alpha: float = -1.0,
        reid_focal_gamma: float = 2.0,
        cls_loss_norm: str = "num_pos",
        embed_min_score: float = 0.0,
        reid_only: bool = False,
        **kwargs,
    ):
        """
        Args:
            id_classifier: classifier of positive-anchor embeddings into training identities.
            loss_weighting: module from ``LOSS_WEIGHTING_REGISTRY`` (see lwf_track/weighting).
            embed_dim: D, embedding channels per anchor produced by the head.
            reid_focal_alpha, reid_focal_gamma: focal Re-ID loss parameters (eq. 6).
            cls_loss_norm: "num_pos" (EMA of positive anchors, Detectron2) or "num_anchors"
                (positive + negative anchors, the paper's eq. 2).
            embed_min_score: at inference, detections scoring below it get a NaN embedding row
                instead of running the Re-ID tower for them (0: every detection gets one).
            reid_only: train only the Re-ID tower and the identity classifier; the rest keeps
                its loaded weights and BN statistics, so the detections do not change.
            kwargs: arguments of :class:`RetinaNet`; ``head`` must also return embeddings.
        """
        super().__init__(**kwargs)
        if cls_loss_norm not in ("num_pos", "num_anchors"):
            raise ValueError(
                f"cls_loss_norm must be 'num_pos' or 'num_anchors', got {cls_loss_norm}"
            )
        self.id_classifier = id_classifier
        self.loss_weighting = loss_weighting
        self.embed_dim = embed_dim
        self.reid_focal_alpha = reid_focal_alpha
        self.reid_focal_gamma = reid_focal_gamma
        self.cls_loss_norm = cls_loss_norm
        self.embed_min_score = embed_min_score
        self.reid_only = reid_only
        if reid_only:
            reid_parameters = {id(p) for m in self._reid_modules() for p in m.parameters()}
            for parameter in self.parameters():
                parameter.requires_grad_(id(parameter) in reid_parameters)
        # A buffer, not an attribute: the positive-anchor EMA must survive a resume.
        self.register_buffer("pos_anchor_ema", torch.tensor(100.0))
        # Found once: the per-iteration loss path only passes them on (GradNorm uses them).
        self._shared_parameters = self._find_shared_parameters()

    @classmethod
    def from_config(cls, cfg):
        check_weights_path(cfg.MODEL.WEIGHTS)
        num_identities = resolve_num_identities(cfg)
        if num_identities < 1:
            raise ValueError(
                f"MODEL.REID.NUM_IDENTITIES: the training sets {tuple(cfg.DATASETS.TRAIN)} have "
                "no identities; give sets with track ids or set it explicitly"
            )
        ret = super().from_config(cfg)
        feature_shapes = [ret["backbone"].output_shape()[f] for f in ret["head_in_features"]]
        # RetinaNet.from_config built a plain head; the tracker needs the Re-ID tower too.
        ret["head"] = LWFTrackerHead(cfg, feature_shapes)
        ret.update(
            id_classifier=IdentityClassifier(
                cfg.MODEL.REID.EMBED_DIM, num_identities, cfg.MODEL.REID.SCALE
            ),
            loss_weighting=_build_weighting_off_the_global_rng(cfg),
            embed_dim=cfg.MODEL.REID.EMBED_DIM,
            reid_focal_alpha=cfg.MODEL.REID.FOCAL_LOSS_ALPHA,
            reid_focal_gamma=cfg.MODEL.REID.FOCAL_LOSS_GAMMA,
            cls_loss_norm=cfg.MODEL.RETINANET.CLS_LOSS_NORM,
            embed_min_score=cfg.MODEL.REID.MIN_SCORE_TEST,
            reid_only=cfg.MODEL.REID.TRAIN_ONLY,
        )
        return ret

    # ----------------------------------------------------------------------------- training
    def train(self, mode: bool = True):
        """With ``reid_only``, the frozen parts' BN layers stay in eval mode: their statistics
        are part of the detector that must not change."""
        super().train(mode)
        if mode and self.reid_only:
            trainable = {id(m) for part in self._reid_modules() for m in part.modules()}
            for module in self.modules():
                if (
                    isinstance(module, nn.modules.batchnorm._BatchNorm)
                    and id(module) not in trainable
                ):
                    module.eval()
        return self

    def _reid_modules(self) -> List[nn.Module]:
        """What ``reid_only`` trains: the Re-ID tower and the identity classifier."""
        return [self.head.reid_subnet, self.head.reid_embed, self.id_classifier]

    def forward_training(self, images, features, predictions, gt_instances):
        # Under autocast (SOLVER.AMP) the head's outputs may be fp16 or bf16: the losses, the
        # identity classifier and the weighting run in float32 all the same.
        with torch.autocast(images.tensor.device.type, enabled=False):
            predictions = [[p.float() for p in per_level] for per_level in predictions]
            pred_logits, pred_deltas, pred_embeddings = self._transpose_dense_predictions(
                predictions, [self.num_classes, 4, self.embed_dim]
            )
            anchors = self.anchor_generator(features)
            gt_labels, gt_boxes, gt_ids = self.label_anchors(anchors, gt_instances)
            raw_losses = self.losses(
                anchors, pred_logits, gt_labels, pred_deltas, gt_boxes, pred_embeddings, gt_ids
            )
            return self.weight_losses(raw_losses)

    def losses(
        self, anchors, pred_logits, gt_labels, pred_anchor_deltas, gt_boxes, pred_embeddings, gt_ids
    ) -> Dict[str, Tensor]:
        """The three raw task losses (paper eq. 1-6), before weighting.

        Args:
            anchors, pred_logits, gt_labels, pred_anchor_deltas, gt_boxes: see
                :meth:`RetinaNet.losses`.
            pred_embeddings: per level (N, Hi*Wi*A, D) embeddings, not normalised.
            gt_ids: per image (R,) global identity of each anchor's matched box, -1 if none.

        Returns:
            {"loss_cls": focal classification, "loss_box_reg": smooth-L1 on the eq. 5 deltas,
            "loss_reid": focal identity classification over positive anchors (0 if none)}.
        """
        num_images = len(gt_labels)
        gt_labels = torch.stack(gt_labels)
        valid_mask = gt_labels >= 0
        pos_mask = valid_mask & (gt_labels != self.num_classes)
        num_pos = pos_mask.sum().item()
        get_event_storage().put_scalar("num_pos_anchors", num_pos / num_images)
        self.pos_anchor_ema.mul_(0.9).add_(0.1 * max(num_pos, 1))
        normalizer = self.pos_anchor_ema.item()
        cls_normalizer = normalizer if self.cls_loss_norm == "num_pos" else valid_mask.sum().item()

        targets = F.one_hot(gt_labels[valid_mask], num_classes=self.num_classes + 1)[:, :-1]
        loss_cls = sigmoid_focal_loss_jit(
            cat(pred_logits, dim=1)[valid_mask],
            targets.to(pred_logits[0].dtype),
            alpha=self.focal_loss_alpha,
            gamma=self.focal_loss_gamma,
            reduction="sum",
        )
        loss_box_reg = _dense_box_regression_loss(
            anchors,
            self.box2box_transform,
            pred_anchor_deltas,
            gt_boxes,
            pos_mask,
            box_reg_loss_type=self.box_reg_loss_type,
            smooth_l1_beta=self.smooth_l1_beta,
        )
        gt_ids = torch.stack(gt_ids)
        reid_mask = pos_mask & (gt_ids >= 0)
        embeddings = F.normalize(cat(pred_embeddings, dim=1)[reid_mask], dim=1)
        loss_reid = focal_identity_loss(
            self.id_classifier(embeddings),
            gt_ids[reid_mask],
            alpha=self.reid_focal_alpha,
            gamma=self.reid_focal_gamma,
        )
        return {
            "loss_cls": loss_cls / max(cls_normalizer, 1),
            "loss_box_reg": loss_box_reg / normalizer,
            "loss_reid": loss_reid,
        }

    @torch.no_grad()
    def label_anchors(self, anchors, gt_instances):
        """As :meth:`RetinaNet.label_anchors`, plus each anchor's matched identity.

        Returns:
            gt_labels, matched_gt_boxes: see :meth:`RetinaNet.label_anchors`.
            matched_gt_ids (list[Tensor]): per image (R,) int64 identity, -1 for background,
                ignored anchors and boxes without identity.
        """
        anchors = Boxes.cat(anchors)
        gt_labels, matched_boxes, matched_ids = [], [], []
        for gt in gt_instances:
            matched_idxs, anchor_labels = self.anchor_matcher(pairwise_iou(gt.gt_boxes, anchors))
            if len(gt) > 0:
                labels = gt.gt_classes[matched_idxs]
                labels[anchor_labels == 0] = self.num_classes
                labels[anchor_labels == -1] = -1
                boxes = gt.gt_boxes.tensor[matched_idxs]
                ids = gt.gt_ids[matched_idxs] if gt.has("gt_ids") else torch.full_like(labels, -1)
                ids = torch.where(anchor_labels == 1, ids, torch.full_like(ids, -1))
            else:
                labels = torch.full_like(matched_idxs, self.num_classes)
                boxes = torch.zeros_like(anchors.tensor)
                ids = torch.full_like(matched_idxs, -1)
            gt_labels.append(labels)
            matched_boxes.append(boxes)
            matched_ids.append(ids)
        return gt_labels, matched_boxes, matched_ids

    def weight_losses(self, raw_losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Check, weight and log the raw task losses; return the terms the trainer sums."""
        self._raise_if_not_finite(raw_losses)
        weighted = self.loss_weighting(raw_losses, shared_parameters=self._shared_parameters)
        raw = torch.stack([raw_losses[key].detach() for key in TASK_LOSS_KEYS])
        weights = self.loss_weighting.current_weights().to(raw.device)
        if comm.get_world_size() > 1:
            both = torch.cat([raw, weights])
            torch.distributed.all_reduce(both)
            raw, weights = (both / comm.get_world_size()).split(len(TASKS))
        storage = get_event_storage()
        storage.put_scalars(**{f"weight/{t}": float(w) for t, w in zip(TASKS, weights)})
        storage.put_scalars(**{f"raw_loss/{t}": float(v) for t, v in zip(TASKS, raw)})
        return weighted

    def _find_shared_parameters(self) -> List[nn.Parameter]:
        """Weights of the last layers shared by all three tasks (FPN outputs), for GradNorm."""
        shared = [
            p
            for name, p in self.backbone.named_parameters()
            if "fpn_output" in name and name.endswith("weight")
        ]
        return shared or [list(self.backbone.parameters())[-1]]

    def _raise_if_not_finite(self, raw_losses: Dict[str, Tensor]) -> None:
        bad = [k for k, v in raw_losses.items() if not torch.isfinite(v).all()]
        if bad:
            weights = self.loss_weighting.current_weights().tolist()
            values = ", ".join(f"{k}={float(v):.4g}" for k, v in raw_losses.items())
            named = ", ".join(f"{t}={w:.4g}" for t, w in zip(TASKS, weights))
            raise FloatingPointError(
                f"Non-finite task loss {', '.join(bad)} at iteration "
                f"{get_event_storage().iter} ({values}); current weights: {named}"
            )

    # ----------------------------------------------------------------------------- inference
    def forward_inference(
        self, images: ImageList, features: List[Tensor], predictions: List[List[Tensor]]
    ) -> List[Instances]:
        """Detections with ``pred_boxes``, ``scores``, ``pred_classes`` and ``pred_embeddings``.

        Embeddings are taken after NMS, for the kept detections only: from the dense maps, or, when
        the head ran without them (sparse inference), computed by the head at those anchors.
        Detections scoring below ``embed_min_score`` get a row of NaN: no embedding.
        """
        pred_logits, pred_deltas = self._transpose_dense_predictions(
            predictions[:2], [self.num_classes, 4]
        )
        dense_embeddings = predictions[2]
        if dense_embeddings is not None:
            dense_embeddings = self._transpose_dense_predictions(
                [dense_embeddings], [self.embed_dim]
            )[0]
        anchors = self.anchor_generator(features)
        results = []
        for i, image_size in enumerate(images.image_sizes):
            per_level = [
                self._decode_level(level, a, logits[i].sigmoid(), deltas[i], image_size)
                for level, (a, logits, deltas) in enumerate(zip(anchors, pred_logits, pred_deltas))
            ]
            pred = Instances.cat(per_level)
            keep = batched_nms(
                pred.pred_boxes.tensor, pred.scores, pred.pred_classes, self.test_nms_thresh
            )
            pred = pred[keep[: self.max_detections_per_image]]
            embeddings = self._embeddings_of(pred, features, dense_embeddings, i)
            results.append(
                Instances(
                    image_size,
                    pred_boxes=pred.pred_boxes,
                    scores=pred.scores,
                    pred_classes=pred.pred_classes,
                    pred_embeddings=F.normalize(embeddings, dim=1),
                )
            )
        return results

    def _embeddings_of(
        self, pred: Instances, features: List[Tensor], dense_embeddings, image: int
    ) -> Tensor:
        """(len(pred), D) raw embeddings of the detections of image ``image``; NaN rows for the
        detections scoring below ``embed_min_score``."""
        embeddings = pred.scores.new_full((len(pred), self.embed_dim), float("nan"))
        wanted = pred.scores >= self.embed_min_score
        levels, anchors = pred.anchor_levels[wanted], pred.anchor_indices[wanted]
        if dense_embeddings is None:
            features = [f[image] for f in features]
            embeddings[wanted] = self.head.embeddings_at(features, levels, anchors)
        else:
            sizes = [0, *(d.shape[1] for d in dense_embeddings[:-1])]
            first_anchor = torch.tensor(sizes, device=anchors.device).cumsum(0)
            dense = torch.cat([d[image] for d in dense_embeddings])
            embeddings[wanted] = dense[first_anchor[levels] + anchors]
        return embeddings

    def _decode_level(
        self, level: int, anchors: Boxes, scores: Tensor, deltas: Tensor, image_size
    ) -> Instances:
        """Score threshold, top-k and box decoding; keeps where each candidate came from."""
        keep = scores > self.test_score_thresh
        candidate_scores = scores[keep]
        candidates = torch.nonzero(keep)
        num_topk = min(self.test_topk_candidates, candidates.size(0))
        candidate_scores, order = candidate_scores.sort(descending=True)
        anchor_idxs, class_idxs = candidates[order[:num_topk]].unbind(dim=1)
        boxes = self.box2box_transform.apply_deltas(
            deltas[anchor_idxs], anchors.tensor[anchor_idxs]
        )
        return Instances(
            image_size,
            pred_boxes=Boxes(boxes),
            scores=candidate_scores[:num_topk],
            pred_classes=class_idxs,
            anchor_levels=torch.full_like(anchor_idxs, level),
            anchor_indices=anchor_idxs,
        )
