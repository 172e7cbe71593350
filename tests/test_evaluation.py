"""MOT metrics: equal to motmetrics' published values and to trackeval/motmetrics run directly."""

import csv
import json
import shutil
import subprocess
import sys
from itertools import chain
from pathlib import Path

import numpy as np
import pytest
import trackeval

from lwf_track.data.mot import frame_range
from lwf_track.data.mot_format import read_results, read_seq_length
from lwf_track.evaluation import (
    evaluate_mot,
    format_table,
    has_ground_truth,
    save_metrics,
    write_mot_results,
)
from lwf_track.evaluation.__main__ import main as cli_main
from lwf_track.evaluation.mot_metrics import METRICS, frame_counts, mota_idf1, near_misses
from lwf_track.utils.compat import import_motmetrics
from lwf_track.utils.errors import MOTFormatError

mm = import_motmetrics()
REPO_ROOT = Path(__file__).resolve().parents[1]
MM_DATA = Path(mm.__file__).parent / "data"
TUD = ("TUD-Campus", "TUD-Stadtmitte")

# motmetrics' own expected values for gt.txt vs test.txt at IoU 0.5, copied from its
# tests/test_metrics.py::test_motchallenge_files (installed with the package): IDF1, MOTA and
# MOTP as fractions (its MOTP is the distance 1 - IoU), then MT, ML, FP, FN, IDS.
MOTMETRICS_EXPECTED = {
    "TUD-Campus": (0.557659, 0.526462, 0.277201, 1, 1, 13, 150, 7),
    "TUD-Stadtmitte": (0.644619, 0.564014, 0.345904, 5, 1, 45, 452, 7),
    "OVERALL": (0.624296, 0.555116, 0.330177, 6, 2, 58, 602, 14),
}


# ---------------------------------------------------------------------------- helpers


def write_seqinfo(seq_dir: Path, name: str, length: int) -> None:
    seq_dir.mkdir(parents=True, exist_ok=True)
    (seq_dir / "seqinfo.ini").write_text(
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate=25\nseqLength={length}\n"
        "imWidth=640\nimHeight=480\nimExt=.jpg\n"
    )


def last_frame(*paths: Path) -> int:
    return max(int(line.split(",")[0]) for p in paths for line in p.read_text().splitlines())


@pytest.fixture(scope="module")
def tud(tmp_path_factory):
    """motmetrics' TUD files, unchanged, in MOTChallenge folders: gt/<SEQ>, tracks/<SEQ>.txt.

    Their gt has MOT15's 10 columns; the images are 640x480; seqLength is the last frame in use.
    """
    if not (MM_DATA / "TUD-Campus" / "gt.txt").is_file():
        pytest.skip(f"motmetrics' TUD data is not installed at {MM_DATA}")
    root = tmp_path_factory.mktemp("tud")
    for name in TUD:
        gt, test = MM_DATA / name / "gt.txt", MM_DATA / name / "test.txt"
        write_seqinfo(root / "gt" / name, name, last_frame(gt, test))
        (root / "gt" / name / "gt").mkdir()
        shutil.copyfile(gt, root / "gt" / name / "gt" / "gt.txt")
        (root / "tracks").mkdir(exist_ok=True)
        shutil.copyfile(test, root / "tracks" / f"{name}.txt")
    return root


@pytest.fixture(scope="module")
def tud_metrics(tud):
    return evaluate_mot(tud / "gt", tud / "tracks")


def trackeval_direct(gt_folder, seqs, tracks: dict, benchmark: str, work: Path) -> dict:
    """trackeval on its own layout (TRACKERS_FOLDER/<tracker>/data/<SEQ>.txt), no lwf_track code."""
    data = work / "trackers" / "direct" / "data"
    data.mkdir(parents=True)
    for name, path in tracks.items():
        shutil.copyfile(path, data / f"{name}.txt")
    (work / "seqmap.txt").write_text("name\n" + "".join(f"{s}\n" for s in seqs))
    dataset = trackeval.datasets.MotChallenge2DBox(
        {
            "GT_FOLDER": str(gt_folder),
            "TRACKERS_FOLDER": str(work / "trackers"),
            "OUTPUT_FOLDER": str(work / "output"),
            "SEQMAP_FILE": str(work / "seqmap.txt"),
            "SKIP_SPLIT_FOL": True,
            "BENCHMARK": benchmark,
            "PRINT_CONFIG": False,
        }
    )
    evaluator = trackeval.Evaluator(
        {
            "LOG_ON_ERROR": str(work / "error.log"),
            "PRINT_RESULTS": False,
            "PRINT_CONFIG": False,
            "TIME_PROGRESS": False,
            "OUTPUT_SUMMARY": False,
            "OUTPUT_DETAILED": False,
            "PLOT_CURVES": False,
        }
    )
    quiet = {"PRINT_CONFIG": False}
    metrics = [
        trackeval.metrics.HOTA(),
        trackeval.metrics.CLEAR(quiet),
        trackeval.metrics.Identity(quiet),
    ]
    output, _ = evaluator.evaluate([dataset], metrics)
    return {seq: res["pedestrian"] for seq, res in output["MotChallenge2DBox"]["direct"].items()}


