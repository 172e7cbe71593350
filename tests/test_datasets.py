"""Dataset registration: names, the LWF_DATASETS root, benchmark folders registered by convention,
lazy loading, identities across sets, the evaluator's sequence list, and the real MOT17-mini and
PETS09-S2L1 (MOT15) fixtures."""

import re
import warnings
from collections import Counter

import numpy as np
import pytest
from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog, MetadataCatalog

import lwf_track.data  # noqa: F401  (registers the built-in names at import)
from lwf_track.config import add_lwf_config
from lwf_track.data.datasets import (
    datasets_root,
    get_num_identities,
    get_sequences,
    identity_offsets,
    identity_sets,
    register_all_mot,
    register_mot_split,
)
from lwf_track.data.mapper import MOTDatasetMapper
from lwf_track.modeling import resolve_num_identities
from conftest import REPO_ROOT
from test_mot_parsers import write_sequence
from tools import demo_data

SPLITS = ("train", "train_half", "val_half", "test", "train_half_fit", "train_half_holdout")
BUILTIN = [
    f"{benchmark}_{split}" for benchmark in ("mot15", "mot16", "mot17", "mot20") for split in SPLITS
]


def box(frame: int, track_id: int) -> tuple:
    return (frame, track_id, 1, 1, 5, 5, 1, 1, 1.0)


@pytest.fixture
def restore_builtin_root():
    """Tests that re-point the built-in names put them back afterwards."""
    root = datasets_root()
    yield
    register_all_mot(root)


def test_builtin_names_are_registered_at_import():
    registered = set(DatasetCatalog.list())
    assert set(BUILTIN) <= registered
    metadata = MetadataCatalog.get("mot16_val_half")
    assert metadata.thing_classes == ["pedestrian"] and metadata.evaluator_type == "mot"
    assert metadata.frames == "second_half"


def test_env_root_is_used(tmp_path, monkeypatch, restore_builtin_root):
    (tmp_path / "synthetic" / "unit_env").mkdir(parents=True)
    monkeypatch.setenv("LWF_DATASETS", str(tmp_path))
    names = register_all_mot()
    assert "mot_synth_unit_env" in names and set(BUILTIN) <= set(names)
    assert MetadataCatalog.get("mot17_train").split_dir == str(tmp_path / "MOT17" / "train")
    assert MetadataCatalog.get("mot20_test").split_dir == str(tmp_path / "MOT20" / "test")
    assert MetadataCatalog.get("mot_synth_unit_env").split_dir == str(
        tmp_path / "synthetic" / "unit_env"
    )
    monkeypatch.delenv("LWF_DATASETS")
    assert datasets_root() == "datasets"


def test_registering_reads_no_file_and_is_idempotent(tmp_path):
    missing = tmp_path / "not_there"
    register_mot_split("unit_lazy", missing)
    register_mot_split("unit_lazy", missing)  # same arguments: fine
    with pytest.raises(ValueError, match="already registered"):
        register_mot_split("unit_lazy", missing, frames="first_half")
    with pytest.raises(FileNotFoundError, match="not_there"):
        DatasetCatalog.get("unit_lazy")
    register_mot_split("unit_lazy", tmp_path, frames="first_half", replace=True)
    assert MetadataCatalog.get("unit_lazy").frames == "first_half"
    with pytest.raises(ValueError, match="frames must be one of"):
        register_mot_split("unit_bad_frames", tmp_path, frames="middle")


def test_loading_through_dataset_catalog_records_identities(tmp_path):
    write_sequence(tmp_path / "A", 4, gt_rows=[box(1, 1), box(3, 2), box(4, 2)])
    write_sequence(tmp_path / "B", 4, gt_rows=[box(1, 5), box(4, 6)])
    register_mot_split("unit_load_train", tmp_path, frames="first_half")
    metadata = MetadataCatalog.get("unit_load_train")
    assert not hasattr(metadata, "num_identities")  # nothing read yet
    records = DatasetCatalog.get("unit_load_train")
    assert [(r["sequence"], r["frame"]) for r in records] == [
        ("A", 1),
        ("A", 2),
        ("B", 1),
        ("B", 2),
    ]
    assert {r["dataset_name"] for r in records} == {"unit_load_train"}
    assert metadata.num_identities == 2  # A:1 and B:5; ids 2 and 6 are in the second half
    assert [a["track_id"] for r in records for a in r["annotations"]] == [0, 1]


