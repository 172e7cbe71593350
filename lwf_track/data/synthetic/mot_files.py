"""Writing a generated sequence as MOTChallenge files: seqinfo.ini, img1/, gt/gt.txt and
det/det.txt."""

from pathlib import Path

import cv2
import numpy as np

JPEG_QUALITY = 90


def seqinfo_text(name: str, frames: int, fps: int, width: int, height: int) -> str:
    return (
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate={fps}\nseqLength={frames}\n"
        f"imWidth={width}\nimHeight={height}\nimExt=.jpg\n"
    )


def write_frame(seq_dir: Path, frame: int, image: np.ndarray) -> None:
    """``img1/<frame:06d>.jpg`` at a fixed quality, so the same image gives the same bytes."""
    path = seq_dir / "img1" / f"{frame:06d}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path}")
    path.write_bytes(encoded.tobytes())


def gt_lines(rows) -> list[str]:
    """Rows (key, frame, x, y, w, h, vis) as MOT gt lines: ids 1.. by first appearance, id-major."""
    ids: dict[int, int] = {}
    for key, *_ in sorted(rows, key=lambda row: (row[1], row[0])):
        ids.setdefault(key, len(ids) + 1)
    lines = sorted((ids[key], frame, x, y, w, h, vis) for key, frame, x, y, w, h, vis in rows)
    return [f"{t},{i},{x},{y},{w},{h},1,1,{v:.3f}" for i, t, x, y, w, h, v in lines]


def write_annotations(
    seq_dir: Path, gt_rows, det_lines, frames: int, fps: int, width: int, height: int
) -> None:
    """gt/gt.txt from rows (key, frame, x, y, w, h, vis), det/det.txt and seqinfo.ini."""
    (seq_dir / "gt").mkdir()
    (seq_dir / "det").mkdir()
    (seq_dir / "gt" / "gt.txt").write_text("".join(line + "\n" for line in gt_lines(gt_rows)))
    (seq_dir / "det" / "det.txt").write_text("".join(line + "\n" for line in det_lines))
    info = seqinfo_text(seq_dir.name, frames, fps, width, height)
    (seq_dir / "seqinfo.ini").write_text(info)