def assert_same_as_trackeval(ours: dict, raw: dict) -> None:
    clear, hota = raw["CLEAR"], raw["HOTA"]
    expected = {
        "MOTA": 100 * clear["MOTA"],
        "IDF1": 100 * raw["Identity"]["IDF1"],
        "MOTP": 100 * clear["MOTP"],
        "MT": clear["MT"],
        "ML": clear["ML"],
        "FP": clear["CLR_FP"],
        "FN": clear["CLR_FN"],
        "IDS": clear["IDSW"],
        "HOTA": 100 * np.mean(hota["HOTA"]),
        "DetA": 100 * np.mean(hota["DetA"]),
        "AssA": 100 * np.mean(hota["AssA"]),
    }
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-12)


def motmetrics_direct(pairs: dict, min_confidence: int = 1):
    """motmetrics on the original files, as its apps/eval_motchallenge.py: {name: (gt, tracks)}."""
    accs = [
        mm.utils.compare_to_groundtruth(
            mm.io.loadtxt(gt, fmt="mot15-2D", min_confidence=min_confidence),
            mm.io.loadtxt(tracks, fmt="mot15-2D"),
            "iou",
            distth=0.5,
        )
        for gt, tracks in pairs.values()
    ]
    return mm.metrics.create().compute_many(
        accs, names=list(pairs), metrics=mm.metrics.motchallenge_metrics, generate_overall=True
    )


def assert_same_as_motmetrics(ours: dict, summary) -> None:
    assert set(ours) == set(summary.index)
    for name, row in summary.iterrows():
        expected = {
            "MOTA": 100 * row["mota"],
            "IDF1": 100 * row["idf1"],
            "MOTP": 100 * (1 - row["motp"]),
            "MT": row["mostly_tracked"],
            "ML": row["mostly_lost"],
            "FP": row["num_false_positives"],
            "FN": row["num_misses"],
            "IDS": row["num_switches"],
        }
        assert ours[name] == pytest.approx(expected, rel=1e-12, abs=1e-12), name


# ---------------------------------------------------------------------------- TUD (real data)


@pytest.mark.parametrize("library", ["trackeval", "motmetrics"])
def test_tud_equals_motmetrics_published_values(tud_metrics, library):
    rows = tud_metrics if library == "trackeval" else tud_metrics["motmetrics"]
    for name, (idf1, mota, motp, mt, ml, fp, fn, ids) in MOTMETRICS_EXPECTED.items():
        row = rows[name]
        assert row["IDF1"] == pytest.approx(100 * idf1, abs=5e-4), name
        assert row["MOTA"] == pytest.approx(100 * mota, abs=5e-4), name
        assert row["MOTP"] == pytest.approx(100 * (1 - motp), abs=5e-4), name
        assert (row["MT"], row["ML"], row["FP"], row["FN"], row["IDS"]) == (mt, ml, fp, fn, ids)


def test_tud_equals_trackeval_and_motmetrics_run_directly(tud, tud_metrics, tmp_path):
    tracks = {name: tud / "tracks" / f"{name}.txt" for name in TUD}
    raw = trackeval_direct(tud / "gt", TUD, tracks, "MOT15", tmp_path)
    for name in TUD:
        assert_same_as_trackeval(tud_metrics[name], raw[name])
    assert_same_as_trackeval(tud_metrics["OVERALL"], raw["COMBINED_SEQ"])
    # motmetrics' own test reads the gt without a confidence filter; every TUD box has conf 1.
    pairs = {name: (MM_DATA / name / "gt.txt", MM_DATA / name / "test.txt") for name in TUD}
    assert_same_as_motmetrics(tud_metrics["motmetrics"], motmetrics_direct(pairs, -1))
    assert 0 < tud_metrics["OVERALL"]["HOTA"] < 100


