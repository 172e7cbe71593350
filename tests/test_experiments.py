"""The experiments runner: grids, shared settings, resumability, result files, tables and plots.

Training and tracking are replaced by a fake ``execute`` that writes what the real commands
write (the training log with the weighting factors, ``inference/mot_metrics.json`` with an OVERALL
row), so these tests check the runner's own logic in milliseconds; the real commands have their
own e2e tests.
"""

import csv
import io
import json
import shutil

import pytest

from lwf_track.engine import build_config
from tools.demo_data import SyntheticSplit
from tools.experiments.benchmarks import prepare_pets09, prepare_synthetic
from tools.experiments.figures import plot_lwf_curves
from tools.experiments.paper import TABLE_I
from tools.experiments.readme import readme_blocks, sync_readme
from tools.experiments.results import ResultStore
from tools.experiments.runner import EVAL_METRICS, TRAINING_LOG, ExperimentRunner
from tools.experiments.settings import GRIDS, LWF_WIDTHS, REPO, grid_settings, hwf_weights
from tools.experiments.stats import best_setting, mean_std
from tools.experiments.tables import markdown_summary, summary_rows, write_tables
from tools.run_experiments import main

CONFIG = "configs/experiments/synthetic_short.yaml"
SEED_LUCK = {1: 0.0, 2: 6.0, 3: -5.0, 4: 3.0, 5: -2.0}  # what a seed does to every setting
BONUS = {"[2,0.9,1.7]": 3.0, "32": 8.0}  # MOTA gained by HWF (2, 0.9, 1.7) and by LWF C=32


class FakeCommands:
    """Stands in for train_net.py / track_net.py. MOTA = 50 + the seed's luck + the setting's
    bonus; IDF1 = 60 + the seed's luck + noise that averages to 0 over seeds 1-3."""

    def __init__(self, fail_training_once=False, iterations=250):
        self.calls = []
        self.fail_training_once = fail_training_once
        self.iterations = iterations

    def __call__(self, command, log_path):
        self.calls.append(command)
        run_dir = log_path.parent
        if "train_net.py" in command[1]:
            (run_dir / "last_checkpoint").write_text("model_0000001.pth")
            if self.fail_training_once:
                self.fail_training_once = False
                raise RuntimeError("killed")
            history = [
                {"iteration": i, "weight/cls": 1.0 + i, "weight/reg": 0.5, "weight/reid": 2.0 - i}
                for i in range(self.iterations)
            ]
            (run_dir / TRAINING_LOG).write_text("\n".join(map(json.dumps, history)) + "\n")
            return
        seed = int(command[command.index("SEED") + 1])
        values = command[command.index("MODEL.LOSS_WEIGHTING.NAME") + 3 :]
        bonus = sum(b for marker, b in BONUS.items() if marker in values[:1])
        noise = (seed + len("".join(values))) % 3 - 1.0
        row = {
            "MOTA": 50.0 + SEED_LUCK[seed] + bonus,
            "IDF1": 60.0 + SEED_LUCK[seed] + noise,
            "HOTA": 40.0,
            "MOTP": 75.0,
            "AP": 30.0 + bonus,
            "TPR@FAR=0.1": 0.5,
            "FP": 10,
            "FN": 20,
            "IDS": seed,
        }
        (run_dir / EVAL_METRICS).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / EVAL_METRICS).write_text(json.dumps({"SEQ-01": row, "OVERALL": row}))


def make_runner(tmp_path, fake, seeds=2):
    store = ResultStore(tmp_path / "results" / "synthetic")
    return ExperimentRunner("synthetic", CONFIG, tmp_path / "out", store, seeds, execute=fake)


