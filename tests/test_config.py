from detectron2.config import get_cfg

from lwf_track import add_lwf_config


def test_add_lwf_config_adds_every_section():
    cfg = get_cfg()
    add_lwf_config(cfg)
    assert cfg.MODEL.LOSS_WEIGHTING.NAME == "LWF"
    assert cfg.MODEL.LOSS_WEIGHTING.LWF.HIDDEN_DIM == 32
    assert cfg.MODEL.REID.EMBED_DIM == 128
    assert 0 < cfg.TRACKER.LOW_SCORE_THRESH < cfg.TRACKER.HIGH_SCORE_THRESH
