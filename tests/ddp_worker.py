"""Two gloo processes train a few iterations; each rank saves its parameters (for a test)."""

import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from detectron2.utils import comm  # noqa: E402

from e2e_helpers import TINY  # noqa: E402
from lwf_track.engine import Trainer, build_config, launch_cpu  # noqa: E402


def main(out: str):
    cfg = build_config(
        str(REPO / "configs/lwf_synthetic_cpu.yaml"),
        [*TINY, "SOLVER.MAX_ITER", "3", "SOLVER.IMS_PER_BATCH", "4", "OUTPUT_DIR", out],
    )
    torch.manual_seed(comm.get_rank())  # different init per rank: DDP must broadcast rank 0's
    trainer = Trainer(cfg)
    model = trainer.model.module
    if comm.is_main_process():
        torch.save(
            {k: v.detach().clone() for k, v in model.named_parameters()}, Path(out) / "initial.pth"
        )
    trainer.train()
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    torch.save(params, Path(out) / f"rank{comm.get_rank()}.pth")


if __name__ == "__main__":
    Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
    launch_cpu(main, 2, args=(sys.argv[1],))
