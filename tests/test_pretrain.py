"""The pretraining stage (PRETRAIN.CONFIG_FILE): its config, when it is skipped, and train_net.py
training it first and starting the configured training from its model."""

import json

import pytest
import torch

from e2e_helpers import CONFIG, TINY, make_synthetic_root, run_command, train_command

from lwf_track.engine import build_config, with_pretrained_weights
from lwf_track.engine.pretrain import STAGE_DIR, pretraining_config

STAGE = ["PRETRAIN.CONFIG_FILE", CONFIG]


def test_the_stage_takes_the_runs_seed_device_and_folder_and_is_not_evaluated(tmp_path):
    opts = ["PRETRAIN.OPTS", "['SOLVER.MAX_ITER', '7']", "SEED", 5, "OUTPUT_DIR", str(tmp_path)]
    cfg = build_config("configs/lwf_pets09_cpu_from_demo.yaml", [*STAGE, *opts])
    stage = pretraining_config(cfg)
    assert (stage.SEED, stage.SOLVER.MAX_ITER, stage.MODEL.DEVICE) == (5, 7, cfg.MODEL.DEVICE)
    assert stage.OUTPUT_DIR == str(tmp_path / STAGE_DIR)
    assert stage.DATASETS.TRAIN == ("mot_synth_train",)  # the stage's own data, not the run's
    assert len(stage.DATASETS.TEST) == 0 and stage.TRACKER.CALIBRATION.DATASET == ""


def test_no_stage_runs_without_one_named_with_weights_given_or_when_resuming(tmp_path):
    plain = build_config(CONFIG, ["OUTPUT_DIR", str(tmp_path)])
    assert with_pretrained_weights(plain, resume=False) is plain
    given = build_config(CONFIG, [*STAGE, "MODEL.WEIGHTS", "model.pth"])
    assert with_pretrained_weights(given, resume=False) is given
    (tmp_path / "last_checkpoint").write_text("model_0000099.pth")
    resumed = build_config(CONFIG, [*STAGE, "OUTPUT_DIR", str(tmp_path)])
    assert with_pretrained_weights(resumed, resume=True) is resumed
    assert not (tmp_path / STAGE_DIR).exists()


def test_a_missing_stage_config_is_named_with_its_key(tmp_path):
    cfg = build_config(CONFIG, ["PRETRAIN.CONFIG_FILE", "configs/nope.yaml"])
    with pytest.raises(FileNotFoundError, match="configs/nope.yaml.*PRETRAIN.CONFIG_FILE"):
        with_pretrained_weights(cfg, resume=False)


def test_a_finished_stage_is_reused_when_resuming(tmp_path):
    (tmp_path / STAGE_DIR).mkdir()
    (tmp_path / STAGE_DIR / "model_final.pth").write_bytes(b"")  # never trained, never read here
    cfg = build_config(CONFIG, [*STAGE, "OUTPUT_DIR", str(tmp_path)])
    resumed = with_pretrained_weights(cfg, resume=True)
    assert resumed.MODEL.WEIGHTS == str(tmp_path / STAGE_DIR / "model_final.pth")
    assert cfg.MODEL.WEIGHTS == ""  # the caller's config is left as it was


def test_stages_that_name_each_other_are_refused_before_any_training(tmp_path):
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(f'PRETRAIN:\n  CONFIG_FILE: "{second}"\n')
    second.write_text(f'PRETRAIN:\n  CONFIG_FILE: "{first}"\n')
    cfg = build_config(str(first), ["OUTPUT_DIR", str(tmp_path / "out")])
    with pytest.raises(ValueError, match="cycle"):
        with_pretrained_weights(cfg, resume=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_train_net_trains_the_stage_first_and_starts_from_its_model(tmp_path):
    """With every learning rate 0 the configured training cannot move a weight: its final
    convolutions equal the stage's, so it started from them (and not from random ones)."""
    data_root = make_synthetic_root(tmp_path / "data")
    out = tmp_path / "run"
    stage_opts = repr([*TINY, "SOLVER.MAX_ITER", "3"])
    opts = [*STAGE, "PRETRAIN.OPTS", stage_opts, "SOLVER.MAX_ITER", "2", "SOLVER.BASE_LR", "0.0"]
    opts += ["DATASETS.TEST", "()", "TRACKER.CALIBRATION.DATASET", "", "SEED", "3"]
    run_command(train_command(out, opts=opts), data_root)

    stage = out / STAGE_DIR
    stage_log = [json.loads(line) for line in (stage / "metrics.json").read_text().splitlines()]
    assert max(r["iteration"] for r in stage_log) == 2  # the stage's own MAX_ITER 3
    assert build_config(str(stage / "config.yaml")).SEED == 3
    started = torch.load(stage / "model_final.pth", map_location="cpu", weights_only=False)
    ended = torch.load(out / "model_final.pth", map_location="cpu", weights_only=False)
    convs = [k for k, v in ended["model"].items() if k.endswith("conv1.weight") and v.dim() == 4]
    assert convs and all(torch.equal(started["model"][k], ended["model"][k]) for k in convs)

    run_command(train_command(out, flags=["--resume"], opts=opts), data_root)
    assert "its checkpoint replaces pretraining" in (out / "log.txt").read_text()
    assert len(list(stage.glob("events.out.tfevents.*"))) == 1  # the stage did not run again
