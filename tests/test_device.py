"""What the CPU can show of the GPU paths: tensors made in forward follow the input's device,
checkpoints move between devices, the losses survive mixed precision; and the CPU's own speed
keys: channels-last memory and bfloat16 autocast training."""

import logging
import sys
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from detectron2.engine import AMPTrainer, SimpleTrainer
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

import lwf_track
from lwf_track.engine import AtomicCheckpointer
from lwf_track.engine import trainer as trainer_module
from lwf_track.engine.trainer import CPUAutocastTrainer, load_loop_state, training_loop_class
from lwf_track.modeling import build_model as build_lwf_model
from lwf_track.modeling.identities import num_identities_in_checkpoint
from lwf_track.weighting import LOSS_WEIGHTING_REGISTRY
from test_model import batch, tiny_cfg

PACKAGE = str(Path(lwf_track.__file__).parent)
WEIGHTINGS = sorted(name for name, _ in LOSS_WEIGHTING_REGISTRY)
# torch functions that make a tensor on the default device (the CPU) unless given one
FACTORIES = {
    torch.arange,
    torch.as_tensor,
    torch.empty,
    torch.eye,
    torch.full,
    torch.linspace,
    torch.ones,
    torch.rand,
    torch.randint,
    torch.randn,
    torch.tensor,
    torch.zeros,
}


class DevicelessFactories(TorchFunctionMode):
    """Records ``(function, file, line)`` of every factory call made in lwf_track's own code
    without a ``device``: on a GPU such a tensor would be on the CPU, beside CUDA inputs."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FACTORIES and kwargs.get("device") is None:
            caller = sys._getframe(1)
            if caller.f_code.co_filename.startswith(PACKAGE):
                self.calls.append((func.__name__, caller.f_code.co_filename, caller.f_lineno))
        return func(*args, **kwargs)


def test_the_recorder_finds_a_deviceless_tensor_in_package_code():
    planted = compile("torch.zeros(3)", str(Path(PACKAGE, "planted.py")), "exec")
    with DevicelessFactories() as recorder:
        torch.zeros(3)  # this file is not the package: not recorded
        exec(planted, {"torch": torch})
    assert [(name, Path(file).name) for name, file, _ in recorder.calls] == [
        ("zeros", "planted.py")
    ]


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_training_forward_makes_every_tensor_on_the_inputs_device(weighting):
    model = build_model(tiny_cfg(weighting)).train()
    with DevicelessFactories() as recorder, EventStorage(0):
        losses = model(batch())
    assert all(torch.isfinite(v) for v in losses.values())
    assert recorder.calls == []


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse_reid", "dense_reid"])
def test_inference_makes_every_tensor_on_the_inputs_device(sparse):
    cfg = tiny_cfg()
    cfg.MODEL.REID.SPARSE_INFERENCE = sparse
    model = build_model(cfg).eval()
    with DevicelessFactories() as recorder, torch.no_grad():
        instances = model(batch(with_boxes=False))[0]["instances"]
    assert len(instances) > 0 and instances.pred_embeddings.shape[1] == 16
    assert recorder.calls == []


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_losses_under_autocast_are_finite_and_train(weighting):
    """torch.autocast on the CPU (bfloat16) stands in for the GPU's AMPTrainer (float16)."""
    model = build_model(tiny_cfg(weighting)).train()
    with EventStorage(0), torch.autocast("cpu", dtype=torch.bfloat16):
        losses = model(batch())
        total = sum(losses.values())
    assert all(torch.isfinite(v) for v in losses.values())
    total.backward()
    grads = [p.grad for p in model.head.parameters() if p.grad is not None]
    assert grads and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
    weights = model.loss_weighting.current_weights()
    assert weights.dtype == torch.float32 and torch.isfinite(weights).all()


