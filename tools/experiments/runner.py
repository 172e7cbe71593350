"""Runs settings x seeds through the user-facing commands (train_net.py, track_net.py).

A run's folder name is derived from its setting's overrides, so a setting that appears in several
grids (LWF with C=32, N=1 is in ``lwf_c``, ``lwf_n`` and ``weighting``) is trained once per seed
and shared. A run is finished when its result file is in the result store; an interrupted
training resumes from its last checkpoint.
"""

import json
import logging
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from lwf_track.engine.checkpoint import has_checkpoint
from lwf_track.evaluation.mot_metrics import OVERALL
from lwf_track.utils.io import atomic_write_json

from . import weights
from .results import ResultStore, read_result
from .settings import REPO, Setting

logger = logging.getLogger(__name__)

TRAINING_LOG = "metrics.json"  # detectron2's JSONWriter log in OUTPUT_DIR
EVAL_METRICS = Path("inference") / "mot_metrics.json"  # the evaluation's tables in OUTPUT_DIR


class ExperimentRunner:
    """Trains and evaluates each setting x seed of a benchmark not in ``store`` yet.

    ``execute(command, log_path)`` runs one command; tests replace it. ``opts`` are config
    overrides for every run (e.g. a shorter budget); they come before the setting's own.
    """

    def __init__(
        self,
        benchmark: str,
        config_file: str,
        out_dir,
        store: ResultStore,
        seeds: int = 5,
        opts: Sequence[str] = (),
        execute: Callable[[list[str], Path], None] | None = None,
    ):
        self.benchmark = benchmark
        self.config_file = config_file
        self.out_dir = Path(out_dir)
        self.store = store
        self.seeds = list(range(1, seeds + 1))
        self.opts = [str(o) for o in opts]
        self.execute = execute or run_logged

    def run_dir(self, setting: Setting, seed: int) -> Path:
        return self.out_dir / "runs" / f"{setting.key}_seed{seed}"

    def run_grid(self, settings: Sequence[Setting]) -> None:
        """Every setting x seed whose result is not stored yet, seed by seed (a run cut short
        leaves every setting with the same seeds, all paired); equal settings run once."""
        todo = {}
        for seed in self.seeds:
            for setting in settings:
                if self.store.has(setting, seed):
                    self._check_same_recipe(setting, seed)
                else:
                    todo.setdefault((setting.key, seed), (setting, seed))
        for index, (setting, seed) in enumerate(todo.values(), start=1):
            logger.info(f"[{index}/{len(todo)}] {self.benchmark}: {setting.label}, seed {seed}")
            self.run_one(setting, seed)

    def _check_same_recipe(self, setting: Setting, seed: int) -> None:
        """A stored run counts as done only if it was made with this config file and opts."""
        stored = read_result(self.store.path(setting, seed))
        made_with = (stored.get("config_file"), stored.get("opts"))
        if made_with != (self.config_file, self.opts):
            raise ValueError(
                f"{self.store.path(setting, seed)} was made with config {made_with[0]} and opts "
                f"{made_with[1]}, not {self.config_file} and {self.opts}: use another --results "
                "folder, or delete it to rerun"
            )

    def run_one(self, setting: Setting, seed: int) -> dict:
        run_dir = self.run_dir(setting, seed)
        run_dir.mkdir(parents=True, exist_ok=True)
        overrides = [*self.opts, *setting.overrides, "SEED", str(seed), "OUTPUT_DIR", str(run_dir)]
        base = ["--config-file", self.config_file]
        train = [sys.executable, "train_net.py", *base, *overrides]
        if has_checkpoint(run_dir):
            train.insert(2, "--resume")
        train_time = self._timed(train, run_dir / "train.log", run_dir / "train_time.json")
        weights_file = str(run_dir / "model_final.pth")
        # training ends by tracking the val set (detectron2's final evaluation); track_net.py
        # keeps those tracks, so it only tracks what a killed run left undone, then evaluates
        track = [sys.executable, "track_net.py", *base, "--eval-only"]
        track = [*track, *overrides, "MODEL.WEIGHTS", weights_file]
        track_time = self._timed(track, run_dir / "track.log", run_dir / "track_time.json")
        history = weights.read_factors(run_dir / TRAINING_LOG)
        result = {
            "benchmark": self.benchmark,
            "config_file": self.config_file,
            "label": setting.label,
            "overrides": list(setting.overrides),
            "opts": self.opts,
            "seed": seed,
            "train_seconds": train_time["seconds"],
            "train_cpu_seconds": train_time["cpu_seconds"],
            "track_cpu_seconds": track_time["cpu_seconds"],
            "weighting_parameters": weighting_parameters([*self.opts, *setting.overrides]),
            "metrics": read_overall(run_dir / EVAL_METRICS),
            "weight_summary": weights.summarize(history),
            "weight_history": weights.downsample(history),
        }
        self.store.write(setting, seed, result)
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


def read_overall(path: Path) -> dict:
    """The OVERALL row of the evaluation's ``mot_metrics.json`` (MOT, detection, Re-ID keys)."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: track_net.py --eval-only writes it; see the log"
        )
    rows = json.loads(path.read_text())
    if OVERALL not in rows:
        raise ValueError(f"{path}: expected an {OVERALL!r} row; rerun track_net.py --eval-only")
    return rows[OVERALL]


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished (waited-for) child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_logged(command: list[str], log_path: Path) -> None:
    """Run a command from the repository root with its output appended to ``log_path``."""
    with open(log_path, "a") as log:
        completed = subprocess.run(
            command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if completed.returncode:
        raise RuntimeError(
            f"{' '.join(command[:2])} failed ({completed.returncode}); see {log_path}"
        )


def weighting_parameters(overrides: Sequence[str]) -> int:
    """Learnable parameters of the loss-weighting module (Table IV's 6C + N*C^2 for LWF).

    The module's size depends only on ``MODEL.LOSS_WEIGHTING``, which the overrides set, so the
    default config plus the overrides builds it: no benchmark config or training data needed.
    """
    from detectron2.config import get_cfg

    from lwf_track.config import add_lwf_config
    from lwf_track.weighting import build_loss_weighting

    cfg = get_cfg()
    add_lwf_config(cfg)
    pairs = zip(overrides[::2], overrides[1::2])
    cfg.merge_from_list(
        [x for k, v in pairs if k.startswith("MODEL.LOSS_WEIGHTING.") for x in (k, v)]
    )
    return sum(p.numel() for p in build_loss_weighting(cfg).parameters())
