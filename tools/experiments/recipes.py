"""Result files of single recipe runs (one config, one seed), and the README tables made from them.

The ablation grids (``runner.py``) train settings x seeds themselves; the CPU recipes
(``configs/lwf_pets09_cpu*.yaml``, the demo) are trained by their own commands, so their runs are
recorded afterwards from the run's OUTPUT_DIR (``tools/recipe_runs.py``):
``<root>/<config stem>/<run name>.json`` holds the run's whole config, read from the
``config.yaml`` detectron2 wrote there, with its evaluation. What a run changed is computed when
the tables are made, against its config file as that file is then, never typed: runs with the
same changes (besides SEED and the starting weights) form one variant, whose mean and spread the
tables give.
"""

import functools
import glob
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from detectron2.config import get_cfg

from lwf_track import add_lwf_config
from lwf_track.engine.defaults import build_config
from lwf_track.engine.pretrain import STAGE_DIR
from lwf_track.evaluation.calibration import CALIBRATION_FILE
from lwf_track.utils.io import atomic_write_json, atomic_write_text

from tools.demo import DEMO_TIMES_FILE

from .runner import EVAL_METRICS, TRAINING_LOG, read_overall
from .settings import REPO
from .stats import BETTER, WORSE, mean_std, pair_by_seed, paired_difference, welch_difference

RUN_KEYS = ("SEED", "MODEL.WEIGHTS")  # differ between runs of one variant
NOT_RECORDED = ("OUTPUT_DIR",)  # where the run lived, not how it ran
# keys that leave the results as they are (memory layout): a run that predates one is not a variant
LAYOUT_KEYS = ("MODEL.CHANNELS_LAST",)
TABLE_METRICS = ("MOTA", "IDF1", "HOTA", "MOTP", "FP", "FN", "IDS", "AP", "AP50", "TPR@FAR=0.1")
COMPARED_METRICS = ("MOTA", "IDF1", "HOTA", "AP", "FN", "FP", "TPR@FAR=0.1")
LOWER_IS_BETTER = ("FP", "FN")
DIGITS = {"FP": 0, "FN": 0, "IDS": 0, "threshold": 2}  # thresholds come in steps of 0.05
COLUMN_TITLES = {
    "wall": "wall, train + eval (min)",  # see wall_seconds
    "demo": "`tools.demo` total (min)",  # every step of the demo, from its demo_times.json
}
AS_CONFIGURED = "as configured"
WELCH_CAPTION = (
    "Each row: mean(A) - mean(B) over the runs of each side (different seeds and starting models,"
    " so unpaired) with Welch's 95% confidence interval; better / worse only when the interval"
    " excludes 0 (for FP and FN lower is better)."
)
PAIRED_CAPTION = (
    "The same comparisons over the seeds both sides ran (one run of that SEED on each side): mean"
    " of the per-seed differences A - B with the paired-t 95% confidence interval; n/a below two"
    " pairs. Seven metrics a row, none corrected for the others: one interval that excludes 0 is"
    " weak evidence alone."
)
POOLED_CAPTION = (
    "Pooled: the seed pairs of several of the comparisons above (each paired as there) in one"
    " paired-t 95% confidence interval, for a question asked of more than one recipe's runs."
)


def flatten(cfg, prefix: str = "") -> dict:
    """``{"MODEL.REID.NUM_IDENTITIES": 10, ...}`` of a CfgNode, tuples as lists (the form a
    dumped config.yaml reads back as, and JSON's)."""
    flat = {}
    for key, value in cfg.items():
        name = prefix + key
        if hasattr(value, "items"):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = _as_lists(value)
    return flat


def _as_lists(value):
    if isinstance(value, (tuple, list)):
        return [_as_lists(v) for v in value]
    return value


@functools.lru_cache(maxsize=None)
def _configured(config_file: str) -> dict:
    path = Path(config_file) if Path(config_file).is_absolute() else REPO / config_file
    return flatten(build_config(str(path)))


@functools.lru_cache(maxsize=None)
def _defaults() -> dict:
    cfg = get_cfg()
    add_lwf_config(cfg)
    return flatten(cfg)


