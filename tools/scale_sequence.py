"""A MOTChallenge sequence copied at another frame size: frames resized, seqinfo.ini's size and
the boxes of gt/gt.txt and det/det.txt scaled alike.

The shared PETS09-S2L1 is MOT15's at 480x360; at 1.6x it has the download's 768x576 frames (not
its pixels: the shared copy's, upsampled), enough to check that a config takes the original size
unchanged:

    python -m tools.scale_sequence datasets/MOT15/train/PETS09-S2L1 \\
        datasets/at768/MOT15/train/PETS09-S2L1 --scale 1.6
"""

import argparse
import dataclasses
from pathlib import Path

import cv2

from lwf_track.data.mot_format import read_seqinfo, read_table, write_seqinfo, write_table

BOX_COLUMNS = slice(2, 6)  # x, y, w, h of gt and det rows


def scale_sequence(source, target, scale: float) -> Path:
    """Copy the sequence folder ``source`` to ``target`` (which must not hold one) at ``scale``
    times its frame size (rounded to whole pixels; boxes scaled by ``scale`` exactly); returns
    ``target``."""
    source, target = Path(source), Path(target)
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    if (target / "seqinfo.ini").exists():
        raise FileExistsError(
            f"{target / 'seqinfo.ini'} exists: remove it or choose another target"
        )
    info = read_seqinfo(source / "seqinfo.ini")
    size = (round(info.im_width * scale), round(info.im_height * scale))
    (target / info.im_dir).mkdir(parents=True, exist_ok=True)
    for frame in range(1, info.seq_length + 1):
        name = f"{frame:06d}{info.im_ext}"
        image = cv2.imread(str(source / info.im_dir / name))
        if image is None:
            raise FileNotFoundError(f"{source / info.im_dir / name}: not a readable image")
        resized = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        cv2.imwrite(str(target / info.im_dir / name), resized)
    for kind in ("gt", "det"):
        path = source / kind / f"{kind}.txt"
        if path.is_file():
            values = read_table(path, kind).values.copy()
            values[:, BOX_COLUMNS] *= scale
            (target / kind).mkdir(exist_ok=True)
            write_table(target / kind / f"{kind}.txt", values)
    scaled = dataclasses.replace(info, im_width=size[0], im_height=size[1])
    write_seqinfo(target / "seqinfo.ini", scaled)  # last: a folder with it is complete
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a sequence folder (seqinfo.ini, img1/, gt/, det/)")
    parser.add_argument("target", help="the new sequence folder")
    parser.add_argument("--scale", type=float, required=True, help="factor on width and height")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error(f"--scale must be > 0, got {args.scale}")
    target = scale_sequence(args.source, args.target, args.scale)
    info = read_seqinfo(target / "seqinfo.ini")
    print(f"wrote {target}: {info.seq_length} frames at {info.im_width}x{info.im_height}")


if __name__ == "__main__":
    main()
