"""tools/retrack.py: a tracker key tried on a model's kept detections, the model run once."""

import re

import pytest
import torch

from detectron2.modeling import build_model

from lwf_track.engine.defaults import build_config

from e2e_helpers import CONFIG, TINY, make_synthetic_root, run_command

pytestmark = pytest.mark.slow
# A random model whose every anchor scores about 0.9 (the classifier's bias prior): detections
# above every calibration candidate in every frame, so tracks are born and mostly false.
MODEL = [*TINY, "MODEL.REID.NUM_IDENTITIES", "4", "MODEL.RETINANET.PRIOR_PROB", "0.9"]


def table_rows(text: str) -> dict:
    """``{value: [(MOTA, IDF1, threshold) per model]}`` of the tool's markdown table."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 3 and re.fullmatch(r"\d[\d.e+-]*", cells[0]):
            rows[cells[0]] = [tuple(map(float, c.split(" / "))) for c in cells[1:-2]]
    return rows


def retrack_command(tmp_path, frames: int, key: str, values) -> tuple:
    """A synthetic data root, a random model saved, and the tool's arguments for one key: returns
    (root, arguments, table file, cache folder)."""
    root = make_synthetic_root(tmp_path / "data", frames=frames)
    weights = tmp_path / "random.pth"
    torch.manual_seed(0)
    torch.save({"model": build_model(build_config(CONFIG, MODEL)).state_dict()}, weights)
    table, cache = tmp_path / "table.md", tmp_path / "cache"
    args = [
        *("-m", "tools.retrack", "--config-file", CONFIG, "--dataset", "mot_synth_val"),
        *("--key", key, "--values", *values, "--weights", weights),
        *("--cache-dir", cache, "--markdown", table, *MODEL),
    ]
    return root, args, table, cache


def test_a_key_is_tried_per_value_on_detections_kept_once(tmp_path):
    root, args, table, cache = retrack_command(tmp_path, 6, "TRACKER.MIN_BOX_AREA", ["0.0", "1e9"])
    first = run_command(args, root)
    rows = table_rows(table.read_text())
    assert list(rows) == ["0.0", "1e9"] and all(len(runs) == 1 for runs in rows.values())
    (mota, idf1, _), (mota_none, idf1_none, _) = rows["0.0"][0], rows["1e9"][0]
    assert mota < 0 < idf1  # boxes everywhere: mostly false positives, some people found
    assert (mota_none, idf1_none) == (0.0, 0.0)  # no box written: misses only
    assert len(list(cache.iterdir())) == 1 and "reusing" not in first.stderr + first.stdout

    second = run_command(args, root)
    assert "reusing the detections kept in" in second.stderr + second.stdout
    assert table_rows(table.read_text()) == rows


@pytest.mark.parametrize(
    "key, message",
    [
        ("MODEL.RETINANET.NMS_THRESH_TEST", "only TRACKER keys"),
        ("TRACKER.COLOR_BINS", "the colours are computed when the detections are kept"),
    ],
)
def test_only_keys_of_the_tracker_alone_are_accepted(tmp_path, key, message):
    args = ["-m", "tools.retrack", "--config-file", CONFIG, "--dataset", "mot_synth_val"]
    args += ["--key", key, "--values", "0.5", "--weights", "w.pth"]
    result = run_command(args, tmp_path, check=False)
    assert result.returncode == 2 and message in result.stderr


def test_a_float_key_takes_an_integer_value():
    from tools.retrack import with_key

    cfg = build_config(CONFIG)
    assert with_key(cfg, "TRACKER.MOTION_NOISE_SCALE", "2").TRACKER.MOTION_NOISE_SCALE == 2.0
    assert with_key(cfg, "TRACKER.LOST_BY_IOU", "True").TRACKER.LOST_BY_IOU is True
    with pytest.raises(ValueError):
        with_key(cfg, "TRACKER.MOTION_NOISE_SCALE", "fast")


def test_detections_keep_colours_for_every_value_of_the_key():
    """Colours on when any value turns them on, and from the lowest score floor any value of the
    key can reach (a lower calibration candidate or threshold); else the config as it is."""
    from tools.retrack import detection_config

    from lwf_track.tracking.color import color_adder, color_min_score

    cfg = build_config(CONFIG)  # colour weight 0
    assert detection_config(cfg, "TRACKER.MIN_BOX_AREA", ["0.0", "10.0"]) is cfg
    on = detection_config(cfg, "TRACKER.COLOR_WEIGHT", ["0", "0.5", "1"])
    assert color_adder(on) and color_min_score(on) == color_min_score(cfg)
    calibrated = build_config(
        CONFIG, ["TRACKER.COLOR_WEIGHT", "1.0", "TRACKER.CALIBRATION.DATASET", "mot_synth_val"]
    )
    floor = color_min_score(calibrated)
    key = "TRACKER.CALIBRATION.HIGH_SCORE_THRESHS"
    lower = detection_config(calibrated, key, [f"[{floor + 0.1}]", f"[{floor - 0.1}]"])
    assert color_min_score(lower) == pytest.approx(floor - 0.1)
    key = "TRACKER.HIGH_SCORE_THRESH"
    assert color_min_score(detection_config(calibrated, key, ["0.9"])) == floor


def test_colour_weights_are_tried_on_detections_kept_with_their_colours(tmp_path):
    """The config's colour weight is 0, so its detections would carry no colours: for the
    values of TRACKER.COLOR_WEIGHT the models run with them, kept under their own cache name."""
    root, args, table, cache = retrack_command(tmp_path, 4, "TRACKER.COLOR_WEIGHT", ["0", "1"])
    run_command(args, root)
    assert list(table_rows(table.read_text())) == ["0", "1"]
    [kept] = cache.iterdir()
    detections, _ = torch.load(kept, weights_only=False)
    frames = [instances for _, frames in detections.values() for _, instances in frames]
    assert frames and all(instances.has("pred_colors") for instances in frames)
