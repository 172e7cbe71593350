"""Recipe run records (tools/experiments/recipes.py, tools/recipe_runs.py): what a run changed,
read from its dumped config; wall time; tables and Welch comparisons made from the records."""

import json
import os
import shutil

import pytest
from scipy import stats

from lwf_track.engine.defaults import build_config
from tools.experiments.recipes import (
    AS_CONFIGURED,
    RecipeStore,
    comparison_table,
    pooled_table,
    _configured,
    record_run,
    recipe_table,
    run_changes,
    variant,
)
from tools.experiments.settings import REPO
from tools.experiments.stats import NO_DIFFERENCE, welch_difference
from tools.recipe_runs import main

CONFIG = "configs/lwf_pets09_cpu_from_demo_mix.yaml"
STARTED = 1_800_000_000  # the trainer's start, as in detectron2's event file name


def fake_run(root, name, opts=(), mota=70.0, wall=600.0, starts=1):
    """An OUTPUT_DIR as train_net.py leaves it: config.yaml, the training log, the evaluation."""
    run_dir = root / name
    (run_dir / "inference").mkdir(parents=True)
    cfg = build_config(CONFIG, [*opts, "OUTPUT_DIR", str(run_dir)])
    (run_dir / "config.yaml").write_text(cfg.dump())
    overall = {"MOTA": mota, "IDF1": 60.0, "FP": 100, "FN": 200, "AP": 38.0}
    (run_dir / "inference" / "mot_metrics.json").write_text(json.dumps({"OVERALL": overall}))
    chosen = {"HIGH_SCORE_THRESH": 0.4, "BIRTH_THRESH": 0.5}
    (run_dir / "inference" / "calibration.json").write_text(json.dumps({"chosen": chosen}))
    for start in range(starts):
        (run_dir / f"events.out.tfevents.{STARTED + start}.host.1.0").write_text("")
    (run_dir / "metrics.json").write_text("{}\n")
    os.utime(run_dir / "metrics.json", (STARTED + wall, STARTED + wall))
    return run_dir


def test_a_record_holds_what_the_run_changed_its_metrics_threshold_and_wall_time(tmp_path):
    opts = ["SEED", 4, "MODEL.REID.NUM_IDENTITIES", 40, "MODEL.WEIGHTS", "other/model.pth"]
    result = record_run(fake_run(tmp_path, "run4", opts, wall=612.0), CONFIG)
    assert run_changes(result) == {
        "SEED": 4,
        "MODEL.REID.NUM_IDENTITIES": 40,
        "MODEL.WEIGHTS": "other/model.pth",
    }
    assert (result["seed"], result["weights"], result["threshold"]) == (4, "other/model.pth", 0.4)
    assert result["metrics"]["MOTA"] == 70.0 and result["wall_seconds"] == pytest.approx(612.0)
    # seed and starting weights vary between runs of one variant; the identities do not
    assert variant(result) == "changed: `MODEL.REID.NUM_IDENTITIES 40`"
    noted = record_run(tmp_path / "run4", CONFIG, note="72 x 12 training scenes")
    assert variant(noted) == "72 x 12 training scenes; changed: `MODEL.REID.NUM_IDENTITIES 40`"


def test_a_run_as_configured_and_a_resumed_run(tmp_path):
    result = record_run(fake_run(tmp_path, "plain", starts=2), CONFIG)
    assert run_changes(result) == {} and variant(result) == AS_CONFIGURED
    assert result["wall_seconds"] is None  # two starts: the pause between them would count


def test_the_wall_time_of_a_run_with_a_pretraining_stage_starts_with_the_stage(tmp_path):
    run_dir = fake_run(tmp_path, "two_stage", wall=400.0)
    stage = run_dir / "pretrain"
    stage.mkdir()
    (stage / f"events.out.tfevents.{STARTED - 200}.host.1.0").write_text("")
    assert record_run(run_dir, CONFIG)["wall_seconds"] == pytest.approx(600.0)
    (stage / f"events.out.tfevents.{STARTED - 900}.host.1.0").write_text("")  # stage resumed
    assert record_run(run_dir, CONFIG)["wall_seconds"] is None


def test_a_config_edited_after_a_run_shows_the_run_as_a_variant(tmp_path):
    config = tmp_path / "recipe.yaml"
    config.write_text(f"_BASE_: {REPO / CONFIG}\n")
    result = record_run(fake_run(tmp_path, "run"), str(config))
    assert variant(result) == AS_CONFIGURED
    config.write_text(f"_BASE_: {REPO / CONFIG}\nSOLVER:\n  MAX_ITER: 123\n")
    _configured.cache_clear()
    assert variant(result) == "changed: `SOLVER.MAX_ITER 400`"  # what the run used


