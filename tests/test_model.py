"""LWFTracker: losses, Re-ID targets, inference outputs, state."""

import pytest
import torch
from torch.nn import functional as F

from detectron2.config import get_cfg
from detectron2.modeling import build_model
from detectron2.structures import Boxes, Instances
from detectron2.utils.events import EventStorage

from lwf_track import add_lwf_config
from lwf_track.modeling import focal_identity_loss

H, W = 96, 160


def tiny_cfg(weighting="Fixed"):
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.merge_from_file("configs/lwf_synthetic_cpu.yaml")
    cfg.MODEL.REID.NUM_IDENTITIES = 10
    cfg.MODEL.REID.EMBED_DIM = 16
    cfg.MODEL.FPN.OUT_CHANNELS = 32
    cfg.MODEL.LOSS_WEIGHTING.NAME = weighting
    cfg.MODEL.RETINANET.SCORE_THRESH_TEST = 0.0
    cfg.MODEL.REID.MIN_SCORE_TEST = 0.0  # every detection of the untrained model gets one
    return cfg


def batch(with_boxes=True):
    inst = Instances((H, W))
    if with_boxes:
        inst.gt_boxes = Boxes(torch.tensor([[10.0, 10, 30, 60], [90, 20, 120, 90]]))
        inst.gt_classes = torch.zeros(2, dtype=torch.long)
        inst.gt_ids = torch.tensor([3, 7])
    else:
        inst.gt_boxes = Boxes(torch.zeros(0, 4))
        inst.gt_classes = torch.zeros(0, dtype=torch.long)
        inst.gt_ids = torch.zeros(0, dtype=torch.long)
    image = torch.randint(0, 255, (3, H, W)).float()
    return [{"image": image, "instances": inst, "height": H, "width": W}]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(tiny_cfg())


def test_training_returns_three_finite_weighted_losses_and_logs_weights(model):
    model.train()
    with EventStorage(0) as storage:
        losses = model(batch())
        assert set(losses) == {"loss_cls", "loss_box_reg", "loss_reid"}
        assert all(torch.isfinite(v) for v in losses.values())
        sum(losses.values()).backward()
        for key in ("weight/cls", "weight/reg", "weight/reid", "raw_loss/reid"):
            assert key in storage.histories()
    assert model.id_classifier.fc.weight.grad.abs().sum() > 0
    assert any(
        p.grad is not None and p.grad.abs().sum() > 0 for p in model.head.reid_subnet.parameters()
    )


def test_reid_only_training_changes_the_embeddings_not_the_detections():
    """MODEL.REID.TRAIN_ONLY: steps on every loss move the Re-ID tower and the classifier only;
    the backbone's BN statistics stay as loaded, so the detections are exactly the same."""
    cfg = tiny_cfg()
    cfg.MODEL.REID.TRAIN_ONLY = True
    torch.manual_seed(0)
    model = build_model(cfg)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith(("head.reid_", "id_classifier.")) for n in trainable)
    frame = batch(with_boxes=False)
    model.eval()
    with torch.no_grad():
        before = model(frame)[0]["instances"]
    trained = ("head.reid_", "id_classifier.", "pos_anchor_ema")  # the last: a loss normaliser
    frozen = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith(trained)}
    reid = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("head.reid_")}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    with EventStorage(0):
        for _ in range(2):
            optimizer.zero_grad()
            sum(model(batch()).values()).backward()
            optimizer.step()
    state = model.state_dict()
    assert [k for k, v in frozen.items() if not torch.equal(state[k], v)] == []  # BN stats too
    assert any(not torch.equal(state[k], v) for k, v in reid.items())
    model.eval()
    with torch.no_grad():
        after = model(frame)[0]["instances"]
    assert torch.equal(after.pred_boxes.tensor, before.pred_boxes.tensor)
    assert torch.equal(after.scores, before.scores)
    assert not torch.equal(after.pred_embeddings, before.pred_embeddings)


def test_batch_without_boxes_gives_zero_reid_loss_not_nan(model):
    model.train()
    with EventStorage(0):
        losses = model(batch(with_boxes=False))
    assert losses["loss_reid"].item() == 0.0
    assert all(torch.isfinite(v) for v in losses.values())