def test_hwf_grid_is_the_papers_table_i_with_its_numbers():
    assert sorted(hwf_weights()) == sorted(TABLE_I)
    settings = grid_settings("hwf")
    assert len(settings) == 6
    best_in_paper = next(s for s in settings if s.label == "HWF (2, 0.9, 1.7)")
    assert dict(best_in_paper.paper) == {"MOTA": 75.2, "IDF1": 65.2, "MOTP": 84.9}
    widths = grid_settings("lwf_c")
    assert [s.label for s in widths] == [f"LWF C={c} N=1" for c in LWF_WIDTHS]
    assert dict(widths[0].paper)["params"] == "0.04k"
    assert [dict(s.paper)["MOTA"] for s in grid_settings("lwf_n")] == [76.2, 76.0, 74.8]
    assert not any(s.label.startswith("best") for s in grid_settings("weighting"))  # not known
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
    runner = make_runner(tmp_path, fake)
    settings = grid_settings("lwf_c")[:2]
    with pytest.raises(RuntimeError, match="killed"):
        runner.run_grid(settings)
    runner.run_grid(settings)
    results = runner.store.load(settings)
    assert [len(r) for r in results.values()] == [2, 2]
    train_calls = [c for c in fake.calls if "train_net.py" in c[1]]
    assert "--resume" not in train_calls[0] and "--resume" in train_calls[1]  # after the kill
    calls_before = len(fake.calls)
    runner.run_grid(settings)  # everything finished: nothing runs again
    assert len(fake.calls) == calls_before
    assert runner.store.load(settings) == results
    other_budget = ExperimentRunner(
        "synthetic", CONFIG, tmp_path / "out", runner.store, 2, ["SOLVER.MAX_ITER", "9"], fake
    )
    with pytest.raises(ValueError, match="was made with config"):
        other_budget.run_grid(settings)  # never mixed with runs of another recipe


def test_result_file_holds_metrics_weights_and_provenance(tmp_path):
    runner = make_runner(tmp_path, FakeCommands(iterations=250), seeds=1)
    setting = grid_settings("lwf_c")[0]
    runner.run_grid([setting])
    path = tmp_path / "results" / "synthetic" / f"{setting.key}_seed1" / "result.json"
    result = json.loads(path.read_text())
    assert result["seed"] == 1 and result["benchmark"] == "synthetic"
    assert result["config_file"] == CONFIG and result["overrides"] == list(setting.overrides)
    assert result["weighting_parameters"] == 6 * 4 + 4**2  # paper: 6C + N*C^2, C=4, N=1
    assert result["train_cpu_seconds"] >= 0 and result["track_cpu_seconds"] >= 0
    assert result["metrics"]["MOTA"] == 50.0 and result["metrics"]["AP"] == 30.0
    assert result["weight_summary"]["alpha"] == {
        "first": 1.0,
        "last": 250.0,
        "min": 1.0,
        "max": 250.0,
    }
    assert result["weight_summary"]["gamma"]["min"] == -247.0
    history = result["weight_history"]["alpha"]
    assert len(history) <= 100 and history[0] == [0, 1.0] and history[-1] == [249, 250.0]
    assert not list(tmp_path.glob("results/**/*.pth"))  # big files stay in the output folder


def test_every_setting_of_a_seed_gets_that_seed(tmp_path):
    fake = FakeCommands()
    runner = make_runner(tmp_path, fake, seeds=3)
    runner.run_grid(grid_settings("hwf")[:2])
    for command in fake.calls:
        seed = command[command.index("SEED") + 1]
        assert command[command.index("OUTPUT_DIR") + 1].endswith(f"_seed{seed}")
    results = runner.store.load(grid_settings("hwf")[:2])
    assert all([r["seed"] for r in runs] == [1, 2, 3] for runs in results.values())
    trained_seeds = [c[c.index("SEED") + 1] for c in fake.calls if "train_net.py" in c[1]]
    assert trained_seeds == ["1", "1", "2", "2", "3", "3"]  # seed by seed: a cut run stays paired


