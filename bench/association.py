#!/usr/bin/env python
"""Our association stage against BoxMOT's ByteTrack on identical detections, in one run.

    python -m bench.association [--out output/bench_association] [--num-seqs 2] [--frames 450]
    python -m bench.association --detections DETS.npz --sequence SEQ_DIR   # saved detections
    python -m bench.association --pets09                # public detections of PETS09-S2L1
    python -m bench.association --mot-sequence SEQ_DIR [--mot-sequence SEQ_DIR ...]

Goals: ours at most half BoxMOT's time per frame (ratio <= 0.5) and our MOTA and IDF1 at least
its own (difference >= 0). Both trackers get exactly the same detections of a sequence with ground
truth, from one of three sources: by default synthetic sequences (``lwf_track.data.synthetic``)
with detections derived from their gt by :func:`synthesize_detections`; a saved detections file;
or the public detections (``det/det.txt``) of real MOTChallenge sequence folders
(``--mot-sequence``; ``--pets09`` is MOT15's PETS09-S2L1 under ``$LWF_SHARED_DATA``, default
``../shared/data`` beside the repository). Public detections have no embeddings, so both trackers
then associate by motion and IoU only; ByteTrack always ignores the embeddings. Real sequences
are scored on every frame and on their validation half (``floor(n/2)+1..n``, the half split the
trained models are evaluated on), both cut from the same tracks.

BoxMOT (PyPI ``boxmot==25.0.0``) pins pandas/opencv versions that conflict with ours, so it lives
in its own virtualenv (``--boxmot-venv``, default ``bench/.venv-boxmot``), which this script
creates on first use (a stamp file makes it a no-op afterwards; ``--install-only`` stops there).
``bench/boxmot_runner.py`` runs inside it, reads the detections from ``.npz`` files and writes
MOTChallenge tracks and its timing.

Timing covers only the per-frame association call: ``OnlineTracker.update(instances)`` for ours
(config ``--config``, TRACKER section; by default ``configs/lwf_pets09_cpu_scratch.yaml`` for public
detections, else ``configs/lwf_synthetic_cpu.yaml``) and ``ByteTrack(...).update(dets, img)`` for
BoxMOT (its constructor defaults, frame rate from seqinfo.ini). Inputs are built before the clock
starts. After a warm-up repeat, the two alternate repeat by repeat (so machine noise hits both
alike); ms/frame is the median over every measured frame. Both result files are scored by our
evaluator (trackeval + motmetrics: MOTA, IDF1, HOTA, IDS, FP, FN) against the gt, on the same
frames; the MOTA and IDF1 differences also get a 95% interval over blocks of 3 seconds of frames
(a paired block bootstrap, ``lwf_track.evaluation.comparison``), so a difference inside the noise
reads "no difference detected". Everything goes to ``--out``, the numbers to ``results.json``;
``--markdown PATH`` also writes them as a table (the README's public-detection block is
``--pets09 --markdown tools/experiments/results/bench/association_pets09.md``).
"""

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

BOXMOT_VERSION = "25.0.0"
# pip takes these two from the local disk (the machine's pip config); PyPI's default torch would
# pull gigabytes of CUDA libraries.
BOXMOT_TORCH = ("torch==2.14.1", "torchvision==0.29.1")
DEFAULT_VENV = REPO / "bench" / ".venv-boxmot"
RUNNER = Path(__file__).resolve().parent / "boxmot_runner.py"
REPLY_PREFIX = "@@BOXMOT "
SYNTHETIC_CONFIG = "configs/lwf_synthetic_cpu.yaml"
# the PETS09 tracker keys without the colour cue of lwf_pets09_cpu.yaml (public detections are
# compared on boxes and motion, as ByteTrack sees them)
PUBLIC_DETECTIONS_CONFIG = "configs/lwf_pets09_cpu_scratch.yaml"
# What both trackers' tracks are scored on: every frame, and for real sequences also the
# validation half of the half split (what the trained models are evaluated on).
ALL_FRAMES, VAL_HALF = "all_frames", "val_half"
SCORED = ("MOTA", "IDF1", "HOTA", "IDS", "FP", "FN")  # the printed columns
GOAL_METRICS = ("MOTA", "IDF1")  # ours at least BoxMOT's
# Nothing BoxMOT does for ByteTrack needs the network; make sure it never tries.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "YOLO_OFFLINE": "1"}


# ------------------------------------------------------------------------- the BoxMOT virtualenv
def venv_python(venv: Path) -> Path:
    return Path(venv) / "bin" / "python"


def install_stamp(venv: Path) -> Path:
    return Path(venv) / f".boxmot-{BOXMOT_VERSION}-installed"


