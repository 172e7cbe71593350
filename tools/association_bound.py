"""Where a model's IDF1 goes: its tracker as configured, the same tracker with perfect
appearance, and the bound of perfect association, on one set with gt.

python -m tools.association_bound --config-file configs/lwf_pets09_cpu_from_demo_mix.yaml \\
    --dataset mot15_val_half --weights output/lwf_pets09_cpu_from_demo_mix/model_final.pth \\
    [more models] [--markdown F] [config overrides]

Each model runs once over the config's ``TRACKER.CALIBRATION.DATASET`` and once over
``--dataset`` (detections kept in ``--cache-dir``, shared with tools/retrack.py); its score
threshold is chosen on the calibration set as ``track_net.py`` chooses it (without one, the
config's). Then, on ``--dataset``
at that threshold (motmetrics, IoU >= 0.5, as the calibration scores):

- tracked: MOTA and IDF1 of the tracker as configured;
- perfect appearance: IDF1 of the same tracker when every embedded detection that overlaps a gt
  box (IoU >= 0.5) carries its person's own embedding and every other one a random embedding:
  what a perfect Re-ID branch would give this tracker on these detections (the colour cue, if
  the config has one, off: the perfect embedding is the whole appearance);
- perfect association: 2 TP / (2 TP + FP + FN) of the tracked boxes, the IDF1 they would score if
  every box carried the right identity: the bound of any association.

A diagnosis that reads ``--dataset``'s gt, so not a way to choose keys: tracked to perfect
appearance is what a better Re-ID branch can win, perfect appearance to the bound what the
tracker's own logic (births, losses, the IoU stages) leaves.
"""

import argparse

import numpy as np
import torch

from detectron2.structures import Boxes, pairwise_iou

from lwf_track.evaluation.calibration import (
    calibrate,
    calibration_records,
    percent,
    track_accumulators,
    with_thresholds,
)
from lwf_track.utils.compat import import_motmetrics
from tools.retrack import (
    CACHE_DIR,
    command_line,
    detections_of,
    mean_or_none,
    models_config,
    publish,
    score_cell,
    with_key,
)

