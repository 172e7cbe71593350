"""MOTChallenge parsers and sequence loading: good files, every malformed case, half splits, ids."""

import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from lwf_track.data.mot import frame_range, load_mot_split, load_sequence
from lwf_track.data.mot_format import (
    SeqInfo,
    read_det,
    read_frame_rate,
    read_gt,
    read_results,
    read_seq_length,
    read_seqinfo,
    read_table,
    write_seqinfo,
    write_table,
)
from lwf_track.utils.errors import MOTFormatError

SEQINFO = (
    "[Sequence]\nname={name}\nimDir=img1\nframeRate={fps}\nseqLength={length}\n"
    "imWidth={width}\nimHeight={height}\nimExt=.jpg\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def gt_text(rows) -> str:
    return "".join(",".join(str(v) for v in row) + "\n" for row in rows)


def write_sequence(
    seq_dir: Path,
    num_images: int,
    gt_rows=None,
    seq_length=None,
    width: int = 64,
    height: int = 48,
    fps: int = 10,
    image_bytes=lambda frame: b"",
) -> Path:
    """A MOTChallenge sequence folder; images are empty files unless ``image_bytes`` says else."""
    length = num_images if seq_length is None else seq_length
    info = SEQINFO.format(name=seq_dir.name, fps=fps, length=length, width=width, height=height)
    write(seq_dir / "seqinfo.ini", info)
    (seq_dir / "img1").mkdir()
    for frame in range(1, num_images + 1):
        (seq_dir / "img1" / f"{frame:06d}.jpg").write_bytes(image_bytes(frame))
    if gt_rows is not None:
        write(seq_dir / "gt" / "gt.txt", gt_text(gt_rows))
    return seq_dir


def assert_error(excinfo, path: Path, line, *expected: str) -> None:
    message = str(excinfo.value)
    assert str(path) in message
    if line is not None:
        assert f"line {line}:" in message
        assert excinfo.value.line == line
    for text in expected:
        assert text in message, message


# --- seqinfo.ini -------------------------------------------------------------------------------


def test_read_seqinfo_reads_every_key_with_crlf_and_comments(tmp_path):
    text = "; comment\r\n[Sequence]\r\nname=MOT17-05\r\nimDir=img1\r\nframeRate=14\r\n"
    text += "seqLength=837\r\nimWidth=640\r\nimHeight=480\r\nimExt=.jpg\r\n\r\n"
    info = read_seqinfo(write(tmp_path / "seqinfo.ini", text))
    assert info == SeqInfo("MOT17-05", "img1", 14, 837, 640, 480, ".jpg")


VALID_SEQINFO = SEQINFO.format(name="S", fps=10, length=5, width=64, height=48)


def seqinfo_with(old: str, new: str) -> str:
    assert old in VALID_SEQINFO
    return VALID_SEQINFO.replace(old, new)


@pytest.mark.parametrize(
    "text, line, expected",
    [
        ("name=x\n", None, "expected a [Sequence] section"),
        (seqinfo_with("frameRate=10\n", ""), None, "expected key 'frameRate' in section"),
        (seqinfo_with("=10", "=2.5"), 4, "expected 'frameRate' to be an integer >= 1, got '2.5'"),
        (seqinfo_with("=5", "=0"), 5, "expected 'seqLength' to be an integer >= 1, got '0'"),
        (seqinfo_with("=64", "=wide"), 6, "expected 'imWidth' to be an integer >= 1, got 'wide'"),
        (VALID_SEQINFO + "name=T\n", 9, "expected each key once, got 'name' again"),
        (seqinfo_with("name=S", "name"), 2, "expected '[Section]' or 'key=value', got 'name'"),
        (seqinfo_with("name=S", "name="), 2, "expected a value for 'name', got nothing"),
    ],
)
def test_read_seqinfo_errors_name_file_line_and_expectation(tmp_path, text, line, expected):
    path = write(tmp_path / "seqinfo.ini", text)
    with pytest.raises(MOTFormatError) as excinfo:
        read_seqinfo(path)
    assert_error(excinfo, path, line, expected)


def test_written_seqinfo_and_tables_read_back(tmp_path):
    info = SeqInfo("PETS09-S2L1", "img1", 7, 795, 768, 576, ".jpg")
    write_seqinfo(tmp_path / "seqinfo.ini", info)
    assert read_seqinfo(tmp_path / "seqinfo.ini") == info
    mot15_gt = np.array([[1, 9, 499, 158, 31.0304, 75.17, 1, -4.1554, -7.3591, 0]])
    write_table(tmp_path / "gt.txt", mot15_gt)
    assert (tmp_path / "gt.txt").read_text() == "1,9,499,158,31.0304,75.17,1,-4.1554,-7.3591,0\n"
    np.testing.assert_array_equal(read_table(tmp_path / "gt.txt", "gt").values, mot15_gt)


def test_read_seqinfo_missing_file(tmp_path):
    with pytest.raises(MOTFormatError) as excinfo:
        read_seqinfo(tmp_path / "seqinfo.ini")
    assert_error(excinfo, tmp_path / "seqinfo.ini", None, "file not found")


def test_read_seqinfo_needs_dotted_extension(tmp_path):
    text = SEQINFO.format(name="s", fps=1, length=1, width=1, height=1).replace(".jpg", "jpg")
    path = write(tmp_path / "seqinfo.ini", text)
    with pytest.raises(MOTFormatError) as excinfo:
        read_seqinfo(path)
    assert_error(excinfo, path, 8, "expected imExt to start with '.'")


def test_single_keys_need_only_their_own_line(tmp_path):
    """Scoring reads seqLength alone, a comparison over seconds frameRate alone: a gt folder's
    seqinfo.ini may lack the image keys, not the key asked for (named with its file)."""
    path = write(tmp_path / "seqinfo.ini", "[Sequence]\nseqLength=795\nframeRate=7\n")
    assert (read_seq_length(path), read_frame_rate(path)) == (795, 7)
    path = write(tmp_path / "seqinfo.ini", "[Sequence]\nseqLength=795\n")
    with pytest.raises(MOTFormatError) as excinfo:
        read_frame_rate(path)
    assert_error(excinfo, path, None, "expected key 'frameRate' in section")


# --- gt.txt, det.txt, results ------------------------------------------------------------------


def test_read_gt_nine_columns_crlf_and_trailing_blank_lines(tmp_path):
    text = "1,1,10,20,30,40,1,1,0.5\r\n2,3,11.5,21,30,40,0,7,1\r\n\r\n\r\n"
    gt = read_gt(write(tmp_path / "gt.txt", text))
    assert gt.dtype == np.float64
    np.testing.assert_array_equal(
        gt, [[1, 1, 10, 20, 30, 40, 1, 1, 0.5], [2, 3, 11.5, 21, 30, 40, 0, 7, 1]]
    )


def test_read_gt_ten_column_mot15_maps_conf_to_flag(tmp_path):
    text = "1,4,10,20,30,40,1,-1,-1,-1\n2,4,12,20,30,40,0,-1,-1,-1\n"
    gt = read_gt(write(tmp_path / "gt.txt", text))
    np.testing.assert_array_equal(
        gt, [[1, 4, 10, 20, 30, 40, 1, 1, 1], [2, 4, 12, 20, 30, 40, 0, 1, 1]]
    )


def test_read_gt_empty_file_has_nine_columns(tmp_path):
    assert read_gt(write(tmp_path / "gt.txt", "\n")).shape == (0, 9)


GOOD = "1,1,10,20,30,40,1,1,1.0\n"


@pytest.mark.parametrize(
    "bad_line, expected",
    [
        ("abc", "expected 9 or 10 comma-separated numbers, got 'abc'"),
        ("1,2,3,4,5,6,7,8", "expected 9 or 10 comma-separated numbers, got '1,2,3,4,5,6,7,8'"),
        ("1,1,10,20,30,40,1,1,x", "expected 9 or 10 comma-separated numbers, got"),
        ("1,1,10,20,30,40,1,1,1,1", "expected 9 comma-separated numbers (as line 1)"),
        ("1,1,nan,20,30,40,1,1,1", "expected finite numbers, got '1,1,nan,20,30,40,1,1,1'"),
        ("1,1,10,20,inf,40,1,1,1", "expected finite numbers"),
        ("1,1,10,20,0,40,1,1,1", "expected box width and height > 0, got w=0 h=40"),
        ("1,1,10,20,30,-2,1,1,1", "expected box width and height > 0, got w=30 h=-2"),
        ("0,1,10,20,30,40,1,1,1", "expected a frame number >= 1 (integer), got 0"),
        ("1.5,1,10,20,30,40,1,1,1", "expected a frame number >= 1 (integer), got 1.5"),
        ("1,-1,10,20,30,40,1,1,1", "expected an identity >= 0 (integer), got -1"),
    ],
)
def test_read_gt_malformed_line_names_file_line_and_expectation(tmp_path, bad_line, expected):
    path = write(tmp_path / "seq" / "gt" / "gt.txt", GOOD + "\n" + bad_line + "\n" + GOOD)
    with pytest.raises(MOTFormatError) as excinfo:
        read_gt(path)
    assert_error(excinfo, path, 3, expected)


def test_read_gt_missing_and_binary_files(tmp_path):
    with pytest.raises(MOTFormatError, match="file not found"):
        read_gt(tmp_path / "gt.txt")
    path = tmp_path / "binary.txt"
    path.write_bytes(b"1,1,\xff\xfe")
    with pytest.raises(MOTFormatError, match="expected UTF-8 text"):
        read_gt(path)


def test_read_det_sorts_stably_by_frame_and_keeps_seven_columns(tmp_path):
    text = "3,-1,1,1,5,5,0.9,-1,-1,-1\n1,-1,2,2,5,5,0.8,-1,-1,-1\n3,-1,3,3,5,5,0.7,-1,-1,-1\n"
    det = read_det(write(tmp_path / "det.txt", text))
    assert det.shape == (3, 7)
    np.testing.assert_array_equal(det[:, 0], [1, 3, 3])
    np.testing.assert_array_equal(det[:, 2], [2, 1, 3])  # frame 3 keeps its file order


def test_read_det_accepts_negative_scores_and_rejects_short_rows(tmp_path):
    assert read_det(write(tmp_path / "det.txt", "1,-1,1,1,5,5,-0.3\n"))[0, 6] == -0.3
    path = write(tmp_path / "short.txt", "1,-1,1,1,5,5\n")
    with pytest.raises(MOTFormatError) as excinfo:
        read_det(path)
    assert_error(excinfo, path, 1, "expected at least 7 comma-separated numbers")


def test_read_results_round_trip_and_negative_id(tmp_path):
    text = "2,1,10,20,30,40,0.9,-1,-1,-1\n1,2,10,20,30,40,0.8,-1,-1,-1\n"
    results = read_results(write(tmp_path / "MOT17-02.txt", text))
    np.testing.assert_array_equal(results[:, :2], [[1, 2], [2, 1]])
    path = write(tmp_path / "bad.txt", "1,-5,10,20,30,40,0.8,-1,-1,-1\n")
    with pytest.raises(MOTFormatError) as excinfo:
        read_results(path)
    assert_error(excinfo, path, 1, "expected an identity >= 0 (integer), got -5")


def test_separators_trackeval_and_motmetrics_accept(tmp_path):
    expected = [[1, 2, 10, 20, 30, 40, 1, 1, 0.5], [2, 2, 11, 20, 30, 40, 1, 1, 1]]
    commas = "1,2,10,20,30,40,1,1,0.5\n2,2,11,20,30,40,1,1,1\n"
    blanks = "1 2 10 20 30 40 1 1 0.5\n\t2\t2\t11\t20\t30\t40\t1\t1\t1\n"
    spaced = "1, 2, 10, 20, 30, 40, 1, 1, 0.5,\n2 ,2 ,11 ,20 ,30 ,40 ,1 ,1 ,1\n"
    for name, text in (("commas", commas), ("blanks", blanks), ("spaced", spaced)):
        np.testing.assert_array_equal(read_gt(write(tmp_path / f"{name}.txt", text)), expected)
    path = write(tmp_path / "double.txt", "1,2,10,20,30,40,1,1,0.5,,\n")
    with pytest.raises(MOTFormatError) as excinfo:
        read_gt(path)
    assert_error(excinfo, path, 1, "expected 9 or 10 comma-separated numbers, got")


def test_box_sizes_gt_and_det_positive_results_non_negative(tmp_path):
    """A tracker's degenerate box is scored (it matches nothing); a gt or det box needs a size."""
    results = read_results(write(tmp_path / "r.txt", "1,1,10,20,0,40,0.9,-1,-1,-1\n"))
    assert results[0, 4] == 0
    for reader, text in ((read_gt, "1,1,10,20,0,40,1,1,1\n"), (read_det, "1,-1,1,1,5,0,0.9\n")):
        path = write(tmp_path / f"{reader.__name__}.txt", text)
        with pytest.raises(MOTFormatError) as excinfo:
            reader(path)
        assert_error(excinfo, path, 1, "expected box width and height > 0")
    path = write(tmp_path / "negative.txt", "1,1,10,20,-1,40,0.9,-1,-1,-1\n")
    with pytest.raises(MOTFormatError) as excinfo:
        read_results(path)
    assert_error(excinfo, path, 1, "expected box width and height >= 0, got w=-1 h=40")


def test_read_gt_parses_100k_lines_quickly(tmp_path):
    rng = np.random.default_rng(0)
    n = 100_000
    rows = np.column_stack(
        [rng.integers(1, 3000, n), rng.integers(0, 2000, n), rng.integers(0, 1900, (n, 2))]
    )
    text = "".join(f"{f},{i},{x},{y},20.5,50,1,1,0.75\n" for f, i, x, y in rows.tolist())
    path = write(tmp_path / "gt.txt", text)
    start = time.perf_counter()
    gt = read_gt(path)
    elapsed = time.perf_counter() - start
    assert gt.shape == (n, 9)
    assert elapsed < 3.0, f"{elapsed:.2f} s for 100k lines"


# --- half split --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, first_half, second_half",
    [(6, (1, 3), (4, 6)), (7, (1, 3), (4, 7)), (1, (1, 0), (1, 1)), (2, (1, 1), (2, 2))],
)
def test_frame_range_half_split_boundaries(n, first_half, second_half):
    assert frame_range(n, "all") == (1, n)
    assert frame_range(n, "first_half") == first_half
    assert frame_range(n, "second_half") == second_half


