"""The Trainer: DefaultTrainer with the MOT data path, Adam plus a weighting-module group, CPU DDP,
atomic checkpoints, MOT evaluation and the weighting-curve plot."""

import logging
import time
import weakref

import torch
from torch.nn.parallel import DistributedDataParallel

from detectron2.data import build_detection_test_loader, build_detection_train_loader
from detectron2.engine import AMPTrainer, DefaultTrainer, SimpleTrainer, TrainerBase
from detectron2.solver.build import get_default_optimizer_params, maybe_add_gradient_clipping
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ..data.batching import group_by_image_size
from ..data.mapper import MOTDatasetMapper
from ..modeling import build_model
from .checkpoint import AtomicCheckpointer
from .hooks import WeightingCurveHook

OPTIMIZERS = {"ADAM": torch.optim.Adam, "ADAMW": torch.optim.AdamW, "SGD": torch.optim.SGD}

logger = logging.getLogger(__name__)


def load_loop_state(loop: SimpleTrainer, state: dict) -> None:
    """Restore a training loop's optimiser (and AMP gradient scaler) state. A checkpoint written
    without AMP resumes with AMP turned on: its scaler then starts fresh instead of failing."""
    if isinstance(loop, AMPTrainer) and "grad_scaler" not in state:
        logger.warning(
            "the checkpoint was trained without AMP: the AMP gradient scaler starts fresh"
        )
        SimpleTrainer.load_state_dict(loop, state)
    else:
        loop.load_state_dict(state)


def cpu_supports_bfloat16() -> bool:
    """Whether oneDNN has bfloat16 instructions here (AVX512-BF16 or AMX): without them CPU
    autocast emulates bfloat16 and runs slower than float32."""
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


class CPUAutocastTrainer(SimpleTrainer):
    """SimpleTrainer with the forward pass under CPU autocast to bfloat16 (``SOLVER.AMP.ENABLED``
    on a CPU): convolutions and matrix products in bfloat16, the losses in float32 (the model
    leaves autocast for them), backward and optimiser step as SimpleTrainer's. bfloat16 keeps
    float32's exponent range, so unlike fp16 AMP no gradient scaler is needed."""

    def run_step(self):
        assert self.model.training, "[CPUAutocastTrainer] model was changed to eval mode!"
        start = time.perf_counter()
        data = next(self._data_loader_iter)
        data_time = time.perf_counter() - start
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss_dict = self.model(data)
        losses = sum(loss_dict.values())
        self.optimizer.zero_grad()
        losses.backward()
        self._write_metrics(loss_dict, data_time)
        self.optimizer.step()


def training_loop_class(cfg) -> type:
    """The loop of ``SOLVER.AMP.ENABLED`` on ``MODEL.DEVICE``: detectron2's AMPTrainer (fp16 with
    a gradient scaler) on a GPU, :class:`CPUAutocastTrainer` on a CPU with bfloat16
    instructions, else SimpleTrainer (float32; with a warning where AMP was asked for)."""
    if not cfg.SOLVER.AMP.ENABLED:
        return SimpleTrainer
    if torch.device(cfg.MODEL.DEVICE).type == "cuda":
        return AMPTrainer
    if cpu_supports_bfloat16():
        return CPUAutocastTrainer
    logger.warning(
        "SOLVER.AMP.ENABLED: this CPU has no bfloat16 instructions (AVX512-BF16 or AMX), where "
        "autocast would be slower than float32: training in float32"
    )
    return SimpleTrainer


