"""One tracker key tried on trained models without running the models again: choosing tracker
keys on training frames takes seconds per value instead of minutes.

python -m tools.retrack --config-file configs/lwf_pets09_cpu_from_demo_mix.yaml \\
    --dataset mot15_train_half --key TRACKER.MOTION_NOISE_SCALE --values 1.0 2.0 \\
    --weights output/lwf_pets09_cpu_from_demo_mix/model_final.pth [more models] \\
    [--markdown F] [config overrides]

Each model runs once over the set (it must have gt; a training split, never the evaluated one);
its detections are kept in ``--cache-dir`` (a file per model, set and inference settings, reused
by later calls). Then, for every value, only the tracker runs again: at each candidate
``TRACKER.CALIBRATION.HIGH_SCORE_THRESHS`` of the config, scored and chosen exactly as the
calibration does (motmetrics MOTA, then IDF1), so each row is what that model's calibration on
this set would report with the key at that value. A key chosen here is then tested on the val
half with ``track_net.py --eval-only``.
"""

import argparse
import hashlib
import logging
import shlex
import statistics
import sys
from functools import reduce
from pathlib import Path

import torch

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.utils.logger import setup_logger

import lwf_track  # noqa: F401  (registers the model and the datasets)
from lwf_track.engine.defaults import build_config
from lwf_track.engine.inference import kept_detections
from lwf_track.evaluation.calibration import calibrate
from lwf_track.modeling import build_model
from lwf_track.tracking.color import color_adder, color_min_score
from lwf_track.utils.io import atomic_torch_save, atomic_write_text

logger = logging.getLogger("tools.retrack")
CACHE_DIR = "output/retrack_cache"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--dataset", required=True, help="a registered set with gt")
    parser.add_argument("--key", required=True, help="a TRACKER key, e.g. TRACKER.EMBED_WEIGHT")
    parser.add_argument("--values", nargs="+", required=True, help="the values to try")
    parser.add_argument("--weights", nargs="+", required=True, help="one or more trained models")
    parser.add_argument("--cache-dir", default=CACHE_DIR, help="where detections are kept")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides")
    args = parser.parse_args(argv)
    if not args.key.startswith("TRACKER."):
        parser.error(f"--key {args.key}: only TRACKER keys change nothing but the tracker")
    if args.key == "TRACKER.COLOR_BINS":  # the histograms are made with the kept detections
        parser.error(
            f"--key {args.key}: the colours are computed when the detections are kept; run "
            "each value as a config override (TRACKER.COLOR_BINS ...) instead"
        )
    return args


def with_key(cfg, key: str, value: str):
    """A frozen copy of ``cfg`` with ``key`` set from its text, checked as an override is (a
    float key also takes an integer: 2 is 2.0)."""
    if isinstance(reduce(getattr, key.split("."), cfg), float):
        value = str(float(value))
    cfg = cfg.clone()
    cfg.defrost()
    cfg.merge_from_list([key, value])
    cfg.freeze()
    return cfg