@pytest.mark.parametrize(
    "n, fit, holdout",
    [(795, (1, 297), (298, 397)), (16, (1, 6), (7, 8)), (8, (1, 3), (4, 4)), (2, (1, 0), (1, 1))],
)
def test_frame_range_fit_and_holdout_partition_the_first_half(n, fit, holdout):
    assert frame_range(n, "first_half_fit") == fit
    assert frame_range(n, "first_half_holdout") == holdout
    first, last = frame_range(n, "first_half")
    assert (fit[0], holdout[1]) == (first, last) and holdout[0] == fit[1] + 1


def test_frame_range_rejects_unknown_mode():
    with pytest.raises(ValueError, match="first_half"):
        frame_range(4, "half")


@pytest.mark.parametrize("n", [5, 6])
def test_load_sequence_half_splits_cover_every_frame_once(tmp_path, n):
    seq = write_sequence(
        tmp_path / "S", n, gt_rows=[(f, 1, 1, 1, 5, 5, 1, 1, 1) for f in range(1, n + 1)]
    )
    train, _ = load_sequence(seq, frames="first_half")
    val, _ = load_sequence(seq, frames="second_half")
    assert [r["frame"] for r in train] == list(range(1, n // 2 + 1))
    assert [r["frame"] for r in val] == list(range(n // 2 + 1, n + 1))
    assert all(len(r["annotations"]) == 1 for r in train + val)


# --- load_sequence -----------------------------------------------------------------------------


def test_load_sequence_keeps_pedestrian_boxes_and_maps_ids_densely(tmp_path):
    rows = [
        (1, 7, 10, 20, 30, 40, 1, 1, 0.9),
        (1, 3, 11, 21, 31, 41, 1, 1, 0.1),  # low visibility
        (1, 9, 12, 22, 32, 42, 0, 1, 1.0),  # flag 0
        (2, 5, 13, 23, 33, 43, 1, 7, 1.0),  # static person (distractor class)
        (2, 7, 14, 24, 34, 44, 1, 1, 1.0),
    ]
    seq = write_sequence(tmp_path / "SEQ-01", 3, gt_rows=rows)
    records, num_ids = load_sequence(seq, id_offset=100)
    assert num_ids == 2
    assert [len(r["annotations"]) for r in records] == [2, 1, 0]  # frame 3 kept, empty
    first = records[0]
    assert first["image_id"] == "SEQ-01/000001" and first["sequence"] == "SEQ-01"
    assert (first["frame"], first["height"], first["width"], first["frame_rate"]) == (1, 48, 64, 10)
    assert first["file_name"] == str(seq / "img1" / "000001.jpg")
    by_id = {a["track_id"]: a for a in first["annotations"]}
    assert by_id[100]["bbox"] == [11, 21, 31, 41]  # local id 3 -> 0 (+100)
    assert by_id[101]["bbox"] == [10, 20, 30, 40]  # local id 7 -> 1 (+100)
    assert records[1]["annotations"][0]["track_id"] == 101
    # Low-visibility boxes stay in the records; only the training mapper filters them.
    assert by_id[100]["category_id"] == 0 and by_id[100]["visibility"] == 0.1


def test_load_sequence_warns_when_seq_length_exceeds_images(tmp_path):
    seq = write_sequence(tmp_path / "S", 3, gt_rows=[(2, 1, 1, 1, 5, 5, 1, 1, 1)], seq_length=50)
    with pytest.warns(UserWarning, match="seqLength is 50 but .* holds only 3 images"):
        records, _ = load_sequence(seq)
    assert len(records) == 3


def test_gt_row_on_a_missing_image_is_an_error(tmp_path):
    rows = [(1, 1, 1, 1, 5, 5, 1, 1, 1), (5, 1, 1, 1, 5, 5, 1, 1, 1)]
    seq = write_sequence(tmp_path / "S", 3, gt_rows=rows, seq_length=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(MOTFormatError) as excinfo:
            load_sequence(seq)
    assert_error(excinfo, seq / "gt" / "gt.txt", 2, str(seq / "img1" / "000005.jpg"), "missing")


def test_gt_frame_beyond_seq_length_is_an_error(tmp_path):
    seq = write_sequence(tmp_path / "S", 3, gt_rows=[(4, 1, 1, 1, 5, 5, 1, 1, 1)])
    with pytest.raises(MOTFormatError) as excinfo:
        load_sequence(seq)
    assert_error(excinfo, seq / "gt" / "gt.txt", 1, "expected a frame <= seqLength 3, got 4")


def test_missing_images_are_errors(tmp_path):
    seq = write_sequence(tmp_path / "S", 4, gt_rows=[])
    (seq / "img1" / "000002.jpg").unlink()
    with pytest.raises(MOTFormatError, match="000002.jpg is missing while 000004.jpg exists"):
        load_sequence(seq)
    empty = write_sequence(tmp_path / "E", 0, gt_rows=[], seq_length=3)
    with pytest.raises(MOTFormatError, match="expected images 000001.jpg..000003.jpg, found none"):
        load_sequence(empty)


def test_missing_gt_is_an_error_unless_not_required(tmp_path):
    seq = write_sequence(tmp_path / "S", 2)
    with pytest.raises(MOTFormatError) as excinfo:
        load_sequence(seq)
    assert_error(excinfo, seq / "gt" / "gt.txt", None, "expected ground truth")
    records, num_ids = load_sequence(seq, require_gt=False)
    assert num_ids == 0 and len(records) == 2
    assert all("annotations" not in r for r in records)


def test_load_mot_split_gives_dense_global_distinct_identities(tmp_path):
    write_sequence(
        tmp_path / "B", 2, gt_rows=[(1, 4, 1, 1, 5, 5, 1, 1, 1), (2, 9, 1, 1, 5, 5, 1, 1, 1)]
    )
    write_sequence(
        tmp_path / "A", 2, gt_rows=[(1, 4, 1, 1, 5, 5, 1, 1, 1), (2, 2, 1, 1, 5, 5, 1, 1, 1)]
    )
    write_sequence(tmp_path / "C", 1, gt_rows=[(1, 1, 1, 1, 5, 5, 1, 1, 1)])
    records, num_ids = load_mot_split(tmp_path)
    assert num_ids == 5
    assert [r["sequence"] for r in records] == ["A", "A", "B", "B", "C"]
    ids = {(r["sequence"], a["track_id"]) for r in records for a in r["annotations"]}
    assert sorted(t for _, t in ids) == [0, 1, 2, 3, 4]  # dense, each used once
    assert ids == {("A", 0), ("A", 1), ("B", 2), ("B", 3), ("C", 4)}  # A: 2->0, 4->1


def test_load_mot_split_detector_filter_and_missing_folder(tmp_path):
    for name in ("MOT17-02-DPM", "MOT17-02-FRCNN"):
        write_sequence(tmp_path / "train" / name, 1, gt_rows=[(1, 1, 1, 1, 5, 5, 1, 1, 1)])
    records, num_ids = load_mot_split(tmp_path / "train", detector="FRCNN")
    assert {r["sequence"] for r in records} == {"MOT17-02-FRCNN"} and num_ids == 1
    with pytest.raises(FileNotFoundError, match="LWF_DATASETS"):
        load_mot_split(tmp_path / "nowhere")
