"""A training stage before the configured one, in the same command: ``PRETRAIN.CONFIG_FILE`` is
trained first (into ``OUTPUT_DIR/pretrain``) and its final model starts the configured training,
as ``MODEL.WEIGHTS`` would. Without downloadable ImageNet weights, this is how a CPU recipe learns
pedestrians on synthetic people before real ones, from nothing, with one command."""

import logging
import os

from detectron2.utils import comm
from detectron2.utils.env import seed_all_rng

from ..utils.io import atomic_write_text
from .checkpoint import has_checkpoint
from .defaults import build_config
from .trainer import Trainer

STAGE_DIR = "pretrain"  # the stage's OUTPUT_DIR, inside the configured run's
FINAL_MODEL = "model_final.pth"

logger = logging.getLogger(__name__)


def seed_rngs(cfg) -> None:
    """Seed the random generators as detectron2's ``default_setup`` does for a run."""
    seed_all_rng(None if cfg.SEED < 0 else cfg.SEED + comm.get_rank())


def pretraining_config(cfg):
    """The stage's config: ``PRETRAIN.CONFIG_FILE`` + ``PRETRAIN.OPTS``, with this run's SEED and
    MODEL.DEVICE, writing into ``OUTPUT_DIR/pretrain``, without evaluation (no test sets, no
    calibration: the stage's model is judged by the run it starts)."""
    if not os.path.isfile(cfg.PRETRAIN.CONFIG_FILE):
        raise FileNotFoundError(
            f"{cfg.PRETRAIN.CONFIG_FILE}: config file not found (PRETRAIN.CONFIG_FILE; a path "
            "from the directory train_net.py runs in, e.g. configs/lwf_synthetic_cpu.yaml)"
        )
    opts = [
        *cfg.PRETRAIN.OPTS,
        "SEED", cfg.SEED,
        "MODEL.DEVICE", cfg.MODEL.DEVICE,
        "OUTPUT_DIR", os.path.join(cfg.OUTPUT_DIR, STAGE_DIR),
        "DATASETS.TEST", (),
        "TRACKER.CALIBRATION.DATASET", "",
    ]  # fmt: skip
    return build_config(cfg.PRETRAIN.CONFIG_FILE, opts)


def with_pretrained_weights(cfg, resume: bool, _chain: tuple = ()):
    """``cfg``, or where it names a pretraining stage and no MODEL.WEIGHTS, a copy whose
    MODEL.WEIGHTS is that stage's final model, trained first (stages of stages too).

    ``resume`` as train_net.py's ``--resume``: a run with a checkpoint continues from it (no
    stage needed); a stage that finished is reused, one that was interrupted continues from its
    last checkpoint; without ``resume`` the stage is trained again.
    """
    config_file = cfg.PRETRAIN.CONFIG_FILE
    if not config_file:
        return cfg
    if cfg.MODEL.WEIGHTS:
        logger.info(f"MODEL.WEIGHTS {cfg.MODEL.WEIGHTS} given: no pretraining ({config_file})")
        return cfg
    if resume and has_checkpoint(cfg.OUTPUT_DIR):
        logger.info(f"resuming {cfg.OUTPUT_DIR}: its checkpoint replaces pretraining")
        return cfg
    if config_file in _chain:
        raise ValueError(
            f"PRETRAIN.CONFIG_FILE: the stages form a cycle ({' -> '.join([*_chain, config_file])})"
        )
    stage_cfg = with_pretrained_weights(pretraining_config(cfg), resume, (*_chain, config_file))
    weights = train_stage(stage_cfg, resume)
    seed_rngs(cfg)  # the run draws as it would have without the stage
    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.WEIGHTS = weights
    cfg.freeze()
    return cfg


def train_stage(stage_cfg, resume: bool) -> str:
    """Train one stage (its config saved beside its checkpoints) and return its final model."""
    final = os.path.join(stage_cfg.OUTPUT_DIR, FINAL_MODEL)
    if resume and os.path.isfile(final):
        logger.info(f"pretraining: reusing {final}")
        return final
    logger.info(
        f"pretraining: {stage_cfg.SOLVER.MAX_ITER} iterations of {stage_cfg.DATASETS.TRAIN} into "
        f"{stage_cfg.OUTPUT_DIR}"
    )
    if comm.is_main_process():
        os.makedirs(stage_cfg.OUTPUT_DIR, exist_ok=True)
        atomic_write_text(os.path.join(stage_cfg.OUTPUT_DIR, "config.yaml"), stage_cfg.dump())
    seed_rngs(stage_cfg)
    trainer = Trainer(stage_cfg)
    trainer.resume_or_load(resume=resume)
    trainer.train()
    comm.synchronize()
    return final
