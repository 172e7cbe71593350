"""Record finished runs of the CPU recipes and make their README tables from the records.

python -m tools.recipe_runs record --config-file configs/lwf_pets09_cpu_from_demo_mix.yaml \
    output/lwf_pets09_cpu_from_demo_mix [more OUTPUT_DIRs of that config]
python -m tools.recipe_runs report --readme README.md

``record`` writes RESULTS/<config stem>/<OUTPUT_DIR name>.json (committed; ~10 kB) from what the
run left in its OUTPUT_DIR (of train_net.py, or of track_net.py --eval-only: a trained model
tracked again): its whole config (config.yaml), the evaluation
(inference/mot_metrics.json), the chosen tracker threshold, the wall time of training and
evaluation, and the demo's step times (demo_times.json) where there are any. ``--note`` names
what a config cannot show (how a training set was generated). ``report`` writes
RESULTS/<config stem>.md per recipe and RESULTS/comparisons.md (the pairs in COMPARISONS) from
those files only, and copies them into the README blocks that name them.
"""

import argparse
import sys
from pathlib import Path

from tools.demo import CALIBRATION as DEMO_CALIBRATION
from tools.experiments.readme import sync_readme
from tools.experiments.recipes import RecipeStore, record_run, write_recipe_tables
from tools.experiments.settings import REPO

