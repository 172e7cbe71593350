"""Frames in (a video file or an image folder) and a rendered video out (boxes, IDs, trails)."""

import logging
import os
from collections import deque
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Tuple

import cv2
import numpy as np

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass
class FrameSource:
    """Where frames come from, with what a writer needs to know."""

    path: str
    fps: float
    num_frames: int

    @property
    def name(self) -> str:
        """File stem of a video; for a MOTChallenge ``<SEQ>/img1`` folder, the sequence name."""
        path = os.path.normpath(self.path)
        if os.path.isdir(path) and os.path.basename(path) == "img1":
            path = os.path.dirname(path)
        return os.path.splitext(os.path.basename(path))[0]


def open_frame_source(path: str, default_fps: float = 30.0) -> FrameSource:
    """Check ``path`` is a readable video or a folder of images; clear errors otherwise."""
    if os.path.isdir(path):
        images = _image_files(path)
        if not images:
            raise FileNotFoundError(f"{path}: no images ({', '.join(IMAGE_EXTENSIONS)}) in folder")
        return FrameSource(path, default_fps, len(images))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such video file or image folder")
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise ValueError(f"{path}: cannot be opened as a video (unknown format or corrupt)")
        fps = capture.get(cv2.CAP_PROP_FPS) or default_fps
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    return FrameSource(path, fps, count)


def iter_frames(
    source: FrameSource, max_frames: Optional[int] = None
) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield (1-based frame index, BGR image). A frame that cannot be decoded is reported with its
    index and skipped; the numbering of later frames is kept."""
    limit = source.num_frames if max_frames is None else min(max_frames, source.num_frames)
    if os.path.isdir(source.path):
        for index, file in enumerate(_image_files(source.path)[:limit], start=1):
            image = cv2.imread(file, cv2.IMREAD_COLOR)
            if image is None:
                logger.warning(f"{file}: frame {index} cannot be decoded; skipped")
                continue
            yield index, image
        return
    capture = cv2.VideoCapture(source.path)
    try:
        for index in range(1, limit + 1):
            ok, image = capture.read()
            if not ok or image is None:
                logger.warning(f"{source.path}: frame {index} cannot be decoded; skipped")
                continue
            yield index, image
    finally:
        capture.release()


def _image_files(folder: str):
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    return [os.path.join(folder, n) for n in names]


def color_for_id(track_id: int) -> Tuple[int, int, int]:
    """A stable, well-spread BGR colour per identity (golden-ratio hue steps)."""
    hue = int((track_id * 0.618033988749895 % 1.0) * 179)
    hsv = np.uint8([[[hue, 220, 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


class TrackRenderer:
    """Draws boxes, IDs and short trails; trails of identities unseen for a while are dropped so
    memory stays bounded on long videos."""

    def __init__(self, trail_length: int = 20, forget_after: int = 60):
        self.trail_length = trail_length
        self.forget_after = forget_after
        self._trails: Dict[int, deque] = {}
        self._last_seen: Dict[int, int] = {}

    def draw(self, image: np.ndarray, frame: int, boxes: np.ndarray, ids: np.ndarray) -> np.ndarray:
        canvas = image.copy()
        for (x1, y1, x2, y2), track_id in zip(boxes.astype(int), ids.tolist()):
            trail = self._trails.setdefault(track_id, deque(maxlen=self.trail_length))
            trail.append(((x1 + x2) // 2, y2))
            self._last_seen[track_id] = frame
            color = color_for_id(track_id)
            cv2.rectangle(canvas, (x1, y1), (x2, y2), color, 2)
            cv2.putText(
                canvas,
                str(track_id),
                (x1, max(y1 - 4, 10)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5,
                color,
                2,
                cv2.LINE_AA,
            )
        for track_id, trail in self._trails.items():
            if len(trail) > 1:
                points = np.array(trail, dtype=np.int32).reshape(-1, 1, 2)
                cv2.polylines(canvas, [points], False, color_for_id(track_id), 2)
        stale = [i for i, seen in self._last_seen.items() if frame - seen > self.forget_after]
        for track_id in stale:
            del self._trails[track_id], self._last_seen[track_id]
        return canvas


class VideoSink:
    """An mp4 writer that opens on the first frame (its size is not known before)."""

    def __init__(self, path: str, fps: float):
        self.path = path
        self.fps = fps
        self._writer = None

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            height, width = image.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(self.path, fourcc, self.fps, (width, height))
            if not self._writer.isOpened():
                raise OSError(f"{self.path}: cannot open an mp4 writer")
        self._writer.write(image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