def run_changes(run: dict) -> dict:
    """The keys whose value in a recorded run's config differs from its config file as that file
    is now (so a config edited after a run shows the run as a variant, not "as configured"); a
    key the file no longer has counts as changed. A key the run predates ran as its default (a
    new key's default keeps the behaviour before it): changed where the file now sets another
    value, unless the key only changes the memory layout (``LAYOUT_KEYS``)."""
    configured = _configured(run["config_file"])
    changes = {k: v for k, v in run["config"].items() if configured.get(k, ...) != v}
    defaults = _defaults()
    for key in configured.keys() - run["config"].keys() - {*NOT_RECORDED, *LAYOUT_KEYS}:
        if key in defaults and configured[key] != defaults[key]:
            changes[key] = defaults[key]
    return changes


def wall_seconds(run_dir: Path):
    """Training + end-of-training evaluation: from the start of the first trainer (the time in
    the name of detectron2's TensorBoard event file, made when a trainer starts; a pretraining
    stage, in OUTPUT_DIR/pretrain, starts first) to the last write of the training log (the final
    evaluation's line). None when a folder holds several trainings (a resumed or repeated run),
    whose pauses would count."""
    trainings = [run_dir]
    while (trainings[-1] / STAGE_DIR).is_dir():
        trainings.append(trainings[-1] / STAGE_DIR)
    starts = [glob.glob(str(folder / "events.out.tfevents.*")) for folder in trainings]
    if any(len(found) != 1 for found in starts) or not (run_dir / TRAINING_LOG).exists():
        return None
    started = min(int(Path(found[0]).name.split(".")[3]) for found in starts)
    return os.path.getmtime(run_dir / TRAINING_LOG) - started


def record_run(run_dir, config_file: str, note: str = "") -> dict:
    """A run's result: its whole config (from the ``config.yaml`` it wrote), evaluation, chosen
    threshold, wall time (None for an evaluation alone). ``note`` names what the config cannot
    show (e.g. how the training data was generated); runs with different notes are different
    variants."""
    run_dir = Path(run_dir)
    # train_net.py writes OUTPUT_DIR/config.yaml; track_net.py --eval-only (a trained model
    # tracked again with other keys) OUTPUT_DIR/inference/config.yaml
    written = [run_dir / "config.yaml", run_dir / "inference" / "config.yaml"]
    dumped = next((path for path in written if path.exists()), None)
    if dumped is None:
        raise FileNotFoundError(
            f"{written[0]} not found (nor {written[1]}): not an OUTPUT_DIR of train_net.py or of "
            "track_net.py --eval-only"
        )
    _configured(config_file)  # a config file that does not load fails here, not in the tables
    config = flatten(build_config(str(dumped)))
    for key in NOT_RECORDED:
        del config[key]
    calibration = run_dir / "inference" / CALIBRATION_FILE
    chosen = (_read_json(calibration) or {}).get("chosen", {})
    return {
        "config_file": config_file,
        "name": run_dir.name,
        "note": note,
        "seed": config["SEED"],
        "weights": config["MODEL.WEIGHTS"],
        "metrics": read_overall(run_dir / EVAL_METRICS),
        "threshold": chosen.get("HIGH_SCORE_THRESH"),
        "config": config,
        "wall_seconds": wall_seconds(run_dir),
        "steps_seconds": _read_json(run_dir / DEMO_TIMES_FILE),
    }


