#!/usr/bin/env python
"""Runs BoxMOT's ByteTrack on saved detections; started by ``python -m bench.association`` inside
the BoxMOT virtualenv (``bench/.venv-boxmot``), by its file path, so it imports nothing from
lwf_track or the rest of bench.

    bench/.venv-boxmot/bin/python bench/boxmot_runner.py JOB.json [--serve]

``JOB.json`` (written by ``bench.association``)::

    {"sequences": [{"name": ..., "detections": "SEQ.npz", "width": W, "height": H,
                    "frame_rate": F, "num_frames": T, "tracks": "OUT/SEQ.txt"}, ...],
     "options": {ByteTrack keyword arguments}, "min_box_area": A, "timing": "timing.json",
     "warmup": 1, "repeats": 5}

A detections ``.npz`` holds ``frame`` (N,) 1-based, ``boxes`` (N, 4) XYXY pixels and ``scores``
(N,); other arrays (embeddings, gt ids) are ignored: ByteTrack associates by IoU only.

Each repeat builds a new ``ByteTrack`` per sequence and times only its ``update(dets, img)`` call
per frame (``dets`` is the Nx6 ``[x1, y1, x2, y2, conf, cls]`` array, built before the clock
starts; ``img`` a black frame of the sequence size, allocated once). The first measured repeat's
tracks are written as MOTChallenge files (boxes under ``min_box_area`` left out, as our tracker's
results are); ``timing`` gets the per-frame seconds of every measured repeat.

Without ``--serve`` it runs ``warmup + repeats`` repeats and exits. With ``--serve`` it waits
for commands on stdin so the caller can alternate it with its own tracker round by round:
``run`` runs one repeat and answers one line ``@@BOXMOT {"times": {seq: [seconds...]}}``;
``done`` writes the tracks and the timing and exits. Lines without the ``@@BOXMOT`` prefix are
log output.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPLY_PREFIX = "@@BOXMOT "
# What ByteTrack was run with (its attributes after construction), for the report.
BYTETRACK_SETTINGS = ("min_conf", "track_thresh", "match_thresh", "track_buffer", "max_time_lost")
TRACK_COLUMNS = 8  # BoxMOT's AABB output rows: x1, y1, x2, y2, id, conf, cls, det_ind


def detection_rows(frames: np.ndarray, boxes: np.ndarray, scores: np.ndarray, num_frames: int):
    """Per frame 1..num_frames, the ``[x1, y1, x2, y2, conf, cls]`` float32 array BoxMOT takes
    (class 0 for every detection; a frame without detections gets a (0, 6) array)."""
    frames = np.asarray(frames, dtype=np.int64)
    table = np.zeros((len(frames), 6), dtype=np.float32)
    table[:, :4] = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    table[:, 4] = np.asarray(scores, dtype=np.float32)
    return [np.ascontiguousarray(table[frames == frame]) for frame in range(1, num_frames + 1)]


def mot_rows(frame: int, tracks: np.ndarray, min_box_area: float):
    """MOTChallenge rows ``(frame, id, x, y, w, h, score)`` of one frame of BoxMOT output
    (``x1, y1, x2, y2, id, conf, ...`` rows); boxes with ``w * h < min_box_area`` left out."""
    rows = []
    for track in np.asarray(tracks, dtype=np.float64).reshape(-1, TRACK_COLUMNS):
        x1, y1, x2, y2, track_id, conf = track[:6]
        width, height = x2 - x1, y2 - y1
        if width * height >= min_box_area:
            rows.append((frame, int(track_id), float(x1), float(y1), width, height, float(conf)))
    return rows


def write_mot_tracks(path, rows) -> None:
    """``frame,id,x,y,w,h,score,-1,-1,-1`` lines, the same format as lwf_track's writer."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{int(f)},{int(i)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{s:.3f},-1,-1,-1\n"
        for f, i, x, y, w, h, s in rows
    ]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(lines))
    os.replace(tmp, path)


class Sequence:
    """One sequence's per-frame detection arrays and a blank frame, prepared once."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.name = spec["name"]
        data = np.load(spec["detections"])
        self.dets = detection_rows(
            data["frame"], data["boxes"], data["scores"], int(spec["num_frames"])
        )
        self.image = np.zeros((int(spec["height"]), int(spec["width"]), 3), dtype=np.uint8)


def track_once(sequence: Sequence, options: dict):
    """One pass of a fresh ByteTrack over the sequence: (per-frame seconds, per-frame tracks)."""
    from boxmot import ByteTrack

    tracker = ByteTrack(frame_rate=int(sequence.spec["frame_rate"]), **options)
    times, outputs = [], []
    clock = time.perf_counter
    for dets in sequence.dets:
        start = clock()
        tracks = tracker.update(dets, sequence.image)
        times.append(clock() - start)
        outputs.append(tracks)
    return times, outputs


class Runner:
    def __init__(self, job: dict):
        self.job = job
        self.options = dict(job.get("options", {}))
        self.sequences = [Sequence(spec) for spec in job["sequences"]]
        self.rounds = 0
        self.warmup = int(job.get("warmup", 1))
        self.times = {sequence.name: [] for sequence in self.sequences}
        self.rows = {}
        self.deterministic = True

    def run(self) -> dict:
        """One repeat over every sequence; the per-frame seconds by sequence."""
        this_round = {}
        for sequence in self.sequences:
            seconds, outputs = track_once(sequence, self.options)
            rows = [
                row
                for frame, tracks in enumerate(outputs, start=1)
                for row in mot_rows(frame, tracks, float(self.job.get("min_box_area", 0.0)))
            ]
            if sequence.name not in self.rows:
                self.rows[sequence.name] = rows
            elif rows != self.rows[sequence.name]:
                self.deterministic = False
            this_round[sequence.name] = seconds
            if self.rounds >= self.warmup:
                self.times[sequence.name].append(seconds)
        self.rounds += 1
        return this_round

    def finish(self) -> None:
        import boxmot

        for spec in self.job["sequences"]:
            write_mot_tracks(spec["tracks"], self.rows.get(spec["name"], []))
        first = self.job["sequences"][0]
        tracker = boxmot.ByteTrack(frame_rate=int(first["frame_rate"]), **self.options)
        settings = {key: getattr(tracker, key, None) for key in BYTETRACK_SETTINGS}
        timing = {
            "boxmot_version": boxmot.__version__,
            "tracker": "boxmot.ByteTrack",
            "options": self.options,
            "settings": settings,
            "warmup": self.warmup,
            "repeats": self.rounds - self.warmup,
            "deterministic": self.deterministic,
            "times": self.times,
        }
        Path(self.job["timing"]).write_text(json.dumps(timing, indent=1))


def reply(message: dict) -> None:
    sys.stdout.write(REPLY_PREFIX + json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", help="job JSON written by bench.association")
    parser.add_argument("--serve", action="store_true", help="take run/done commands on stdin")
    args = parser.parse_args(argv)
    runner = Runner(json.loads(Path(args.job).read_text()))
    if not args.serve:
        for _ in range(runner.warmup + int(runner.job.get("repeats", 5))):
            runner.run()
        runner.finish()
        return
    reply({"ready": True})
    for line in sys.stdin:
        command = line.strip()
        if command == "run":
            reply({"times": runner.run()})
        elif command == "done":
            runner.finish()
            reply({"done": True})
            return
        elif command:
            reply({"error": f"unknown command {command!r}"})


if __name__ == "__main__":
    main()
