"""Run the paper's ablation grids on a benchmark and write their tables from the result files.

python -m tools.run_experiments                                   # synthetic, every grid, 5 seeds
python -m tools.run_experiments --benchmark pets09                # PETS09-S2L1 half split
python -m tools.run_experiments --grids lwf_c lwf_n --seeds 3     # Tables IV and V
python -m tools.run_experiments --baseline "LWF C=32 N=1"         # compare against another setting
python -m tools.run_experiments --report-only                     # tables from the result files
python -m tools.run_experiments SOLVER.MAX_ITER 90                # overrides for every run
python -m tools.run_experiments --report-only --readme README.md   # also refresh the README

Grids: hwf (Table I), lwf_c (Table IV), lwf_n (Table V), weighting (Fixed, best HWF, LWF,
Uncertainty, DWA, GradNorm). Runs whose result file exists are skipped, so rerunning resumes.
Each run's result.json goes to RESULTS/<benchmark>/<run>/ (committed); the tables
(RESULTS/<benchmark>/<grid>.md, .csv, _vs_baseline.csv) and LWF weight curves (<grid>_weights.png)
are made from those files only, and copied into the README blocks that name them with
--readme (tools/experiments/readme.py). Training outputs stay in OUT/<benchmark>/runs/<run>/.
"""

import argparse
import logging
import os
import shlex
import sys
from pathlib import Path

from tools.experiments.benchmarks import BENCHMARKS
from tools.experiments.figures import plot_lwf_curves
from tools.experiments.readme import sync_readme
from tools.experiments.results import ResultStore
from tools.experiments.runner import ExperimentRunner
from tools.experiments.settings import GRID_TITLES, GRIDS, REPO, Setting, grid_settings
from tools.experiments.stats import best_setting
from tools.experiments.tables import write_tables


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--benchmark", default="synthetic", choices=sorted(BENCHMARKS))
    parser.add_argument("--grids", nargs="+", default=list(GRIDS), choices=GRIDS)
    parser.add_argument("--seeds", type=int, default=5, help="K seeds per setting (SEED 1..K)")
    parser.add_argument(
        "--baseline", help="label of the setting every other is compared with (default: best HWF)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="LABEL",
        help="train only the settings with these labels (a budget); tables show every stored run",
    )
    parser.add_argument("--config-file", help="default: the benchmark's configs/experiments file")
    parser.add_argument("--out", default="output/experiments", help="training outputs")
    parser.add_argument("--results", default=str(REPO / "tools" / "experiments" / "results"))
    parser.add_argument("--data-root", default=os.environ.get("LWF_DATASETS", "datasets"))
    parser.add_argument("--report-only", action="store_true", help="tables from the result files")
    parser.add_argument(
        "--readme", help="copy the tables into this file's generated blocks (e.g. README.md)"
    )
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides for every run")
    return parser.parse_args(argv)


def main(argv=None, execute=None):
    """``execute`` runs one command (default: a subprocess); tests pass a fake."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    benchmark = BENCHMARKS[args.benchmark]
    results_dir = Path(args.results) / benchmark.name
    store = ResultStore(results_dir)
    runner = None
    if not args.report_only:
        data_root = Path(args.data_root).resolve()
        os.environ["LWF_DATASETS"] = str(data_root)
        try:
            benchmark.prepare(data_root)
        except (FileNotFoundError, FileExistsError) as e:
            sys.exit(f"error: {e}")
        out = Path(args.out) / benchmark.name
        config_file = args.config_file or benchmark.config_file
        runner = ExperimentRunner(
            benchmark.name, config_file, out, store, args.seeds, args.opts, execute
        )
    try:
        settings_of, best_hwf = run_grids(args, store, runner)
        baseline = find_baseline(args.baseline, best_hwf)
        if runner:
            runner.run_grid([baseline])
    except ValueError as e:
        sys.exit(f"error: {e}")
    baseline_runs = store.load([baseline])[baseline]
    command = "python -m tools.run_experiments " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    for grid, settings in settings_of.items():
        results = store.load(settings)
        table = write_tables(
            grid, GRID_TITLES[grid], results, baseline, baseline_runs, results_dir, command
        )
        print(table.read_text())
        if plot_lwf_curves(results, results_dir / f"{grid}_weights.png"):
            print(f"weight curves: {results_dir / f'{grid}_weights.png'}")
    print(results_dir.resolve())
    if args.readme:
        try:
            changed = sync_readme(Path(args.readme), Path(args.results))
        except (OSError, ValueError) as e:
            sys.exit(f"error: {e}")
        print(f"{args.readme}: {len(changed)} generated block(s) updated {changed}")


def run_grids(args, store: ResultStore, runner) -> tuple:
    """The settings of each chosen grid, run first unless ``--report-only``, and the best HWF.
    The hwf grid comes first whenever the best HWF is needed (the weighting grid, the default
    baseline); with ``--only`` and no hwf results yet, the weighting grid has no best-HWF row."""
    grids = set(args.grids)
    if "weighting" in grids or args.baseline is None:
        grids.add("hwf")
    settings_of, best_hwf = {}, None
    for grid in sorted(grids, key=GRIDS.index):
        settings = grid_settings(grid, best_hwf)
        if runner:
            runner.run_grid([s for s in settings if not args.only or s.label in args.only])
        if grid == "hwf":
            runs = store.load(settings)
            if any(runs.values()):
                best_hwf = best_setting(runs)
            elif not args.only:
                raise ValueError(f"no hwf results in {store.root} to pick the best HWF from")
        settings_of[grid] = settings
    return settings_of, best_hwf


def find_baseline(label: str | None, best_hwf: Setting | None) -> Setting:
    """The setting labelled ``label`` in any grid; ``None`` means the best HWF."""
    if label is None:
        return best_hwf
    settings = {s.label: s for grid in GRIDS for s in grid_settings(grid, best_hwf)}
    if label not in settings:
        raise ValueError(
            f"--baseline {label!r} is no setting's label; choose from {list(settings)}"
        )
    return settings[label]


if __name__ == "__main__":
    main()