def test_combined_sets_never_share_identities(tmp_path):
    write_sequence(tmp_path / "one" / "S", 2, gt_rows=[box(1, 1), box(2, 2)])
    write_sequence(tmp_path / "two" / "S", 2, gt_rows=[box(1, 1), box(2, 2), box(2, 3)])
    register_mot_split("unit_combo_one", tmp_path / "one")
    register_mot_split("unit_combo_two", tmp_path / "two")
    names = ["unit_combo_one", "unit_combo_two", "unit_combo_one"]
    assert get_num_identities(names) == 5  # a name listed twice counts once
    assert get_num_identities("unit_combo_two") == 3
    offsets = identity_offsets(names)
    assert offsets == {"unit_combo_one": 0, "unit_combo_two": 2}
    global_ids = {
        a["track_id"] + offsets[r["dataset_name"]]
        for name in ("unit_combo_one", "unit_combo_two")
        for r in DatasetCatalog.get(name)
        for a in r["annotations"]
    }
    assert global_ids == set(range(5))


def test_detection_only_sets_add_no_identities(tmp_path):
    write_sequence(tmp_path / "one" / "S", 2, gt_rows=[box(1, 1), box(2, 2)])
    write_sequence(tmp_path / "two" / "S", 2, gt_rows=[box(1, 1), box(2, 2), box(2, 3)])
    register_mot_split("unit_idonly_one", tmp_path / "one")
    register_mot_split("unit_idonly_two", tmp_path / "two")
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.DATASETS.TRAIN = ("unit_idonly_two", "unit_idonly_one")
    cfg.DATASETS.MOT.DETECTION_ONLY = ("unit_idonly_two",)
    assert identity_sets(cfg.DATASETS.TRAIN, cfg.DATASETS.MOT.DETECTION_ONLY) == ["unit_idonly_one"]
    assert resolve_num_identities(cfg) == 2  # not 5: the second set's people are left out
    assert MOTDatasetMapper.from_config(cfg)["identity_offsets"] == {"unit_idonly_one": 0}
    with pytest.raises(ValueError, match=r"DETECTION_ONLY \['unit_other'\] not in DATASETS.TRAIN"):
        identity_sets(cfg.DATASETS.TRAIN, ("unit_other",))


def test_single_set_needs_no_loading_for_offsets():
    assert identity_offsets(("unit_never_registered",)) == {"unit_never_registered": 0}


def test_get_sequences_gives_the_split_frame_range(tmp_path):
    write_sequence(tmp_path / "S1", 7, gt_rows=[box(1, 1)], fps=25, width=80, height=60)
    write_sequence(tmp_path / "S2", 4)  # no gt
    register_mot_split("unit_seqs_val", tmp_path, frames="second_half", require_gt=False)
    sequences = get_sequences("unit_seqs_val")
    assert sequences[0] == {
        "name": "S1",
        "dir": str(tmp_path / "S1"),
        "frame_rate": 25,
        "width": 80,
        "height": 60,
        "first_frame": 4,
        "last_frame": 7,
        "has_gt": True,
    }
    assert (sequences[1]["first_frame"], sequences[1]["last_frame"]) == (3, 4)
    assert sequences[1]["has_gt"] is False
    with pytest.raises(KeyError, match="not a MOT set registered"):
        get_sequences("unit_unknown")


def test_mot17_train_sets_use_one_detector_copy(tmp_path, restore_builtin_root):
    for name in ("MOT17-02-DPM", "MOT17-02-FRCNN", "MOT17-02-SDP"):
        write_sequence(tmp_path / "MOT17" / "train" / name, 2, gt_rows=[box(1, 1), box(2, 1)])
        write_sequence(tmp_path / "MOT17" / "test" / name.replace("02", "01"), 2)
    register_all_mot(str(tmp_path))
    assert {r["sequence"] for r in DatasetCatalog.get("mot17_train")} == {"MOT17-02-FRCNN"}
    assert get_num_identities("mot17_train_half") == 1
    test_sequences = {r["sequence"] for r in DatasetCatalog.get("mot17_test")}
    assert len(test_sequences) == 3