def ensure_boxmot_venv(venv: Path, python: str = "python3") -> Path:
    """Create ``venv`` with boxmot and a torch from the local disk; a no-op once its stamp file
    exists. Returns the venv's python."""
    venv = Path(venv)
    stamp = install_stamp(venv)
    if stamp.is_file() and venv_python(venv).exists():
        print(f"[boxmot venv] {venv}: ready ({stamp.read_text().strip()})", flush=True)
        return venv_python(venv)
    start = time.perf_counter()
    steps = []
    if not venv_python(venv).exists():
        steps.append(("create the virtualenv", [python, "-m", "venv", str(venv)]))
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--progress-bar", "off"]
    steps.append(("install torch and torchvision (local wheels)", [*pip, *BOXMOT_TORCH]))
    steps.append((f"install boxmot=={BOXMOT_VERSION}", [*pip, f"boxmot=={BOXMOT_VERSION}"]))
    check = "import boxmot, torch; print('boxmot', boxmot.__version__, 'torch', torch.__version__)"
    steps.append(("check the install", [str(venv_python(venv)), "-c", check]))
    for number, (what, command) in enumerate(steps, start=1):
        print(f"[boxmot venv] step {number}/{len(steps)}: {what}", flush=True)
        subprocess.run(command, check=True, env={**os.environ, **OFFLINE_ENV})
    versions = subprocess.run(
        [str(venv_python(venv)), "-c", check], check=True, capture_output=True, text=True
    ).stdout.strip()
    stamp.write_text(versions + "\n")
    print(f"[boxmot venv] done in {time.perf_counter() - start:.0f} s: {versions}", flush=True)
    return venv_python(venv)


# ---------------------------------------------------------------------------------- detections
@dataclass
class DetectionSet:
    """One sequence's detections, every frame in one table (row order within a frame is the
    detector's order). ``gt_ids`` is -1 for false positives and where unknown; ``embeddings`` is
    None for a detector without Re-ID output."""

    frame: np.ndarray  # (N,) int64, 1-based
    boxes: np.ndarray  # (N, 4) float32 XYXY pixels
    scores: np.ndarray  # (N,) float32
    embeddings: np.ndarray | None = None  # (N, D) float32
    gt_ids: np.ndarray | None = None  # (N,) int64

    def __len__(self) -> int:
        return len(self.frame)

    def in_frame(self, frame: int) -> np.ndarray:
        return np.flatnonzero(self.frame == frame)


def save_detections(path, detections: DetectionSet) -> None:
    """``.npz`` with ``frame``, ``boxes``, ``scores`` and, where present, ``embeddings`` and
    ``gt_ids`` (the format ``--detections`` and the BoxMOT runner read)."""
    arrays = {"frame": detections.frame, "boxes": detections.boxes, "scores": detections.scores}
    if detections.embeddings is not None:
        arrays["embeddings"] = detections.embeddings
    if detections.gt_ids is not None:
        arrays["gt_ids"] = detections.gt_ids
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def load_detections(path) -> DetectionSet:
    """Read a ``.npz`` written by :func:`save_detections` (or by hand from a real detector's output:
    ``frame`` (N,) 1-based, ``boxes`` (N, 4) XYXY, ``scores`` (N,), optional ``embeddings`` (N, D)).
    """
    with np.load(path) as data:
        missing = {"frame", "boxes", "scores"} - set(data.files)
        if missing:
            raise ValueError(f"{path}: missing arrays {sorted(missing)} (has {data.files})")
        frame = data["frame"].astype(np.int64).reshape(-1)
        boxes = data["boxes"].astype(np.float32).reshape(-1, 4)
        scores = data["scores"].astype(np.float32).reshape(-1)
        embeddings = data["embeddings"].astype(np.float32) if "embeddings" in data.files else None
        gt_ids = data["gt_ids"].astype(np.int64) if "gt_ids" in data.files else None
    if not len(frame) == len(boxes) == len(scores):
        raise ValueError(f"{path}: frame, boxes and scores differ in length")
    if embeddings is not None and len(embeddings) != len(frame):
        raise ValueError(f"{path}: {len(embeddings)} embeddings for {len(frame)} detections")
    if len(frame) and frame.min() < 1:
        raise ValueError(f"{path}: frames are 1-based, found {frame.min()}")
    return DetectionSet(frame, boxes, scores, embeddings, gt_ids)


@dataclass(frozen=True)
class DetectorModel:
    """How :func:`synthesize_detections` turns gt into a detector's output.

    recall: detection probability of a fully visible person; it falls linearly to 0 between
        ``visible_from`` and ``min_visibility`` visibility (hidden people are missed).
    box_noise: std of the box centre shift and of the log size change, as a fraction of the box.
    score_base, score_visibility, score_noise: score = base + visibility * gain + N(0, noise),
        clipped to [0.01, 0.99]: occluded people score low and fall to BYTE's low-score stage.
    false_positives: mean false positives per frame (Poisson), person-shaped, anywhere; their
        scores are mostly low (``fp_high_share`` of them in [0.5, 0.8)).
    embed_dim, embed_noise: embedding = unit identity vector + noise of norm about
        ``embed_noise * (2 - visibility)``, renormalised (occluded crops are noisier).
    """

    recall: float = 0.95
    min_visibility: float = 0.1
    visible_from: float = 0.5
    box_noise: float = 0.05
    score_base: float = 0.3
    score_visibility: float = 0.6
    score_noise: float = 0.1
    false_positives: float = 2.0
    fp_high_share: float = 0.2
    embed_dim: int = 64
    embed_noise: float = 0.6