def test_positive_anchors_take_the_identity_of_their_matched_box(model):
    gt = batch()[0]["instances"]
    anchors = model.anchor_generator(
        [torch.zeros(1, 1, H // s, W // s) for s in (8, 16, 32, 64, 128)]
    )
    labels, boxes, ids = model.label_anchors(anchors, [gt])
    positive = labels[0] == 0
    assert positive.any()
    for box, identity in zip(boxes[0][positive], ids[0][positive]):
        expected = gt.gt_ids[(gt.gt_boxes.tensor == box).all(dim=1)]
        assert identity.item() == expected.item()
    assert (ids[0][~positive] == -1).all()


def test_inference_returns_normalised_embeddings_in_original_coordinates(model):
    model.eval()
    inputs = [{"image": torch.randint(0, 255, (3, H, W)).float(), "height": 2 * H, "width": 2 * W}]
    with torch.no_grad():
        out = model(inputs)[0]["instances"]
    assert out.image_size == (2 * H, 2 * W)
    assert len(out) > 0 and out.pred_embeddings.shape == (len(out), 16)
    torch.testing.assert_close(out.pred_embeddings.norm(dim=1), torch.ones(len(out)))


def test_state_dict_holds_weighting_classifier_and_normaliser(model):
    keys = model.state_dict().keys()
    assert "pos_anchor_ema" in keys
    assert any(k.startswith("id_classifier.") for k in keys)
    assert any(k.startswith("loss_weighting.") for k in keys) or not list(
        model.loss_weighting.state_dict()
    )


def test_non_finite_task_loss_names_the_loss_and_the_weights(model):
    raw = {
        "loss_cls": torch.tensor(1.0),
        "loss_box_reg": torch.tensor(float("nan")),
        "loss_reid": torch.tensor(2.0),
    }
    with (
        EventStorage(5),
        pytest.raises(FloatingPointError, match=r"loss_box_reg.*iteration 5.*weights"),
    ):
        model.weight_losses(raw)


def test_focal_identity_loss_reduces_to_cross_entropy_and_handles_empty():
    logits = torch.randn(6, 4)
    targets = torch.tensor([0, 1, 2, 3, 0, 1])
    torch.testing.assert_close(
        focal_identity_loss(logits, targets, alpha=-1, gamma=0.0), F.cross_entropy(logits, targets)
    )
    assert focal_identity_loss(logits, targets, -1, 2.0) < F.cross_entropy(logits, targets)
    empty = focal_identity_loss(
        torch.zeros(0, 4, requires_grad=True), torch.zeros(0, dtype=torch.long), -1, 2
    )
    assert empty.item() == 0.0 and empty.requires_grad


def test_missing_num_identities_is_a_clear_error():
    cfg = tiny_cfg()
    cfg.MODEL.REID.NUM_IDENTITIES = 0
    cfg.DATASETS.TRAIN = ("no_such_training_set",)  # whatever lies in the local datasets/
    with pytest.raises(ValueError, match="NUM_IDENTITIES"):
        build_model(cfg)


def make_head(norm, sparse_inference, num_anchors=3):
    from detectron2.layers import ShapeSpec

    from lwf_track.modeling.head import LWFTrackerHead

    return LWFTrackerHead(
        input_shape=[ShapeSpec(channels=8, stride=s) for s in (8, 16)],
        num_classes=1,
        num_anchors=num_anchors,
        conv_dims=[8],
        reid_conv_dims=[8, 8],
        embed_dim=4,
        norm=norm,
        sparse_inference=sparse_inference,
    )


@pytest.mark.parametrize("norm", ["", "BN"])
def test_sparse_reid_equals_the_dense_tower_at_every_anchor_kind(norm):
    torch.manual_seed(0)
    head = make_head(norm, sparse_inference=True)
    for module in head.modules():  # non-trivial weights and per-level BN statistics
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.normal_(module.weight, std=0.3)
            torch.nn.init.normal_(module.bias, std=0.3)
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
    head.eval()
    features = [torch.randn(2, 8, 7, 9), torch.randn(2, 8, 4, 5)]
    with torch.no_grad():
        assert head(features)[2] is None
        head.sparse_inference = False
        dense = head(features)[2]
        for image in range(2):
            levels, anchors, expected = [], [], []
            for level, feature in enumerate(features):
                count = feature.shape[-2] * feature.shape[-1] * 3
                # corners, edges and the interior, every anchor of a location
                chosen = torch.tensor([0, 1, 2, count - 1, count // 2, 3 * 9 * 2 + 4, 3 * 8])
                chosen = chosen[: 2 + level * 5]  # levels with different counts
                per_anchor = dense[level][image].reshape(3, 4, -1).permute(2, 0, 1).reshape(-1, 4)
                levels.append(torch.full_like(chosen, level))
                anchors.append(chosen)
                expected.append(per_anchor[chosen])
            order = torch.randperm(len(torch.cat(anchors)))  # levels mixed, as after NMS
            sparse = head.embeddings_at(
                [f[image] for f in features], torch.cat(levels)[order], torch.cat(anchors)[order]
            )
            torch.testing.assert_close(sparse, torch.cat(expected)[order], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("norm", ["", "BN"])
def test_sparse_reid_skips_levels_without_detections(norm):
    torch.manual_seed(0)
    head = make_head(norm, sparse_inference=False).eval()
    features = [torch.randn(1, 8, 7, 9), torch.randn(1, 8, 4, 5)]
    with torch.no_grad():
        dense = head(features)[2][1][0].reshape(3, 4, -1).permute(2, 0, 1).reshape(-1, 4)
        chosen = torch.tensor([0, 7, 59])
        empty = torch.zeros(0, dtype=torch.int64)
        second = head.embeddings_at([f[0] for f in features], torch.ones_like(chosen), chosen)
        none = head.embeddings_at([f[0] for f in features], empty, empty)
    torch.testing.assert_close(second, dense[chosen], rtol=1e-4, atol=1e-5)
    assert tuple(none.shape) == (0, 4)


def test_convs_at_equals_the_dense_convs_on_maps_down_to_one_position():
    from lwf_track.modeling.sparse_conv import convs_at, position_grid

    torch.manual_seed(0)
    shapes = ((5, 7), (1, 2), (1, 1))
    features = [torch.randn(6, h, w) for h, w in shapes]
    convs = [torch.nn.Conv2d(6, 6, 3, padding=1), torch.nn.Conv2d(6, 5, 3, padding=1)]
    grid = position_grid(shapes, torch.device("cpu"))
    everywhere = torch.arange(len(grid.id_of_row))
    wanted = grid.id_of_row[torch.cat([everywhere, everywhere[:3]])]  # repeats allowed
    with torch.no_grad():
        dense = [convs[1](torch.relu(convs[0](f[None])))[0] for f in features]
        sparse = convs_at(
            features,
            grid,
            wanted,
            [(convs[0], lambda x, _: torch.relu(x)), (convs[1], lambda x, _: x)],
        )
    expected = torch.cat([d.flatten(1).t() for d in dense])
    torch.testing.assert_close(sparse, torch.cat([expected, expected[:3]]), rtol=1e-4, atol=1e-5)


def test_sparse_and_dense_inference_give_the_same_detections(model):
    model.eval()
    inputs = [{"image": torch.randint(0, 255, (3, H, W)).float(), "height": H, "width": W}]
    with torch.no_grad():
        model.head.sparse_inference = True
        sparse = model(inputs)[0]["instances"]
        model.head.sparse_inference = False
        dense = model(inputs)[0]["instances"]
    model.head.sparse_inference = True
    assert len(sparse) > 0
    torch.testing.assert_close(sparse.pred_boxes.tensor, dense.pred_boxes.tensor)
    torch.testing.assert_close(sparse.scores, dense.scores)
    torch.testing.assert_close(sparse.pred_embeddings, dense.pred_embeddings, rtol=1e-4, atol=1e-5)


def test_detections_below_the_embedding_score_get_nan_rows(model):
    model.eval()
    inputs = [{"image": torch.randint(0, 255, (3, H, W)).float(), "height": H, "width": W}]
    with torch.no_grad():
        every = model(inputs)[0]["instances"]
        cut = float(every.scores.median())
        model.embed_min_score = cut
        some = model(inputs)[0]["instances"]
    model.embed_min_score = 0.0
    kept = some.scores >= cut
    assert 0 < int(kept.sum()) < len(some)
    torch.testing.assert_close(some.pred_boxes.tensor, every.pred_boxes.tensor)
    assert torch.isnan(some.pred_embeddings[~kept]).all()
    torch.testing.assert_close(some.pred_embeddings[kept], every.pred_embeddings[kept])


def test_sparse_reid_refuses_a_norm_over_positions():
    with pytest.raises(ValueError, match="SPARSE_INFERENCE"):
        make_head("GN", sparse_inference=True)