def saved_as_if_on_gpu(monkeypatch, obj, path: Path) -> None:
    """``torch.save`` whose storages are tagged ``cuda:0``, as a GPU run writes them."""
    monkeypatch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
    torch.save(obj, path)
    monkeypatch.undo()


@pytest.mark.skipif(torch.cuda.is_available(), reason="shows the CPU side of the move")
def test_a_checkpoint_written_on_a_gpu_resumes_on_the_cpu(monkeypatch, tmp_path):
    torch.manual_seed(1)
    trained = nn.Linear(4, 5)
    optimizer = torch.optim.Adam(trained.parameters())
    trained(torch.ones(2, 4)).sum().backward()
    optimizer.step()
    path = tmp_path / "model_final.pth"
    state = {
        "model": {
            "id_classifier.fc.weight": trained.weight.detach(),
            **{f"layer.{k}": v for k, v in trained.state_dict().items()},
        },
        "optimizer": optimizer.state_dict(),
        "iteration": 9,
    }
    saved_as_if_on_gpu(monkeypatch, state, path)
    (tmp_path / "last_checkpoint").write_text(path.name)
    with pytest.raises(RuntimeError, match="CUDA"):  # the file really claims a GPU
        torch.load(path, weights_only=True)

    assert num_identities_in_checkpoint(str(path)) == 5  # read without loading it all
    model = nn.Module()
    model.layer, model.id_classifier = nn.Linear(4, 5), nn.Module()
    model.id_classifier.fc = nn.Linear(4, 5, bias=False)
    resumed_optimizer = torch.optim.Adam(model.layer.parameters())
    checkpointer = AtomicCheckpointer(model, str(tmp_path), optimizer=resumed_optimizer)
    assert checkpointer.resume_or_load("", resume=True)["iteration"] == 9
    torch.testing.assert_close(model.layer.weight, trained.weight)
    assert model.layer.weight.device.type == "cpu"
    resumed = resumed_optimizer.state_dict()["state"][0]["exp_avg"]
    torch.testing.assert_close(resumed, optimizer.state_dict()["state"][0]["exp_avg"])
    assert resumed.device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_a_checkpoint_written_on_the_cpu_resumes_on_a_gpu(tmp_path):
    trained = nn.Linear(4, 5)
    optimizer = torch.optim.Adam(trained.parameters())
    trained(torch.ones(2, 4)).sum().backward()
    optimizer.step()
    AtomicCheckpointer(trained, str(tmp_path), optimizer=optimizer).save("model_final")
    model = nn.Linear(4, 5).cuda()
    resumed_optimizer = torch.optim.Adam(model.parameters())
    AtomicCheckpointer(model, str(tmp_path), optimizer=resumed_optimizer).resume_or_load(
        "", resume=True
    )
    torch.testing.assert_close(model.weight.cpu(), trained.weight)
    assert resumed_optimizer.state_dict()["state"][0]["exp_avg"].is_cuda