def test_frame_ranges_crop_and_renumber(tud, tmp_path):
    """Frames 36..71 of TUD-Campus scored in place equal a hand-cropped copy and motmetrics on
    the same frames (motmetrics does not need renumbering)."""
    name, first, last = "TUD-Campus", 36, 71
    cropped = evaluate_mot(tud / "gt", tud / "tracks", [name], frame_ranges={name: (first, last)})

    def crop(src: Path, dst: Path) -> None:
        lines = [line.split(",", 1) for line in src.read_text().splitlines()]
        kept = [f"{int(f) - first + 1},{rest}\n" for f, rest in lines if first <= int(f) <= last]
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text("".join(kept))

    crop(MM_DATA / name / "gt.txt", tmp_path / "gt" / name / "gt" / "gt.txt")
    write_seqinfo(tmp_path / "gt" / name, name, last - first + 1)
    crop(MM_DATA / name / "test.txt", tmp_path / "tracks" / f"{name}.txt")
    by_hand = evaluate_mot(tmp_path / "gt", tmp_path / "tracks")
    assert cropped == by_hand
    whole = evaluate_mot(tud / "gt", tud / "tracks", [name])
    assert cropped[name]["FN"] < whole[name]["FN"]

    gt = mm.io.loadtxt(MM_DATA / name / "gt.txt", fmt="mot15-2D")
    test = mm.io.loadtxt(MM_DATA / name / "test.txt", fmt="mot15-2D")

    def in_range(df):
        return df[df.index.get_level_values("FrameId").isin(range(first, last + 1))]

    acc = mm.utils.compare_to_groundtruth(in_range(gt), in_range(test), "iou", distth=0.5)
    summary = mm.metrics.create().compute(acc, metrics=["mota", "num_misses", "num_switches"])
    assert cropped["motmetrics"][name]["FN"] == summary["num_misses"].iloc[0]
    assert cropped["motmetrics"][name]["IDS"] == summary["num_switches"].iloc[0]
    assert cropped["motmetrics"][name]["MOTA"] == pytest.approx(100 * summary["mota"].iloc[0])


def test_frame_counts_sum_to_motmetrics_mota_and_idf1(tud, tud_metrics):
    """The per-frame counts behind a paired bootstrap reproduce the motmetrics cross-check: its
    MOTA, IDF1 and error counts, on whole sequences and on a frame range."""
    seq_dirs = {name: tud / "gt" / name for name in TUD}
    counts = frame_counts(seq_dirs, tud / "tracks")
    for name in TUD:
        expected = tud_metrics["motmetrics"][name]
        assert len(counts[name].objects) == last_frame(*(MM_DATA / name).glob("*.txt"))
        assert mota_idf1(counts[name]) == pytest.approx((expected["MOTA"], expected["IDF1"]))
        sums = counts[name]
        assert int(sums.misses.sum()) == expected["FN"]
        assert int(sums.false_positives.sum()) == expected["FP"]
        assert int(sums.switches.sum()) == expected["IDS"]
    name, frames = "TUD-Campus", (36, 71)
    cropped = frame_counts({name: seq_dirs[name]}, tud / "tracks", {name: frames})[name]
    expected = evaluate_mot(tud / "gt", tud / "tracks", [name], {name: frames})["motmetrics"]
    assert len(cropped.objects) == frames[1] - frames[0] + 1
    assert mota_idf1(cropped) == pytest.approx((expected[name]["MOTA"], expected[name]["IDF1"]))


def test_frame_range_outside_the_sequence_is_refused(tud):
    with pytest.raises(ValueError, match=r"TUD-Campus: frame range \(10, 72\)"):
        evaluate_mot(tud / "gt", tud / "tracks", ["TUD-Campus"], {"TUD-Campus": (10, 72)})
    with pytest.raises(ValueError, match="not evaluated"):
        evaluate_mot(tud / "gt", tud / "tracks", ["TUD-Campus"], {"TUD-Stadtmitte": (1, 5)})


def test_missing_result_file_counts_every_box_as_a_miss(tud, tmp_path, caplog):
    (tmp_path / "tracks").mkdir()
    with caplog.at_level("WARNING"):
        metrics = evaluate_mot(tud / "gt", tmp_path / "tracks", ["TUD-Campus"])
    assert "TUD-Campus: no result file" in caplog.text
    assert_all_missed(metrics)