METRICS = ["mota", "idf1", "num_detections", "num_false_positives", "num_misses"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--dataset", required=True, help="a registered set with gt")
    parser.add_argument("--weights", nargs="+", required=True, help="one or more trained models")
    parser.add_argument("--cache-dir", default=CACHE_DIR, help="where detections are kept")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides")
    return parser.parse_args(argv)


def with_perfect_appearance(detections: dict, truths: dict, seed: int = 0) -> dict:
    """A copy of kept ``detections`` whose embedding rows are replaced: a detection overlapping
    a gt box (IoU >= 0.5, the best one) gets that person's one-hot vector, any other a random unit
    vector; rows without an embedding (NaN) stay so. Arguments as :func:`track_and_score`."""
    people = sorted({int(i) for frames in truths.values() for t in frames.values() for i in t.ids})
    column = {person: k for k, person in enumerate(people)}
    rng = np.random.default_rng(seed)
    replaced = {}
    for sequence, (frame_rate, frames) in detections.items():
        new_frames = []
        for frame, instances in frames:
            truth = truths[sequence][frame]
            embeddings = np.full((len(instances), len(people) + 1), np.nan)
            embedded = ~torch.isnan(instances.pred_embeddings).any(dim=1).numpy()
            owners = _owners(instances.pred_boxes, truth)
            for index in np.flatnonzero(embedded):
                if owners[index] < 0:
                    vector = rng.normal(size=embeddings.shape[1])
                    embeddings[index] = vector / np.linalg.norm(vector)
                else:
                    embeddings[index] = 0.0
                    embeddings[index, column[owners[index]]] = 1.0
            copy = instances[torch.arange(len(instances))]
            copy.pred_embeddings = torch.from_numpy(embeddings).float()
            new_frames.append((frame, copy))
        replaced[sequence] = (frame_rate, new_frames)
    return replaced


def _owners(boxes: Boxes, truth) -> np.ndarray:
    """Per detection, the id of the gt box it overlaps most if IoU >= 0.5, else -1."""
    owners = np.full(len(boxes), -1)
    if len(truth.ids) == 0 or len(boxes) == 0:
        return owners
    gt = torch.as_tensor(truth.boxes, dtype=torch.float32).reshape(-1, 4).clone()
    gt[:, 2:] += gt[:, :2]  # XYWH -> XYXY
    iou = pairwise_iou(boxes, Boxes(gt))
    best, which = iou.max(dim=1)
    hit = (best >= 0.5).numpy()
    owners[hit] = truth.ids[which.numpy()[hit]]
    return owners


def first_frames(detections: dict, max_frames: int) -> dict:
    """The kept detections of the frames the calibration uses (``TRACKER.CALIBRATION.MAX_FRAMES``,
    as :func:`calibration_records` takes them)."""
    records = [
        {"sequence": name, "frame": frame}
        for name, (_, frames) in detections.items()
        for frame, _ in frames
    ]
    kept = {(r["sequence"], r["frame"]) for r in calibration_records(records, max_frames)}
    return {
        name: (rate, [(f, i) for f, i in frames if (name, f) in kept])
        for name, (rate, frames) in detections.items()
    }


def scores(cfg, detections: dict, truths: dict) -> dict:
    """MOTA and IDF1 (in %) of the tracker of ``cfg`` and the perfect-association bound."""
    mm = import_motmetrics()
    summary = mm.metrics.create().compute_many(
        track_accumulators(cfg, detections, truths), metrics=METRICS, generate_overall=True
    )
    overall = summary.loc["OVERALL"]
    tp, fp, fn = (float(overall[k]) for k in METRICS[2:])
    bound = 100 * 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return {"MOTA": percent(overall["mota"]), "IDF1": percent(overall["idf1"]), "bound": bound}


def bound_of(cfg, weights: str, dataset: str, cache_dir: str) -> dict:
    """One model's row: its threshold (calibrated, or the config's without
    ``TRACKER.CALIBRATION.DATASET``) and the three IDF1 values on ``dataset``."""
    calibration = cfg.TRACKER.CALIBRATION
    tuned = cfg
    if calibration.DATASET:
        kept = detections_of(cfg, weights, calibration.DATASET, cache_dir)
        calibration_set = (first_frames(kept[0], calibration.MAX_FRAMES), kept[1])
        chosen = calibrate(cfg, *calibration_set, calibration.HIGH_SCORE_THRESHS)["chosen"]
        tuned = with_thresholds(cfg, chosen["HIGH_SCORE_THRESH"])
    detections, truths = detections_of(cfg, weights, dataset, cache_dir)
    tracked = scores(tuned, detections, truths)
    # the perfect embedding is the whole appearance: the colours (TRACKER.COLOR_WEIGHT) go
    without_colors = with_key(tuned, "TRACKER.COLOR_WEIGHT", "0.0")
    perfect = scores(without_colors, with_perfect_appearance(detections, truths), truths)
    return {
        "weights": weights,
        "HIGH_SCORE_THRESH": tuned.TRACKER.HIGH_SCORE_THRESH,
        "MOTA": tracked["MOTA"],
        "IDF1": tracked["IDF1"],
        "IDF1 perfect appearance": perfect["IDF1"],
        "IDF1 bound": tracked["bound"],
    }


COLUMNS = ("MOTA", "IDF1", "IDF1 perfect appearance", "IDF1 bound")


def markdown_table(rows: list, dataset: str, command: str) -> str:
    lines = [
        f"`{command}`",
        "",
        f"On `{dataset}`, each model at the threshold its calibration chooses (motmetrics):"
        " IDF1 as tracked, with perfect appearance (every detection on a person carries that"
        " person's embedding), and the bound of perfect association (2 TP / (2 TP + FP + FN)).",
        "",
        "| model | HIGH_SCORE_THRESH | " + " | ".join(COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 2) + "|",
    ]
    for row in rows:
        cells = " | ".join(score_cell(row[c]) for c in COLUMNS)
        lines.append(f"| `{row['weights']}` | {row['HIGH_SCORE_THRESH']:g} | {cells} |")
    if len(rows) > 1:
        means = " | ".join(score_cell(mean_or_none([r[c] for r in rows])) for c in COLUMNS)
        lines.append(f"| **mean** ({len(rows)} models) |  | {means} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> list:
    args = parse_args(argv)
    cfg = models_config(args, "tools.association_bound")
    rows = [bound_of(cfg, w, args.dataset, args.cache_dir) for w in args.weights]
    command = command_line("tools.association_bound", argv)
    publish(markdown_table(rows, args.dataset, command), args.markdown)
    return rows


if __name__ == "__main__":
    main()
