"""Inference: over registered test sets (tracking and every evaluation, in one pass) or over a
video / image folder (tracks and a rendered video)."""

import json
import logging
import os
import time
from collections import OrderedDict
from typing import Dict

import torch
from tqdm import tqdm

from detectron2.data import DatasetCatalog, build_detection_test_loader
from detectron2.engine import DefaultPredictor
from detectron2.evaluation import inference_on_dataset
from detectron2.utils import comm

from ..data.datasets import get_sequences
from ..data.mapper import MOTDatasetMapper
from ..evaluation import MOTEvaluator
from ..evaluation.calibration import (
    CALIBRATION_FILE,
    DetectionCollector,
    calibrate,
    calibration_records,
    with_thresholds,
)
from ..evaluation.ground_truth import load_sequence_truth
from ..data.mot_format import write_mot_results
from ..modeling.public_detections import PublicDetections
from ..tracking import OnlineTracker, tracks_to_mot_rows
from ..tracking.color import color_adder
from ..utils.io import atomic_write_json
from ..utils.video import TrackRenderer, VideoSink, iter_frames, open_frame_source
from .checkpoint import AtomicCheckpointer
from .trainer import Trainer

logger = logging.getLogger(__name__)
PUBLIC_DETECTIONS_DIR = "public_detections"  # under OUTPUT_DIR: results of --public-detections


def evaluate_datasets(cfg, model, overwrite: bool = True) -> OrderedDict:
    """The dataset evaluation of lwf_track (end of training, ``train_net.py --eval-only``,
    ``track_net.py --eval-only``): one inference pass over every test set of
    ``DATASETS.TEST`` gives its tracks, MOT metrics, detection AP and Re-ID TPR@FAR
    (:class:`~lwf_track.evaluation.MOTEvaluator`), under :func:`evaluation_dir`.

    Sequences whose results exist are neither inferred nor tracked again unless ``overwrite``;
    they are still scored. With ``TRACKER.CALIBRATION.DATASET`` set, the tracker's thresholds
    are first chosen on that set (:func:`calibrated_config`). Returns ``{set: results}``, or the
    results alone for one set (as detectron2's ``DefaultTrainer.test``).
    """
    cfg = calibrated_config(cfg, model, overwrite=overwrite)
    embed_min, high = cfg.MODEL.REID.MIN_SCORE_TEST, cfg.TRACKER.HIGH_SCORE_THRESH
    if embed_min > high and cfg.TRACKER.COLOR_WEIGHT < 1.0:  # at 1 embeddings are not read
        logger.warning(
            f"MODEL.REID.MIN_SCORE_TEST {embed_min} > TRACKER.HIGH_SCORE_THRESH {high}: detections "
            "in between have no embedding and are associated by IoU only; lower "
            "MODEL.REID.MIN_SCORE_TEST to compare their appearance"
        )
    results = OrderedDict()
    for name in cfg.DATASETS.TEST:
        results[name] = evaluate_dataset(cfg, model, name, overwrite)
    return results[cfg.DATASETS.TEST[0]] if len(results) == 1 else results


def inference_mapper(cfg, model):
    """How a test record becomes a model input: the model's own ``test_mapper`` when it has one
    (:class:`PublicDetections` reads no image), else :class:`MOTDatasetMapper`."""
    return getattr(model, "test_mapper", None) or MOTDatasetMapper(cfg, is_train=False)


def evaluate_dataset(cfg, model, dataset_name: str, overwrite: bool = True) -> OrderedDict:
    """:func:`evaluate_datasets` for one registered set."""
    evaluator = build_evaluator(cfg, dataset_name, overwrite=overwrite)
    records = DatasetCatalog.get(dataset_name)
    kept = {seq for seq in {r["sequence"] for r in records} if evaluator.keeps_results(seq)}
    for sequence in sorted(kept):
        logger.info(f"{sequence}: results exist, not tracked again (use --overwrite)")
    records = [r for r in records if r["sequence"] not in kept]
    if not records:
        evaluator.reset()
        return evaluator.evaluate()
    loader = build_detection_test_loader(records, mapper=inference_mapper(cfg, model))
    return inference_on_dataset(model, loader, evaluator)