def test_empty_result_file_works(tud, tmp_path, caplog):
    (tmp_path / "tracks").mkdir()
    (tmp_path / "tracks" / "TUD-Campus.txt").write_text("")
    with caplog.at_level("WARNING"):
        metrics = evaluate_mot(tud / "gt", tmp_path / "tracks", ["TUD-Campus"])
    assert caplog.text == ""
    assert_all_missed(metrics)


def assert_all_missed(metrics: dict) -> None:
    gt_boxes = len((MM_DATA / "TUD-Campus" / "gt.txt").read_text().splitlines())
    for row in (metrics["TUD-Campus"], metrics["OVERALL"], metrics["motmetrics"]["OVERALL"]):
        assert (row["FP"], row["FN"], row["IDS"], row["MT"]) == (0, gt_boxes, 0, 0)
        assert row["MOTA"] == 0.0
    assert metrics["OVERALL"]["HOTA"] == 0.0


def test_sequence_without_ground_truth_is_refused(tmp_path):
    write_seqinfo(tmp_path / "gt" / "TEST-01", "TEST-01", 5)
    (tmp_path / "tracks").mkdir()
    assert not has_ground_truth(tmp_path / "gt" / "TEST-01")
    with pytest.raises(FileNotFoundError, match="TEST-01: no ground truth.*has_ground_truth"):
        evaluate_mot(tmp_path / "gt", tmp_path / "tracks")


def test_missing_folders_are_named(tud, tmp_path):
    with pytest.raises(FileNotFoundError, match="ground-truth root .*nowhere"):
        evaluate_mot(tmp_path / "nowhere", tud / "tracks")
    with pytest.raises(FileNotFoundError, match="tracks folder .*nowhere"):
        evaluate_mot(tud / "gt", tmp_path / "nowhere")


def test_result_frame_beyond_the_sequence_names_file_and_line(tud, tmp_path):
    (tmp_path / "tracks").mkdir()
    path = tmp_path / "tracks" / "TUD-Campus.txt"
    path.write_text("1,1,10,10,20,40,1,-1,-1,-1\n72,1,10,10,20,40,1,-1,-1,-1\n")
    with pytest.raises(
        MOTFormatError, match=r"TUD-Campus.txt line 2: frame 72 is beyond seqLength"
    ):
        evaluate_mot(tud / "gt", tmp_path / "tracks", ["TUD-Campus"])


# ---------------------------------------------------------------------------- MOT17-mini


def perturbed_tracks(gt_path: Path, seed: int) -> list:
    """Class-1 flag-1 gt boxes with ~15% dropped, ~30% jittered, two ids swapped from frame 3,
    plus boxes on distractors (static people, reflections, ...) and two pure false positives."""
    gt = np.loadtxt(gt_path, delimiter=",", ndmin=2)
    rng = np.random.default_rng(seed)
    people = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
    rows = people[rng.random(len(people)) > 0.15].copy()
    jitter = rng.random(len(rows)) < 0.3
    rows[jitter, 2:4] += rng.normal(0.0, 0.15, (int(jitter.sum()), 2)) * rows[jitter, 4:6]
    a, b = np.unique(rows[:, 1])[:2]
    late_a = (rows[:, 1] == a) & (rows[:, 0] >= 3)
    late_b = (rows[:, 1] == b) & (rows[:, 0] >= 3)
    rows[late_a, 1], rows[late_b, 1] = b, a
    distractors = gt[np.isin(gt[:, 7], [2, 7, 8, 12])][:6].copy()
    distractors[:, 1] += 100_000
    rows = np.concatenate([rows, distractors])
    tracks = [(int(r[0]), int(r[1]), *r[2:6], 0.9) for r in rows]
    tracks += [(1, 200_001, 5.0, 5.0, 30.0, 60.0, 0.5), (2, 200_002, 50.0, 5.0, 30.0, 60.0, 0.5)]
    return sorted(tracks)


def mini_sequences(shared_data: Path) -> tuple:
    root = shared_data / "MOT17-mini" / "train"
    if not root.is_dir():
        pytest.skip(f"MOT17-mini not found at {root}")
    return root, sorted(p.name for p in root.iterdir() if has_ground_truth(p))