def test_a_run_older_than_a_key_ran_with_its_default(tmp_path):
    """A record made before TRACKER.COLOR_WEIGHT existed: as configured while the config leaves
    the key at its default, a variant with the default once the config sets another value."""
    config = tmp_path / "recipe.yaml"
    config.write_text(f"_BASE_: {REPO / CONFIG}\n")
    result = record_run(fake_run(tmp_path, "old"), str(config))
    del result["config"]["TRACKER.COLOR_WEIGHT"]
    assert variant(result) == AS_CONFIGURED
    config.write_text(f"_BASE_: {REPO / CONFIG}\nTRACKER:\n  COLOR_WEIGHT: 1.0\n")
    _configured.cache_clear()
    assert run_changes(result) == {"TRACKER.COLOR_WEIGHT": 0.0}


def test_an_evaluation_alone_is_recorded_without_a_wall_time(tmp_path):
    """track_net.py --eval-only leaves its config in OUTPUT_DIR/inference/ and no training log."""
    run_dir = tmp_path / "retracked"
    (run_dir / "inference").mkdir(parents=True)
    opts = ["MODEL.WEIGHTS", "trained/model_final.pth", "TRACKER.LOST_BY_IOU", True, "SEED", 10]
    cfg = build_config(CONFIG, [*opts, "OUTPUT_DIR", str(run_dir / "inference")])
    (run_dir / "inference" / "config.yaml").write_text(cfg.dump())
    overall = {"MOTA": 71.0, "IDF1": 62.0, "FP": 90, "FN": 210, "AP": 38.0}
    (run_dir / "inference" / "mot_metrics.json").write_text(json.dumps({"OVERALL": overall}))
    result = record_run(run_dir, CONFIG)
    assert (result["seed"], result["weights"]) == (10, "trained/model_final.pth")
    assert result["metrics"]["MOTA"] == 71.0 and result["wall_seconds"] is None
    assert variant(result) == "changed: `TRACKER.LOST_BY_IOU true`"


def test_a_folder_without_config_yaml_is_named(tmp_path):
    with pytest.raises(SystemExit, match="config.yaml not found"):
        main(["--results", str(tmp_path / "r"), "record", "--config-file", CONFIG, str(tmp_path)])


def test_tables_give_each_variant_its_mean_and_spread(tmp_path):
    store = RecipeStore(tmp_path / "results")
    for name, opts, mota in [("a", ["SEED", 1], 70.0), ("b", ["SEED", 2], 74.0)]:
        store.write(record_run(fake_run(tmp_path, name, opts, mota=mota), CONFIG))
    store.write(record_run(fake_run(tmp_path, "c", ["SOLVER.MAX_ITER", 9]), CONFIG))
    table = recipe_table("lwf_pets09_cpu_from_demo_mix", store.runs("lwf_pets09_cpu_from_demo_mix"))
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    assert [row[:2] for row in cells] == [
        ["as configured", "a"],
        ["", "b"],
        ["", "**mean ± sd** (2 runs)"],
        ["changed: `SOLVER.MAX_ITER 9`", "c"],
    ]
    assert cells[2][4] == "72.0 ± 2.8"  # MOTA of a and b
    # a change all runs share is named once, above the table
    store.write(record_run(fake_run(tmp_path, "d", ["SOLVER.MAX_ITER", 9]), CONFIG))
    runs = store.runs("lwf_pets09_cpu_from_demo_mix")
    shared = recipe_table("x", [r for r in runs if "SOLVER.MAX_ITER" in run_changes(r)])
    assert shared.startswith("`x.yaml`, every run with `SOLVER.MAX_ITER 9`")


def test_welch_interval_matches_scipy():
    a, b = [75.8, 75.7, 64.3, 67.7], [71.6, 67.6, 70.0]
    difference = welch_difference(a, b)
    low, high = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (difference.low, difference.high) == (pytest.approx(low), pytest.approx(high))
    assert difference.verdict == NO_DIFFERENCE
    assert welch_difference([1.0], b) is None  # one run has no spread


def test_comparison_rows_flip_the_verdict_where_lower_is_better(tmp_path):
    store = RecipeStore(tmp_path / "results")
    for name, mota in [("a", 80.0), ("b", 80.5)]:
        store.write(record_run(fake_run(tmp_path, name, ["SEED", 1], mota=mota), CONFIG))
    runs = store.runs("lwf_pets09_cpu_from_demo_mix")
    for index, run in enumerate(runs):  # a second recipe with a lower MOTA and more misses
        other = "configs/lwf_pets09_cpu_scratch.yaml"
        run = {**run, "config_file": other, "config": _configured(other), "name": f"low{index}"}
        run["metrics"] = {**run["metrics"], "MOTA": 60.0 + index, "FN": 400 + index}
        store.write(run)
    side_a = ("lwf_pets09_cpu_from_demo_mix", {})
    table = comparison_table([(side_a, ("lwf_pets09_cpu_scratch", {}))], store)
    row = next(line for line in table.splitlines() if line.startswith("| `"))  # Welch's
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "2 vs 2"
    assert cells[3].startswith("+19.8") and cells[3].endswith("better")  # MOTA
    assert cells[7].startswith("-200") and cells[7].endswith("better")  # FN: fewer misses