def test_tables_come_from_result_files_only_with_verdicts(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    (shared / "MOT15" / "train" / "PETS09-S2L1").mkdir(parents=True)
    monkeypatch.setenv("LWF_SHARED_DATA", str(shared))
    folders = ["--out", str(tmp_path / "out"), "--results", str(tmp_path / "results")]
    args = ["--benchmark", "pets09", "--grids", "weighting", "--seeds", "3", *folders]
    main([*args, "--data-root", str(tmp_path / "data")], execute=FakeCommands())
    assert (tmp_path / "data" / "MOT15").resolve() == (shared / "MOT15").resolve()
    tables = tmp_path / "results" / "pets09"
    first = (tables / "weighting.md").read_text()
    shutil.rmtree(tmp_path / "out")  # the training outputs are not needed for the tables
    (tables / "weighting.md").unlink()
    main([*args, "--report-only"], execute=None)
    again = (tables / "weighting.md").read_text()
    assert again.split("\n", 4)[4] == first.split("\n", 4)[4]  # all but the command line
    assert "Baseline: **HWF (2, 0.9, 1.7)**" in again  # the best HWF by mean MOTA (+3)
    comparison = list(
        csv.DictReader(io.StringIO((tables / "weighting_vs_baseline.csv").read_text()))
    )
    verdict = {(r["setting"], r["metric"]): r["verdict"] for r in comparison}
    assert verdict[("LWF (C=32, N=1)", "MOTA")] == "better"  # +8 vs +3, every seed
    assert verdict[("LWF (C=32, N=1)", "AP")] == "better"
    assert verdict[("Fixed (1, 1, 1)", "MOTA")] == "worse"
    assert verdict[("LWF (C=32, N=1)", "IDF1")] == "no difference detected"  # noise only
    assert verdict[("LWF (C=32, N=1)", "HOTA")] == "no difference detected"  # equal
    lwf = next(r for r in comparison if r["setting"] == "LWF (C=32, N=1)" and r["metric"] == "MOTA")
    assert float(lwf["mean_diff"]) == pytest.approx(5.0) and lwf["pairs"] == "3"
    assert "| best HWF (2, 0.9, 1.7) | 3 | 0 (baseline) | baseline |" in again
    assert "| LWF (C=32, N=1) | 3 | 1216 | 58.3 ± 5.5 |" in again
    assert "paired t" in again and (tables / "weighting_weights.png").read_bytes()[:4] == b"\x89PNG"
    assert (tables / "hwf.md").exists()  # the best HWF needed the hwf grid


def test_a_metric_missing_from_older_results_shows_as_na(tmp_path):
    runner = make_runner(tmp_path, FakeCommands(), seeds=2)
    settings = grid_settings("hwf")[:2]
    runner.run_grid(settings)
    for path in (tmp_path / "results").glob("*/*/result.json"):
        result = json.loads(path.read_text())
        del result["metrics"]["AP"], result["weight_history"]
        path.write_text(json.dumps(result))
    results = runner.store.load(settings)
    assert "| n/a |" in markdown_summary(summary_rows(results))
    write_tables("hwf", "Table I", results, settings[0], results[settings[0]], tmp_path, "cmd")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "hwf_vs_baseline.csv").read_text())))
    assert {r["verdict"] for r in rows if r["metric"] == "AP"} == {""}
    assert not plot_lwf_curves(results, tmp_path / "none.png")  # no stored weight history


def test_a_single_seed_shows_its_mean_without_a_spread(tmp_path):
    runner = make_runner(tmp_path, FakeCommands(), seeds=1)
    settings = grid_settings("hwf")[:2]
    runner.run_grid(settings)
    table = markdown_summary(summary_rows(runner.store.load(settings)))
    rows = [line for line in table.splitlines() if line.startswith("| HWF")]
    assert len(rows) == 2 and not any("±" in row for row in rows)


def test_synthetic_benchmark_prepares_the_splits_its_config_uses(tmp_path, monkeypatch):
    """The runner generates what synthetic_short.yaml trains, calibrates and tests on, and nothing
    else (its training set is not the demo's)."""
    generated = []
    monkeypatch.setattr(SyntheticSplit, "ensure", lambda split, path: generated.append(path.name))
    prepare_synthetic(tmp_path)
    cfg = build_config(CONFIG, [])
    used = {*cfg.DATASETS.TRAIN, *cfg.DATASETS.TEST, cfg.TRACKER.CALIBRATION.DATASET}
    assert {f"mot_synth_{split}" for split in generated} == used
    assert "mot_synth_train" not in used