def test_mot17_mini_equals_trackeval_and_motmetrics_run_directly(shared_data, tmp_path):
    root, seqs = mini_sequences(shared_data)
    tracks = {}
    for seed, name in enumerate(seqs):
        tracks[name] = tmp_path / "tracks" / f"{name}.txt"
        write_mot_results(tracks[name], perturbed_tracks(root / name / "gt" / "gt.txt", seed))
    metrics = evaluate_mot(root, tmp_path / "tracks", seqs)

    raw = trackeval_direct(root, seqs, tracks, "MOT17", tmp_path / "direct")
    for name in seqs:
        assert_same_as_trackeval(metrics[name], raw[name])
    assert_same_as_trackeval(metrics["OVERALL"], raw["COMBINED_SEQ"])
    pairs = {name: (root / name / "gt" / "gt.txt", tracks[name]) for name in seqs}
    assert_same_as_motmetrics(metrics["motmetrics"], motmetrics_direct(pairs))

    overall = metrics["OVERALL"]
    assert 0 < overall["MOTA"] < 100 and 0 < overall["IDF1"] < 100 and overall["IDS"] > 0
    # The documented difference: trackeval drops the boxes on distractors, motmetrics counts them.
    assert metrics["motmetrics"]["OVERALL"]["FP"] > overall["FP"]
    assert metrics["motmetrics"]["OVERALL"]["FN"] == overall["FN"]


def test_mot17_mini_perfect_copy_scores_100(shared_data, tmp_path):
    root, seqs = mini_sequences(shared_data)
    for name in seqs:
        gt = np.loadtxt(root / name / "gt" / "gt.txt", delimiter=",", ndmin=2)
        people = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
        rows = sorted((int(r[0]), int(r[1]), *r[2:6], 1.0) for r in people)
        write_mot_results(tmp_path / f"{name}.txt", rows)
    metrics = evaluate_mot(root, tmp_path, seqs)
    for key in ("MOTA", "IDF1", "MOTP", "HOTA", "DetA", "AssA"):
        assert metrics["OVERALL"][key] == pytest.approx(100.0), key
    for key in ("MOTA", "IDF1", "MOTP"):
        assert metrics["motmetrics"]["OVERALL"][key] == pytest.approx(100.0), key
    assert (metrics["OVERALL"]["FP"], metrics["OVERALL"]["FN"], metrics["OVERALL"]["IDS"]) == (
        0,
        0,
        0,
    )


# ---------------------------------------------------------------------------- PETS09-S2L1 (MOT15)

PETS = "PETS09-S2L1"
PETS_FRAMES = (150, 189)  # 40 frames with flag-0 (ignored) rows, for speed


def pets_gt(shared_data: Path) -> tuple:
    root = shared_data / "MOT15" / "train"
    if not (root / PETS / "gt" / "gt.txt").is_file():
        pytest.skip(f"{PETS} not found under {root}")
    return root, np.loadtxt(root / PETS / "gt" / "gt.txt", delimiter=",", ndmin=2)


def test_mot15_perfect_copy_of_pets09_scores_100(shared_data, tmp_path):
    """MOT15 rules: 10-column gt, no classes; the flag-0 rows are ignored, so a copy of the
    others is perfect."""
    root, gt = pets_gt(shared_data)
    first, last = PETS_FRAMES
    kept = gt[(gt[:, 6] != 0) & (gt[:, 0] >= first) & (gt[:, 0] <= last)]
    assert 0 < len(kept) < ((gt[:, 0] >= first) & (gt[:, 0] <= last)).sum()  # flag-0 rows exist
    write_mot_results(
        tmp_path / f"{PETS}.txt", [(int(r[0]), int(r[1]), *r[2:6], 1.0) for r in kept]
    )
    metrics = evaluate_mot(root, tmp_path, [PETS], frame_ranges={PETS: PETS_FRAMES})
    for row in (metrics["OVERALL"], metrics["motmetrics"]["OVERALL"]):
        assert row["MOTA"] == pytest.approx(100.0) and row["IDF1"] == pytest.approx(100.0)
        assert (row["FP"], row["FN"], row["IDS"]) == (0, 0, 0)
    assert metrics["OVERALL"]["HOTA"] == pytest.approx(100.0)