def synthesize_detections(
    gt: np.ndarray,
    num_frames: int,
    width: int,
    height: int,
    seed: int,
    model: DetectorModel = DetectorModel(),
) -> DetectionSet:
    """Detections a Re-ID detector could give on a sequence, derived from its ground truth.

    ``gt`` is MOT gt as :func:`lwf_track.data.read_gt` returns it (frame, id, x, y, w, h,
    flag, class, visibility; boxes may leave the image). Deterministic in ``seed``:

    - each gt box is detected with probability ``model.recall`` scaled down linearly from
      visibility ``visible_from`` to 0 at ``min_visibility`` (so long occlusions cut tracks);
    - a detection is the gt box with its centre and size jittered (``box_noise``), clipped to the
      image; boxes left with a side under 2 pixels are dropped;
    - its score grows with visibility, plus noise (see :class:`DetectorModel`);
    - false positives: Poisson(``false_positives``) per frame, pedestrian-shaped (1:2.5) boxes with
      heights from the range of the gt heights, at random places, mostly low scores;
    - embeddings: one fixed random unit vector per identity plus Gaussian noise that grows as
      visibility falls, renormalised; false positives get random unit vectors;
    - the detections of a frame are shuffled (their order tells nothing about identity).
    """
    rng = np.random.default_rng(seed)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 9)
    identities = IdentityEmbeddings(rng, gt[:, 1], model.embed_dim)
    heights = gt[:, 5] if len(gt) else np.array([0.25 * height])
    height_range = np.percentile(heights, 5), np.percentile(heights, 95)
    per_frame = []
    for frame in range(1, num_frames + 1):
        found = detect_gt_boxes(rng, gt[gt[:, 0] == frame], model, identities)
        false = false_positives(rng, model, height_range, width, height)
        per_frame.append(finish_frame(rng, frame, found, false, width, height))
    return DetectionSet(*(np.concatenate(column) for column in zip(*per_frame)))


class IdentityEmbeddings:
    """One fixed random unit vector per gt identity: what a perfect Re-ID head would give."""

    def __init__(self, rng: np.random.Generator, gt_ids: np.ndarray, embed_dim: int):
        ids = np.unique(gt_ids).astype(np.int64)
        vectors = rng.normal(size=(len(ids), embed_dim))
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.row_of = {int(i): row for row, i in enumerate(ids)}

    def of(self, gt_ids: np.ndarray) -> np.ndarray:
        return self.vectors[np.array([self.row_of[int(i)] for i in gt_ids], dtype=np.int64)]


def detect_gt_boxes(
    rng: np.random.Generator,
    rows: np.ndarray,
    model: DetectorModel,
    identities: IdentityEmbeddings,
):
    """The detected gt boxes of one frame (``rows`` in gt layout): (XYXY boxes, scores,
    unnormalised embeddings, gt ids), with the misses, jitter and noise of ``model``."""
    vis = np.clip(rows[:, 8], 0.0, 1.0)
    span = max(model.visible_from - model.min_visibility, 1e-6)
    recall = model.recall * np.clip((vis - model.min_visibility) / span, 0.0, 1.0)
    rows = rows[rng.random(len(rows)) < recall]
    vis = np.clip(rows[:, 8], 0.0, 1.0)
    x, y, w, h = rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5]
    noise = rng.normal(0.0, model.box_noise, size=(len(rows), 4))
    cx, cy = x + w / 2 + noise[:, 0] * w, y + h / 2 + noise[:, 1] * h
    bw, bh = w * np.exp(noise[:, 2]), h * np.exp(noise[:, 3])
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
    scores = model.score_base + model.score_visibility * vis
    scores = scores + rng.normal(0.0, model.score_noise, len(rows))
    spread = model.embed_noise * (2.0 - vis)[:, None] / np.sqrt(model.embed_dim)
    embeddings = identities.of(rows[:, 1]) + spread * rng.normal(size=(len(rows), model.embed_dim))
    return boxes, scores, embeddings, rows[:, 1].astype(np.int64)


def false_positives(rng: np.random.Generator, model: DetectorModel, height_range, width, height):
    """Poisson(``model.false_positives``) pedestrian-shaped boxes at random places, mostly low
    scores, random embeddings and gt id -1: (XYXY boxes, scores, embeddings, gt ids)."""
    count = int(rng.poisson(model.false_positives))
    box_h = rng.uniform(*height_range, count)
    box_w = 0.4 * box_h
    x = rng.uniform(-0.25 * box_w, width - 0.75 * box_w)
    y = rng.uniform(0, height - 0.5 * box_h)
    boxes = np.stack([x, y, x + box_w, y + box_h], axis=1)
    high = rng.random(count) < model.fp_high_share
    scores = np.where(high, rng.uniform(0.5, 0.8, count), rng.uniform(0.1, 0.5, count))
    embeddings = rng.normal(size=(count, model.embed_dim))
    return boxes, scores, embeddings, np.full(count, -1)


