"""Fuzzing the MOTChallenge parsers: any input either parses into valid values or raises
MOTFormatError naming the file, never anything else."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lwf_track.data.mot_format import read_det, read_gt, read_results, read_seqinfo
from lwf_track.utils.errors import MOTFormatError

# Seeded and without an example database: the same examples on every run, no files left behind.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TOKENS = ["1", "2", "0", "-1", "3.5", "1e309", "nan", "inf", "-inf", " 7 ", "", "abc", "1_0", "1e3"]
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "input.txt"


def numeric_lines(min_fields: int, max_fields: int):
    """Lines that look like MOT rows: numbers, specials and junk, 0..12 of them per line."""
    line = st.lists(st.sampled_from(TOKENS), min_size=min_fields, max_size=max_fields).map(",".join)
    return st.tuples(st.lists(line, max_size=8), NEWLINES).map(lambda t: t[1].join(t[0]))


def any_text():
    return st.one_of(st.text(max_size=200), numeric_lines(0, 12), numeric_lines(7, 10))


def parse_or_format_error(parser, path, data: bytes):
    path.write_bytes(data)
    try:
        return parser(path)
    except MOTFormatError as error:
        assert str(path) in str(error)
        return None


def assert_valid_boxes(values: np.ndarray, columns: int, min_size: float | None = None) -> None:
    """Valid rows; box sizes > 0, or >= ``min_size`` where given (result files)."""
    assert values.dtype == np.float64 and values.shape[1] == columns
    assert np.isfinite(values).all()
    assert (values[:, 0] >= 1).all() and (values[:, 0] == np.floor(values[:, 0])).all()
    if min_size is None:
        assert (values[:, 4] > 0).all() and (values[:, 5] > 0).all()
    else:
        assert (values[:, 4] >= min_size).all() and (values[:, 5] >= min_size).all()


@FUZZ
@given(text=any_text())
def test_read_gt_parses_or_raises_format_error(fuzz_file, text):
    gt = parse_or_format_error(read_gt, fuzz_file, text.encode())
    if gt is not None:
        assert_valid_boxes(gt, 9)
        assert (gt[:, 1] >= 0).all()


@FUZZ
@given(text=any_text())
def test_read_det_parses_or_raises_format_error(fuzz_file, text):
    det = parse_or_format_error(read_det, fuzz_file, text.encode())
    if det is not None:
        assert_valid_boxes(det, 7)
        assert (np.diff(det[:, 0]) >= 0).all()


@FUZZ
@given(text=any_text())
def test_read_results_parses_or_raises_format_error(fuzz_file, text):
    results = parse_or_format_error(read_results, fuzz_file, text.encode())
    if results is not None:
        assert_valid_boxes(results, 7, min_size=0.0)
        assert (results[:, 1] >= 0).all()


@FUZZ
@given(data=st.binary(max_size=200))
def test_binary_input_parses_or_raises_format_error(fuzz_file, data):
    for parser in (read_gt, read_det, read_seqinfo):
        parse_or_format_error(parser, fuzz_file, data)


SEQINFO_KEYS = ["name", "imDir", "frameRate", "seqLength", "imWidth", "imHeight", "imExt", "x"]
SEQINFO_VALUES = ["", "1", "0", "-3", "25", "2.5", ".jpg", "jpg", "img1", "MOT17-02", "9" * 30]


def seqinfo_lines():
    entry = st.tuples(st.sampled_from(SEQINFO_KEYS), st.sampled_from(SEQINFO_VALUES)).map("=".join)
    line = st.one_of(
        entry, st.sampled_from(["[Sequence]", "[Other]", "; note", "", "[", "key"]), st.text()
    )
    return st.tuples(st.lists(line, max_size=12), NEWLINES).map(lambda t: t[1].join(t[0]))


@FUZZ
@given(text=st.one_of(st.text(max_size=200), seqinfo_lines()))
def test_read_seqinfo_parses_or_raises_format_error(fuzz_file, text):
    info = parse_or_format_error(read_seqinfo, fuzz_file, text.encode())
    if info is not None:
        assert min(info.frame_rate, info.seq_length, info.im_width, info.im_height) >= 1
        assert info.name and info.im_dir and info.im_ext.startswith(".")


ROW = st.tuples(
    st.integers(1, 5000),
    st.integers(0, 10_000),
    st.floats(-500, 3000, allow_nan=False).map(lambda v: round(v, 2)),
    st.floats(-500, 3000, allow_nan=False).map(lambda v: round(v, 2)),
    st.floats(0.5, 800).map(lambda v: round(v, 2)),
    st.floats(0.5, 800).map(lambda v: round(v, 2)),
    st.integers(0, 1),
    st.sampled_from([1, 2, 7, 8, 12]),
    st.floats(0, 1).map(lambda v: round(v, 3)),
)


@FUZZ
@given(rows=st.lists(ROW, max_size=20), newline=NEWLINES)
def test_read_gt_round_trips_valid_rows(fuzz_file, rows, newline):
    text = newline.join(",".join(map(str, row)) for row in rows) + newline * 2
    gt = parse_or_format_error(read_gt, fuzz_file, text.encode())
    np.testing.assert_array_equal(gt, np.array(rows, dtype=np.float64).reshape(-1, 9))