def test_mot15_trackeval_and_motmetrics_agree_on_pets09(shared_data, tmp_path):
    """On MOT15 gt both libraries see the same gt rows (flag not 0) and no distractor removal:
    every count and MOTA, IDF1, MOTP agree; a box on a flag-0 row is a false positive in both."""
    root, gt = pets_gt(shared_data)
    first, last = PETS_FRAMES
    tracks = perturbed_tracks_mot15(gt, seed=3)
    write_mot_results(tmp_path / f"{PETS}.txt", tracks)
    metrics = evaluate_mot(root, tmp_path, [PETS], frame_ranges={PETS: PETS_FRAMES})
    ours, cross = metrics["OVERALL"], metrics["motmetrics"]["OVERALL"]
    assert 0 < ours["MOTA"] < 100 and ours["FP"] > 0 and ours["FN"] > 0 and ours["IDS"] > 0
    for key in ("MOTA", "IDF1", "MOTP"):
        assert ours[key] == pytest.approx(cross[key], abs=1e-9), key
    for key in ("FP", "FN", "IDS", "ML"):
        assert ours[key] == cross[key], key
    with_flag_0 = tracks + [
        (int(r[0]), 500_000 + i, *r[2:6], 1.0)
        for i, r in enumerate(gt[(gt[:, 6] == 0) & (gt[:, 0] >= first) & (gt[:, 0] <= last)])
    ]
    write_mot_results(tmp_path / f"{PETS}.txt", with_flag_0)
    more = evaluate_mot(root, tmp_path, [PETS], frame_ranges={PETS: PETS_FRAMES})
    added = len(with_flag_0) - len(tracks)
    for row, before in ((more["OVERALL"], ours), (more["motmetrics"]["OVERALL"], cross)):
        assert (row["FP"], row["FN"]) == (before["FP"] + added, before["FN"])


def perturbed_tracks_mot15(gt: np.ndarray, seed: int) -> list:
    """Flag-1 boxes of PETS_FRAMES with ~15% dropped, ~30% jittered and two ids swapped midway."""
    rng = np.random.default_rng(seed)
    first, last = PETS_FRAMES
    rows = gt[(gt[:, 6] != 0) & (gt[:, 0] >= first) & (gt[:, 0] <= last)].copy()
    rows = rows[rng.random(len(rows)) > 0.15]
    jitter = rng.random(len(rows)) < 0.3
    rows[jitter, 2:4] += rng.normal(0.0, 0.15, (int(jitter.sum()), 2)) * rows[jitter, 4:6]
    a, b = np.unique(rows[:, 1])[:2]
    late_a = (rows[:, 1] == a) & (rows[:, 0] >= first + 20)
    late_b = (rows[:, 1] == b) & (rows[:, 0] >= first + 20)
    rows[late_a, 1], rows[late_b, 1] = b, a
    return sorted((int(r[0]), int(r[1]), *r[2:6], 0.9) for r in rows)


# ---------------------------------------------------------------------------- files


def test_write_read_round_trip(tmp_path):
    rows = [(1, 3, 10.126, 20.0, 30.5, 60.25, 0.91234), (2, 3, -4.0, 0.004, 1.0, 2.0, 0.5)]
    path = tmp_path / "out" / "SEQ.txt"
    write_mot_results(path, rows)
    assert path.read_text().splitlines()[0] == "1,3,10.13,20.00,30.50,60.25,0.912,-1,-1,-1"
    assert [p.name for p in path.parent.iterdir()] == ["SEQ.txt"]  # no temporary left behind
    values = read_results(path)
    assert values.shape == (2, 7)
    expected = [[1, 3, 10.13, 20.0, 30.5, 60.25, 0.912], [2, 3, -4.0, 0.0, 1.0, 2.0, 0.5]]
    np.testing.assert_array_equal(values, expected)


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("3,1,10,10,20", "expected 7 to 10 comma-separated numbers, got '3,1,10,10,20'"),
        ("3,1,10,10,20,40,1,-1,-1,-1,7", "expected 7 to 10 comma-separated numbers"),
        ("3,1,10,ten,20,40,1,-1,-1,-1", "expected 7 to 10 comma-separated numbers"),
        ("3,1,10,10,-20,40,1,-1,-1,-1", "expected box width and height >= 0, got w=-20 h=40"),
        ("0,1,10,10,20,40,1,-1,-1,-1", r"expected a frame number >= 1 \(integer\), got 0"),
        ("3,1.5,10,10,20,40,1,-1,-1,-1", r"expected an identity >= 0 \(integer\), got 1.5"),
        ("3,1,10,nan,20,40,1,-1,-1,-1", "expected finite numbers"),
        ("1,1,11,11,20,40,1,-1,-1,-1", "frame 1 id 1 repeats line 1"),
    ],
)
def test_malformed_result_line_names_file_and_line(tmp_path, bad_line, message):
    path = tmp_path / "SEQ.txt"
    path.write_text(f"1,1,10,10,20,40,1,-1,-1,-1\n\n2,1,10,10,20,40,1,-1,-1,-1\n{bad_line}\n")
    with pytest.raises(MOTFormatError, match=message) as error:
        read_results(path)
    assert error.value.line == 4 and error.value.path == str(path)
    assert str(error.value).startswith(f"{path} line 4: expected ")


