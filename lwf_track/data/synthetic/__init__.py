"""Synthetic MOTChallenge benchmark: walking pedestrians with identities, occlusion and detections.

The offline default for the demo and the tests. A small CNN must learn it in minutes on a CPU, yet
a tracker with a Re-ID branch must be tested by it: people are block figures with per-identity
clothing, walk smoothly on a ground plane with perspective, enter and leave through the left and
right borders, occlude each other, and some look alike (more so in ``hard``).

    python -m lwf_track.data.synthetic --out DIR --num-seqs N --frames T --seed S \\
        [--width 640 --height 360 --difficulty easy|medium|hard --fps 30]

From Python: ``generate_benchmark(...)`` writes the sequences and returns their folders;
``ensure_benchmark(...)`` does so only when the same set is not there yet;
``summarize_benchmark(folders)`` returns the counts the CLI prints (boxes, identities, visibility).

The modules, one concern each: ``scene`` (difficulty profiles, perspective, the crowd, the camera)
and ``appearance`` (what people wear) simulate; ``background`` and ``render`` draw the frames and
measure visibility; ``detector`` simulates det.txt; ``mot_files`` writes the MOTChallenge files;
``benchmark`` puts them together per sequence and per set.

Conventions, the same as MOT16/17 ground truth:

- boxes are integer pixels and are NOT clipped to the image: a person entering through the left
  border has a negative x. A box is written while any part of it is inside the image;
- visibility is the share of the box area that is inside the image and not covered by the boxes
  of closer people (closer = lower foot point = drawn later). Boxes rather than silhouettes, as in
  MOT, so a loader's visibility threshold means the same on both. Fully hidden people stay in gt
  with visibility 0;
- ids count from 1 per sequence in order of first appearance; consider-flag 1, class 1;
  gt.txt is sorted by id then frame (like MOT17), det.txt (7 columns) by frame;
- everything follows from the seed through numpy Generators, with a fixed JPEG quality, so the same
  arguments give byte-identical files; other seeds give other sequences.
"""

from .benchmark import ensure_benchmark, generate_benchmark, summarize_benchmark
from .scene import DIFFICULTIES, DifficultyProfile

__all__ = [
    "DIFFICULTIES",
    "DifficultyProfile",
    "ensure_benchmark",
    "generate_benchmark",
    "summarize_benchmark",
]
