"""bench/gpu_check.py's --smoke mode: the device check's every step, tiny, on the CPU, so the
script the first GPU session runs cannot rot."""

import json

import pytest
import torch

from bench import gpu_check

pytestmark = pytest.mark.slow


def test_smoke_mode_trains_tracks_with_the_literal_command_and_reports_every_figure(tmp_path):
    out = tmp_path / "gpu_check.json"
    table = tmp_path / "gpu_check.md"
    argv = [
        "--smoke",
        "--work",
        str(tmp_path / "work"),
        "--out",
        str(out),
        "--markdown",
        str(table),
    ]
    report = gpu_check.main(argv)
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert report["complete"] is True
    assert report["command"] == "python -m bench.gpu_check " + " ".join(argv)
    assert table.read_text().startswith(f"`{report['command']}`\n")

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
    per_frame = report["per_frame"]
    assert per_frame["timed_frames"] == per_frame["profiled_frames"] == 2
    assert per_frame["model_ms"] > 0 and per_frame["plain_ms"] > 0
    for name in ("tracker", "RetinaNet"):
        assert set(per_frame[name]) == {"gpu_kernel_ms", "kernel_launches", "memory_copies"}
        if not torch.cuda.is_available():  # no kernels to launch on the CPU
            assert per_frame[name]["kernel_launches"] == 0
    tracker, plain = report["model"]["LWFTracker"], report["model"]["RetinaNet"]
    assert tracker["params_m"] > plain["params_m"] > 30  # R50-FPN plus the Re-ID tower
    assert tracker["gflops"] >= plain["gflops"] > 0
    assert report["amp"]["works"]  # a GPU's AMPTrainer, or on a CPU the bfloat16 loop


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


def test_the_readme_table_has_a_column_per_report_and_reads_partial_ones(tmp_path):
    data = {"train_seqs": 4, "test_seqs": 2, "frames": 100, "width": 1088, "height": 608}
    partial_report = {
        "complete": False,
        "command": "python -m bench.gpu_check --iters 1200",
        "data": data,
        "train": {
            "command": "train_net.py ... SOLVER.MAX_ITER 1200 SOLVER.IMS_PER_BATCH 8 OUTPUT_DIR o",
            "seconds_per_iteration": 0.1556,
        },
        "track": {"metrics": {"MOTA": 20.4225, "IDF1": 51.4237}},
        "note": "A note.",
    }
    complete_report = {
        "complete": True,
        "data": data,
        "train": {"command": "train_net.py SOLVER.MAX_ITER 300 SOLVER.IMS_PER_BATCH 8"},
        "amp": {"works": True, "seconds_per_iteration": 0.1666, "peak_gpu_memory_mib": 5834},
    }
    paths = []
    for number, report in enumerate((partial_report, complete_report)):
        paths.append(tmp_path / f"report{number}.json")
        paths[-1].write_text(json.dumps(report))
    table = tmp_path / "reports.md"
    gpu_check.main(["--from-json", *map(str, paths), "--markdown", str(table)])
    lines = table.read_text().splitlines()
    assert lines[0] == (
        f"`python -m bench.gpu_check --from-json {paths[0]} {paths[1]} --markdown {table}`"
    )
    assert lines[2] == "1. `python -m bench.gpu_check --iters 1200`. A note."
    assert lines[3] == "2. `python -m bench.gpu_check`."
    rows = {}
    for line in lines:
        if line.startswith("| ") and not line.startswith("| figure"):
            name, *values = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[name] = values
    assert rows["training from scratch (BN): iterations x batch"] == ["1200 x 8", "300 x 8"]
    assert rows["training: s / iteration"] == ["0.1556", "not run"]
    assert rows["`track_net.py --eval-only`: MOTA"] == ["20.42", "not run"]
    assert rows["`track_net.py --eval-only`: HOTA"] == ["not run", "not run"]
    assert rows["AMP: trains; s / iteration; peak GPU memory (MiB)"] == [
        "not run; not run; not run",
        "True; 0.1666; 5834",
    ]

    with pytest.raises(SystemExit):  # reports to render need a place for the table
        gpu_check.main(["--from-json", str(paths[0])])