def test_malformed_gt_line_is_reported_before_evaluation(tud, tmp_path):
    shutil.copytree(tud / "gt" / "TUD-Campus", tmp_path / "TUD-Campus")
    gt = tmp_path / "TUD-Campus" / "gt" / "gt.txt"
    lines = gt.read_text().splitlines()
    lines[6] = "1,7,10,10,20"
    gt.write_text("\n".join(lines) + "\n")
    expected = r"gt.txt line 7: expected 9 or 10 comma-separated numbers, got '1,7,10,10,20'"
    with pytest.raises(MOTFormatError, match=expected) as error:
        evaluate_mot(tmp_path, tud / "tracks")
    assert "flag,class,visibility" in str(error.value)


def test_repeated_gt_identity_is_reported_before_evaluation(tud, tmp_path):
    shutil.copytree(tud / "gt" / "TUD-Campus", tmp_path / "TUD-Campus")
    gt = tmp_path / "TUD-Campus" / "gt" / "gt.txt"
    lines = gt.read_text().splitlines()
    gt.write_text("\n".join([*lines, lines[0]]) + "\n")
    expected = rf"gt.txt line {len(lines) + 1}: .*frame 1 id 1 repeats line 1"
    with pytest.raises(MOTFormatError, match=expected):
        evaluate_mot(tmp_path, tud / "tracks")


def test_report_table_json_and_csv(tud_metrics, tmp_path):
    metrics = dict(tud_metrics, not_evaluated=["MOT17-01-FRCNN"])
    table = format_table(metrics)
    lines = table.splitlines()
    assert lines[0].startswith("trackeval")
    assert lines[1].split() == [
        "Sequence",
        *METRICS,
    ]
    assert lines[2].split()[:2] == ["TUD-Campus", "52.6"]
    assert lines[4].split()[0] == "OVERALL" and lines[4].split()[6:9] == ["58", "602", "14"]
    assert len({len(line) for line in lines[1:5]}) == 1  # fixed width
    assert "motmetrics" in lines[6] and lines[-1].endswith("MOT17-01-FRCNN")

    json_path, csv_path = save_metrics(metrics, tmp_path / "out")
    assert json.loads(Path(json_path).read_text()) == metrics
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert [(r["source"], r["sequence"]) for r in rows] == [
        (source, name) for source in ("trackeval", "motmetrics") for name in (*TUD, "OVERALL")
    ]
    assert float(rows[0]["MOTA"]) == tud_metrics["TUD-Campus"]["MOTA"]
    assert rows[3]["HOTA"] == ""  # motmetrics has no HOTA


