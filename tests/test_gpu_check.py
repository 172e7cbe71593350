"""bench/gpu_check.py's --smoke mode: the device check's every step, tiny, on the CPU, so the
script the first GPU session runs cannot rot."""

import json

import pytest
import torch

from bench import gpu_check

pytestmark = pytest.mark.slow


def test_smoke_mode_trains_tracks_with_the_literal_command_and_reports_every_figure(tmp_path):
    out = tmp_path / "gpu_check.json"
    report = gpu_check.main(["--smoke", "--work", str(tmp_path / "work"), "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert report["complete"] is True

    assert report["train"]["returncode"] == 0
    assert report["train"]["timed_iterations"] >= 1  # 4 iterations, 3 of them warm-up
    assert report["train"]["seconds_per_iteration"] > 0
    output_dir = tmp_path / "work" / "output" / "lwf_mot16"
    assert (output_dir / "last_checkpoint").read_text().strip() == "model_final.pth"
    assert [path.name for path in output_dir.glob("*.pth")] == ["model_final.pth"]

    # `track_net.py --eval-only` alone: the paper's config, the weights training wrote
    assert report["track"]["command"].endswith("track_net.py --eval-only")
    track_log = (tmp_path / "work" / "track.log").read_text()
    assert "model_final.pth" in track_log
    if not torch.cuda.is_available():
        assert "no CUDA GPU is visible: tracking on the CPU" in track_log
    assert list(output_dir.rglob("SYN-2-01.txt")), "no tracks written for the test sequence"
    assert set(report["track"]["metrics"]) == {"MOTA", "IDF1", "HOTA", "AP", "TPR@FAR=0.1"}

    assert report["fps"]["frames"] == 2 and report["fps"]["ratio"] > 0
    tracker, plain = report["model"]["LWFTracker"], report["model"]["RetinaNet"]
    assert tracker["params_m"] > plain["params_m"] > 30  # R50-FPN plus the Re-ID tower
    assert tracker["gflops"] >= plain["gflops"] > 0
    if not torch.cuda.is_available():
        assert not report["amp"]["works"]
        assert report["amp"]["last_line"].startswith("error: SOLVER.AMP.ENABLED needs a GPU")


def test_a_failed_step_leaves_the_figures_of_the_steps_before_it(tmp_path, monkeypatch):
    def failing_training(args, work, data_root, log, timeout):
        return {"command": "train_net.py", "returncode": 1, "seconds": 0.1, "output": "boom"}

    monkeypatch.setattr(gpu_check, "run_command", failing_training)
    out = tmp_path / "gpu_check.json"
    with pytest.raises(SystemExit, match="training failed"):
        gpu_check.main(["--smoke", "--work", str(tmp_path / "work"), "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["complete"] is False
    assert report["data"]["frames_per_sequence"] == gpu_check.SMOKE.frames
    assert report["train"]["returncode"] == 1 and "output" not in report["train"]
    assert "track" not in report
