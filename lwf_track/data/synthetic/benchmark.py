"""Generating whole sequences and benchmarks, once per parameter set, and describing them."""

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .background import make_background
from .detector import detections
from .mot_files import write_annotations, write_frame
from .render import Sensor, pixel_box, render_people
from .scene import DIFFICULTIES, Crowd, DifficultyProfile, Scene, camera_path, margin_for

OCCLUDED_BELOW = 0.5  # the summary counts boxes under this visibility as occluded


def generate_sequence(
    seq_dir: Path,
    frames: int,
    width: int,
    height: int,
    fps: int,
    profile: DifficultyProfile,
    seed_sequence: np.random.SeedSequence,
) -> None:
    """Simulate, render and write one sequence; separate random streams for scene, pixels and
    detections, so e.g. a different detector noise leaves the images unchanged."""
    scene_rng, pixel_rng, detector_rng = (np.random.default_rng(s) for s in seed_sequence.spawn(3))
    pad = margin_for(profile.camera_jitter, height)
    scene = Scene(width, height, profile.scale_range, pad)
    background, distractors = make_background(scene_rng, scene, profile.clutter)
    shake = camera_path(scene_rng, frames, scene, profile.camera_jitter)
    crowd = Crowd(scene, profile, fps, scene_rng)
    sensor = Sensor(pixel_rng, width, height)

    gt_rows, det_rows = [], []
    for frame in range(1, frames + 1):
        if frame > 1:
            crowd.step()
        dx, dy = shake[frame - 1]
        canvas = background[pad + dy : pad + dy + height, pad + dx : pad + dx + width].copy()
        people = sorted(crowd.people, key=lambda person: (person.foot_y, person.key))
        boxes = [(x - dx, y - dy, w, h) for x, y, w, h in (p.box(scene) for p in people)]
        shares = render_people(canvas, boxes, [p.look for p in people], [p.phase for p in people])
        write_frame(seq_dir, frame, sensor(canvas))
        in_view = []
        for person, box, share in zip(people, boxes, shares):
            x, y, w, h = pixel_box(box)
            if x < width and y < height and x + w > 0 and y + h > 0:
                gt_rows.append((person.key, frame, x, y, w, h, share))
                in_view.append((x, y, w, h, share))
        shifted = [(x - dx, y - dy, w, h) for x, y, w, h in distractors]
        det_rows += detections(detector_rng, frame, in_view, shifted, scene, profile)

    write_annotations(seq_dir, gt_rows, det_rows, frames, fps, width, height)


def generate_benchmark(
    out_dir,
    num_seqs: int,
    frames: int,
    seed: int,
    width: int = 640,
    height: int = 360,
    difficulty: str | DifficultyProfile = "medium",
    fps: int = 30,
) -> list[Path]:
    """Write ``num_seqs`` sequences ``SYN-<seed>-01..`` under ``out_dir``; return their folders.

    A sequence folder that already exists is replaced, so a rerun never mixes old frames in.
    """
    if isinstance(difficulty, str) and difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty {difficulty!r} is not one of {sorted(DIFFICULTIES)}")
    if num_seqs < 1 or frames < 1 or width < 16 or height < 16 or fps < 1:
        raise ValueError("need num_seqs >= 1, frames >= 1, width and height >= 16, fps >= 1")
    profile = DIFFICULTIES[difficulty] if isinstance(difficulty, str) else difficulty
    out_dir = Path(out_dir)
    root_seed = np.random.SeedSequence(seed)
    seq_dirs = []
    for index, seed_sequence in enumerate(root_seed.spawn(num_seqs), start=1):
        seq_dir = out_dir / f"SYN-{seed}-{index:02d}"
        if seq_dir.exists():
            shutil.rmtree(seq_dir)
        generate_sequence(seq_dir, frames, width, height, fps, profile, seed_sequence)
        seq_dirs.append(seq_dir)
    return seq_dirs


def ensure_benchmark(out_dir, num_seqs: int, frames: int, seed: int, **options) -> bool:
    """Generate the benchmark under ``out_dir`` unless the same one is there already.

    A stamp file records the parameters of a finished generation, so an interrupted run or a
    change of parameters regenerates, and a rerun with the same parameters does nothing. Returns
    whether it generated.
    """
    out_dir = Path(out_dir)
    stamp = out_dir / ".complete.json"
    wanted = {"num_seqs": num_seqs, "frames": frames, "seed": seed, **options}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return False
    stamp.unlink(missing_ok=True)
    for stale in out_dir.glob("SYN-*"):  # sequences of an earlier, different generation
        shutil.rmtree(stale)
    generate_benchmark(out_dir, num_seqs, frames, seed, **options)
    stamp.write_text(json.dumps(wanted, sort_keys=True) + "\n")
    return True


def summarize_benchmark(seq_dirs: Sequence[Path]) -> dict[str, object]:
    """Counts that describe a generated set (read back from gt.txt and det.txt)."""
    frames = boxes = identities = detections_count = 0
    visibilities = []
    for seq_dir in map(Path, seq_dirs):
        info = dict(
            line.split("=", 1)
            for line in (seq_dir / "seqinfo.ini").read_text().splitlines()
            if "=" in line
        )
        frames += int(info["seqLength"])
        gt_text = (seq_dir / "gt" / "gt.txt").read_text()
        gt = np.array([line.split(",") for line in gt_text.splitlines()], float).reshape(-1, 9)
        boxes += len(gt)
        identities += len(np.unique(gt[:, 1]))
        visibilities.append(gt[:, 8])
        detections_count += len((seq_dir / "det" / "det.txt").read_text().splitlines())
    visibility_all = np.concatenate(visibilities) if visibilities else np.zeros(0)
    return {
        "sequences": len(seq_dirs),
        "frames": frames,
        "boxes": boxes,
        "identities": identities,
        "people_per_frame": boxes / max(frames, 1),
        "mean_visibility": float(visibility_all.mean()) if boxes else 0.0,
        "occluded_share": float((visibility_all < OCCLUDED_BELOW).mean()) if boxes else 0.0,
        "detections": detections_count,
    }