def calibrated_config(cfg, model, overwrite: bool = True):
    """``cfg`` with the tracker thresholds chosen by :func:`~lwf_track.evaluation.calibration.
    calibrate` on ``TRACKER.CALIBRATION.DATASET``, or ``cfg`` itself when that is "".

    The grid and the choice go to ``OUTPUT_DIR/inference/calibration.json``; a file made with the
    same settings is reused without inference unless ``overwrite``.
    """
    calibration = cfg.TRACKER.CALIBRATION
    if not calibration.DATASET:
        return cfg
    if calibration.DATASET in cfg.DATASETS.TEST:
        raise ValueError(
            f"TRACKER.CALIBRATION.DATASET {calibration.DATASET!r} is also in DATASETS.TEST: "
            "calibrate on a set that is not evaluated (e.g. the training split)"
        )
    path = os.path.join(cfg.OUTPUT_DIR, "inference", CALIBRATION_FILE)
    settings = {
        "dataset": calibration.DATASET,
        "max_frames": calibration.MAX_FRAMES,
        "candidates": list(calibration.HIGH_SCORE_THRESHS),
        "low_score_thresh": cfg.TRACKER.LOW_SCORE_THRESH,
        "birth_offset": cfg.TRACKER.BIRTH_THRESH - cfg.TRACKER.HIGH_SCORE_THRESH,
    }
    saved = _read_json(path) if not overwrite else None
    if saved is not None and saved.get("settings") == settings:
        logger.info(f"calibration: reusing {path}")
        result = saved
    else:
        result = _calibrate(cfg, model, calibration.DATASET, calibration.MAX_FRAMES)
        if result is None:  # not the main process: rank 0 tracks
            return cfg
        result = {"settings": settings, **result}
        atomic_write_json(path, result)
    chosen = result["chosen"]
    logger.info(f"calibration on {calibration.DATASET}: {chosen}")
    return with_thresholds(cfg, chosen["HIGH_SCORE_THRESH"])


def _calibrate(cfg, model, dataset_name: str, max_frames: int):
    kept = kept_detections(cfg, model, dataset_name, max_frames, what="TRACKER.CALIBRATION.DATASET")
    if kept is None:  # not the main process: rank 0 tracks
        return None
    return calibrate(cfg, *kept, cfg.TRACKER.CALIBRATION.HIGH_SCORE_THRESHS)


def kept_detections(cfg, model, dataset_name: str, max_frames: int = 0, what: str = "the set"):
    """The model's detections on the frames of a registered set with gt (all, or the first
    ``max_frames`` as :func:`calibration_records` takes them), kept on the CPU, and the set's gt:
    ``({sequence: (frame_rate, [(frame, Instances), ...])}, {sequence: {frame: FrameTruth}})``,
    the arguments :func:`calibrate` and :func:`track_and_score` take, so the tracker can run
    again over them without the model. None on processes other than the main one. ``what``
    names the set in the error for sequences without gt."""
    sequences = {s["name"]: s for s in get_sequences(dataset_name)}
    without_gt = sorted(name for name, s in sequences.items() if not s["has_gt"])
    if without_gt:
        raise ValueError(
            f"{what} {dataset_name!r}: {without_gt} have no gt/gt.txt; "
            "use a set with ground truth (e.g. a training split)"
        )
    records = calibration_records(DatasetCatalog.get(dataset_name), max_frames)
    loader = build_detection_test_loader(records, mapper=inference_mapper(cfg, model))
    collector = DetectionCollector(add_colors=color_adder(cfg))
    inference_on_dataset(model, loader, collector)
    if not comm.is_main_process():
        return None
    detections = {
        name: (sequences[name]["frame_rate"], frames) for name, frames in collector.frames.items()
    }
    truths = {name: load_sequence_truth(sequences[name]) for name in detections}
    return detections, truths


def _read_json(path: str):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def evaluation_dir(cfg, dataset_name: str) -> str:
    """Where the results of a test set go, as detectron2's evaluators write them:
    ``OUTPUT_DIR/inference`` for the usual single test set, else ``OUTPUT_DIR/inference/<set>``."""
    if len(cfg.DATASETS.TEST) == 1:
        return os.path.join(cfg.OUTPUT_DIR, "inference")
    return os.path.join(cfg.OUTPUT_DIR, "inference", dataset_name)


