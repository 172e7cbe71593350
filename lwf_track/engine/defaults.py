"""Config set-up shared by train_net.py and track_net.py."""

from detectron2.config import get_cfg

from ..config import add_lwf_config
from .trainer import check_weights_path, resolve_num_identities


def build_config(config_file: str, opts=()):
    """Default keys + lwf_track keys + the yaml + command-line overrides, with nID resolved.

    Fails early, with the path, for a local MODEL.WEIGHTS that does not exist.
    """
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.merge_from_file(config_file)
    cfg.merge_from_list(list(opts))
    check_weights_path(cfg.MODEL.WEIGHTS)
    resolve_num_identities(cfg)
    return cfg
