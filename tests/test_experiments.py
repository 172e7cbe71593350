"""The experiments runner: grids, shared settings, resumability, tables and plots.

Training and tracking are replaced by a fake ``execute`` that writes what the real commands
write (inference/mot_metrics.json with an OVERALL row, weight curves in the training log), so these
tests check the runner's own logic in milliseconds; the real commands have their own e2e tests.
"""

import csv
import io
import json

import pytest

from lwf_track.engine.hooks import TRAIN_METRICS_FILE
from lwf_track.experiments import (
    GRIDS,
    LWF_WIDTHS,
    ExperimentRunner,
    best_setting,
    grid_settings,
    hwf_weights,
    markdown_table,
    mean_std,
    plot_lwf_curves,
    summary_rows,
    write_tables,
)

CONFIG = "configs/experiments/synthetic_short.yaml"


class FakeCommands:
    """Stands in for train_net.py / track_net.py; MOTA depends on the setting and the seed."""

    def __init__(self, fail_training_once=False):
        self.calls = []
        self.fail_training_once = fail_training_once

    def __call__(self, command, log_path):
        self.calls.append(command)
        run_dir = log_path.parent
        if "train_net.py" in command[1]:
            (run_dir / "last_checkpoint").write_text("model_0000001.pth")
            if self.fail_training_once:
                self.fail_training_once = False
                raise RuntimeError("killed")
            history = [
                {
                    "iteration": i,
                    "weight/cls": 1.0 / (i + 1),
                    "weight/reg": 0.5,
                    "weight/reid": 0.1 * i,
                }
                for i in range(5)
            ]
            (run_dir / TRAIN_METRICS_FILE).write_text("\n".join(map(json.dumps, history)) + "\n")
            return
        seed = int(command[command.index("SEED") + 1])
        mota = 50.0 + seed + (10.0 if "[1,1,2]" in command else 0.0)
        row = {
            "MOTA": mota,
            "IDF1": 60.0,
            "HOTA": 40.0,
            "MOTP": 75.0,
            "FP": 10,
            "FN": 20,
            "IDS": seed,
        }
        (run_dir / "inference").mkdir(exist_ok=True)
        (run_dir / "inference" / "mot_metrics.json").write_text(json.dumps({"OVERALL": row}))


def test_grids_follow_the_paper():
    assert len(grid_settings("hwf")) == 6 == len(set(hwf_weights()))
    widths = grid_settings("lwf_c")
    assert [s.label for s in widths] == [f"LWF C={c} N=1" for c in LWF_WIDTHS]
    assert [s.label for s in grid_settings("lwf_n")] == [
        "LWF C=32 N=1",
        "LWF C=32 N=2",
        "LWF C=32 N=3",
    ]
    with pytest.raises(ValueError, match="best HWF"):
        grid_settings("weighting")
    with pytest.raises(KeyError, match="hwf"):
        grid_settings("nope")


def test_equal_settings_share_one_folder_across_grids():
    best = grid_settings("hwf")[0]
    weighting = grid_settings("weighting", best)
    keys = {s.key for s in weighting}
    assert len(keys) == len(weighting) == 6
    assert grid_settings("lwf_c")[3].key == grid_settings("lwf_n")[0].key == weighting[2].key
    assert weighting[1].key == best.key and weighting[1].label.startswith("best ")
    assert len({s.key for g in GRIDS[:3] for s in grid_settings(g)}) == 6 + 6 + 2


def test_runs_are_resumed_and_finished_runs_skipped(tmp_path):
    fake = FakeCommands(fail_training_once=True)
    runner = ExperimentRunner(tmp_path, CONFIG, seeds=2, execute=fake)
    settings = grid_settings("lwf_c")[:2]
    with pytest.raises(RuntimeError, match="killed"):
        runner.run_grid(settings)
    results = runner.run_grid(settings)
    assert [len(r) for r in results.values()] == [2, 2]
    train_calls = [c for c in fake.calls if "train_net.py" in c[1]]
    assert "--resume" not in train_calls[0] and "--resume" in train_calls[1]  # after the kill
    calls_before = len(fake.calls)
    assert runner.run_grid(settings) == results  # everything finished: nothing runs again
    assert len(fake.calls) == calls_before
    first = results[settings[0]][0]
    assert first["weighting_parameters"] == 6 * 4 + 4**2  # paper: 6C + N*C^2, C=4, N=1
    assert first["train_seconds"] >= 0 and first["train_cpu_seconds"] >= 0
    assert first["metrics"]["MOTA"] == 51.0


def test_best_hwf_tables_and_curves(tmp_path):
    runner = ExperimentRunner(tmp_path, CONFIG, seeds=3, execute=FakeCommands())
    hwf = runner.run_grid(grid_settings("hwf"))
    best = best_setting(hwf)
    assert best.label == "HWF (1, 1, 2)"  # the fake gives it +10 MOTA
    rows = summary_rows(hwf)
    row = next(r for r in rows if r["setting"] == best.label)
    assert row["seeds"] == 3 and row["MOTA"] == pytest.approx(62.0) and row["MOTA_std"] == 1.0
    md = write_tables("hwf", rows, tmp_path, "python tools/run_experiments.py --grids hwf")
    text = md.read_text()
    assert "`python tools/run_experiments.py --grids hwf`" in text
    assert "| HWF (1, 1, 2) | 3 | 0 | 62.0 ± 1.0 |" in text
    parsed = list(csv.DictReader(io.StringIO((tmp_path / "hwf.csv").read_text())))
    assert len(parsed) == 6 and float(parsed[0]["IDS"]) == 2.0
    assert not plot_lwf_curves(runner, grid_settings("hwf"), tmp_path / "hwf_weights.png")
    lwf = grid_settings("lwf_n")
    runner.run_grid(lwf)
    assert plot_lwf_curves(runner, lwf, tmp_path / "lwf_n_weights.png")
    assert (tmp_path / "lwf_n_weights.png").read_bytes()[:4] == b"\x89PNG"


def test_mean_std_and_markdown_of_an_empty_grid():
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(2**0.5))
    assert mean_std([5.0]) == (5.0, 0.0)
    assert markdown_table([]).count("\n") == 2  # header and rule only
