"""The config: add_lwf_config's sections; every config in configs/ parses and builds its model on
the CPU; bad weight paths fail clearly."""

from pathlib import Path

import pytest
import torch

from detectron2.config import get_cfg
from detectron2.modeling import build_model

from lwf_track import add_lwf_config
from lwf_track.engine import build_config
from lwf_track.modeling import check_weights_path

CONFIGS = sorted(str(p) for p in Path("configs").rglob("*.yaml"))


def test_add_lwf_config_adds_every_section():
    cfg = get_cfg()
    add_lwf_config(cfg)
    assert cfg.MODEL.LOSS_WEIGHTING.NAME == "LWF"
    assert cfg.MODEL.LOSS_WEIGHTING.LWF.HIDDEN_DIM == 32
    assert cfg.MODEL.REID.EMBED_DIM == 128
    assert 0 < cfg.TRACKER.LOW_SCORE_THRESH < cfg.TRACKER.HIGH_SCORE_THRESH


@pytest.mark.parametrize("config_file", CONFIGS)
def test_config_builds_a_model_that_runs(config_file):
    overrides = ["MODEL.WEIGHTS", "", "MODEL.DEVICE", "cpu", "MODEL.REID.NUM_IDENTITIES", "7"]
    cfg = build_config(config_file, overrides)
    model = build_model(cfg).eval()
    image = torch.randint(0, 256, (3, 64, 96)).float()
    with torch.no_grad():
        out = model([{"image": image, "height": 64, "width": 96}])[0]["instances"]
    assert out.has("pred_embeddings") and out.pred_embeddings.shape[1] == cfg.MODEL.REID.EMBED_DIM


def test_paper_configs_keep_the_paper_recipe():
    cfg = build_config("configs/lwf_mot16.yaml", ["MODEL.REID.NUM_IDENTITIES", "7"])
    assert cfg.SOLVER.OPTIMIZER == "ADAM" and cfg.SOLVER.BASE_LR == 5e-5
    assert cfg.SOLVER.IMS_PER_BATCH == 8 and cfg.MODEL.RESNETS.DEPTH == 50
    assert cfg.MODEL.WEIGHTS == "detectron2://ImageNetPretrained/MSRA/R-50.pkl"
    assert cfg.MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS == [[2.5]]  # A = 1 anchor per location


def test_missing_local_weights_name_the_path(tmp_path):
    missing = tmp_path / "nope.pth"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        check_weights_path(str(missing))
    check_weights_path("detectron2://ImageNetPretrained/MSRA/R-50.pkl")  # URLs are fetched later