def cache_path(cfg, weights: str, dataset: str, cache_dir: str) -> Path:
    """A file per model (its bytes), set and inference settings (MODEL, INPUT, TEST, and which
    detections carry colours)."""
    digest = hashlib.sha1()
    with open(weights, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    colors = "no colours"
    if color_adder(cfg):
        colors = f"colours {tuple(cfg.TRACKER.COLOR_BINS)} from score {color_min_score(cfg)}"
    for text in (dataset, cfg.MODEL.dump(), cfg.INPUT.dump(), cfg.TEST.dump(), colors):
        digest.update(text.encode())
    return Path(cache_dir) / f"{Path(weights).stem}_{dataset}_{digest.hexdigest()[:12]}.pth"


def detections_of(cfg, weights: str, dataset: str, cache_dir: str) -> tuple:
    """(detections, truths) of one model on ``dataset``, from the cache or from one run."""
    path = cache_path(cfg, weights, dataset, cache_dir)
    if path.is_file():
        logger.info(f"{weights}: reusing the detections kept in {path}")
        return torch.load(path, weights_only=False)
    model_cfg = cfg.clone()
    model_cfg.defrost()
    model_cfg.MODEL.WEIGHTS = weights
    model_cfg.freeze()
    model = build_model(model_cfg).eval()
    DetectionCheckpointer(model).load(weights)
    kept = kept_detections(model_cfg, model, dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_torch_save(kept, str(path))
    logger.info(f"{weights}: detections kept in {path}")
    return kept


def detection_config(cfg, key: str, values):
    """The config whose kept detections serve every value of ``key`` (a TRACKER key, so only the
    colours can differ): with colours if any value turns them on (TRACKER.COLOR_WEIGHT), from
    the lowest score any value lets the tracker compare appearance at (a HIGH_SCORE_THRESH or
    calibration candidate below the config's)."""
    with_colors = [
        variant for variant in (with_key(cfg, key, v) for v in values) if color_adder(variant)
    ]
    return min(with_colors, key=color_min_score) if with_colors else cfg


def retrack(cfg, dataset: str, key: str, values, weights, cache_dir: str) -> list:
    """Rows ``{"value", "runs": [chosen calibration row per model], "MOTA", "IDF1"}`` (means)."""
    detection_cfg = detection_config(cfg, key, values)
    kept = [detections_of(detection_cfg, w, dataset, cache_dir) for w in weights]
    rows = []
    for value in values:
        variant = with_key(cfg, key, value)
        candidates = variant.TRACKER.CALIBRATION.HIGH_SCORE_THRESHS
        runs = [calibrate(variant, *model_kept, candidates)["chosen"] for model_kept in kept]
        means = {m: mean_or_none([r[m] for r in runs]) for m in ("MOTA", "IDF1")}
        rows.append({"value": value, "runs": runs, **means})
        mota, idf1 = score_cell(means["MOTA"]), score_cell(means["IDF1"])
        logger.info(f"{key} {value}: MOTA {mota}, IDF1 {idf1}")
    return rows


def markdown_table(rows: list, key: str, dataset: str, weights, command: str) -> str:
    models = " | ".join(f"model {i + 1}" for i in range(len(weights)))
    lines = [
        f"`{command}`",
        "",
        f"`{key}` on `{dataset}`, each model at its calibrated threshold"
        " (MOTA / IDF1 / HIGH_SCORE_THRESH; motmetrics, as the calibration scores):",
        "",
        f"| {key} | {models} | mean MOTA | mean IDF1 |",
        "|---" * (len(weights) + 3) + "|",
    ]
    for row in rows:
        cells = " | ".join(
            f"{score_cell(r['MOTA'])} / {score_cell(r['IDF1'])} / {r['HIGH_SCORE_THRESH']:g}"
            for r in row["runs"]
        )
        means = f"{score_cell(row['MOTA'])} | {score_cell(row['IDF1'])}"
        lines.append(f"| {row['value']} | {cells} | {means} |")
    lines.append("")
    lines += [f"model {i + 1}: `{w}`" for i, w in enumerate(weights)]
    return "\n".join(lines) + "\n"


def mean_or_none(values: list):
    """The mean; None (no score: a set without people) when a model has none."""
    return None if None in values else statistics.mean(values)


def score_cell(value) -> str:
    """A table cell of a score in %: one decimal, or n/a."""
    return "n/a" if value is None else f"{value:.1f}"


def models_config(args, tool: str):
    """The config (with its overrides) of a tool run over ``--weights`` models, with the tool's
    and detectron2's loggers set up; exits naming any model file that does not exist."""
    setup_logger(name=tool)
    setup_logger(name="detectron2")  # inference progress
    cfg = build_config(args.config_file, args.opts)
    missing = [w for w in args.weights if not Path(w).is_file()]
    if missing:
        sys.exit(f"error: --weights {missing}: no such file")
    return cfg


def command_line(tool: str, argv=None) -> str:
    """The command that reproduces a table, as its header shows it."""
    argv = sys.argv[1:] if argv is None else argv
    return " ".join([f"python -m {tool}", *map(shlex.quote, map(str, argv))])


def publish(table: str, markdown=None) -> None:
    """Print the table and, with ``--markdown``, write it (atomically)."""
    print(table)
    if markdown:
        atomic_write_text(markdown, table)


def main(argv=None) -> list:
    args = parse_args(argv)
    cfg = models_config(args, "tools.retrack")
    rows = retrack(cfg, args.dataset, args.key, args.values, args.weights, args.cache_dir)
    command = command_line("tools.retrack", argv)
    publish(markdown_table(rows, args.key, args.dataset, args.weights, command), args.markdown)
    return rows


if __name__ == "__main__":
    main()