RESULTS = REPO / "tools" / "experiments" / "results"
REPORT_COMMAND = "python -m tools.recipe_runs report --readme README.md"  # heads each table
# (side A, side B) compared in comparisons.md, A - B; a side is (recipe, config changes[, record
# note]), changes {}: the config as it is
MIX_IDENTITIES = {"DATASETS.MOT.DETECTION_ONLY": [], "MODEL.REID.NUM_IDENTITIES": 40}
# the mix config's model of each seed trained on further on the real frames alone (a chained run)
REAL_ONLY_AFTER_MIX = {
    "DATASETS.TRAIN": ["mot15_train_half"],
    "DATASETS.MOT.VISIBILITY_THRESH": 0.0,
    "DATASETS.MOT.DETECTION_ONLY": [],
    "SOLVER.MAX_ITER": 200,
}
REAL_ONLY_AFTER_MIX_NOTE = (
    "200 more iterations on the real frames alone, started from the mix config's model of the"
    " same seed (wall: these 200 only; add the mix run's)"
)
# trained on the first three quarters of the train half, the tracker threshold chosen on the rest
FIT_HOLDOUT = {
    "DATASETS.TRAIN": ["mot15_train_half_fit", "mot_synth_pets_mix"],
    "TRACKER.CALIBRATION.DATASET": "mot15_train_half_holdout",
}
# MOT17-mini's 39 real frames and 137 identities added to the mix (Re-ID on more real people)
MOT17_MINI_IDENTITIES = {
    "DATASETS.TRAIN": ["mot15_train_half", "mot_synth_pets_mix", "mot17-mini_train"],
    "MODEL.REID.NUM_IDENTITIES": 147,
}
# the mix config's model of each seed, its Re-ID tower and identity classifier trained on further
# on the real frames alone, the detector frozen (a chained run; the detections do not change)
REID_STAGE_AFTER_MIX = {
    "DATASETS.TRAIN": ["mot15_train_half"],
    "DATASETS.MOT.DETECTION_ONLY": [],
    "MODEL.REID.TRAIN_ONLY": True,
    "MODEL.LOSS_WEIGHTING.NAME": "Fixed",
    "MODEL.LOSS_WEIGHTING.FIXED.WEIGHTS": [0.0, 0.0, 1.0],
    "SOLVER.MAX_ITER": 200,
}
# the runs of one later session, whose machine was slower than the earlier sessions'
SLOWER_MACHINE_NOTE = (
    "run on a 2-core AMD EPYC machine about 1.6x slower than the earlier rows' (`make demo` of"
    " seed 1: 11.7 instead of 7.0 min): wall times not comparable with theirs"
)
REID_STAGE_AFTER_MIX_NOTE = (
    "200 iterations of the Re-ID tower and identity classifier alone on the real frames, started"
    " from the mix config's model of the same seed (wall: these 200 only; add the mix run's); "
    + SLOWER_MACHINE_NOTE
)
# the runs of a later session, on a CPU with bfloat16 matrix units
AMX_MACHINE_NOTE = (
    "run on a 2-core Intel Xeon machine with AMX (bfloat16 matrix units), about 2x faster than"
    " the AMD EPYC one in bfloat16 (`make demo` of seed 1: 3.2 instead of 6.6 min): wall times"
    " not comparable with theirs"
)
# started from another demo model: the pretraining stage of lwf_pets09_cpu.yaml's seed 2
DEMO_SEED2_NOTE = (
    f"{AMX_MACHINE_NOTE}; started from the demo model of seed 2 (the pretraining stage of"
    " `lwf_pets09_cpu.yaml`, SEED 2)"
)
# the tracker threshold chosen on the training half from a grid of step 0.05 instead of 0.1 (the
# two-stage config's since 2026-12-05; its earlier runs are the 0.1 variant)
FINE_CALIBRATION = {
    "TRACKER.CALIBRATION.HIGH_SCORE_THRESHS": [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]
}
COARSE_CALIBRATION = {"TRACKER.CALIBRATION.HIGH_SCORE_THRESHS": [0.3, 0.4, 0.5, 0.6, 0.7]}
# new seeds trained with it, the registered fresh test (the other rows: trained models re-tracked)
FINE_CALIBRATION_FRESH_NOTE = (
    f"{AMX_MACHINE_NOTE}; new seeds trained for the registered test of the finer threshold grid"
)
# the recipe on MOT15's original frame size, made from the shared copy (tools.scale_sequence):
# trained on it, and the 480x360-trained model of each seed tracked on it
AT_768 = (
    "on a 768x576 copy of PETS09-S2L1 (MOT15's original size: the shared frames and boxes at 1.6x,"
    " python -m tools.scale_sequence), LWF_DATASETS pointing at it"
)
AT_768_NOTE = f"{AMX_MACHINE_NOTE}; {AT_768}"
AT_768_RETRACKED_NOTE = (
    f"{AMX_MACHINE_NOTE}; the model of the same seed trained on the 480x360 copy, tracked with"
    f" track_net.py --eval-only {AT_768}"
)
# the demo's own overrides (tools.demo), part of every demo run's changes
DEMO = dict(zip(DEMO_CALIBRATION[::2], DEMO_CALIBRATION[1::2]))
# The CPU recipes trained in float32 until 2026-12-04 (SOLVER.AMP.ENABLED, now bfloat16): the
# earlier runs are that variant of the configs, and their comparisons are made within it.
FLOAT32 = {"SOLVER.AMP.ENABLED": False}


def float32(changes: dict) -> dict:
    return {**changes, **FLOAT32}