def build_evaluator(cfg, dataset_name: str, overwrite: bool = True) -> MOTEvaluator:
    """The :class:`MOTEvaluator` of a test set, writing to :func:`evaluation_dir`: the
    end-of-training evaluation and the ``--eval-only`` commands share their results."""
    return MOTEvaluator(
        sequences=get_sequences(dataset_name),
        output_dir=evaluation_dir(cfg, dataset_name),
        tracker_factory=lambda frame_rate: OnlineTracker(cfg, frame_rate=frame_rate),
        min_box_area=cfg.TRACKER.MIN_BOX_AREA,
        overwrite=overwrite,
        dataset_name=dataset_name,
        max_dets_per_image=cfg.TEST.DETECTIONS_PER_IMAGE,
        add_colors=color_adder(cfg),
    )


def track_datasets(cfg, overwrite: bool = False, public_detections: bool = False):
    """``track_net.py --eval-only``: load ``MODEL.WEIGHTS`` and :func:`evaluate_datasets`,
    keeping the results that exist (e.g. of the end-of-training evaluation) unless ``overwrite``.

    ``public_detections``: track each sequence's ``det/det.txt`` instead (no weights needed);
    the results go to ``OUTPUT_DIR/public_detections/inference`` so they never mix with the
    network's.
    """
    if public_detections:
        cfg = cfg.clone()
        cfg.defrost()
        cfg.OUTPUT_DIR = os.path.join(cfg.OUTPUT_DIR, PUBLIC_DETECTIONS_DIR)
        cfg.freeze()
        sets = [*cfg.DATASETS.TEST, *filter(None, [cfg.TRACKER.CALIBRATION.DATASET])]
        # the colour cue needs the frames, which public detections otherwise never read
        images = MOTDatasetMapper(cfg, is_train=False) if cfg.TRACKER.COLOR_WEIGHT > 0 else None
        return evaluate_datasets(cfg, PublicDetections(sets, images), overwrite=overwrite)
    model = Trainer.build_model(cfg)
    AtomicCheckpointer(model).load(cfg.MODEL.WEIGHTS)
    return evaluate_datasets(cfg, model, overwrite=overwrite)


@torch.no_grad()
def track_video(cfg, input_path: str, output_dir: str, max_frames=None) -> Dict[str, str]:
    """Track a video file or an image folder; write ``<name>.txt`` and a rendered ``<name>.mp4``.

    Both files are written under temporary names and renamed at the end, so an interrupted run
    never leaves a truncated result under the final name.
    """
    source = open_frame_source(input_path)
    predictor = DefaultPredictor(cfg)
    tracker = OnlineTracker(cfg, frame_rate=round(source.fps))
    add_colors = color_adder(cfg)
    renderer = TrackRenderer()
    video_path = os.path.join(output_dir, source.name + ".mp4")
    partial_video = os.path.join(output_dir, "." + source.name + ".partial.mp4")
    sink = VideoSink(partial_video, source.fps)
    rows = []
    total = source.num_frames if max_frames is None else min(max_frames, source.num_frames)
    progress = tqdm(
        iter_frames(source, max_frames),
        total=total,
        unit="frame",
        dynamic_ncols=True,
        mininterval=2.0,
    )
    start = time.perf_counter()
    try:
        for count, (frame, image) in enumerate(progress, start=1):
            detections = predictor(image)["instances"]
            if add_colors is not None:  # the frame as read: BGR, whatever INPUT.FORMAT says
                model_input = {"image": torch.from_numpy(image).permute(2, 0, 1)}
                detections = add_colors(detections, model_input, "BGR")
            tracks = tracker.update(detections)
            rows.extend(tracks_to_mot_rows(frame, tracks, cfg.TRACKER.MIN_BOX_AREA))
            boxes = tracks.pred_boxes.tensor.numpy()
            sink.write(renderer.draw(image, frame, boxes, tracks.track_ids.numpy()))
            progress.set_postfix(fps=f"{count / (time.perf_counter() - start):.1f}", refresh=False)
    finally:
        sink.close()
    os.replace(partial_video, video_path)
    txt_path = os.path.join(output_dir, source.name + ".txt")
    write_mot_results(txt_path, rows)
    logger.info(f"Wrote {txt_path} and {video_path}")
    return {"tracks": txt_path, "video": video_path}