def gt_box_counts(seq_dir) -> Counter:
    """Class-1, flag-1 rows per (sequence, frame), read independently of the loader."""
    gt = np.loadtxt(seq_dir / "gt" / "gt.txt", delimiter=",", ndmin=2)
    kept = gt[(gt[:, 7] == 1) & (gt[:, 6] == 1)]
    return Counter((seq_dir.name, int(f)) for f in kept[:, 0])


def test_real_mot17_mini_loads_as_mot17_train(shared_data, tmp_path, restore_builtin_root):
    mini = shared_data / "MOT17-mini"
    (tmp_path / "MOT17").symlink_to(mini, target_is_directory=True)
    register_all_mot(str(tmp_path))
    with pytest.warns(UserWarning) as caught:
        records = DatasetCatalog.get("mot17_train")
    messages = [str(w.message) for w in caught]
    assert sum("seqLength is" in m for m in messages) == 7
    assert any("MOT17-09-FRCNN" in m and "seqLength is 525 but" in m for m in messages)
    sequence_dirs = sorted((mini / "train").iterdir())
    assert len(sequence_dirs) == 7
    assert {r["sequence"] for r in records} == {d.name for d in sequence_dirs}
    assert len(records) == 39
    expected = Counter()
    for seq_dir in sequence_dirs:
        expected.update(gt_box_counts(seq_dir))
    counts = {(r["sequence"], r["frame"]): len(r["annotations"]) for r in records}
    assert counts == {key: expected.get(key, 0) for key in counts}
    assert sum(counts.values()) == sum(expected.values())
    track_ids = sorted({a["track_id"] for r in records for a in r["annotations"]})
    assert track_ids == list(range(len(track_ids)))
    assert MetadataCatalog.get("mot17_train").num_identities == len(track_ids)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sequences = {s["name"]: s for s in get_sequences("mot17_val_half")}
    mot17_05 = sequences["MOT17-05-FRCNN"]  # 6 images: frames 4..6 validate
    assert (mot17_05["first_frame"], mot17_05["last_frame"], mot17_05["frame_rate"]) == (4, 6, 14)


# --- benchmark folders by convention ----------------------------------------------------------


def mot15_box(frame: int, track_id: int, flag: int = 1) -> tuple:
    return (frame, track_id, 1, 1, 5, 5, flag, -1, -1, -1)


def test_every_benchmark_folder_registers_by_convention(
    tmp_path, monkeypatch, restore_builtin_root
):
    write_sequence(tmp_path / "MyBench" / "train" / "A-01", 6, gt_rows=[box(1, 1), box(5, 2)])
    write_sequence(tmp_path / "MyBench" / "test" / "A-02", 3)
    rows = [mot15_box(1, 4), mot15_box(2, 4, flag=0), mot15_box(3, 9)]
    write_sequence(tmp_path / "other" / "train" / "B-01", 4, gt_rows=rows)
    (tmp_path / "notes").mkdir()  # no train/ or test/: not a benchmark
    monkeypatch.setenv("LWF_DATASETS", str(tmp_path))
    names = register_all_mot()
    for prefix in ("mybench", "other"):
        assert {f"{prefix}_{split}" for split in SPLITS} <= set(names)
    assert set(BUILTIN) <= set(names) and not any(n.startswith("notes") for n in names)
    assert MetadataCatalog.get("mybench_val_half").split_dir == str(tmp_path / "MyBench" / "train")

    train = DatasetCatalog.get("mybench_train_half")
    assert [(r["sequence"], r["frame"]) for r in train] == [("A-01", f) for f in (1, 2, 3)]
    assert (
        get_num_identities("mybench_train_half") == 1 and get_num_identities("mybench_train") == 2
    )
    assert [r["frame"] for r in DatasetCatalog.get("mybench_val_half")] == [4, 5, 6]
    fit, holdout = (DatasetCatalog.get(f"mybench_train_half_{part}") for part in ("fit", "holdout"))
    assert [r["frame"] for r in fit] == [1, 2] and [r["frame"] for r in holdout] == [3]
    test = DatasetCatalog.get("mybench_test")
    assert [r["frame"] for r in test] == [1, 2, 3] and "annotations" not in test[0]
    # MOT15-style gt: no classes, flag 0 ignored
    other = DatasetCatalog.get("other_train")
    assert [len(r["annotations"]) for r in other] == [1, 0, 1, 0]
    assert get_num_identities("other_train") == 2


