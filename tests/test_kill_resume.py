"""Crash safety: train_net.py killed with SIGKILL at random points and resumed with --resume each
time ends at exactly SOLVER.MAX_ITER; every checkpoint on disk is whole after every kill, and the
temporary file of a killed save is removed by the next save."""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from e2e_helpers import REPO, make_synthetic_root, train_command
from lwf_track.engine import AtomicCheckpointer
from lwf_track.engine import hooks as engine_hooks

MAX_ITER = 24  # room for three kills even on a fast machine
PERIOD = 2
# Tiny and quick: frozen backbone (small checkpoints, no backbone optimiser state), one image per
# batch, no evaluation at the end.
OPTS = [
    "SOLVER.MAX_ITER",
    str(MAX_ITER),
    "SOLVER.CHECKPOINT_PERIOD",
    str(PERIOD),
    "SOLVER.IMS_PER_BATCH",
    "1",
    "MODEL.BACKBONE.FREEZE_AT",
    "5",
    "DATASETS.TEST",
    "()",
]
KILLS = 3
SEED = 6
TRAIN_LOG = engine_hooks.TRAIN_METRICS_FILE  # the JSON training log
TEMPORARY = re.compile(r"^\.(.+\.pth|last_checkpoint)\.[A-Za-z0-9_]+$")  # ".<final name>.<random>"


def start_training(out: Path, data_root: Path, log: Path, resume: bool) -> subprocess.Popen:
    flags = ["--resume"] if resume else []
    env = dict(os.environ, LWF_DATASETS=str(data_root), OMP_NUM_THREADS="2")
    with open(log, "w") as stream:  # a file, not a pipe: a full pipe would stall the child
        return subprocess.Popen(
            [sys.executable, *map(str, train_command(out, flags=flags, opts=OPTS))],
            cwd=REPO,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


def tagged_iteration(out: Path) -> int:
    """Iteration of the checkpoint named by last_checkpoint (-1 when there is none)."""
    try:
        name = (out / "last_checkpoint").read_text().strip()
    except FileNotFoundError:
        return -1
    if name == "model_final.pth":
        return MAX_ITER - 1
    return int(re.fullmatch(r"model_(\d{7})\.pth", name).group(1))


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)  # as --resume loads it


def assert_every_checkpoint_is_whole(out: Path) -> int:
    """Every ``*.pth`` under its final name loads; returns the iteration last_checkpoint names."""
    for path in sorted(out.glob("*.pth")):
        checkpoint = load(path)
        assert "model" in checkpoint and "iteration" in checkpoint, path
        if path.name != "model_final.pth":
            assert checkpoint["iteration"] == int(path.stem.split("_")[1]), path
    name = (out / "last_checkpoint").read_text().strip()
    iteration = load(out / name)["iteration"]
    assert iteration == tagged_iteration(out)
    return iteration


def wait_and_kill(proc, out: Path, log: Path, saved: int, delay, timeout: float = 120) -> None:
    """Wait for a checkpoint newer than ``saved`` (progress every launch), then SIGKILL ``delay``
    seconds later or, with ``delay=None``, at the moment the next checkpoint is being written."""

    def alive() -> None:
        assert proc.poll() is None, f"training ended early:\n{log.read_text()[-3000:]}"
        assert time.time() < deadline, f"nothing to wait for in {timeout} s"

    deadline = time.time() + timeout
    try:
        while tagged_iteration(out) <= saved:
            alive()
            time.sleep(0.02)
        if delay is None:  # poll for the temporary file; after a missed save, kill at once
            reached = tagged_iteration(out)
            while not [n for n in os.listdir(out) if TEMPORARY.match(n) and ".pth." in n]:
                if tagged_iteration(out) > reached:
                    break
                alive()
                time.sleep(0.002)
        else:
            time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_sigkill_at_random_points_and_resume_ends_at_max_iter(tmp_path):
    data_root = make_synthetic_root(tmp_path / "data")
    out = tmp_path / "run"
    rng = random.Random(SEED)
    delays = [rng.uniform(0.0, 0.6) for _ in range(KILLS)]  # seconds after a new checkpoint
    delays[1] = None  # the second kill lands in the middle of a save
    saved, left_behind = -1, []
    for launch, delay in enumerate(delays):
        log = tmp_path / f"launch{launch}.log"
        proc = start_training(out, data_root, log, resume=launch > 0)
        wait_and_kill(proc, out, log, saved, delay)
        if launch > 0:
            assert f"Starting training from iteration {saved + 1}" in log.read_text()
        saved = assert_every_checkpoint_is_whole(out)
        assert saved < MAX_ITER - 1, "killed too late: raise MAX_ITER"
        left_behind += [p.name for p in out.iterdir() if p.name.startswith(".")]

    final_log = tmp_path / "final.log"
    proc = start_training(out, data_root, final_log, resume=True)
    assert proc.wait(timeout=300) == 0, final_log.read_text()[-4000:]
    assert f"Starting training from iteration {saved + 1}" in final_log.read_text()

    assert (out / "last_checkpoint").read_text().strip() == "model_final.pth"
    assert assert_every_checkpoint_is_whole(out) == MAX_ITER - 1  # iterations 0..MAX_ITER-1
    iterations = sorted(load(p)["iteration"] for p in out.glob("model_0*.pth"))
    assert iterations == list(range(PERIOD - 1, MAX_ITER, PERIOD))
    records = []
    for line in (out / TRAIN_LOG).read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a kill; resume appends after it
            continue
    assert records[-1]["iteration"] == MAX_ITER - 1
    assert max(r["iteration"] for r in records) == MAX_ITER - 1
    # a killed save may leave its temporary file; the save after the resume removes it
    assert all(TEMPORARY.match(name) for name in left_behind), left_behind
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
    shutil.rmtree(out)  # a dozen checkpoints of ~50 MB: do not keep them in pytest's tmp folders


KILL_MID_WRITE = """
import os, signal, sys
from lwf_track.utils.io import atomic_open
context = atomic_open(sys.argv[1], "wb")
stream = context.__enter__()
stream.write(b"half a checkpoint")
stream.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_save_killed_mid_write_keeps_the_old_file_and_the_next_save_cleans_up(tmp_path):
    checkpointer = AtomicCheckpointer(nn.Linear(2, 2), save_dir=str(tmp_path))
    checkpointer.save("model_0000003", iteration=3)
    before = load(tmp_path / "model_0000003.pth")
    target = tmp_path / "model_0000003.pth"
    result = subprocess.run([sys.executable, "-c", KILL_MID_WRITE, str(target)], cwd=REPO)
    assert result.returncode == -signal.SIGKILL
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert len(leftovers) == 1 and leftovers[0].startswith(".model_0000003.pth.")
    assert load(target)["iteration"] == 3  # the final name still holds the whole old file
    torch.testing.assert_close(load(target)["model"], before["model"])

    (tmp_path / ".last_checkpoint.k1ll3d_x").write_text("model_00")  # a killed tag update
    (tmp_path / ".notes").write_text("not ours")  # other hidden files are left alone
    checkpointer.save("model_0000005", iteration=5)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".notes"]
    assert (tmp_path / "last_checkpoint").read_text() == "model_0000005.pth"
    assert load(tmp_path / "model_0000005.pth")["iteration"] == 5
