"""Every config in configs/ parses and builds its model on the CPU; bad paths fail clearly."""

from pathlib import Path

import pytest
import torch

from detectron2.modeling import build_model

from lwf_track.engine import build_config
from lwf_track.modeling import check_weights_path
from lwf_track.utils.video import open_frame_source

CONFIGS = sorted(str(p) for p in Path("configs").rglob("*.yaml"))


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


def test_a_file_that_is_not_a_video_is_a_clear_error(tmp_path):
    bogus = tmp_path / "clip.mp4"
    bogus.write_bytes(b"not a video at all")
    with pytest.raises(ValueError, match="cannot be opened as a video"):
        open_frame_source(str(bogus))
    with pytest.raises(FileNotFoundError, match="no such video"):
        open_frame_source(str(tmp_path / "absent.mp4"))
