"""The paper's ablations on the synthetic benchmark: named grids of settings, each run with K
seeds, resumable, summarised as mean +- std tables (Markdown and CSV) and weight-curve plots.

A *setting* is a list of config overrides; its folder name is derived from the overrides, so a
setting that appears in several grids (LWF with C=32, N=1 is in ``lwf_c``, ``lwf_n`` and
``weighting``) is trained once per seed and shared. A run is finished when its ``result.json``
exists; an interrupted training resumes from its last checkpoint.
"""

import csv
import io
import json
import logging
import math
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from .evaluation.mot_metrics import OVERALL
from .evaluation.report import MOT_METRICS_FILE
from .utils.io import atomic_open, atomic_write_json, atomic_write_text

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
GRIDS = ("hwf", "lwf_c", "lwf_n", "weighting")
LWF_WIDTHS = (4, 8, 16, 32, 64, 128)  # paper Table IV
LWF_DEPTHS = (1, 2, 3)  # paper Table V
TABLE_METRICS = ("MOTA", "IDF1", "HOTA", "MOTP", "FP", "FN", "IDS")
COUNT_METRICS = ("FP", "FN", "IDS")


@dataclass(frozen=True)
class Setting:
    """One point of a grid: a label for the tables and the config overrides that make it."""

    label: str
    overrides: tuple

    @property
    def key(self) -> str:
        """Folder name: the overrides, made file-system safe (equal settings share a folder)."""
        text = "_".join(f"{k.split('.')[-1]}-{v}" for k, v in zip(*[iter(self.overrides)] * 2))
        return re.sub(r"[^A-Za-z0-9_.-]+", "", text.replace(",", "-")).lower()


def fixed(weights: Sequence[float], label: str | None = None) -> Setting:
    alpha, beta, gamma = weights
    return Setting(
        label or f"HWF ({alpha:g}, {beta:g}, {gamma:g})",
        (
            "MODEL.LOSS_WEIGHTING.NAME",
            "Fixed",
            "MODEL.LOSS_WEIGHTING.FIXED.WEIGHTS",
            f"[{alpha:g},{beta:g},{gamma:g}]",
        ),
    )


def lwf(hidden_dim: int = 32, num_layers: int = 1, label: str | None = None) -> Setting:
    return Setting(
        label or f"LWF C={hidden_dim} N={num_layers}",
        (
            "MODEL.LOSS_WEIGHTING.NAME",
            "LWF",
            "MODEL.LOSS_WEIGHTING.LWF.HIDDEN_DIM",
            str(hidden_dim),
            "MODEL.LOSS_WEIGHTING.LWF.NUM_HIDDEN_LAYERS",
            str(num_layers),
        ),
    )


def named(name: str) -> Setting:
    return Setting(name, ("MODEL.LOSS_WEIGHTING.NAME", name))


def hwf_weights(config_dir: Path = REPO / "configs" / "hwf") -> list[tuple]:
    """The (alpha, beta, gamma) grid of Table I, read from ``configs/hwf/*.yaml`` (one source)."""
    grid = []
    for path in sorted(config_dir.glob("*.yaml")):
        weights = yaml.safe_load(path.read_text())["MODEL"]["LOSS_WEIGHTING"]["FIXED"]["WEIGHTS"]
        grid.append(tuple(float(w) for w in weights))
    if not grid:
        raise FileNotFoundError(f"no HWF configs in {config_dir}")
    return grid


def grid_settings(grid: str, best_hwf: Setting | None = None) -> list[Setting]:
    """The settings of a named grid. ``weighting`` needs the best HWF setting of ``hwf``."""
    if grid == "hwf":
        return [fixed(w) for w in hwf_weights()]
    if grid == "lwf_c":
        return [lwf(hidden_dim=c) for c in LWF_WIDTHS]
    if grid == "lwf_n":
        return [lwf(num_layers=n) for n in LWF_DEPTHS]
    if grid == "weighting":
        if best_hwf is None:
            raise ValueError("the weighting grid needs the best HWF setting (run the hwf grid)")
        best = Setting(f"best {best_hwf.label}", best_hwf.overrides)
        return [
            fixed((1, 1, 1), "Fixed (1, 1, 1)"),
            best,
            lwf(label="LWF (C=32, N=1)"),
            named("Uncertainty"),
            named("DWA"),
            named("GradNorm"),
        ]
    raise KeyError(f"unknown grid {grid!r}; choose from {list(GRIDS)}")