def test_absent_benchmark_fails_when_used_with_a_clear_message(tmp_path, restore_builtin_root):
    register_all_mot(str(tmp_path))  # MOT15/16/17/20 stay registered without their folders
    for name in ("mot15_train_half", "mot17_val_half"):
        with pytest.raises(FileNotFoundError) as excinfo:
            DatasetCatalog.get(name)
        message = str(excinfo.value)
        benchmark = name[:5].upper()
        assert "\n" not in message
        assert f"dataset {name!r}: {tmp_path / benchmark / 'train'} does not exist" in message
        assert (
            "set LWF_DATASETS" in message
            and f"https://motchallenge.net/data/{benchmark}/" in message
        )
    with pytest.raises(FileNotFoundError, match="mot20_test.*does not exist"):
        get_sequences("mot20_test")


def test_synthetic_split_of_a_config_says_how_to_generate_it(tmp_path, restore_builtin_root):
    names = register_all_mot(str(tmp_path))
    splits = {**demo_data.DEMO_SPLITS, **demo_data.EXPERIMENT_SPLITS, **demo_data.PETS09_SPLITS}
    generated = {f"mot_synth_{split}" for split in splits}
    in_configs = set()
    for config in (REPO_ROOT / "configs").rglob("*.yaml"):
        in_configs |= set(re.findall(r"mot_synth_\w+", config.read_text()))
    assert {"mot_synth_train", "mot_synth_val"} <= in_configs
    assert generated | in_configs <= set(names)
    with pytest.raises(FileNotFoundError) as excinfo:
        DatasetCatalog.get("mot_synth_val")
    split_dir = tmp_path / "synthetic" / "val"
    assert str(excinfo.value).startswith(f"dataset 'mot_synth_val': {split_dir} does not exist")
    assert f"python -m lwf_track.data.synthetic --out {split_dir}" in str(excinfo.value)
    assert "python -m tools.demo_data" in str(excinfo.value)


def test_demo_data_generates_every_split_a_config_trains_on_once(tmp_path, capsys):
    demo_data.main(["--data-root", str(tmp_path)])
    splits = {**demo_data.DEMO_SPLITS, **demo_data.PETS09_SPLITS}
    for split, parameters in splits.items():
        sequences = sorted((tmp_path / "synthetic" / split).glob("SYN-*"))
        assert len(sequences) == parameters.num_seqs, split
    assert capsys.readouterr().out.count(" data generated: ") == len(splits)
    demo_data.main(["--data-root", str(tmp_path)])
    assert capsys.readouterr().out.count(" data exists, with these parameters: ") == len(splits)


# --- PETS09-S2L1, the real MOT15 fixture ----------------------------------------------------------


@pytest.fixture
def pets09(shared_data, monkeypatch, restore_builtin_root):
    """The shared MOT15 folder registered through LWF_DATASETS (read only: nothing is written)."""
    if not (shared_data / "MOT15" / "train" / "PETS09-S2L1").is_dir():
        pytest.skip(f"PETS09-S2L1 not found under {shared_data / 'MOT15'}")
    monkeypatch.setenv("LWF_DATASETS", str(shared_data))
    register_all_mot()
    return shared_data / "MOT15" / "train" / "PETS09-S2L1"