def _read_json(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


class RecipeStore:
    """``<root>/<config stem>/<run name>.json``: the recorded runs of each recipe config."""

    def __init__(self, root):
        self.root = Path(root)

    def write(self, result: dict) -> Path:
        path = self.root / Path(result["config_file"]).stem / f"{result['name']}.json"
        atomic_write_json(str(path), result)
        return path

    def has_recipe(self, recipe: str) -> bool:
        return (self.root / recipe).is_dir()

    def recipes(self) -> list[str]:
        return (
            sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.exists() else []
        )

    def runs(self, recipe: str) -> list[dict]:
        runs = []
        for path in sorted((self.root / recipe).glob("*.json")):
            try:
                runs.append(json.loads(path.read_text()))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: not valid JSON ({e}); record that run again") from e
        return sorted(runs, key=lambda r: (_natural(variant(r)), r["seed"], r["name"]))


def _natural(text: str) -> tuple:
    """Sort key: as configured first, then numbers by value ("6 scenes" before "18 scenes")."""
    parts = re.split(r"(\d+)", text)
    return (text != AS_CONFIGURED, [int(p) if p.isdigit() else p for p in parts])


def variant_changes(run: dict) -> dict:
    """What a run changed from its config besides the run keys (seed, starting weights)."""
    return {k: v for k, v in run_changes(run).items() if k not in RUN_KEYS}


def _changes_text(changes: dict) -> str:
    return " ".join(f"{k} {json.dumps(v)}" for k, v in sorted(changes.items()))


def variant(run: dict, shared: dict | None = None) -> str:
    """A run's note and its variant changes, less ``shared`` (changes every run of a table
    made, which its title names once)."""
    shared = shared or {}
    changes = {k: v for k, v in variant_changes(run).items() if shared.get(k, ...) != v}
    changed = _changes_text(changes)
    changed = f"changed: `{changed}`" if changed else AS_CONFIGURED
    return f"{run['note']}; {changed}" if run.get("note") else changed


def by_variant(runs: Sequence[dict], shared: dict | None = None) -> dict[str, list[dict]]:
    groups = {}
    for run in runs:
        groups.setdefault(variant(run, shared), []).append(run)
    return groups


def shared_changes(runs: Sequence[dict]) -> dict:
    """The variant changes every one of ``runs`` made, with the same value."""
    if not runs:
        return {}
    first, *rest = [variant_changes(run) for run in runs]
    return {k: v for k, v in first.items() if all(k in c and c[k] == v for c in rest)}


def _number(value, metric: str, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:{'+' if signed else ''}.{DIGITS.get(metric, 1)}f}"


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def recipe_table(recipe: str, runs: Sequence[dict]) -> str:
    """A recipe's runs, grouped by variant (named on its first row), with mean ± sd under each
    variant of two or more runs."""
    columns = [*TABLE_METRICS, "threshold", "wall"]
    if any(run.get("steps_seconds") for run in runs):
        columns.append("demo")
    header = ["variant", "run", "SEED", "starting weights"]
    header += [COLUMN_TITLES.get(c, c) for c in columns]
    shared = shared_changes(runs)
    title = f"`{recipe}.yaml`" + (f", every run with `{_changes_text(shared)}`" if shared else "")
    lines = [f"{title}:", "", _row(header), "|" + "---|" * len(header)]
    for changes, group in by_variant(runs, shared).items():
        for index, run in enumerate(group):
            cells = [changes if index == 0 else "", run["name"], str(run["seed"])]
            cells.append(f"`{run['weights']}`" if run["weights"] else "-")
            lines.append(_row(cells + [_number(_value(run, c), c) for c in columns]))
        if len(group) > 1:
            cells = ["", f"**mean ± sd** ({len(group)} runs)", "", ""]
            for metric in columns:
                values = _values(group, metric)
                mean, std = mean_std(values) if len(values) > 1 else (None, None)
                spread = f"{_number(mean, metric)} ± {_number(std, metric)}"
                cells.append(spread if mean is not None else "")
            lines.append(_row(cells))
    return "\n".join(lines) + "\n"


def _value(run: dict, metric: str):
    if metric == "threshold":
        return run["threshold"]
    if metric == "wall":
        return None if run["wall_seconds"] is None else run["wall_seconds"] / 60
    if metric == "demo":
        steps = run.get("steps_seconds")
        return steps["total"] / 60 if steps else None
    return run["metrics"].get(metric)


def _values(runs: Sequence[dict], metric: str) -> list:
    return [v for v in (_value(run, metric) for run in runs) if v is not None]


def comparison_table(comparisons: Sequence[tuple], store: RecipeStore) -> str:
    """Differences of each ``(side A, side B)`` pair: Welch's over all runs of each side, then
    paired over the seeds both sides ran. A side is ``(recipe, changes)`` or ``(recipe, changes,
    note)``: the variant's config changes (``{}`` for the config as it is) and its record note."""
    metrics_header = [f"Δ{m} [95% CI]" for m in COMPARED_METRICS]
    welch = [WELCH_CAPTION, "", _row(["A", "B", "runs", *metrics_header])]
    paired = [PAIRED_CAPTION, "", _row(["A", "B", "seeds paired", *metrics_header])]
    for lines in (welch, paired):
        lines.append("|" + "---|" * (3 + len(COMPARED_METRICS)))
    for side_a, side_b in comparisons:
        runs_a, runs_b = _variant_runs(store, *side_a), _variant_runs(store, *side_b)
        names = [_side_name(*side_a), _side_name(*side_b)]
        once_a, once_b = _seeds_run_once(runs_a), _seeds_run_once(runs_b)
        seeds = sorted({r["seed"] for r in once_a} & {r["seed"] for r in once_b})
        welch_cells = [*names, f"{len(runs_a)} vs {len(runs_b)}"]
        paired_cells = [*names, ", ".join(map(str, seeds)) or "none"]
        for metric in COMPARED_METRICS:
            difference = welch_difference(_values(runs_a, metric), _values(runs_b, metric))
            welch_cells.append(_difference_cell(difference, metric))
            difference = paired_difference(*pair_by_seed(once_a, once_b, metric))
            paired_cells.append(_difference_cell(difference, metric))
        welch.append(_row(welch_cells))
        paired.append(_row(paired_cells))
    return "\n".join([*welch, "", *paired]) + "\n"


def pooled_table(pooled: Sequence[tuple], store: RecipeStore) -> str:
    """One paired difference per ``(title, comparisons)`` over the seed pairs of all its
    comparisons together (each paired as in :func:`comparison_table`): one question asked of
    several recipes' runs, such as a tracker key tried on the models of two configs."""
    header = ["pooled", "pairs", *(f"Δ{m} [95% CI]" for m in COMPARED_METRICS)]
    lines = [POOLED_CAPTION, "", _row(header), "|" + "---|" * len(header)]
    for title, comparisons in pooled:
        sides = [
            [_seeds_run_once(_variant_runs(store, *side)) for side in pair] for pair in comparisons
        ]
        cells = [title, str(sum(len(pair_by_seed(a, b, "MOTA")[0]) for a, b in sides))]
        for metric in COMPARED_METRICS:
            pairs = [pair_by_seed(a, b, metric) for a, b in sides]
            values = [[v for pair in pairs for v in pair[side]] for side in (0, 1)]
            cells.append(_difference_cell(paired_difference(*values), metric))
        lines.append(_row(cells))
    return "\n".join(lines) + "\n"


def _seeds_run_once(runs: Sequence[dict]) -> list[dict]:
    """The runs whose SEED no other of ``runs`` has: a recipe may hold two runs of one seed from
    different starting models, and neither is the pair of the other side's run."""
    seeds = [run["seed"] for run in runs]
    return [run for run in runs if seeds.count(run["seed"]) == 1]


def _difference_cell(difference, metric: str) -> str:
    if difference is None:
        return "n/a"
    verdict = difference.verdict
    if metric in LOWER_IS_BETTER:
        verdict = {BETTER: WORSE, WORSE: BETTER}.get(verdict, verdict)
    interval = (
        f"[{_number(difference.low, metric, True)}, {_number(difference.high, metric, True)}]"
    )
    return f"{_number(difference.mean, metric, True)} {interval} {verdict}"


def _variant_runs(store: RecipeStore, recipe: str, changes: dict, note: str = "") -> list[dict]:
    """The runs of ``recipe`` with this record ``note`` whose variant changes are ``changes``."""
    return [
        r for r in store.runs(recipe) if r.get("note", "") == note and variant_changes(r) == changes
    ]


def _side_name(recipe: str, changes: dict, note: str = "") -> str:
    name = f"changed: `{_changes_text(changes)}`" if changes else AS_CONFIGURED
    return f"`{recipe}`, " + (f"{note}; {name}" if note else name)


def write_recipe_tables(
    store: RecipeStore, comparisons: Sequence[tuple], command: str, pooled: Sequence[tuple] = ()
) -> list:
    """``<root>/<recipe>.md`` for each recorded recipe and ``<root>/comparisons.md`` (the
    ``pooled`` rows of :func:`pooled_table` below the comparisons)."""
    written = []
    for recipe in store.recipes():
        path = store.root / f"{recipe}.md"
        atomic_write_text(str(path), f"`{command}`\n\n" + recipe_table(recipe, store.runs(recipe)))
        written.append(path)
    if comparisons:
        path = store.root / "comparisons.md"
        table = comparison_table(comparisons, store)
        if pooled:
            table += "\n" + pooled_table(pooled, store)
        atomic_write_text(str(path), f"`{command}`\n\n" + table)
        written.append(path)
    return written
