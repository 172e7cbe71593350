"""The one dataset-evaluation path, in process on tiny synthetic data: ``Trainer.test`` (the end
of training and ``train_net.py --eval-only``) and ``track_datasets`` (``track_net.py --eval-only``)
write the same results under ``OUTPUT_DIR/inference``, and the latter reuses them without
inference. The commands themselves are run in tests/test_train_e2e.py."""

import json

import pytest

from e2e_helpers import CONFIG, REPO, TINY, make_synthetic_root
from lwf_track.data.datasets import register_mot_split
from lwf_track.engine import AtomicCheckpointer, Trainer, build_config
from lwf_track.engine import inference

pytestmark = pytest.mark.slow

TASK_KEYS = ("AP", "AP50", "AP75", "TPR@FAR=0.1", "TPR@FAR=0.01")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """An untrained tiny model (with every candidate box kept, so there are detections to score)
    and its checkpoint."""
    root = make_synthetic_root(tmp_path_factory.mktemp("data"))
    for split in ("train", "val"):
        register_mot_split(f"evalpath_{split}", root / "synthetic" / split, replace=True)
    out = tmp_path_factory.mktemp("out")
    opts = [*TINY, "MODEL.RETINANET.SCORE_THRESH_TEST", "0.0", "OUTPUT_DIR", str(out)]
    opts += ["DATASETS.TRAIN", "('evalpath_train',)", "DATASETS.TEST", "('evalpath_val',)"]
    cfg = build_config(str(REPO / CONFIG), opts)
    model = Trainer.build_model(cfg)
    AtomicCheckpointer(model, save_dir=str(out)).save("model")
    cfg.defrost()
    cfg.MODEL.WEIGHTS = str(out / "model.pth")
    cfg.freeze()
    return cfg, model, out / "inference"


def overall(folder):
    return json.loads((folder / "mot_metrics.json").read_text())["OVERALL"]


def test_trainer_test_writes_every_result_under_inference(setup):
    cfg, model, folder = setup
    results = Trainer.test(cfg, model)
    row = overall(folder)
    assert all(key in row for key in TASK_KEYS)
    assert 0 <= row["AP"] < 100  # an untrained model, scored
    assert results["MOT"] == {k: v for k, v in row.items() if v is not None}
    for name in ("evalpath_val_coco_format.json", "coco_instances_results.json"):
        assert (folder / name).is_file()
    assert len(list((folder / "tracks").glob("*.txt"))) == 2
    assert len(list((folder / "detections").glob("*.npz"))) == 2


def test_track_datasets_reuses_the_results_without_inference(setup, monkeypatch):
    cfg, model, folder = setup
    Trainer.test(cfg, model)
    before = overall(folder)

    def no_inference(*args, **kwargs):
        raise AssertionError("inference ran although every result was there")

    with monkeypatch.context() as patch:
        patch.setattr(inference, "inference_on_dataset", no_inference)
        inference.track_datasets(cfg, overwrite=False)
    assert overall(folder) == before
    inference.track_datasets(cfg, overwrite=True)  # recomputed from the checkpoint: the same
    assert overall(folder) == before
