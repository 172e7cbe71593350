"""Run the tracker: over registered sequences (with evaluation) or over a video / image folder."""

import logging
import os
import time
from typing import Dict

import torch
from tqdm import tqdm

from detectron2.data import DatasetCatalog, build_detection_test_loader
from detectron2.engine import DefaultPredictor

from ..data.mapper import MOTDatasetMapper
from ..data.mot_format import write_mot_results
from ..tracking import OnlineTracker, tracks_to_mot_rows
from ..utils.video import TrackRenderer, VideoSink, iter_frames, open_frame_source
from .checkpoint import AtomicCheckpointer
from .trainer import Trainer

logger = logging.getLogger(__name__)


def track_datasets(cfg, overwrite: bool = False) -> Dict[str, dict]:
    """Track every sequence of ``DATASETS.TEST`` and evaluate those with ground truth.

    Results go to ``OUTPUT_DIR/tracks/<SEQ>.txt`` (one test set) or
    ``OUTPUT_DIR/<set>/tracks/<SEQ>.txt`` (several), where the end-of-training evaluation also
    writes them. Sequences whose result file exists are not tracked again unless ``overwrite``;
    they are still evaluated.
    """
    model = Trainer.build_model(cfg)
    AtomicCheckpointer(model).load(cfg.MODEL.WEIGHTS)
    model.eval()
    results = {}
    for name in cfg.DATASETS.TEST:
        evaluator = Trainer.build_evaluator(cfg, name, overwrite=overwrite)
        evaluator.reset()
        records = DatasetCatalog.get(name)
        kept = {seq for seq in {r["sequence"] for r in records} if evaluator.keeps_results(seq)}
        for sequence in sorted(kept):
            logger.info(f"{sequence}: results exist, not tracked again (use --overwrite)")
        records = [r for r in records if r["sequence"] not in kept]
        if records:
            loader = build_detection_test_loader(
                records, mapper=MOTDatasetMapper(cfg, is_train=False)
            )
            _run(model, loader, evaluator, description=name)
        results[name] = evaluator.evaluate()
    return results


@torch.no_grad()
def _run(model, loader, evaluator, description: str) -> None:
    progress = tqdm(loader, desc=description, unit="frame", dynamic_ncols=True, mininterval=2.0)
    start = time.perf_counter()
    for count, inputs in enumerate(progress, start=1):
        evaluator.process(inputs, model(inputs))
        progress.set_postfix(fps=f"{count / (time.perf_counter() - start):.1f}", refresh=False)


@torch.no_grad()
def track_video(cfg, input_path: str, output_dir: str, max_frames=None) -> Dict[str, str]:
    """Track a video file or an image folder; write ``<name>.txt`` and a rendered ``<name>.mp4``.

    Both files are written under temporary names and renamed at the end, so an interrupted run
    never leaves a truncated result under the final name.
    """
    source = open_frame_source(input_path)
    predictor = DefaultPredictor(cfg)
    tracker = OnlineTracker(cfg, frame_rate=round(source.fps))
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
            tracks = tracker.update(predictor(image)["instances"])
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