def finish_frame(rng: np.random.Generator, frame: int, found, false, width: int, height: int):
    """One frame's columns of a :class:`DetectionSet` from the true and the false detections:
    boxes clipped to the image (a side under 2 pixels drops the box), scores clipped to
    [0.01, 0.99], unit embeddings, and the order shuffled."""
    boxes, scores, embeddings, gt_ids = (np.concatenate(pair) for pair in zip(found, false))
    boxes = boxes.reshape(-1, 4)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    scores = np.clip(scores, 0.01, 0.99)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    sides = boxes[:, 2:] - boxes[:, :2]
    keep = np.flatnonzero((sides >= 2).all(axis=1))
    keep = keep[rng.permutation(len(keep))]
    return (
        np.full(len(keep), frame, dtype=np.int64),
        boxes[keep].astype(np.float32),
        scores[keep].astype(np.float32),
        embeddings[keep].astype(np.float32),
        gt_ids[keep].astype(np.int64),
    )


def detection_summary(detections: DetectionSet, gt: np.ndarray | None) -> dict:
    """Counts that describe a detection set (for the results JSON and the printout)."""
    summary = {"detections": len(detections), "mean_score": float(np.mean(detections.scores))}
    if detections.gt_ids is not None:
        summary["false_positives"] = int(np.sum(detections.gt_ids < 0))
    if gt is not None:
        summary["gt_boxes"] = len(gt)
        summary["gt_identities"] = len(np.unique(gt[:, 1]))
        if detections.gt_ids is not None and len(gt):
            summary["gt_boxes_detected"] = float(np.sum(detections.gt_ids >= 0) / len(gt))
    return summary


# ---------------------------------------------------------------------------------- sequences
@dataclass
class BenchSequence:
    """A MOTChallenge sequence folder (with gt) and the detections both trackers get."""

    name: str
    seq_dir: Path
    width: int
    height: int
    frame_rate: int
    num_frames: int
    detections: DetectionSet
    summary: dict


def synthetic_sequences(args, out: Path, model: DetectorModel) -> list[BenchSequence]:
    from lwf_track.data.mot_format import read_gt
    from lwf_track.data.synthetic import generate_benchmark

    seq_dirs = generate_benchmark(
        out / "sequences",
        args.num_seqs,
        args.frames,
        seed=args.seed,
        width=args.width,
        height=args.height,
        difficulty=args.difficulty,
    )
    sequences = []
    for index, seq_dir in enumerate(seq_dirs):
        gt = read_gt(seq_dir / "gt" / "gt.txt")
        sequence = _sequence(seq_dir, None)
        sequence.detections = synthesize_detections(
            gt, sequence.num_frames, sequence.width, sequence.height, [args.seed, index], model
        )
        sequence.summary = detection_summary(sequence.detections, gt)
        sequences.append(sequence)
    return sequences


def _sequence(seq_dir: Path, detections: DetectionSet | None) -> BenchSequence:
    from lwf_track.data.mot_format import read_gt, read_seqinfo

    info = read_seqinfo(Path(seq_dir) / "seqinfo.ini")
    summary = {}
    if detections is not None:
        frames = detections.frame
        if len(frames) and frames.max() > info.seq_length:
            raise ValueError(f"detections reach frame {frames.max()} > seqLength {info.seq_length}")
        summary = detection_summary(detections, read_gt(Path(seq_dir) / "gt" / "gt.txt"))
    return BenchSequence(
        name=Path(seq_dir).name,
        seq_dir=Path(seq_dir),
        width=info.im_width,
        height=info.im_height,
        frame_rate=info.frame_rate,
        num_frames=info.seq_length,
        detections=detections,
        summary=summary,
    )


MOT_SEQUENCE_FILES = ("seqinfo.ini", "det/det.txt", "gt/gt.txt")


