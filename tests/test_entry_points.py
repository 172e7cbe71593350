"""The user's commands on the wrong machine or without their inputs: one clear line on stderr,
a non-zero exit, no traceback."""

import pytest
import torch

from e2e_helpers import REPO, run_command

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="shows the machine without a GPU")


def the_error(result) -> str:
    """The command's one ``error:`` line; it must have failed without a traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-3000:]
    return errors[0]


def run_in(tmp_path, args):
    """A command run from ``tmp_path`` (no datasets, no trained model there)."""
    return run_command(args, tmp_path / "datasets", check=False, cwd=tmp_path)


@NO_GPU
def test_training_on_the_gpu_without_one_says_to_use_the_cpu(tmp_path):
    args = [
        REPO / "train_net.py",
        "--config-file",
        REPO / "configs/lwf_mot16.yaml",
        "--num-gpus",
        1,
    ]
    error = the_error(run_in(tmp_path, args))
    assert "no CUDA GPU is visible" in error and "MODEL.DEVICE cpu" in error


def test_training_without_the_data_says_where_it_goes(tmp_path):
    config = REPO / "configs/lwf_mot16.yaml"
    args = [REPO / "train_net.py", "--config-file", config, "MODEL.DEVICE", "cpu"]
    error = the_error(run_in(tmp_path, args))
    assert str(tmp_path / "datasets" / "MOT16" / "train") in error and "LWF_DATASETS" in error


def test_a_missing_config_file_is_named(tmp_path):
    args = [REPO / "train_net.py", "--config-file", "configs/nope.yaml"]
    assert the_error(run_in(tmp_path, args)) == (
        "error: configs/nope.yaml: config file not found (--config-file)"
    )


def test_tracking_before_training_says_to_train_first(tmp_path):
    error = the_error(run_in(tmp_path, [REPO / "track_net.py", "--eval-only"]))
    assert "no trained model in ./output/lwf_mot16" in error
    assert "train_net.py --config-file" in error and "MODEL.WEIGHTS" in error


def test_empty_weights_are_named_before_anything_else(tmp_path):
    args = [REPO / "track_net.py", "--input", "clip.mp4", "MODEL.WEIGHTS", ""]
    error = the_error(run_in(tmp_path, args))
    assert error.startswith("error: MODEL.WEIGHTS is empty")
