"""End to end: train_net.py trains, logs the weights, plots them, checkpoints, resumes after a
SIGKILL with all state, and runs as two gloo processes; track_net.py tracks and evaluates."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
import torch

from e2e_helpers import REPO, make_synthetic_root, run_command, train_command

from lwf_track.engine.hooks import TRAIN_METRICS_FILE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return make_synthetic_root(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def trained(data_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    # two training scales batched by size: the real command path of DATALOADER.GROUP_BY_IMAGE_SIZE
    scales = ["INPUT.MIN_SIZE_TRAIN", "(80, 96)", "DATALOADER.GROUP_BY_IMAGE_SIZE", "True"]
    run_command(train_command(out, opts=["SOLVER.MAX_ITER", "4", *scales]), data_root)
    return out


def test_training_writes_checkpoint_weights_log_and_curve(trained):
    assert (trained / "model_final.pth").is_file()
    assert (trained / "weighting_curves.png").stat().st_size > 1000
    assert TRAIN_METRICS_FILE == "metrics.json"  # detectron2's name for its training log
    records = [json.loads(line) for line in (trained / TRAIN_METRICS_FILE).read_text().splitlines()]
    logged = [r for r in records if "weight/cls" in r]
    assert logged, "weights must reach the training log"
    for r in logged:
        assert r["weight/cls"] > 0 and r["weight/reg"] > 0 and r["weight/reid"] > 0
    state = torch.load(trained / "model_final.pth", map_location="cpu", weights_only=True)["model"]
    assert any(k.startswith("loss_weighting.") for k in state)
    assert "id_classifier.fc.weight" in state


def _wait_for_checkpoint(out: Path, proc, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (out / "last_checkpoint").exists():
            return
        if proc.poll() is not None:
            raise AssertionError(f"training ended early: {proc.stderr.read()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError("no checkpoint written in time")


def test_resume_after_sigkill_restores_all_state(data_root, tmp_path):
    out = tmp_path / "run"
    opts = ["SOLVER.MAX_ITER", "400", "SOLVER.CHECKPOINT_PERIOD", "3"]
    env = dict(os.environ, LWF_DATASETS=str(data_root))
    cmd = [sys.executable, *map(str, train_command(out, opts=opts))]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_checkpoint(out, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    name = (out / "last_checkpoint").read_text().strip()
    checkpoint = torch.load(out / name, map_location="cpu", weights_only=False)
    saved_iter = checkpoint["iteration"]

    sys.path.insert(0, str(REPO))
    from detectron2.data import DatasetCatalog

    from lwf_track.data.datasets import register_mot_split
    from lwf_track.engine import Trainer, build_config

    register_mot_split("e2e_resume_train", str(data_root / "synthetic" / "train"))
    cfg = build_config(
        str(REPO / "configs/lwf_synthetic_cpu.yaml"),
        [*map(str, train_command(out, opts=opts)[3:]), "DATASETS.TRAIN", "('e2e_resume_train',)"],
    )
    assert "e2e_resume_train" in DatasetCatalog.list()
    trainer = Trainer(cfg)
    trainer.resume_or_load(resume=True)
    assert trainer.start_iter == saved_iter + 1
    model_state = trainer.model.state_dict()
    for key, value in checkpoint["model"].items():
        torch.testing.assert_close(model_state[key], value, msg=key)
    assert any(k.startswith("loss_weighting.") for k in checkpoint["model"])
    saved_optimizer = checkpoint["trainer"]["_trainer"]["optimizer"]["state"]
    optimizer_state = trainer.optimizer.state_dict()["state"]
    assert saved_optimizer, "the optimiser state must be in the checkpoint"
    for index, saved in saved_optimizer.items():
        torch.testing.assert_close(optimizer_state[index]["exp_avg"], saved["exp_avg"])
    saved_scheduler = checkpoint["trainer"]["hooks"]["LRScheduler"]
    assert trainer.scheduler.last_epoch == saved_scheduler["last_epoch"] == saved_iter + 1

    # and the real command continues from there to the end
    final_opts = ["SOLVER.MAX_ITER", str(saved_iter + 3), "SOLVER.CHECKPOINT_PERIOD", "3"]
    result = run_command(train_command(out, flags=["--resume"], opts=final_opts), data_root)
    assert f"Starting training from iteration {saved_iter + 1}" in result.stderr + result.stdout
    assert (out / "model_final.pth").is_file()


def test_two_cpu_processes_keep_parameters_identical(data_root, tmp_path):
    out = tmp_path / "ddp"
    run_command(["tests/ddp_worker.py", out], data_root, timeout=400)
    rank0 = torch.load(out / "rank0.pth", weights_only=True)
    rank1 = torch.load(out / "rank1.pth", weights_only=True)
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        torch.testing.assert_close(rank0[key], rank1[key], msg=key)
    initial = torch.load(out / "initial.pth", weights_only=True)
    assert any(not torch.equal(initial[k], rank0[k]) for k in initial), "parameters must train"


TASK_KEYS = ("AP", "AP50", "AP75", "TPR@FAR=0.1", "TPR@FAR=0.01")


def eval_only(script: str, trained: Path, out: Path, data_root: Path, flags=(), opts=()):
    """``<script> --eval-only`` of the trained model into ``out``; its mot_metrics.json."""
    from e2e_helpers import TINY

    args = [script, "--config-file", "configs/lwf_synthetic_cpu.yaml", "--eval-only", *flags]
    args += [*TINY, "MODEL.WEIGHTS", trained / "model_final.pth", "OUTPUT_DIR", out, *opts]
    result = run_command(args, data_root)
    return result, json.loads((out / "inference" / "mot_metrics.json").read_text())


def test_track_net_eval_only_writes_tracks_and_metrics(trained, data_root):
    out = trained / "eval"
    _, metrics = eval_only("track_net.py", trained, out, data_root)
    assert "OVERALL" in metrics
    for key in ("MOTA", "IDF1", "MOTP", "MT", "ML", "FP", "FN", "IDS", "HOTA", "DetA", "AssA"):
        assert key in metrics["OVERALL"]
    assert len(list((out / "inference" / "tracks").glob("*.txt"))) == 2
    assert (out / "inference" / "mot_metrics.csv").is_file()
    # the per-task scores, and COCOEvaluator's files to re-score them with pycocotools
    for key in TASK_KEYS:
        assert key in metrics["OVERALL"]
    assert metrics["OVERALL"]["AP"] is None or 0 <= metrics["OVERALL"]["AP"] <= 100
    assert (out / "inference" / "mot_synth_val_coco_format.json").is_file()
    assert (out / "inference" / "coco_instances_results.json").is_file()
    assert not (out / "metrics.json").exists()  # that name is the training log's


def test_train_net_and_track_net_eval_only_share_one_evaluation(trained, data_root):
    """Both --eval-only commands run the same evaluation: the same numbers, the same files."""
    _, by_track_net = eval_only("track_net.py", trained, trained / "eval_t", data_root)
    _, by_train_net = eval_only("train_net.py", trained, trained / "eval_d", data_root)
    assert by_train_net == by_track_net
    by_folder = [
        {t.name: t.read_text() for t in (trained / out / "inference" / "tracks").glob("*.txt")}
        for out in ("eval_t", "eval_d")
    ]
    assert len(by_folder[0]) == 2 and by_folder[0] == by_folder[1]


def test_end_of_training_tracks_are_reused_by_track_net(trained, data_root):
    """Training ends by evaluating DATASETS.TEST into OUTPUT_DIR/inference; track_net.py
    --eval-only in the same folder scores those results instead of running inference again
    (unless --overwrite), and leaves training's config.yaml as it was."""
    tracks = sorted((trained / "inference" / "tracks").glob("*.txt"))
    assert len(tracks) == 2
    before = {t.name: t.read_text() for t in tracks}
    metrics_path = trained / "inference" / "mot_metrics.json"
    from_training = json.loads(metrics_path.read_text())["OVERALL"]
    assert all(key in from_training for key in TASK_KEYS)
    training_config = (trained / "config.yaml").read_text()
    result, metrics = eval_only("track_net.py", trained, trained, data_root)
    # training's config.yaml says how the model was made; tracking's goes to inference/
    assert (trained / "config.yaml").read_text() == training_config
    assert "model_final.pth" in (trained / "inference" / "config.yaml").read_text()
    assert (
        result.stdout.count("results exist, not tracked again")
        + result.stderr.count("results exist, not tracked again")
        == 2
    )
    assert "Start inference" not in result.stdout + result.stderr
    assert {t.name: t.read_text() for t in tracks} == before
    assert metrics["OVERALL"] == from_training
    result, metrics = eval_only("track_net.py", trained, trained, data_root, ["--overwrite"])
    assert "Start inference on" in result.stdout + result.stderr
    assert metrics["OVERALL"] == from_training  # the same model gives the same results