def test_a_checkpoint_without_amp_resumes_with_amp_turned_on():
    """AMPTrainer's own load_state_dict needs a grad_scaler entry that a non-AMP run never wrote;
    the loop state then loads the optimiser and leaves the scaler fresh."""

    def loop(cls):
        model = nn.Linear(2, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GradScaler without CUDA: disabled, with a warning
            return cls(model, [], torch.optim.Adam(model.parameters(), lr=0.1))

    plain = loop(SimpleTrainer)
    plain.model(torch.ones(1, 2)).sum().backward()
    plain.optimizer.step()
    state = plain.state_dict()
    assert "grad_scaler" not in state

    amp = loop(AMPTrainer)
    with pytest.raises(KeyError, match="grad_scaler"):
        amp.load_state_dict(state)  # what resuming did before
    load_loop_state(amp, state)
    assert amp.optimizer.state_dict()["state"][0]["step"] == 1
    load_loop_state(plain, loop(AMPTrainer).state_dict())  # and back: the scaler entry is ignored


def cfg_with(channels_last=False, amp=False, device="cpu"):
    cfg = tiny_cfg()
    cfg.MODEL.CHANNELS_LAST, cfg.SOLVER.AMP.ENABLED, cfg.MODEL.DEVICE = channels_last, amp, device
    return cfg


def test_channels_last_is_the_same_model_in_another_memory_order(tmp_path):
    torch.manual_seed(0)
    plain = build_lwf_model(cfg_with())
    torch.manual_seed(0)
    nhwc = build_lwf_model(cfg_with(channels_last=True))
    convs = [m.weight for m in nhwc.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert not plain.head.cls_score.weight.is_contiguous(memory_format=torch.channels_last)
    inputs = batch()
    with EventStorage(0):
        losses = [model.train()(inputs) for model in (plain, nhwc)]
    for key in losses[0]:
        torch.testing.assert_close(losses[1][key], losses[0][key], rtol=1e-4, atol=1e-5)
    # a checkpoint of one layout loads into the other and computes the same head outputs (all
    # three towers: the dense Re-ID tower too); untrained scores tie too closely to compare
    # detections, whose order such rounding can swap
    AtomicCheckpointer(nhwc, str(tmp_path)).save("nhwc")
    cfg = cfg_with()
    cfg.MODEL.REID.SPARSE_INFERENCE = False
    torch.manual_seed(1)
    loaded = build_lwf_model(cfg).eval()
    AtomicCheckpointer(loaded).load(str(tmp_path / "nhwc.pth"))
    nhwc.head.sparse_inference = False
    images = loaded.preprocess_image(batch(with_boxes=False))
    with torch.no_grad():
        features = [model.backbone(images.tensor) for model in (loaded, nhwc.eval())]
        outputs = [
            model.head([levels[f] for f in model.head_in_features])
            for model, levels in zip((loaded, nhwc), features)
        ]
    for ours, theirs in zip(*outputs):
        for level_ours, level_theirs in zip(ours, theirs):
            torch.testing.assert_close(level_ours, level_theirs, rtol=1e-4, atol=1e-4)


def test_the_training_loop_follows_amp_and_the_device(monkeypatch, caplog):
    assert training_loop_class(cfg_with()) is SimpleTrainer
    assert training_loop_class(cfg_with(amp=True, device="cuda")) is AMPTrainer
    monkeypatch.setattr(trainer_module, "cpu_supports_bfloat16", lambda: True)
    assert training_loop_class(cfg_with(amp=True)) is CPUAutocastTrainer
    monkeypatch.setattr(trainer_module, "cpu_supports_bfloat16", lambda: False)
    with caplog.at_level(logging.WARNING, logger=trainer_module.__name__):
        assert training_loop_class(cfg_with(amp=True)) is SimpleTrainer
    assert "no bfloat16 instructions" in caplog.text and "training in float32" in caplog.text


def test_a_cpu_autocast_step_runs_the_network_in_bfloat16_and_the_losses_in_float32():
    torch.manual_seed(0)
    model = build_lwf_model(cfg_with(amp=True)).train()
    before = model.head.cls_score.weight.detach().clone()
    seen = []

    def record_dtype(module, inputs, outputs):
        seen.append(outputs[0][0].dtype)  # the cls logits of the first level

    model.head.register_forward_hook(record_dtype)
    loop = CPUAutocastTrainer(model, [batch()], torch.optim.SGD(model.parameters(), lr=0.1))
    with EventStorage(0) as storage:
        loop.iter = 0
        loop.run_step()
        raw = {t: storage.history(f"raw_loss/{t}").latest() for t in ("cls", "reg", "reid")}
    assert seen == [torch.bfloat16]  # the network ran under autocast
    assert all(value > 0 and value == value for value in raw.values())
    assert not torch.equal(model.head.cls_score.weight, before)  # and the step trained it
    assert model.head.cls_score.weight.dtype == torch.float32
