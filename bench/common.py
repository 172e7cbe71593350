"""Shared pieces of the benchmarks: configs, synthetic batches, paired timing."""

import platform
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
from torch import nn

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.structures import Boxes, Instances

from lwf_track.data.mot_format import write_mot_results
from lwf_track.engine import build_config
from lwf_track.modeling import build_model
from lwf_track.tracking import OnlineTracker, tracks_to_mot_rows
from lwf_track.tracking.color import color_adder


def cpu_name(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model name where the OS says it (Linux), else the architecture: speed ratios
    differ between machines, so a result names the one it was measured on."""
    path = Path(cpuinfo)
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return f"{value.strip()} ({platform.machine()})"
    return platform.processor() or platform.machine()


def load_cfg(config_file: str, opts=()) -> "CfgNode":  # noqa: F821
    """The config as the commands build it, without weights (random init) and with the benchmark
    model's identity classifier for 500 identities (about MOT16's 517) unless ``opts`` say
    otherwise; on the GPU when there is one. Not frozen: benchmarks derive variants from it."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    defaults = ["MODEL.WEIGHTS", "", "MODEL.REID.NUM_IDENTITIES", "500", "MODEL.DEVICE", device]
    cfg = build_config(config_file, [*defaults, *map(str, opts)])
    cfg.defrost()
    return cfg


def random_batch(
    batch_size: int, height: int, width: int, boxes_per_image: int = 10, seed: int = 0
):
    """Images with pedestrian-shaped boxes and identities, as the MOT mapper yields them."""
    gen = torch.Generator().manual_seed(seed)
    batch = []
    for i in range(batch_size):
        h = torch.randint(30, height // 2, (boxes_per_image,), generator=gen).float()
        w = h / 2.5
        x = torch.rand(boxes_per_image, generator=gen) * (width - w)
        y = torch.rand(boxes_per_image, generator=gen) * (height - h)
        instances = Instances((height, width))
        instances.gt_boxes = Boxes(torch.stack([x, y, x + w, y + h], dim=1))
        instances.gt_classes = torch.zeros(boxes_per_image, dtype=torch.long)
        instances.gt_ids = torch.arange(boxes_per_image) + i * boxes_per_image
        image = torch.randint(0, 256, (3, height, width), generator=gen).float()
        batch.append({"image": image, "instances": instances, "height": height, "width": width})
    return batch


def timed(fn: Callable[[], object]) -> tuple:
    """``(fn(), wall seconds)``, the GPU's queued work included."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def _seconds(fn: Callable[[], object]) -> float:
    """Wall seconds of ``fn()``, the GPU's queued work included."""
    return timed(fn)[1]


def paired_times(functions: Dict[str, Callable[[], None]], rounds: int, warmup: int = 2):
    """Alternate the functions round by round so machine noise hits all of them alike."""
    times: Dict[str, List[float]] = {name: [] for name in functions}
    for round_index in range(warmup + rounds):
        for name, fn in functions.items():
            seconds = _seconds(fn)
            if round_index >= warmup:
                times[name].append(seconds)
    return {name: statistics.median(values) for name, values in times.items()}


def tracker_and_retinanet(cfg, weights: Optional[str]) -> Dict[str, nn.Module]:
    """LWFTracker and plain RetinaNet of one config in eval mode, keyed by meta-architecture, from
    the same init seed; both load ``weights`` when given (plain RetinaNet ignores the Re-ID ones),
    so the pair differs only by what the tracker adds."""
    models = {}
    for meta_arch in ("LWFTracker", "RetinaNet"):
        model_cfg = cfg.clone()
        model_cfg.MODEL.META_ARCHITECTURE = meta_arch
        torch.manual_seed(0)
        models[meta_arch] = build_model(model_cfg).eval()
        if weights:
            DetectionCheckpointer(models[meta_arch]).load(weights)
    return models


def tracker_vs_retinanet_seconds(
    cfg, tracker_model, plain_model, frames: list, tracks_path, rounds: int, warmup: int
) -> Dict[str, float]:
    """Median seconds per round of the whole tracker (model, association, writing the results)
    and of plain RetinaNet inference over the same ``frames`` (model inputs), paired in one run.

    The two alternate frame by frame (which goes first alternates too), so a slow spell of a
    shared machine hits both alike instead of one whole round of one of them."""
    totals: Dict[str, List[float]] = {"RetinaNet": [], "tracker": []}
    add_colors = color_adder(cfg)
    with torch.no_grad():
        for round_index in range(warmup + rounds):
            tracker = OnlineTracker(cfg, frame_rate=30)
            rows: list = []
            seconds = {"RetinaNet": 0.0, "tracker": 0.0}
            for frame, inputs in enumerate(frames, start=1):
                steps = {
                    "RetinaNet": partial(plain_model, [inputs]),
                    "tracker": partial(
                        _track_frame, tracker, tracker_model, inputs, frame, rows, add_colors
                    ),
                }
                for name in sorted(steps, reverse=frame % 2 == 0):
                    seconds[name] += _seconds(steps[name])
            seconds["tracker"] += _seconds(partial(write_mot_results, str(tracks_path), rows))
            if round_index >= warmup:
                for name, value in seconds.items():
                    totals[name].append(value)
    return {name: statistics.median(values) for name, values in totals.items()}


def _track_frame(
    tracker: OnlineTracker, model, inputs: dict, frame: int, rows: list, add_colors=None
) -> None:
    """One frame of the tracker: the model, the colours (with ``TRACKER.COLOR_WEIGHT``), then
    association; its MOT rows go to ``rows``."""
    detections = model([inputs])[0]["instances"]
    if add_colors is not None:
        detections = add_colors(detections, inputs)
    rows.extend(tracks_to_mot_rows(frame, tracker.update(detections), 0.0))