def write_runs(store: RecipeStore, tmp_path, runs) -> None:
    """Record fake runs given as (name, SEED, MAX_ITER 600 or the config's, MOTA, note)."""
    for name, seed, longer, mota, run_note in runs:
        opts = ["SEED", seed, *(["SOLVER.MAX_ITER", 600] if longer else [])]
        store.write(record_run(fake_run(tmp_path, name, opts, mota=mota), CONFIG, run_note))


def test_paired_rows_use_the_seeds_both_sides_ran_once_and_a_side_may_name_a_note(tmp_path):
    store = RecipeStore(tmp_path / "results")
    note = "started from another run"
    runs = [  # (name, SEED, MAX_ITER 600 or the config, MOTA, note)
        ("a1", 1, False, 70.0, ""),
        ("a2", 2, False, 71.0, ""),
        ("a3", 3, False, 66.0, ""),
        ("b2", 2, True, 75.0, ""),
        ("b3", 3, True, 68.0, ""),
        ("b3_again", 3, True, 90.0, ""),  # seed 3 twice on this side: not paired
        ("b1", 1, True, 74.0, ""),
        ("n1", 1, True, 10.0, note),  # the noted variant of the same changes
        ("n2", 2, True, 12.0, note),
    ]
    write_runs(store, tmp_path, runs)
    recipe = "lwf_pets09_cpu_from_demo_mix"
    longer = {"SOLVER.MAX_ITER": 600}
    table = comparison_table(
        [((recipe, longer), (recipe, {})), ((recipe, longer, note), (recipe, {}))], store
    )
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    assert cells[0][2] == "4 vs 3" and cells[1][2] == "2 vs 3"  # Welch: every run of a side
    paired, noted = cells[2], cells[3]
    assert paired[2] == "1, 2" and paired[3] == "+4.0 [+4.0, +4.0] better"
    assert noted[0].startswith(f"`{recipe}`, {note}; changed: `SOLVER.MAX_ITER 600`")
    assert noted[2] == "1, 2"
    low, high = stats.ttest_rel([10.0, 12.0], [70.0, 71.0]).confidence_interval(0.95)
    assert noted[3] == f"-59.5 [{low:+.1f}, {high:+.1f}] worse"


def test_pooled_rows_pair_the_seeds_of_several_comparisons_together(tmp_path):
    store = RecipeStore(tmp_path / "results")
    note = "started from another run"
    runs = [  # (name, SEED, MAX_ITER 600 or the config, MOTA, note)
        ("a1", 1, False, 70.0, ""),
        ("a2", 2, False, 71.0, ""),
        ("b1", 1, True, 74.0, ""),
        ("b2", 2, True, 75.0, ""),
        ("n1", 1, True, 10.0, note),
        ("n2", 2, True, 12.0, note),
    ]
    write_runs(store, tmp_path, runs)
    recipe, longer = "lwf_pets09_cpu_from_demo_mix", {"SOLVER.MAX_ITER": 600}
    comparisons = (((recipe, longer), (recipe, {})), ((recipe, longer, note), (recipe, {})))
    table = pooled_table([("both", comparisons)], store)
    cells = [c.strip() for c in table.splitlines()[-1].strip("|").split("|")]
    assert cells[:2] == ["both", "4"]
    low, high = stats.ttest_1samp([4.0, 4.0, -60.0, -59.0], 0.0).confidence_interval(0.95)
    assert cells[2] == f"-27.8 [{low:+.1f}, {high:+.1f}] no difference detected"


def test_the_committed_recipe_tables_are_made_from_the_committed_records(tmp_path):
    """``python -m tools.recipe_runs report`` from the committed records gives the committed
    tables (which the README shows: test_experiments checks the README blocks)."""
    committed = REPO / "tools" / "experiments" / "results" / "recipes"
    copy = shutil.copytree(committed, tmp_path / "recipes")
    for table in copy.glob("*.md"):
        table.unlink()
    main(["--results", str(copy), "report"])
    tables = sorted(p.name for p in committed.glob("*.md"))
    assert tables and tables == sorted(p.name for p in copy.glob("*.md"))
    for name in tables:
        assert (copy / name).read_text() == (committed / name).read_text(), name
