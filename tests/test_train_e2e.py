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
    run_command(train_command(out, opts=["SOLVER.MAX_ITER", "4"]), data_root)
    return out


def test_training_writes_checkpoint_weights_log_and_curve(trained):
    assert (trained / "model_final.pth").is_file()
    assert (trained / "weighting_curves.png").stat().st_size > 1000
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


def test_track_net_eval_only_writes_tracks_and_metrics(trained, data_root):
    out = trained / "eval"
    weights = trained / "model_final.pth"
    args = ["track_net.py", "--config-file", "configs/lwf_synthetic_cpu.yaml", "--eval-only"]
    from e2e_helpers import TINY

    run_command([*args, *TINY, "MODEL.WEIGHTS", weights, "OUTPUT_DIR", out], data_root)
    metrics = json.loads((out / "metrics.json").read_text())
    assert "OVERALL" in metrics
    for key in ("MOTA", "IDF1", "MOTP", "MT", "ML", "FP", "FN", "IDS", "HOTA", "DetA", "AssA"):
        assert key in metrics["OVERALL"]
    assert len(list((out / "tracks").glob("*.txt"))) == 2
    assert (out / "metrics.csv").is_file()


def test_end_of_training_tracks_are_reused_by_track_net(trained, data_root):
    """Training ends by tracking DATASETS.TEST into OUTPUT_DIR; track_net.py --eval-only in the
    same folder evaluates those tracks instead of tracking again (unless --overwrite)."""
    from e2e_helpers import TINY

    tracks = sorted((trained / "tracks").glob("*.txt"))
    assert len(tracks) == 2
    before = {t.name: t.read_text() for t in tracks}
    from_training = json.loads((trained / "metrics.json").read_text())["OVERALL"]
    args = ["track_net.py", "--config-file", "configs/lwf_synthetic_cpu.yaml", "--eval-only"]
    args += [*TINY, "MODEL.WEIGHTS", trained / "model_final.pth", "OUTPUT_DIR", trained]
    result = run_command(args, data_root)
    assert (
        result.stdout.count("results exist, not tracked again")
        + result.stderr.count("results exist, not tracked again")
        == 2
    )
    assert {t.name: t.read_text() for t in tracks} == before
    assert json.loads((trained / "metrics.json").read_text())["OVERALL"] == from_training


def test_track_net_on_a_real_video_writes_a_playable_mp4(trained, data_root, shared_data):
    video = shared_data / "videos" / "pets09_s2l1_480x360.mp4"
    out = trained / "video"
    from e2e_helpers import TINY

    args = ["track_net.py", "--config-file", "configs/lwf_synthetic_cpu.yaml", "--input", video]
    args += ["--output", out, "--max-frames", "12", *TINY]
    run_command([*args, "MODEL.WEIGHTS", trained / "model_final.pth"], data_root)
    capture = cv2.VideoCapture(str(out / "pets09_s2l1_480x360.mp4"))
    assert capture.isOpened()
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 12
    assert (out / "pets09_s2l1_480x360.txt").is_file()
