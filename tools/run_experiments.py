#!/usr/bin/env python
"""Run the paper's ablation grids on the synthetic benchmark and write their tables.

.venv/bin/python tools/run_experiments.py                          # every grid, 3 seeds
.venv/bin/python tools/run_experiments.py --grids lwf_c --seeds 2  # one grid
.venv/bin/python tools/run_experiments.py --report-only            # tables from finished runs

Grids: hwf (Table I), lwf_c (Table IV), lwf_n (Table V), weighting (Fixed, best HWF, LWF,
Uncertainty, DWA, GradNorm). Finished runs are skipped, so rerunning resumes. Results:
OUT/<grid>.md, OUT/<grid>.csv, OUT/<grid>_weights.png (LWF weight curves), OUT/runs/<run>/.
"""

import argparse
import logging
import os
import shlex
import sys
from pathlib import Path

from lwf_track.data.synthetic import DEMO_FRAMES, DEMO_SPLITS, ensure_benchmark
from lwf_track.experiments import (
    GRIDS,
    ExperimentRunner,
    best_setting,
    grid_settings,
    plot_lwf_curves,
    summary_rows,
    write_tables,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--grids", nargs="+", default=list(GRIDS), choices=GRIDS)
    parser.add_argument("--seeds", type=int, default=3, help="K seeds per setting (SEED 1..K)")
    parser.add_argument("--config-file", default="configs/experiments/synthetic_short.yaml")
    parser.add_argument("--out", default="output/experiments")
    parser.add_argument("--data-root", default=os.environ.get("LWF_DATASETS", "datasets"))
    parser.add_argument("--report-only", action="store_true", help="tables from finished runs")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides for every run")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    os.environ["LWF_DATASETS"] = str(Path(args.data_root).resolve())
    for split, (num_seqs, seed) in DEMO_SPLITS.items():  # the demo's data
        ensure_benchmark(
            Path(args.data_root) / "synthetic" / split, num_seqs, seed=seed, **DEMO_FRAMES
        )
    runner = ExperimentRunner(args.out, args.config_file, seeds=args.seeds, opts=args.opts)
    command = "python tools/run_experiments.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    grids = list(args.grids)
    if "weighting" in grids and "hwf" not in grids:
        grids.insert(0, "hwf")  # the weighting grid compares against the best HWF
    best_hwf = None
    for grid in sorted(grids, key=GRIDS.index):
        settings = grid_settings(grid, best_hwf)
        if args.report_only:
            results = runner.finished(settings)
        else:
            results = runner.run_grid(settings)
        if grid == "hwf":
            best_hwf = best_setting(results)
        table = write_tables(grid, summary_rows(results), Path(args.out), command)
        print(table.read_text())
        if plot_lwf_curves(runner, settings, Path(args.out) / f"{grid}_weights.png"):
            print(f"weight curves: {Path(args.out) / f'{grid}_weights.png'}")
    print(Path(args.out).resolve())


if __name__ == "__main__":
    main()