def test_eval_only_calibrates_the_tracker_on_training_frames(trained, data_root):
    out = trained / "calibrated"
    opts = ["TRACKER.CALIBRATION.DATASET", "mot_synth_train", "TRACKER.CALIBRATION.MAX_FRAMES"]
    opts += ["4", "TRACKER.CALIBRATION.HIGH_SCORE_THRESHS", "[0.2, 0.4]"]
    _, metrics = eval_only("track_net.py", trained, out, data_root, opts=opts)
    calibration = json.loads((out / "inference" / "calibration.json").read_text())
    assert [row["HIGH_SCORE_THRESH"] for row in calibration["grid"]] == [0.2, 0.4]
    assert calibration["chosen"] in calibration["grid"]
    assert "OVERALL" in metrics
    result, again = eval_only("train_net.py", trained, out, data_root, opts=opts)
    assert "calibration: reusing" not in result.stdout + result.stderr  # train_net overwrites
    assert again == metrics
    result, _ = eval_only("track_net.py", trained, out, data_root, opts=opts)
    assert "calibration: reusing" in result.stdout + result.stderr
    assert "Start inference on" not in result.stdout + result.stderr


def test_track_net_on_a_real_video_writes_a_playable_mp4(trained, data_root, shared_data):
    video = shared_data / "videos" / "pets09_s2l1_480x360.mp4"
    out = trained / "video"
    from e2e_helpers import TINY

    args = ["track_net.py", "--config-file", "configs/lwf_synthetic_cpu.yaml", "--input", video]
    args += ["--output", out, "--max-frames", "12", *TINY]
    args += ["TRACKER.COLOR_WEIGHT", "0.5"]  # the colour cue reads the frames as decoded (BGR)
    run_command([*args, "MODEL.WEIGHTS", trained / "model_final.pth"], data_root)
    capture = cv2.VideoCapture(str(out / "pets09_s2l1_480x360.mp4"))
    assert capture.isOpened()
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 12
    assert (out / "pets09_s2l1_480x360.txt").is_file()
