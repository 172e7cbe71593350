"""Bad inputs end to end: each one either fails with an error naming the file (and line) and what
was expected, or is skipped with a warning naming it. Cases already covered elsewhere (gt columns,
NaN, sizes, ids, seqinfo keys, det sorting, non-finite losses, ...) are not repeated here."""

import logging
import re

import cv2
import numpy as np
import pytest
import torch
from detectron2.data import build_detection_train_loader
from detectron2.modeling import build_model
from torch import nn

from lwf_track.data.mapper import MOTDatasetMapper
from lwf_track.data.mot import load_mot_split, load_sequence
from lwf_track.engine import AtomicCheckpointer, build_config
from lwf_track.modeling import resolve_num_identities
from lwf_track.utils.errors import CheckpointError, MOTFormatError
from lwf_track.utils.video import iter_frames, open_frame_source
from test_mot_parsers import assert_error, write_sequence

CONFIG = "configs/lwf_synthetic_cpu.yaml"
WIDTH, HEIGHT = 64, 48


def image_bytes(value: int, ext: str = ".jpg") -> bytes:
    """A noisy frame (so that its JPEG is a few kB), brightness ``value``."""
    rng = np.random.default_rng(value)
    image = np.clip(rng.normal(value, 20, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
    return cv2.imencode(ext, image)[1].tobytes()


def truncated(data: bytes) -> bytes:
    return data[: len(data) * 6 // 10]


def box(frame: int, track_id: int, x=1, y=1, w=5, h=5) -> tuple:
    return (frame, track_id, x, y, w, h, 1, 1, 1.0)


def frames_of(source_path, caplog, **kwargs) -> list:
    with caplog.at_level(logging.WARNING, logger="lwf_track.utils.video"):
        return list(iter_frames(open_frame_source(str(source_path)), **kwargs))


# --- 1. seqinfo.ini ----------------------------------------------------------------------------


def test_split_folder_without_seqinfo_is_skipped_with_a_warning(tmp_path):
    write_sequence(tmp_path / "A", 2, gt_rows=[box(1, 1)])
    (tmp_path / "B" / "img1").mkdir(parents=True)  # a copy that lost its seqinfo.ini
    with pytest.warns(UserWarning, match=re.escape(f"{tmp_path / 'B'}: no seqinfo.ini, not a")):
        records, num_ids = load_mot_split(tmp_path)
    assert {r["sequence"] for r in records} == {"A"} and num_ids == 1
    (tmp_path / "A" / "seqinfo.ini").unlink()
    with pytest.warns(UserWarning), pytest.raises(MOTFormatError) as excinfo:
        load_mot_split(tmp_path)
    assert_error(excinfo, tmp_path, None, "expected sequence folders with a seqinfo.ini")


@pytest.mark.parametrize(
    "old, new, line, expected",
    [
        (None, None, None, "file not found; expected a seqinfo.ini file"),
        ("[Sequence]", "[Seq]", None, "expected a [Sequence] section"),
        ("imHeight=48\n", "", None, "expected key 'imHeight' in section [Sequence]"),
        (
            "seqLength=3",
            "seqLength=ten",
            5,
            "expected 'seqLength' to be an integer >= 1, got 'ten'",
        ),
        ("seqLength=3", "seqLength=3.0", 5, "expected 'seqLength' to be an integer >= 1"),
        ("imWidth=64", "imWidth=64px", 6, "expected 'imWidth' to be an integer >= 1, got '64px'"),
        ("frameRate=10", "frameRate=", 4, "expected a value for 'frameRate', got nothing"),
    ],
)
def test_bad_seqinfo_stops_loading_the_sequence(tmp_path, old, new, line, expected):
    seq = write_sequence(tmp_path / "S", 3, gt_rows=[box(1, 1)])
    ini = seq / "seqinfo.ini"
    if old is None:
        ini.unlink()
    else:
        text = ini.read_text()
        assert old in text
        ini.write_text(text.replace(old, new))
    with pytest.raises(MOTFormatError) as excinfo:
        load_sequence(seq)
    assert_error(excinfo, ini, line, expected)


# --- 2. gt.txt: boxes outside the image --------------------------------------------------------


def test_boxes_outside_the_image_are_clipped_or_dropped_with_a_warning(tmp_path):
    rows = [
        box(1, 1, x=-6, y=6, w=10, h=20),  # partly outside (normal at the border): clipped
        box(1, 2, x=70, y=2, w=8, h=16),  # wholly right of the 64x48 image
        box(1, 3, x=10, y=-30, w=8, h=20),  # wholly above
        box(1, 4, x=30, y=10, w=12, h=30),  # inside
    ]
    seq = write_sequence(tmp_path / "S", 1, gt_rows=rows, image_bytes=image_bytes)
    with pytest.warns(UserWarning) as caught:
        records, num_ids = load_sequence(seq)
    (warning,) = [w for w in caught if "outside" in str(w.message)]
    message = str(warning.message)
    assert str(seq / "gt" / "gt.txt") in message
    assert "2 training boxes entirely outside the 64x48 image" in message
    assert "the first at line 2 (w=8 h=16 at x=70 y=2)" in message
    assert len(records[0]["annotations"]) == 4 and num_ids == 4  # the records keep every box
    instances = MOTDatasetMapper(True, augmentations=[])(records[0])["instances"]
    boxes = {int(i): b.tolist() for i, b in zip(instances.gt_ids, instances.gt_boxes.tensor)}
    assert boxes == {0: [0.0, 6.0, 4.0, 26.0], 3: [30.0, 10.0, 42.0, 40.0]}


def test_boxes_partly_outside_the_image_give_no_warning(tmp_path, recwarn):
    rows = [box(1, 1, x=-6, y=6, w=10, h=20), box(1, 2, x=60, y=40, w=10, h=20)]
    records, _ = load_sequence(write_sequence(tmp_path / "S", 1, gt_rows=rows))
    assert len(records[0]["annotations"]) == 2
    assert not [w for w in recwarn if "outside" in str(w.message)]


# --- 3. missing and corrupt images -------------------------------------------------------------


def test_truncated_image_stops_the_training_loader_naming_the_file(tmp_path):
    def frame_bytes(frame: int) -> bytes:
        return truncated(image_bytes(frame)) if frame == 2 else image_bytes(frame)

    seq = write_sequence(tmp_path / "S", 2, gt_rows=[box(1, 1), box(2, 1)], image_bytes=frame_bytes)
    records, _ = load_sequence(seq)  # reads no image
    mapper = MOTDatasetMapper(True, augmentations=[])
    assert mapper(records[0])["image"].shape == (3, HEIGHT, WIDTH)
    loader = build_detection_train_loader(
        dataset=records[1:], mapper=mapper, total_batch_size=1, num_workers=0
    )
    with pytest.raises(MOTFormatError) as excinfo:
        next(iter(loader))
    assert_error(excinfo, seq / "img1" / "000002.jpg", None, "expected a readable image")
    assert "truncated" in str(excinfo.value)


@pytest.mark.parametrize(
    "ext, reason", [(".jpg", "truncated JPEG: no end-of-image marker"), (".png", "not a decodable")]
)
def test_truncated_image_in_a_frame_folder_is_reported_and_skipped(tmp_path, caplog, ext, reason):
    for frame in (1, 2, 3):
        data = image_bytes(frame * 60, ext)
        (tmp_path / f"{frame:06d}{ext}").write_bytes(truncated(data) if frame == 2 else data)
    frames = frames_of(tmp_path, caplog)
    assert [index for index, _ in frames] == [1, 3]
    assert f"000002{ext}: frame 2 cannot be decoded ({reason}" in caplog.text
    assert abs(frames[1][1].mean() - 180) < 20  # frame 3 is frame 3


def test_missing_image_in_a_frame_folder_is_reported_and_numbering_kept(tmp_path, caplog):
    for frame in (1, 2, 4, 5, 6, 9):
        (tmp_path / f"{frame:06d}.png").write_bytes(image_bytes(frame * 25, ".png"))
    frames = frames_of(tmp_path, caplog)
    assert [index for index, _ in frames] == [1, 2, 4, 5, 6, 9]
    for index, image in frames:
        assert abs(image.mean() - index * 25) < 10, index
    assert f"{tmp_path}: no image for frame 3 (between 000002.png and 000004.png)" in caplog.text
    assert "no image for frames 7-8 (between 000006.png and 000009.png); skipped" in caplog.text
    assert [index for index, _ in frames_of(tmp_path, caplog, max_frames=3)] == [1, 2, 4]


def test_numbered_frame_files_are_read_in_numeric_order(tmp_path, caplog):
    for number in (9, 10, 11):  # no zero padding: name order would be 10, 11, 9
        (tmp_path / f"{number}.png").write_bytes(image_bytes(number * 10, ".png"))
    frames = frames_of(tmp_path, caplog)
    assert [index for index, _ in frames] == [9, 10, 11]
    assert [round(image.mean() / 10) for _, image in frames] == [9, 10, 11]
    zero_based = tmp_path / "zero"
    zero_based.mkdir()
    for number in (0, 1):
        (zero_based / f"{number:05d}.png").write_bytes(image_bytes(50 + number * 100, ".png"))
    assert [index for index, _ in frames_of(zero_based, caplog)] == [1, 2]


# --- 4. empty sequences ------------------------------------------------------------------------


def test_empty_frame_folder_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(FileNotFoundError, match=re.escape(f"{tmp_path}: no images (.jpg")):
        open_frame_source(str(tmp_path))


# --- 5. videos ---------------------------------------------------------------------------------

VOP_START = b"\x00\x00\x01\xb6"  # MPEG-4 part 2: every coded frame starts with this code


def write_clip(path, frames: int = 20) -> list:
    """A 64x48 mp4v clip; frame i is grey level 12 i with its number drawn. Returns the frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (WIDTH, HEIGHT))
    assert writer.isOpened()
    images = []
    for index in range(1, frames + 1):
        image = np.full((HEIGHT, WIDTH, 3), 12 * index, np.uint8)
        cv2.putText(image, str(index), (4, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        writer.write(image)
        images.append(image)
    writer.release()
    return images


def closest(image: np.ndarray, references: list) -> int:
    """1-based index of the reference frame nearest to ``image``."""
    return 1 + int(np.argmin([np.abs(image.astype(int) - r).mean() for r in references]))


@pytest.mark.parametrize("bad, reported", [((10,), "frame 10"), ((10, 11), "frames 10-11")])
def test_corrupt_frames_in_the_middle_of_an_mp4_are_reported_and_skipped(
    tmp_path, caplog, bad, reported
):
    path = tmp_path / "clip.mp4"
    write_clip(path)
    decoded = [image for _, image in iter_frames(open_frame_source(str(path)))]
    data = bytearray(path.read_bytes())
    starts = [m.start() for m in re.finditer(re.escape(VOP_START), bytes(data))]
    assert len(starts) == 20
    rng = np.random.default_rng(6)
    for frame in bad:  # garbage over the frame's header: the decoder rejects that frame
        data[starts[frame - 1] : starts[frame - 1] + 16] = rng.integers(0, 256, 16, np.uint8).data
    path.write_bytes(bytes(data))

    source = open_frame_source(str(path))
    assert source.num_frames == 20
    frames = frames_of(path, caplog)
    indices = [index for index, _ in frames]
    assert indices == [i for i in range(1, 21) if i not in bad]  # read on to the last frame
    assert f"{path}: {reported} cannot be decoded; skipped" in caplog.text
    assert caplog.text.count("cannot be decoded") == 1  # a run of bad frames: one warning
    # every frame keeps its number: before the damage exactly, after it (frames predicted from
    # the damaged one are smeared until the next key frame) still nearest to its own frame
    for index, image in frames:
        if index < bad[0]:
            np.testing.assert_array_equal(image, decoded[index - 1])
        assert closest(image, decoded) == index


def test_truncated_mp4_cannot_be_opened(tmp_path):
    path = tmp_path / "cut.mp4"
    write_clip(path)
    path.write_bytes(truncated(path.read_bytes()))  # its index (moov, at the end) is gone
    with pytest.raises(ValueError, match=re.escape(f"{path}: cannot be opened as a video")):
        open_frame_source(str(path))


# --- 6. MODEL.WEIGHTS --------------------------------------------------------------------------


def test_missing_weights_fail_when_the_model_is_built(tmp_path):
    missing = tmp_path / "runs" / "model_final.pth"
    cfg = build_config(CONFIG, ["MODEL.WEIGHTS", str(missing)])  # set-up reads no file
    with pytest.raises(FileNotFoundError) as excinfo:
        build_model(cfg)
    assert str(excinfo.value) == f"MODEL.WEIGHTS: checkpoint file not found: {missing}"


def write_checkpoint(path, **kwargs) -> None:
    state = {"model": {"id_classifier.fc.weight": torch.zeros(5, 4), "w": torch.ones(300, 300)}}
    torch.save(state, path, **kwargs)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_weights_are_a_clear_error_naming_the_file(tmp_path, damage):
    path = tmp_path / "model_final.pth"
    write_checkpoint(path)
    data = path.read_bytes()
    path.write_bytes(truncated(data) if damage == "truncated" else b"garbage\n" * 50)
    with pytest.raises(CheckpointError) as excinfo:  # nID read from the checkpoint
        resolve_num_identities(build_config(CONFIG, ["MODEL.WEIGHTS", str(path)]))
    assert str(excinfo.value).startswith(f"{path}: cannot be loaded as a checkpoint (")
    assert "truncated, corrupt or not a PyTorch checkpoint" in str(excinfo.value)
    with pytest.raises(CheckpointError, match=re.escape(str(path))):  # loading the weights
        AtomicCheckpointer(nn.Linear(2, 2)).load(str(path))


def test_legacy_format_weights_still_give_the_number_of_identities(tmp_path):
    path = tmp_path / "old.pth"
    write_checkpoint(path, _use_new_zipfile_serialization=False)  # cannot be memory-mapped
    cfg = build_config(CONFIG, ["MODEL.WEIGHTS", str(path)])
    assert resolve_num_identities(cfg) == 5