def test_real_pets09_half_split(pets09):
    train = DatasetCatalog.get("mot15_train_half")
    val = DatasetCatalog.get("mot15_val_half")
    assert [r["frame"] for r in train] == list(range(1, 398))
    assert [r["frame"] for r in val] == list(range(398, 796))
    assert {r["sequence"] for r in train + val} == {"PETS09-S2L1"}
    assert (train[0]["width"], train[0]["height"], train[0]["frame_rate"]) == (480, 360, 7)

    gt = np.loadtxt(pets09 / "gt" / "gt.txt", delimiter=",")
    assert gt.shape == (4650, 10) and (gt[:, 6] == 0).sum() == 174  # what the fixture states
    assert len(np.unique(gt[:, 1])) == 19
    assert get_num_identities("mot15_train") == 19
    kept = gt[gt[:, 6] != 0]
    for records in (train, val):
        frames = [r["frame"] for r in records]
        expected = Counter(
            f for f in kept[:, 0].astype(int).tolist() if frames[0] <= f <= frames[-1]
        )
        counts = {r["frame"]: len(r["annotations"]) for r in records}
        assert counts == {f: expected.get(f, 0) for f in frames}  # flag-0 rows left out
    assert sum(len(r["annotations"]) for r in train + val) == 4650 - 174
    ignored = {(int(f), tuple(b)) for f, b in zip(gt[gt[:, 6] == 0, 0], gt[gt[:, 6] == 0, 2:6])}
    boxes = {(r["frame"], tuple(a["bbox"])) for r in train + val for a in r["annotations"]}
    assert not boxes & ignored
    ids = sorted({a["track_id"] for r in train for a in r["annotations"]})
    assert ids == list(range(get_num_identities("mot15_train_half")))
    sequences = get_sequences("mot15_val_half")
    assert [(s["name"], s["first_frame"], s["last_frame"]) for s in sequences] == [
        ("PETS09-S2L1", 398, 795)
    ]
    fit, holdout = DatasetCatalog.get("mot15_train_half_fit"), DatasetCatalog.get(
        "mot15_train_half_holdout"
    )
    assert [r["frame"] for r in fit + holdout] == [r["frame"] for r in train]
    assert fit[-1]["frame"] == 297 and get_num_identities("mot15_train_half_fit") == 10


@pytest.mark.parametrize("config", ["lwf_pets09_cpu_from_demo", "lwf_pets09_cpu_from_demo_mix"])
def test_pets09_from_demo_loads_every_weight_but_the_identity_classifier(pets09, tmp_path, config):
    """The from-demo configs start from the demo's checkpoint, whose classifier holds the
    synthetic people: that one is left out, the rest is loaded, and the new classifier has one row
    per identity of the config's real training set (the synthetic mix adds none)."""
    import torch

    from lwf_track.engine import AtomicCheckpointer, Trainer, build_config

    demo = build_config(
        str(REPO_ROOT / "configs/lwf_synthetic_cpu.yaml"), ["MODEL.REID.NUM_IDENTITIES", "746"]
    )
    demo_model = Trainer.build_model(demo)
    AtomicCheckpointer(demo_model, save_dir=str(tmp_path)).save("demo")
    cfg = build_config(
        str(REPO_ROOT / f"configs/{config}.yaml"), ["MODEL.WEIGHTS", str(tmp_path / "demo.pth")]
    )
    with_identities = identity_sets(cfg.DATASETS.TRAIN, cfg.DATASETS.MOT.DETECTION_ONLY)
    assert with_identities == ["mot15_train_half"]  # a synthetic mix teaches detection only
    assert cfg.MODEL.REID.NUM_IDENTITIES == get_num_identities(with_identities)
    torch.manual_seed(1)  # another initialisation than the demo model's
    model = Trainer.build_model(cfg)
    AtomicCheckpointer(model).resume_or_load(cfg.MODEL.WEIGHTS, resume=False)  # as training does
    loaded, demo_state = model.state_dict(), demo_model.state_dict()
    assert loaded["id_classifier.fc.weight"].shape == (cfg.MODEL.REID.NUM_IDENTITIES, 64)
    assert demo_state["id_classifier.fc.weight"].shape == (746, 64)
    for key, value in demo_state.items():
        if not key.startswith("id_classifier."):
            torch.testing.assert_close(loaded[key], value, msg=key)
