"""tools.scale_sequence: a MOTChallenge sequence at another frame size (MOT15's 768x576 from the
shared 480x360 copy)."""

import cv2
import numpy as np
import pytest

from lwf_track.data.mot_format import read_det, read_seqinfo, read_table
from test_mot_parsers import SEQINFO, write
from tools.scale_sequence import main, scale_sequence

GT = "1,3,10,4,6,12,1,-1,-1,-1\n2,3,11.5,4,6,12,0,-1,-1,-1\n"  # MOT15 layout, a flag-0 row
DET = "2,-1,11,5,6,11,0.9\n"


@pytest.fixture
def sequence(tmp_path):
    """Two 32x24 frames with a gt and a det file."""
    seq = tmp_path / "SEQ-01"
    write(seq / "seqinfo.ini", SEQINFO.format(name="SEQ-01", fps=7, length=2, width=32, height=24))
    (seq / "img1").mkdir()
    for frame in (1, 2):
        image = np.full((24, 32, 3), 40 * frame, dtype=np.uint8)
        cv2.imwrite(str(seq / "img1" / f"{frame:06d}.jpg"), image)
    write(seq / "gt" / "gt.txt", GT)
    write(seq / "det" / "det.txt", DET)
    return seq


def test_frames_size_and_boxes_are_scaled_alike(sequence, tmp_path):
    target = scale_sequence(sequence, tmp_path / "big" / "SEQ-01", 1.6)
    info = read_seqinfo(target / "seqinfo.ini")
    assert (info.im_width, info.im_height, info.seq_length, info.frame_rate) == (51, 38, 2, 7)
    for frame in (1, 2):
        assert cv2.imread(str(target / "img1" / f"{frame:06d}.jpg")).shape == (38, 51, 3)
    source_gt = read_table(sequence / "gt" / "gt.txt", "gt").values
    scaled_gt = read_table(target / "gt" / "gt.txt", "gt").values
    np.testing.assert_allclose(scaled_gt[:, 2:6], source_gt[:, 2:6] * 1.6)
    np.testing.assert_array_equal(
        scaled_gt[:, [0, 1, 6, 7, 8, 9]], source_gt[:, [0, 1, 6, 7, 8, 9]]
    )
    np.testing.assert_allclose(
        read_det(target / "det" / "det.txt")[0, 2:7], [17.6, 8, 9.6, 17.6, 0.9]
    )


def test_refuses_a_target_that_holds_a_sequence_and_a_bad_scale(sequence, tmp_path):
    with pytest.raises(FileExistsError, match="seqinfo.ini exists"):
        scale_sequence(sequence, sequence, 2.0)
    with pytest.raises(ValueError, match="scale must be > 0"):
        scale_sequence(sequence, tmp_path / "other", 0.0)
    with pytest.raises(SystemExit):
        main([str(sequence), str(tmp_path / "other"), "--scale", "-1"])


def test_a_missing_frame_is_named(sequence, tmp_path):
    (sequence / "img1" / "000002.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="000002.jpg: not a readable image"):
        scale_sequence(sequence, tmp_path / "big", 2.0)
    assert not (tmp_path / "big" / "seqinfo.ini").exists()  # written last: no complete-looking copy


def test_command_line(sequence, tmp_path, capsys):
    main([str(sequence), str(tmp_path / "half"), "--scale", "0.5"])
    assert "2 frames at 16x12" in capsys.readouterr().out
