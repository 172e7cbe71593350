"""Frame sources and rendering: bad videos and corrupt frames are reported clearly, trails stay
bounded."""

import logging

import cv2
import numpy as np
import pytest

from lwf_track.utils.video import TrackRenderer, iter_frames, open_frame_source


def test_a_corrupt_image_in_a_folder_is_reported_by_index_and_skipped(tmp_path, caplog):
    for index in (1, 2, 3):
        cv2.imwrite(str(tmp_path / f"{index:06d}.jpg"), np.full((20, 30, 3), index * 40, np.uint8))
    (tmp_path / "000002.jpg").write_bytes(b"\xff\xd8 truncated")
    source = open_frame_source(str(tmp_path))
    with caplog.at_level(logging.WARNING):
        frames = list(iter_frames(source))
    assert [index for index, _ in frames] == [1, 3]
    assert "000002.jpg: frame 2 cannot be decoded" in caplog.text


def test_renderer_forgets_identities_unseen_for_a_while():
    renderer = TrackRenderer(trail_length=5, forget_after=3)
    image = np.zeros((50, 50, 3), np.uint8)
    box = np.array([[5.0, 5, 15, 30]])
    for frame in range(1, 40):
        out = renderer.draw(image, frame, box, np.array([frame]))  # a new identity every frame
    assert out.shape == image.shape and not np.array_equal(out, image)
    assert len(renderer._trails) <= 4
    assert image.sum() == 0  # the input frame is not drawn on


def test_a_file_that_is_not_a_video_is_a_clear_error(tmp_path):
    bogus = tmp_path / "clip.mp4"
    bogus.write_bytes(b"not a video at all")
    with pytest.raises(ValueError, match="cannot be opened as a video"):
        open_frame_source(str(bogus))
    with pytest.raises(FileNotFoundError, match="no such video"):
        open_frame_source(str(tmp_path / "absent.mp4"))