MIX, MIX_COLOR = "lwf_pets09_cpu_from_demo_mix", "lwf_pets09_cpu_from_demo_mix_color"
SCRATCH_MIX_COLOR = "lwf_pets09_cpu_mix_color"
TWO_STAGE = "lwf_pets09_cpu"  # MIX_COLOR with the demo's model trained in the same run
# its synthetic frames without the demo's 864: the real ones then 57% of the draws, not 25%
PETS_MIX_ONLY = {
    "DATASETS.TRAIN": ["mot15_train_half", "mot_synth_pets_mix"],
    "DATASETS.MOT.DETECTION_ONLY": ["mot_synth_pets_mix"],
}
# the same trained models re-tracked with the finer grid, in the two configs it was tried on
FINE_GRID_RETRACKED = (
    ((TWO_STAGE, {}, AMX_MACHINE_NOTE), (TWO_STAGE, COARSE_CALIBRATION, AMX_MACHINE_NOTE)),
    ((MIX_COLOR, FINE_CALIBRATION, AMX_MACHINE_NOTE), (MIX_COLOR, {}, AMX_MACHINE_NOTE)),
)
COMPARISONS = (
    (("lwf_synthetic_cpu", DEMO, SLOWER_MACHINE_NOTE), ("lwf_synthetic_cpu", float32(DEMO))),
    (
        ("lwf_synthetic_cpu", {**DEMO, "MODEL.REID.NUM_CONVS": 1}, SLOWER_MACHINE_NOTE),
        ("lwf_synthetic_cpu", DEMO, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", FLOAT32, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", {"SOLVER.MAX_ITER": 600}, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
    ),
    (("lwf_pets09_cpu_scratch", {}, SLOWER_MACHINE_NOTE), ("lwf_pets09_cpu_scratch", FLOAT32)),
    (
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_scratch", {}, SLOWER_MACHINE_NOTE),
    ),
    (("lwf_pets09_cpu_from_demo", {}, SLOWER_MACHINE_NOTE), ("lwf_pets09_cpu_from_demo", FLOAT32)),
    (
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo", {}, SLOWER_MACHINE_NOTE),
    ),
    (("lwf_pets09_cpu_from_demo", FLOAT32), ("lwf_pets09_cpu_scratch", FLOAT32)),
    (("lwf_pets09_cpu_from_demo_mix", FLOAT32), ("lwf_pets09_cpu_from_demo", FLOAT32)),
    (
        ("lwf_pets09_cpu_from_demo_mix", FLOAT32),
        ("lwf_pets09_cpu_from_demo_mix", float32(MIX_IDENTITIES)),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", float32({"SOLVER.MAX_ITER": 600})),
        ("lwf_pets09_cpu_from_demo_mix", FLOAT32),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", float32(REAL_ONLY_AFTER_MIX), REAL_ONLY_AFTER_MIX_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", FLOAT32),
    ),
    (
        (
            "lwf_pets09_cpu_from_demo_mix",
            float32({"TRACKER.LOST_BY_IOU": True}),
            SLOWER_MACHINE_NOTE,
        ),
        ("lwf_pets09_cpu_from_demo_mix", FLOAT32, SLOWER_MACHINE_NOTE),
    ),
    (
        (
            "lwf_pets09_cpu_from_demo_mix",
            float32({"TRACKER.MOTION_NOISE_SCALE": 2.0}),
            SLOWER_MACHINE_NOTE,
        ),
        ("lwf_pets09_cpu_from_demo_mix", FLOAT32, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", {"TRACKER.EMBED_MATCH_THRESH": 0.5}, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", MOT17_MINI_IDENTITIES, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", FIT_HOLDOUT, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", {"TRACKER.APPEARANCE_CASCADE": True}, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", REID_STAGE_AFTER_MIX, REID_STAGE_AFTER_MIX_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", {"MODEL.REID.EMBED_DIM": 32}, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_from_demo_mix", {"MODEL.REID.SCALE": 8.0}, SLOWER_MACHINE_NOTE),
        ("lwf_pets09_cpu_from_demo_mix", {}, SLOWER_MACHINE_NOTE),
    ),
    ((MIX_COLOR, {}, AMX_MACHINE_NOTE), (MIX, {}, AMX_MACHINE_NOTE)),
    ((MIX, {}, AMX_MACHINE_NOTE), (MIX, {}, SLOWER_MACHINE_NOTE)),
    (
        ("lwf_pets09_cpu_scratch", {"TRACKER.COLOR_WEIGHT": 1.0}, AMX_MACHINE_NOTE),
        ("lwf_pets09_cpu_scratch", {}, AMX_MACHINE_NOTE),
    ),
    (
        ("lwf_pets09_cpu_scratch", {}, AMX_MACHINE_NOTE),
        ("lwf_pets09_cpu_scratch", {}, SLOWER_MACHINE_NOTE),
    ),
    ((SCRATCH_MIX_COLOR, {}, AMX_MACHINE_NOTE), (MIX_COLOR, {}, AMX_MACHINE_NOTE)),
    (
        (SCRATCH_MIX_COLOR, {}, AMX_MACHINE_NOTE),
        ("lwf_pets09_cpu_scratch", {"TRACKER.COLOR_WEIGHT": 1.0}, AMX_MACHINE_NOTE),
    ),
    (
        (SCRATCH_MIX_COLOR, PETS_MIX_ONLY, AMX_MACHINE_NOTE),
        (SCRATCH_MIX_COLOR, {}, AMX_MACHINE_NOTE),
    ),
    ((SCRATCH_MIX_COLOR, PETS_MIX_ONLY, AMX_MACHINE_NOTE), (MIX_COLOR, {}, AMX_MACHINE_NOTE)),
    ((TWO_STAGE, COARSE_CALIBRATION, AMX_MACHINE_NOTE), (MIX_COLOR, {}, AMX_MACHINE_NOTE)),
    ((MIX_COLOR, {}, DEMO_SEED2_NOTE), (MIX_COLOR, {}, AMX_MACHINE_NOTE)),
    (
        (TWO_STAGE, COARSE_CALIBRATION, AMX_MACHINE_NOTE),
        (SCRATCH_MIX_COLOR, PETS_MIX_ONLY, AMX_MACHINE_NOTE),
    ),
    *FINE_GRID_RETRACKED,
    (
        (TWO_STAGE, {}, FINE_CALIBRATION_FRESH_NOTE),
        (TWO_STAGE, COARSE_CALIBRATION, AMX_MACHINE_NOTE),
    ),
    ((TWO_STAGE, {}, FINE_CALIBRATION_FRESH_NOTE), (MIX_COLOR, {}, AMX_MACHINE_NOTE)),
    ((TWO_STAGE, {}, AT_768_NOTE), (TWO_STAGE, {}, FINE_CALIBRATION_FRESH_NOTE)),
    ((TWO_STAGE, {}, AT_768_RETRACKED_NOTE), (TWO_STAGE, {}, FINE_CALIBRATION_FRESH_NOTE)),
)
# (title, comparisons) whose seed pairs make one paired difference (the registered test of a key
# on the models of several configs)
POOLED = (
    (
        "the finer threshold grid minus steps of 0.1, the same models re-tracked (the two-stage"
        " and the colour config's rows above together)",
        FINE_GRID_RETRACKED,
    ),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", default=str(RESULTS / "recipes"))
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser("record", help="record finished runs of one config")
    record.add_argument("--config-file", required=True, help="the recipe the runs were made with")
    record.add_argument(
        "--note", default="", help="what the config does not show, e.g. the training data's size"
    )
    record.add_argument("run_dirs", nargs="+", help="their OUTPUT_DIRs")
    report = commands.add_parser("report", help="tables from the records")
    report.add_argument("--readme", help="copy the tables into this file's generated blocks")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    store = RecipeStore(args.results)
    if args.command == "record":
        for run_dir in args.run_dirs:
            try:
                path = store.write(record_run(run_dir, args.config_file, args.note))
            except (FileNotFoundError, ValueError) as e:
                sys.exit(f"error: {e}")
            print(f"recorded {run_dir} -> {path}")
        return

    def recorded(pairs) -> bool:  # every side's recipe has runs in this results folder
        return all(store.has_recipe(side[0]) for pair in pairs for side in pair)

    comparisons = [pair for pair in COMPARISONS if recorded([pair])]
    pooled = [(title, pairs) for title, pairs in POOLED if recorded(pairs)]
    for path in write_recipe_tables(store, comparisons, REPORT_COMMAND, pooled):
        print(f"wrote {path}")
    if args.readme:
        changed = sync_readme(Path(args.readme), Path(args.results).parent)
        print(f"{args.readme}: {len(changed)} generated blocks updated {changed}")


if __name__ == "__main__":
    main()
