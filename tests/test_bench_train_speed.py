"""bench/train_speed.py builds what it compares: one loop per set-up, the layout and precision it
names, all from the same initial weights."""

import torch

from detectron2.engine import SimpleTrainer

from bench.train_speed import SETUPS, build_loops
from lwf_track.engine import trainer as trainer_module
from lwf_track.engine.trainer import CPUAutocastTrainer
from test_model import batch, tiny_cfg


def test_each_setup_gets_its_layout_and_loop_from_the_same_initial_weights(monkeypatch):
    monkeypatch.setattr(trainer_module, "cpu_supports_bfloat16", lambda: True)
    loops = build_loops(tiny_cfg(), [batch()])
    assert list(loops) == list(SETUPS)
    for name, (channels_last, amp) in SETUPS.items():
        assert type(loops[name]) is (CPUAutocastTrainer if amp else SimpleTrainer)
        weight = loops[name].model.head.cls_score.weight
        assert weight.is_contiguous(memory_format=torch.channels_last) == channels_last
    first, *others = [loop.model.state_dict() for loop in loops.values()]
    for state in others:
        for key, value in first.items():
            torch.testing.assert_close(state[key], value)
