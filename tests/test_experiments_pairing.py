"""Runs of one seed are paired across weighting methods: the network starts from the same weights
and the global RNG is left in the same state (data order, augmentation and workers' seeds come
from it) whether or not the weighting module has randomly initialised parameters."""

import torch

from detectron2.config import get_cfg
from detectron2.utils.env import seed_all_rng

from lwf_track.config import add_lwf_config
from lwf_track.engine import Trainer


def build_seeded(weighting: str, seed: int):
    """The tiny R18 model as train_net.py builds it (default_setup seeds first), and the global
    RNG state it leaves."""
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.merge_from_file("configs/lwf_synthetic_cpu.yaml")
    cfg.merge_from_list(["MODEL.REID.NUM_IDENTITIES", "10", "MODEL.REID.EMBED_DIM", "16"])
    cfg.merge_from_list(["MODEL.FPN.OUT_CHANNELS", "32", "MODEL.LOSS_WEIGHTING.NAME", weighting])
    seed_all_rng(seed)
    model = Trainer.build_model(cfg)
    network = {k: v for k, v in model.state_dict().items() if not k.startswith("loss_weighting.")}
    return network, torch.get_rng_state()


def test_settings_of_one_seed_start_from_identical_network_weights():
    fixed_net, fixed_rng = build_seeded("Fixed", seed=3)
    for weighting in ("LWF", "GradNorm", "Uncertainty"):
        net, rng = build_seeded(weighting, seed=3)
        assert net.keys() == fixed_net.keys()
        assert all(torch.equal(net[k], fixed_net[k]) for k in net), weighting
        assert torch.equal(rng, fixed_rng), f"{weighting} shifted the global RNG"
    other_seed, _ = build_seeded("Fixed", seed=4)
    assert not all(torch.equal(other_seed[k], fixed_net[k]) for k in other_seed)