def test_pets09_needs_the_shared_data_and_says_where(tmp_path, monkeypatch, capsys):
    with pytest.raises(FileNotFoundError, match="LWF_SHARED_DATA"):
        prepare_pets09(tmp_path / "data", tmp_path / "nowhere")
    monkeypatch.setenv("LWF_SHARED_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit, match="error: PETS09-S2L1 not found at"):
        main(["--benchmark", "pets09", "--data-root", str(tmp_path / "data")], execute=None)


def test_an_unknown_baseline_or_no_results_is_a_clear_error(tmp_path):
    results = ["--results", str(tmp_path)]
    with pytest.raises(SystemExit, match="no hwf results"):
        main(["--report-only", *results])
    runner = make_runner(tmp_path, FakeCommands(), seeds=1)
    runner.run_grid(grid_settings("hwf"))
    report = ["--report-only", "--results", str(tmp_path / "results")]
    with pytest.raises(SystemExit, match="no setting's label"):
        main([*report, "--baseline", "HWF (9, 9, 9)"])
    main([*report, "--grids", "hwf", "--baseline", "HWF (0.5, 2, 1)"])
    table = (tmp_path / "results" / "synthetic" / "hwf.md").read_text()
    assert "Baseline: **HWF (0.5, 2, 1)**" in table


def test_best_setting_and_mean_std():
    runs = {"a": [{"metrics": {"MOTA": 1.0}}], "b": [{"metrics": {"MOTA": 2.0}}], "c": []}
    assert best_setting(runs) == "b"
    with pytest.raises(ValueError, match="no finished runs"):
        best_setting({"a": []})
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(2**0.5))
    assert mean_std([5.0]) == (5.0, 0.0)
    assert markdown_summary([]).count("\n") == 2  # header and rule only


def test_only_trains_the_named_settings_and_compares_them_without_hwf_runs(tmp_path):
    folders = ["--out", str(tmp_path / "out"), "--results", str(tmp_path / "results")]
    only = ["--only", "Fixed (1, 1, 1)", "LWF (C=32, N=1)", "--baseline", "Fixed (1, 1, 1)"]
    fake = FakeCommands()
    args = ["--grids", "weighting", "--seeds", "3", *only, *folders]
    main([*args, "--data-root", str(tmp_path / "data")], execute=fake)
    trained = {c[c.index("OUTPUT_DIR") + 1].rsplit("/", 1)[-1] for c in fake.calls}
    assert len(trained) == 6  # 2 settings x 3 seeds, nothing of the hwf grid
    table = (tmp_path / "results" / "synthetic" / "weighting.md").read_text()
    assert "Baseline: **Fixed (1, 1, 1)**" in table and "| best HWF" not in table
    comparison = csv.DictReader(
        io.StringIO((tmp_path / "results" / "synthetic" / "weighting_vs_baseline.csv").read_text())
    )
    verdict = {(r["setting"], r["metric"]): r["verdict"] for r in comparison}
    assert verdict[("LWF (C=32, N=1)", "MOTA")] == "better"  # +8 on every seed


def test_readme_blocks_are_replaced_by_the_generated_tables(tmp_path):
    runner = make_runner(tmp_path, FakeCommands(), seeds=1)
    runner.run_grid(grid_settings("hwf"))
    readme = tmp_path / "README.md"
    block = "<!-- begin results/synthetic/hwf.md -->\n| typed | by hand |\n"
    readme.write_text(f"# Results\n{block}<!-- end results/synthetic/hwf.md -->\nafter\n")
    report = ["--report-only", "--grids", "hwf", "--results", str(tmp_path / "results")]
    main([*report, "--readme", str(readme)])
    table = (tmp_path / "results" / "synthetic" / "hwf.md").read_text()
    assert readme_blocks(readme.read_text()) == {"synthetic/hwf.md": table}
    assert readme.read_text().startswith("# Results\n") and readme.read_text().endswith("after\n")
    assert sync_readme(readme, tmp_path / "results") == []  # in step: nothing to change

    readme.write_text(readme.read_text().replace("hwf.md", "lwf_c.md"))
    with pytest.raises(SystemExit, match="synthetic/lwf_c.md"):
        main([*report, "--readme", str(readme)])


def test_the_readme_shows_the_committed_generated_tables():
    """Every experiment table of the README is its generated file, character for character
    (refresh: python -m tools.run_experiments --benchmark B --report-only --readme README.md)."""
    blocks = readme_blocks((REPO / "README.md").read_text())
    assert blocks, "README.md has no generated experiment block"
    results = REPO / "tools" / "experiments" / "results"
    for key, body in blocks.items():
        assert body == (results / key).read_text(), f"README block {key} is stale"