def check_mot_sequence(seq_dir) -> Path:
    """``seq_dir`` if it is a MOTChallenge sequence folder with public detections and gt, else a
    FileNotFoundError naming what is missing."""
    missing = [name for name in MOT_SEQUENCE_FILES if not (Path(seq_dir) / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{seq_dir}: not a MOTChallenge sequence folder with public detections and gt (no "
            f"{', '.join(missing)}); give a folder SEQ with SEQ/{', SEQ/'.join(MOT_SEQUENCE_FILES)}"
        )
    return Path(seq_dir)


def public_detections(seq_dir) -> DetectionSet:
    """A sequence's public detections, ``det/det.txt``: boxes and scores, no embeddings."""
    from lwf_track.data.mot_format import read_det

    det = read_det(Path(seq_dir) / "det" / "det.txt")
    boxes = np.concatenate([det[:, 2:4], det[:, 2:4] + det[:, 4:6]], axis=1)
    return DetectionSet(
        frame=det[:, 0].astype(np.int64),
        boxes=boxes.astype(np.float32),
        scores=det[:, 6].astype(np.float32),
    )


def public_detection_sequences(seq_dirs) -> list[BenchSequence]:
    """One :class:`BenchSequence` per MOTChallenge folder, with its public detections."""
    sequences = [_sequence(check_mot_sequence(d), public_detections(d)) for d in seq_dirs]
    names = [sequence.name for sequence in sequences]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"sequence names must differ (their tracks share one folder): {repeated}")
    return sequences


# ------------------------------------------------------------------------------------ trackers
def frame_instances(sequence: BenchSequence) -> list:
    """detectron2 ``Instances`` per frame (pred_boxes, scores, pred_embeddings), built before
    timing starts."""
    import torch
    from detectron2.structures import Boxes, Instances

    detections = sequence.detections
    result = []
    for frame in range(1, sequence.num_frames + 1):
        index = detections.in_frame(frame)
        instances = Instances((sequence.height, sequence.width))
        instances.pred_boxes = Boxes(torch.from_numpy(detections.boxes[index]))
        instances.scores = torch.from_numpy(detections.scores[index])
        if detections.embeddings is not None:
            instances.pred_embeddings = torch.from_numpy(detections.embeddings[index])
        result.append(instances)
    return result


def run_ours(cfg, sequence: BenchSequence, instances: list, min_box_area: float):
    """One pass of a fresh OnlineTracker: (per-frame seconds of ``update``, MOT rows)."""
    from lwf_track.tracking import OnlineTracker, tracks_to_mot_rows

    tracker = OnlineTracker(cfg, frame_rate=sequence.frame_rate)
    clock = time.perf_counter
    times, outputs = [], []
    for frame_instances_ in instances:
        start = clock()
        output = tracker.update(frame_instances_)
        times.append(clock() - start)
        outputs.append(output)
    rows = [
        row
        for frame, output in enumerate(outputs, start=1)
        for row in tracks_to_mot_rows(frame, output, min_box_area)
    ]
    return times, rows


class BoxMOTRunner:
    """``bench/boxmot_runner.py --serve`` in the BoxMOT venv, driven one repeat at a time."""

    def __init__(self, python: Path, job_path: Path):
        env = {**os.environ, **OFFLINE_ENV}
        env.pop("PYTHONPATH", None)
        self.process = subprocess.Popen(
            [str(python), str(RUNNER), str(job_path), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=env,
        )
        self._reply()

    def _reply(self) -> dict:
        for line in self.process.stdout:
            if line.startswith(REPLY_PREFIX):
                message = json.loads(line[len(REPLY_PREFIX) :])
                if "error" in message:
                    raise RuntimeError(f"boxmot runner: {message['error']}")
                return message
            print(f"[boxmot] {line.rstrip()}", flush=True)
        code = self.process.wait()
        raise RuntimeError(f"boxmot runner exited with status {code} (its stderr is above)")

    def _send(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._reply()

    def run(self) -> dict:
        return self._send("run")["times"]

    def finish(self) -> None:
        self._send("done")
        self.process.stdin.close()
        self.process.wait()

    def close(self) -> None:
        """Stop the runner if it is still there (after an error on either side)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# ------------------------------------------------------------------------------------- numbers
def timing_summary(repeats: dict[str, list[list[float]]]) -> dict:
    """``repeats[seq]`` = one list of per-frame seconds per measured repeat. ms/frame: the median
    over every measured frame; also the median over repeats of each repeat's mean."""
    names = list(repeats)
    num_repeats = len(repeats[names[0]])
    per_frame = [t for name in names for run in repeats[name] for t in run]
    repeat_means = []
    for index in range(num_repeats):
        run = [t for name in names for t in repeats[name][index]]
        repeat_means.append(1000 * sum(run) / len(run))
    return {
        "ms_per_frame": 1000 * statistics.median(per_frame),
        "mean_ms_per_frame": statistics.median(repeat_means),
        "repeat_mean_ms": repeat_means,
        "p90_ms_per_frame": 1000 * float(np.percentile(per_frame, 90)),
        "frames_per_repeat": len(per_frame) // num_repeats,
        "repeats": num_repeats,
    }


def parse_option(text: str):
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def format_results(results: dict) -> str:
    """Time per frame of both and their ratio, then the metrics of both on each scoring."""
    rows = [("ours (OnlineTracker)", "ours"), (f"BoxMOT {BOXMOT_VERSION} ByteTrack", "boxmot")]
    lines = [f"{'tracker':<26} {'ms/frame':>9} {'(mean)':>8}"]
    for label, key in rows:
        timing = results["timing"][key]
        lines.append(
            f"{label:<26} {timing['ms_per_frame']:>9.3f} {timing['mean_ms_per_frame']:>8.3f}"
        )
    ratios, goals = results["ratios"], results["goals"]
    lines.append(
        f"time_ours / time_boxmot: {ratios['time_ours_over_boxmot']:.3f} (mean-based "
        f"{ratios['mean_time_ours_over_boxmot']:.3f}; goal <= 0.5: {_verdict(goals['time'])})"
    )
    for scoring, score in results["scores"].items():
        ranges = ", ".join(f"{name} {a}..{b}" for name, (a, b) in score["frame_ranges"].items())
        lines.append("")
        lines.append(f"{scoring} ({ranges or 'every frame'})")
        lines.append(f"{'tracker':<26} " + " ".join(f"{column:>6}" for column in SCORED))
        for label, key in rows:
            overall = score["metrics"][key]["OVERALL"]
            cells = [_cell(overall[column]) for column in SCORED]
            lines.append(f"{label:<26} " + " ".join(f"{cell:>6}" for cell in cells))
        lines.append(
            "; ".join(
                f"{metric}_ours - {metric}_boxmot: {score['ours_minus_boxmot'][metric]:+.2f} "
                f"{_interval(score, metric, 2)} (goal >= 0: {_verdict(goals[metric][scoring])})"
                for metric in GOAL_METRICS
            )
        )
    return "\n".join(lines)


def markdown_results(results: dict) -> str:
    """The same numbers as a markdown table (``--markdown``, for the README's generated block)."""
    rows = [("our tracker", "ours"), (f"BoxMOT {BOXMOT_VERSION} ByteTrack", "boxmot")]
    header = ["frames scored", "tracker", "ms/frame (median)", *SCORED]
    lines = [f"`{results['command']}`", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "---|" * len(header))
    for scoring, score in results["scores"].items():
        ranges = ", ".join(f"{a}-{b}" for a, b in score["frame_ranges"].values())
        for label, key in rows:
            overall = score["metrics"][key]["OVERALL"]
            cells = [ranges or "all", label, f"{results['timing'][key]['ms_per_frame']:.3f}"]
            lines.append("| " + " | ".join(cells + [_cell(overall[c]) for c in SCORED]) + " |")
    ratios, goals = results["ratios"], results["goals"]
    lines += [
        "",
        f"Time ours / BoxMOT: {ratios['time_ours_over_boxmot']:.3f} (goal <= 0.5: "
        f"{_verdict(goals['time'])}). "
        + "; ".join(
            f"{scoring} {metric} ours - BoxMOT: {score['ours_minus_boxmot'][metric]:+.1f} "
            f"{_interval(score, metric, 1)} (goal >= 0: {_verdict(goals[metric][scoring])})"
            for scoring, score in results["scores"].items()
            for metric in GOAL_METRICS
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    return "-" if value is None else f"{value:d}" if isinstance(value, int) else f"{value:.1f}"


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _interval(score: dict, metric: str, digits: int) -> str:
    """The difference's 95% interval over blocks of frames, and what it says."""
    from lwf_track.evaluation.comparison import Difference

    difference = Difference(**score["ours_minus_boxmot_ci"][metric])
    return f"[{difference.low:+.{digits}f}, {difference.high:+.{digits}f}]: {difference.verdict}"


# ---------------------------------------------------------------------------------------- main
def time_both(args, cfg, sequences: list, boxmot: "BoxMOTRunner"):
    """Warm-up + measured repeats, ours and BoxMOT alternating (which goes first alternates too).
    Returns our per-frame seconds by sequence, our MOT rows (first repeat) and whether every
    repeat gave the same rows; BoxMOT's numbers stay in its runner until ``finish``."""
    min_box_area = float(cfg.TRACKER.MIN_BOX_AREA)
    instances = {s.name: frame_instances(s) for s in sequences}
    ours_times = {s.name: [] for s in sequences}
    ours_rows, ours_deterministic = {}, True
    rounds = args.warmup + args.repeats
    print(f"timing: {args.warmup} warm-up + {args.repeats} measured repeats each, alternating")
    for round_index in range(rounds):
        measured = round_index >= args.warmup
        order = ("ours", "boxmot") if round_index % 2 == 0 else ("boxmot", "ours")
        for which in order:
            if which == "boxmot":
                boxmot.run()
                continue
            for sequence in sequences:
                times, rows = run_ours(cfg, sequence, instances[sequence.name], min_box_area)
                if sequence.name not in ours_rows:
                    ours_rows[sequence.name] = rows
                elif rows != ours_rows[sequence.name]:
                    ours_deterministic = False
                if measured:
                    ours_times[sequence.name].append(times)
        print(f"  round {round_index + 1}/{rounds}{'' if measured else ' (warm-up)'}", flush=True)
    return ours_times, ours_rows, ours_deterministic


def parse_args(argv=None):
    from tools.experiments.benchmarks import PETS09, shared_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="output/bench_association")
    parser.add_argument("--markdown", help="also write the results as a markdown table here")
    parser.add_argument(
        "--config",
        help=f"our tracker's config (TRACKER section); default {PUBLIC_DETECTIONS_CONFIG} with "
        f"public detections, else {SYNTHETIC_CONFIG}",
    )
    parser.add_argument("--num-seqs", type=int, default=2)
    parser.add_argument("--frames", type=int, default=450, help="frames per synthetic sequence")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--difficulty", default="medium")
    parser.add_argument("--repeats", type=int, default=5, help="measured repeats of each tracker")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured repeats first")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--detections", help="saved detections (.npz, see load_detections) instead of synthetic"
    )
    source.add_argument(
        "--mot-sequence",
        action="append",
        metavar="SEQ_DIR",
        help="a MOTChallenge sequence folder with det/det.txt and gt/gt.txt: track its public "
        "detections instead of synthetic ones (repeatable)",
    )
    source.add_argument(
        "--pets09",
        action="store_true",
        help=f"--mot-sequence $LWF_SHARED_DATA/{PETS09} (default ../shared/data beside the "
        "repository)",
    )
    parser.add_argument("--sequence", help="with --detections: the MOT sequence folder (gt)")
    parser.add_argument("--boxmot-venv", default=str(DEFAULT_VENV))
    parser.add_argument("--python", default="python3", help="interpreter for the BoxMOT venv")
    parser.add_argument(
        "--boxmot-option",
        type=parse_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="ByteTrack keyword argument (default: its constructor defaults)",
    )
    parser.add_argument("--install-only", action="store_true", help="set up the BoxMOT venv only")
    args = parser.parse_args(argv)
    if bool(args.detections) != bool(args.sequence):
        parser.error("--detections and --sequence go together")
    if args.repeats < 1 or args.warmup < 0:
        parser.error("need --repeats >= 1 and --warmup >= 0")
    if args.pets09:
        args.mot_sequence = [shared_data_dir() / PETS09]
        if not args.mot_sequence[0].is_dir():
            parser.error(
                f"--pets09: PETS09-S2L1 not found at {args.mot_sequence[0]}: set LWF_SHARED_DATA "
                f"to the folder that holds {PETS09}"
            )
    try:
        for seq_dir in args.mot_sequence or ():
            check_mot_sequence(seq_dir)
    except FileNotFoundError as error:
        parser.error(str(error))
    if args.config is None:
        args.config = PUBLIC_DETECTIONS_CONFIG if args.mot_sequence else SYNTHETIC_CONFIG
    return args


@dataclass
class DetectionSource:
    """The sequences both trackers get, a note of where their detections come from, and what
    their tracks are scored on: ``scorings`` maps a name to the ``frame_ranges`` of
    :func:`lwf_track.evaluation.evaluate_sequences` ({} = every frame)."""

    sequences: list[BenchSequence]
    note: str
    scorings: dict[str, dict]
    detector_model: DetectorModel | None = None  # what synthesized the detections, if anything


def half_split_scorings(sequences: list[BenchSequence]) -> dict[str, dict]:
    """Every frame, and the validation half of each sequence (as ``<name>_val_half`` is)."""
    from lwf_track.data.mot import frame_range

    val_half = {s.name: frame_range(s.num_frames, "second_half") for s in sequences}
    return {ALL_FRAMES: {}, VAL_HALF: val_half}


def load_sequences(args, out: Path, model: DetectorModel) -> DetectionSource:
    """The detection source the arguments ask for: a saved detections file (``--detections``),
    the public detections of MOTChallenge folders (``--mot-sequence``, ``--pets09``), or
    synthetic sequences with gt-derived detections."""
    if args.detections:
        sequences = [_sequence(Path(args.sequence), load_detections(args.detections))]
        note = f"saved detections {args.detections}"
        return DetectionSource(sequences, note, half_split_scorings(sequences))
    if args.mot_sequence:
        sequences = public_detection_sequences(args.mot_sequence)
        note = "public detections (det/det.txt) of " + ", ".join(map(str, args.mot_sequence))
        return DetectionSource(sequences, note, half_split_scorings(sequences))
    print(
        f"generating {args.num_seqs} synthetic {args.difficulty} sequence(s) of {args.frames} "
        f"frames at {args.width}x{args.height} (seed {args.seed})",
        flush=True,
    )
    sequences = synthetic_sequences(args, out, model)
    note = "synthesize_detections (gt-derived)"
    return DetectionSource(sequences, note, {ALL_FRAMES: {}}, model)


def write_boxmot_job(args, out: Path, sequences: list, tracks_dir: dict, min_box_area: float):
    """Save every sequence's detections and the job file the BoxMOT runner reads (see
    ``bench/boxmot_runner.py``). Returns the job file and the timing file the runner will write."""
    for folder in tracks_dir.values():
        folder.mkdir(parents=True, exist_ok=True)
    timing_path = out / "boxmot_timing.json"
    job = {"sequences": [], "options": dict(args.boxmot_option), "min_box_area": min_box_area}
    job.update(timing=str(timing_path), warmup=args.warmup, repeats=args.repeats)
    for sequence in sequences:
        npz = out / "detections" / f"{sequence.name}.npz"
        save_detections(npz, sequence.detections)
        job["sequences"].append(
            {
                "name": sequence.name,
                "detections": str(npz.resolve()),
                "width": sequence.width,
                "height": sequence.height,
                "frame_rate": sequence.frame_rate,
                "num_frames": sequence.num_frames,
                "tracks": str((tracks_dir["boxmot"] / f"{sequence.name}.txt").resolve()),
            }
        )
        print(f"  {sequence.name}: {sequence.num_frames} frames, {sequence.summary}", flush=True)
    job_path = out / "boxmot_job.json"
    job_path.write_text(json.dumps(job, indent=1))
    return job_path, timing_path


def track_both(args, cfg, sequences: list, python: Path, job_path: Path, ours_dir: Path):
    """The timed repeats of both trackers (:func:`time_both`), then our tracks written to
    ``ours_dir`` (the runner writes BoxMOT's). Returns our per-frame seconds by sequence and
    whether every repeat of ours gave the same tracks."""
    from lwf_track.data.mot_format import write_mot_results

    boxmot = BoxMOTRunner(python, job_path)
    try:
        ours_times, ours_rows, ours_deterministic = time_both(args, cfg, sequences, boxmot)
        boxmot.finish()
    finally:
        boxmot.close()
    for name, rows in ours_rows.items():
        write_mot_results(ours_dir / f"{name}.txt", rows)
    return ours_times, ours_deterministic


def compare(
    sequences: list, tracks_dir: dict, ours_times: dict, boxmot_times: dict, scorings: dict
) -> dict:
    """Timing and metrics (our evaluator on both result folders, on the same frames, once per
    scoring) of the two trackers, their ratio and differences, and whether the goals are met."""
    from lwf_track.evaluation import evaluate_sequences
    from lwf_track.evaluation.comparison import paired_difference_ci
    from lwf_track.evaluation.mot_metrics import frame_counts

    seq_dirs = {s.name: s.seq_dir for s in sequences}
    frame_rates = {s.name: s.frame_rate for s in sequences}
    timing = {"ours": timing_summary(ours_times), "boxmot": timing_summary(boxmot_times)}
    ratios = {
        "time_ours_over_boxmot": timing["ours"]["ms_per_frame"] / timing["boxmot"]["ms_per_frame"],
        "mean_time_ours_over_boxmot": timing["ours"]["mean_ms_per_frame"]
        / timing["boxmot"]["mean_ms_per_frame"],
    }
    goals = {"time": ratios["time_ours_over_boxmot"] <= 0.5}
    goals.update({metric: {} for metric in GOAL_METRICS})
    scores = {}
    for scoring, frame_ranges in scorings.items():
        metrics = {
            key: evaluate_sequences(seq_dirs, folder, frame_ranges)
            for key, folder in tracks_dir.items()
        }
        ours, boxmot = metrics["ours"]["OVERALL"], metrics["boxmot"]["OVERALL"]
        difference = {metric: ours[metric] - boxmot[metric] for metric in GOAL_METRICS}
        for metric in GOAL_METRICS:
            goals[metric][scoring] = difference[metric] >= 0.0
        counts = {
            key: frame_counts(seq_dirs, folder, frame_ranges) for key, folder in tracks_dir.items()
        }
        interval = paired_difference_ci(counts["ours"], counts["boxmot"], frame_rates)
        scores[scoring] = {
            "frame_ranges": frame_ranges,
            "metrics": {
                key: {k: v for k, v in m.items() if k != "not_evaluated"}
                for key, m in metrics.items()
            },
            "ours_minus_boxmot": difference,
            # motmetrics' difference and its 95% block-bootstrap interval (evaluation.comparison)
            "ours_minus_boxmot_ci": {
                metric: dataclasses.asdict(interval[metric]) for metric in GOAL_METRICS
            },
        }
    return {"timing": timing, "ratios": ratios, "scores": scores, "goals": goals}


def main(argv=None) -> dict:
    args = parse_args(argv)
    wall_start = time.perf_counter()
    python = ensure_boxmot_venv(Path(args.boxmot_venv), args.python)
    install_s = time.perf_counter() - wall_start
    if args.install_only:
        return {}

    from bench.common import load_cfg
    from lwf_track.utils.io import atomic_write_json, atomic_write_text

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_cfg(args.config)
    model = DetectorModel(embed_dim=cfg.MODEL.REID.EMBED_DIM)
    source = load_sequences(args, out, model)
    sequences = source.sequences
    tracks_dir = {key: out / "tracks" / key for key in ("ours", "boxmot")}
    min_box_area = float(cfg.TRACKER.MIN_BOX_AREA)
    job_path, timing_path = write_boxmot_job(args, out, sequences, tracks_dir, min_box_area)
    ours_times, ours_deterministic = track_both(
        args, cfg, sequences, python, job_path, tracks_dir["ours"]
    )
    boxmot_timing = json.loads(timing_path.read_text())
    results = {
        "command": " ".join(["python -m bench.association", *(argv or sys.argv[1:])]),
        "detections": source.note,
        "detector_model": (
            dataclasses.asdict(source.detector_model) if source.detector_model else None
        ),
        "sequences": {s.name: {"frames": s.num_frames, **s.summary} for s in sequences},
        "ours": {"config": args.config, "tracker": dict(cfg.TRACKER)},
        "boxmot": {k: v for k, v in boxmot_timing.items() if k != "times"},
        "deterministic": {"ours": ours_deterministic, "boxmot": boxmot_timing["deterministic"]},
        **compare(sequences, tracks_dir, ours_times, boxmot_timing["times"], source.scorings),
        "install_s": install_s,
        "wall_s": time.perf_counter() - wall_start,
    }
    atomic_write_json(out / "results.json", results)
    if args.markdown:
        atomic_write_text(args.markdown, markdown_results(results))
    print(format_results(results))
    print(f"results: {out / 'results.json'} (wall {results['wall_s']:.0f} s)")
    return results


if __name__ == "__main__":
    main()