class ExperimentRunner:
    """Runs settings x seeds through the user-facing commands (train_net.py, track_net.py).

    ``execute(command, log_path)`` runs one command; tests replace it.
    """

    def __init__(
        self,
        out_dir,
        config_file: str,
        seeds: int = 3,
        opts: Sequence[str] = (),
        execute: Callable[[list[str], Path], None] | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.config_file = config_file
        self.seeds = list(range(1, seeds + 1))
        self.opts = [str(o) for o in opts]
        self.execute = execute or run_logged

    def run_dir(self, setting: Setting, seed: int) -> Path:
        return self.out_dir / "runs" / f"{setting.key}_seed{seed}"

    def result(self, setting: Setting, seed: int) -> dict | None:
        path = self.run_dir(setting, seed) / "result.json"
        return json.loads(path.read_text()) if path.exists() else None

    def run_grid(self, settings: Sequence[Setting]) -> dict[Setting, list[dict]]:
        """Every setting x seed not finished yet, then every finished result per setting."""
        todo = [(s, seed) for s in settings for seed in self.seeds if not self.result(s, seed)]
        for index, (setting, seed) in enumerate(todo, start=1):
            logger.info(f"[{index}/{len(todo)}] {setting.label}, seed {seed}")
            self.run_one(setting, seed)
        return self.finished(settings)

    def finished(self, settings: Sequence[Setting]) -> dict[Setting, list[dict]]:
        """The finished results of each setting, in seed order."""
        return {s: [r for seed in self.seeds if (r := self.result(s, seed))] for s in settings}

    def run_one(self, setting: Setting, seed: int) -> dict:
        run_dir = self.run_dir(setting, seed)
        run_dir.mkdir(parents=True, exist_ok=True)
        overrides = [*self.opts, *setting.overrides, "SEED", str(seed), "OUTPUT_DIR", str(run_dir)]
        base = ["--config-file", self.config_file]
        train = [sys.executable, "train_net.py", *base, *overrides]
        if (run_dir / "last_checkpoint").exists():
            train.insert(2, "--resume")
        train_time = self._timed(train, run_dir / "train.log", run_dir / "train_time.json")
        weights = str(run_dir / "model_final.pth")
        # training ends by tracking the val set (detectron2's final evaluation); track_net.py
        # keeps those tracks, so it only tracks what a killed run left undone, then evaluates
        track = [sys.executable, "track_net.py", *base, "--eval-only"]
        self.execute([*track, *overrides, "MODEL.WEIGHTS", weights], run_dir / "track.log")
        metrics = json.loads((run_dir / "inference" / MOT_METRICS_FILE).read_text())[OVERALL]
        result = {
            "label": setting.label,
            "overrides": list(setting.overrides),
            "seed": seed,
            "train_seconds": train_time["seconds"],
            "train_cpu_seconds": train_time["cpu_seconds"],
            "weighting_parameters": weighting_parameters(self.config_file, overrides),
            "metrics": {m: metrics[m] for m in TABLE_METRICS},
        }
        atomic_write_json(str(run_dir / "result.json"), result)
        return result

    def _timed(self, command: list[str], log_path: Path, ledger: Path) -> dict:
        """Run ``command``; its wall and CPU seconds are added to ``ledger``, so a resumed training
        counts every attempt. CPU seconds (of the finished child processes) do not grow while
        other jobs share the machine, which makes them the comparable cost."""
        spent = json.loads(ledger.read_text()) if ledger.exists() else {}
        spent = {"seconds": spent.get("seconds", 0.0), "cpu_seconds": spent.get("cpu_seconds", 0.0)}
        start, cpu_start = time.perf_counter(), children_cpu_seconds()
        try:
            self.execute(command, log_path)
        finally:
            spent["seconds"] += time.perf_counter() - start
            spent["cpu_seconds"] += children_cpu_seconds() - cpu_start
            atomic_write_json(str(ledger), spent)
        return spent


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished (waited-for) child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_logged(command: list[str], log_path: Path) -> None:
    """Run a command from the repository root with its output appended to ``log_path``."""
    with open(log_path, "a") as log:
        completed = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    if completed.returncode:
        raise RuntimeError(
            f"{' '.join(command[:2])} failed ({completed.returncode}); see {log_path}"
        )


def weighting_parameters(config_file: str, overrides: Sequence[str]) -> int:
    """Learnable parameters of the loss-weighting module (Table IV's 6C + N*C^2 for LWF)."""
    from .engine.defaults import build_config
    from .weighting import build_loss_weighting

    # nID does not shape the weighting module; setting it keeps the training data out of this
    cfg = build_config(config_file, [*overrides, "MODEL.REID.NUM_IDENTITIES", "1"])
    return sum(p.numel() for p in build_loss_weighting(cfg).parameters())


def best_setting(results: dict[Setting, list[dict]], metric: str = "MOTA") -> Setting:
    """The setting with the highest mean ``metric`` (how Table I picks the best HWF)."""
    scored = {s: mean_std([r["metrics"][metric] for r in rs])[0] for s, rs in results.items() if rs}
    if not scored:
        raise ValueError("no finished runs to choose the best setting from")
    return max(scored, key=scored.get)


def mean_std(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def summary_rows(results: dict[Setting, list[dict]]) -> list[dict]:
    """One row per setting: seeds, weighting parameters, mean and std of each metric and time."""
    rows = []
    for setting, runs in results.items():
        if not runs:
            continue
        row = {"setting": setting.label, "seeds": len(runs)}
        row["params"] = runs[0]["weighting_parameters"]
        for metric in TABLE_METRICS:
            row[metric], row[metric + "_std"] = mean_std([r["metrics"][metric] for r in runs])
        minutes = [r["train_cpu_seconds"] / 60 for r in runs]
        row["train_cpu_min"], row["train_cpu_min_std"] = mean_std(minutes)
        rows.append(row)
    return rows


def markdown_table(rows: list[dict]) -> str:
    header = ["Setting", "Seeds", "Params", *TABLE_METRICS, "Train (CPU min)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["setting"], str(row["seeds"]), str(row["params"])]
        for metric in (*TABLE_METRICS, "train_cpu_min"):
            digits = 0 if metric in COUNT_METRICS else 1
            cells.append(f"{row[metric]:.{digits}f} ± {row[metric + '_std']:.{digits}f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_table(rows: list[dict]) -> str:
    fields = ["setting", "seeds", "params"]
    for metric in (*TABLE_METRICS, "train_cpu_min"):
        fields += [metric, metric + "_std"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def write_tables(grid: str, rows: list[dict], out_dir: Path, command: str) -> Path:
    """``<grid>.md`` (with the command that made it) and ``<grid>.csv`` under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = f"### {grid}\n\n`{command}`\n\n" + markdown_table(rows)
    atomic_write_text(str(out_dir / f"{grid}.md"), markdown)
    atomic_write_text(str(out_dir / f"{grid}.csv"), csv_table(rows))
    return out_dir / f"{grid}.md"


def plot_lwf_curves(runner: ExperimentRunner, settings: Sequence[Setting], out_png: Path) -> bool:
    """alpha, beta, gamma over iterations (paper Fig. 3) of the first seed of each LWF setting."""
    from .engine.hooks import TRAIN_METRICS_FILE, draw_weight_history, read_weight_history

    panels = []
    for setting in settings:
        metrics_json = runner.run_dir(setting, runner.seeds[0]) / TRAIN_METRICS_FILE
        if "LWF" in setting.overrides and metrics_json.exists():
            panels.append((setting.label, read_weight_history(str(metrics_json))))
    if not panels:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for ax, (label, history) in zip(axes.flat, panels):
        draw_weight_history(ax, history)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    with atomic_open(str(out_png), "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)
    return True
