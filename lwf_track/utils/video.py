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
        images = _numbered_images(path)
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
    """Yield (1-based frame index, BGR image); ``max_frames`` limits the frames read.

    Nothing bad stops the iteration: a frame that cannot be decoded (a corrupt or truncated image
    file, a video frame the decoder rejects) is reported with its index as a warning and skipped,
    and the numbering of later frames is kept, so result rows stay on their frames:

    * image folder: files named by number (``000001.jpg``, MOTChallenge ``img1``) are frame
      ``number`` (``number + 1`` when numbering starts at 0), so a missing file is a reported gap;
      other names are numbered 1, 2, ... in name order. A JPEG without its end-of-image marker
      (truncated) counts as undecodable: OpenCV would return it half grey.
    * video: frames are read up to ``CAP_PROP_FRAME_COUNT``; a run of frames the decoder rejects
      is reported once (``frames 10-11 cannot be decoded``). Damage the decoder conceals (smeared
      blocks until the next key frame) cannot be detected and such frames are returned.
    """
    limit = source.num_frames if max_frames is None else min(max_frames, source.num_frames)
    if os.path.isdir(source.path):
        yield from _iter_folder(source.path, limit)
        return
    capture = cv2.VideoCapture(source.path)
    failed = []  # the current run of consecutive undecodable frames
    try:
        for index in range(1, limit + 1):
            ok, image = capture.read()
            if not ok or image is None:
                failed.append(index)
                continue
            if failed:
                _report_undecodable(source, failed)
                failed = []
            yield index, image
        if failed:
            _report_undecodable(source, failed)
    finally:
        capture.release()


def _iter_folder(folder: str, limit: int) -> Iterator[Tuple[int, np.ndarray]]:
    previous = None  # (index, file) of the frame before
    for index, file in _numbered_images(folder)[:limit]:
        if previous is not None and index > previous[0] + 1:
            gap = _frames_text(previous[0] + 1, index - 1)
            logger.warning(
                f"{folder}: no image for {gap} (between {os.path.basename(previous[1])} and "
                f"{os.path.basename(file)}); skipped"
            )
        previous = (index, file)
        image, reason = _read_image(file)
        if image is None:
            logger.warning(f"{file}: frame {index} cannot be decoded ({reason}); skipped")
            continue
        yield index, image


def _read_image(file: str):
    """(BGR image, None), or (None, why it cannot be decoded)."""
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError as error:
        return None, f"cannot be read: {error.strerror or error}"
    if data.size == 0:
        return None, "empty file"
    raw = data.tobytes()
    # Truncated JPEGs decode "successfully" in OpenCV (the missing part grey, a message on stderr).
    # A whole one ends its last scan (SOS, FF DA) with an end-of-image marker (FF D9); neither
    # appears unescaped inside compressed data, and an EXIF thumbnail's pair comes before.
    if raw[:2] == b"\xff\xd8" and raw.rfind(b"\xff\xd9") < raw.rfind(b"\xff\xda"):
        return None, "truncated JPEG: no end-of-image marker"
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    return (image, None) if image is not None else (None, "not a decodable image")


def _report_undecodable(source: FrameSource, frames: list) -> None:
    message = f"{source.path}: {_frames_text(frames[0], frames[-1])} cannot be decoded; skipped"
    if frames[-1] == source.num_frames and len(frames) > 1:
        message += f" (the video reports {source.num_frames} frames: it may be truncated)"
    logger.warning(message)


def _frames_text(first: int, last: int) -> str:
    return f"frame {first}" if first == last else f"frames {first}-{last}"


def _image_files(folder: str):
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    return [os.path.join(folder, n) for n in names]


def _numbered_images(folder: str):
    """(frame index, file) of the images of a folder, by frame (see :func:`iter_frames`)."""
    files = _image_files(folder)
    stems = [os.path.splitext(os.path.basename(f))[0] for f in files]
    if stems and all(s.isascii() and s.isdigit() for s in stems):
        numbers = [int(s) for s in stems]
        if len(set(numbers)) == len(numbers):  # not "1.jpg" beside "001.png"
            shift = 1 if min(numbers) == 0 else 0
            return sorted((n + shift, f) for n, f in zip(numbers, files))
    return list(enumerate(files, start=1))


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