class Trainer(DefaultTrainer):
    """DefaultTrainer for LWFTracker. Differences from detectron2's:

    * data: :class:`MOTDatasetMapper` (keeps ``gt_ids``) for training and testing;
    * optimiser: ``SOLVER.OPTIMIZER`` (Adam as in the paper); the loss-weighting module's learnable
      parameters form their own group without weight decay (lr ``MODEL.LOSS_WEIGHTING.BASE_LR``);
    * model: :func:`~lwf_track.modeling.build_model` (``MODEL.CHANNELS_LAST``);
    * DDP also on CPU (gloo): no ``device_ids`` for CPU models;
    * ``SOLVER.AMP.ENABLED`` also on a CPU: bfloat16 autocast (:func:`training_loop_class`);
    * checkpoints written atomically, with the optimiser state (v0.6 leaves it out);
    * evaluation: one inference pass over each test set gives tracks, MOT metrics, detection AP
      and Re-ID TPR@FAR under ``OUTPUT_DIR/inference`` (:func:`~.inference.evaluate_datasets`);
    * a plot of the weighting factors after training.
    """

    def __init__(self, cfg):
        TrainerBase.__init__(self)
        if not logging.getLogger("detectron2").isEnabledFor(logging.INFO):
            setup_logger()
        cfg = DefaultTrainer.auto_scale_workers(cfg, comm.get_world_size())
        model = self.build_model(cfg)
        optimizer = self.build_optimizer(cfg, model)
        data_loader = self.build_train_loader(cfg)
        model = self._wrap_ddp(model)
        self._trainer = training_loop_class(cfg)(model, data_loader, optimizer)
        self.scheduler = self.build_lr_scheduler(cfg, optimizer)
        self.checkpointer = AtomicCheckpointer(model, cfg.OUTPUT_DIR, trainer=weakref.proxy(self))
        self.start_iter = 0
        self.max_iter = cfg.SOLVER.MAX_ITER
        self.cfg = cfg
        self.register_hooks(self.build_hooks())

    def state_dict(self):
        """detectron2 0.6's DefaultTrainer does not checkpoint the optimiser; this one does."""
        state = super().state_dict()
        state["_trainer"] = self._trainer.state_dict()
        return state

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        if "_trainer" in state_dict:
            load_loop_state(self._trainer, state_dict["_trainer"])

    @staticmethod
    def _wrap_ddp(model):
        if comm.get_world_size() == 1:
            return model
        on_gpu = next(model.parameters()).is_cuda
        device_ids = [comm.get_local_rank()] if on_gpu else None
        return DistributedDataParallel(model, device_ids=device_ids, broadcast_buffers=False)

    def build_hooks(self):
        hooks = super().build_hooks()
        hooks.append(WeightingCurveHook(self.cfg.OUTPUT_DIR))
        return hooks

    @classmethod
    def build_model(cls, cfg):
        model = build_model(cfg)
        logger.info("Model:\n%s", model)
        return model

    @classmethod
    def build_optimizer(cls, cfg, model):
        weighting = getattr(model, "loss_weighting", None)
        weighting_params = list(weighting.parameters()) if weighting is not None else []
        excluded = set(weighting_params)
        groups = get_default_optimizer_params(
            model,
            base_lr=cfg.SOLVER.BASE_LR,
            weight_decay=cfg.SOLVER.WEIGHT_DECAY,
            weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
        )
        for group in groups:
            group["params"] = [p for p in group["params"] if p not in excluded]
        groups = [g for g in groups if g["params"]]
        if weighting_params:
            groups.append(
                {
                    "params": weighting_params,
                    "lr": cfg.MODEL.LOSS_WEIGHTING.BASE_LR or cfg.SOLVER.BASE_LR,
                    "weight_decay": 0.0,
                }
            )
        name = cfg.SOLVER.OPTIMIZER.upper()
        if name not in OPTIMIZERS:
            raise ValueError(f"SOLVER.OPTIMIZER must be one of {sorted(OPTIMIZERS)}, got {name}")
        kwargs = {"lr": cfg.SOLVER.BASE_LR, "weight_decay": cfg.SOLVER.WEIGHT_DECAY}
        if name == "SGD":
            kwargs.update(momentum=cfg.SOLVER.MOMENTUM, nesterov=cfg.SOLVER.NESTEROV)
        return maybe_add_gradient_clipping(cfg, OPTIMIZERS[name])(groups, **kwargs)

    @classmethod
    def build_train_loader(cls, cfg):
        loader = build_detection_train_loader(cfg, mapper=MOTDatasetMapper(cfg, is_train=True))
        return group_by_image_size(loader) if cfg.DATALOADER.GROUP_BY_IMAGE_SIZE else loader

    @classmethod
    def build_test_loader(cls, cfg, dataset_name):
        mapper = MOTDatasetMapper(cfg, is_train=False)
        return build_detection_test_loader(cfg, dataset_name, mapper=mapper)

    @classmethod
    def build_evaluator(cls, cfg, dataset_name, overwrite=True):
        """The :class:`~lwf_track.evaluation.MOTEvaluator` of a test set
        (:func:`~.inference.build_evaluator`)."""
        from .inference import build_evaluator

        return build_evaluator(cfg, dataset_name, overwrite=overwrite)

    @classmethod
    def test(cls, cfg, model, evaluators=None, overwrite=True):
        """:func:`~.inference.evaluate_datasets`: detectron2's test loop, except that sequences
        whose results exist are kept when ``overwrite`` is False."""
        if evaluators is not None:
            raise ValueError("Trainer.test builds its own evaluators (one per DATASETS.TEST)")
        from .inference import evaluate_datasets

        return evaluate_datasets(cfg, model, overwrite=overwrite)