def test_cli_end_to_end(tud, tmp_path):
    out = tmp_path / "eval" / "metrics.json"
    command = [sys.executable, "-m", "lwf_track.evaluation", "--gt-root", str(tud / "gt")]
    command += ["--tracks", str(tud / "tracks"), "--out", str(out), "--seqs", "TUD-Campus"]
    done = subprocess.run(
        command, check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "TUD-Campus" in done.stdout and "OVERALL" in done.stdout
    metrics = json.loads(out.read_text())
    assert list(metrics) == ["TUD-Campus", "OVERALL", "motmetrics"]
    assert metrics["TUD-Campus"]["FP"] == 13
    assert (out.parent / "metrics.csv").is_file()


def test_cli_compares_two_result_folders_on_part_of_the_frames(tud, tmp_path, capsys):
    """``--compare`` against a copy with every other frame's boxes removed: ours (the original)
    is better on MOTA beyond the interval; ``--frames second_half`` scores those frames only."""
    worse = tmp_path / "worse"
    worse.mkdir()
    for name in TUD:
        lines = (tud / "tracks" / f"{name}.txt").read_text().splitlines(keepends=True)
        kept = [line for line in lines if int(line.split(",")[0]) % 2]
        (worse / f"{name}.txt").write_text("".join(kept))
    out = tmp_path / "eval" / "metrics.json"
    argv = ["--gt-root", str(tud / "gt"), "--tracks", str(tud / "tracks"), "--out", str(out)]
    compare = ["--compare", str(worse), "--block-seconds", "2"]
    assert cli_main([*argv, "--frames", "second_half", *compare]) == 0
    printed = capsys.readouterr().out
    comparison = json.loads((out.parent / "metrics_comparison.json").read_text())
    assert comparison["frames"] == "second_half" and comparison["compare"] == str(worse)
    assert comparison["block_seconds"] == 2.0
    mota = comparison["difference"]["MOTA"]
    assert mota["low"] > 0 and mota["verdict"] == "better"
    assert f"MOTA {tud / 'tracks'} - {worse}: {mota['mean']:+.2f}" in printed
    halves = {
        name: frame_range(read_seq_length(tud / "gt" / name / "seqinfo.ini"), "second_half")
        for name in TUD
    }
    expected = evaluate_mot(tud / "gt", tud / "tracks", frame_ranges=halves)
    assert json.loads(out.read_text())["OVERALL"] == expected["OVERALL"]


@pytest.mark.parametrize("missing", ["--gt-root", "--tracks"])
def test_cli_missing_folder_is_a_clear_error(tud, tmp_path, capsys, missing):
    args = {"--gt-root": str(tud / "gt"), "--tracks": str(tud / "tracks")}
    args[missing] = str(tmp_path / "missing")
    argv = [*chain.from_iterable(args.items()), "--out", str(tmp_path / "metrics.json")]
    assert cli_main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and str(tmp_path / "missing") in error
    assert not (tmp_path / "metrics.json").exists()


@pytest.fixture
def near_miss_sequence(tmp_path):
    """Frame 1: person 1 with a box 4 px to its right (10x20 boxes: IoU 6/14 = 0.43), a box on
    nobody, person 2 without a box; frame 2: person 1 boxed exactly."""
    seq = tmp_path / "gt" / "SEQ"
    write_seqinfo(seq, "SEQ", 2)
    (seq / "gt").mkdir()
    person = "{},{},{},0,10,20,1,-1,-1,-1\n"
    gt = person.format(1, 1, 0) + person.format(1, 2, 100) + person.format(2, 1, 0)
    (seq / "gt" / "gt.txt").write_text(gt)
    (tmp_path / "tracks").mkdir()
    tracks = person.format(1, 7, 4) + person.format(1, 8, 300) + person.format(2, 7, 0)
    (tmp_path / "tracks" / "SEQ.txt").write_text(tracks)
    return tmp_path


def test_near_misses_are_the_unmatched_pairs_that_overlap_a_little(near_miss_sequence):
    seq_dirs = {"SEQ": near_miss_sequence / "gt" / "SEQ"}
    counts = near_misses(seq_dirs, near_miss_sequence / "tracks", low_iou=0.3)["SEQ"]
    assert counts._asdict() == {
        "objects": 3,
        "false_positives": 2,
        "misses": 2,
        "switches": 0,
        "near_misses": 1,
    }
    assert counts.mota() == pytest.approx(100 * (1 - 4 / 3))
    assert counts.mota(near_misses_as_hits=True) == pytest.approx(100 * (1 - 2 / 3))
    stricter = near_misses(seq_dirs, near_miss_sequence / "tracks", low_iou=0.45)["SEQ"]
    assert stricter.near_misses == 0 and stricter.false_positives == 2
    with pytest.raises(ValueError, match="near-miss IoU"):
        near_misses(seq_dirs, near_miss_sequence / "tracks", low_iou=0.5)


def test_cli_near_misses_prints_and_writes_them(near_miss_sequence, capsys):
    root = near_miss_sequence
    out = root / "eval" / "metrics.json"
    argv = ["--gt-root", str(root / "gt"), "--tracks", str(root / "tracks"), "--out", str(out)]
    assert cli_main([*argv, "--near-misses", "0.3"]) == 0
    written = json.loads((out.parent / "metrics_near_misses.json").read_text())
    assert written["near_miss_iou"] == [0.3, 0.5]
    assert written["sequences"]["SEQ"]["near_misses"] == 1
    assert written["sequences"]["SEQ"]["MOTA_near_misses_as_hits"] == pytest.approx(100 / 3)
    assert "SEQ                 2      2      1   -33.3     33.3" in capsys.readouterr().out


def test_motmetrics_shim_restores_asfarray_only_once():
    assert import_motmetrics() is mm
    shim = np.asfarray
    assert import_motmetrics() is mm and np.asfarray is shim
    assert np.asfarray([1, 2], dtype=int).dtype == np.float64
    assert np.asfarray([1, 2], dtype=np.float32).dtype == np.float32
