"""Multi-process training on CPUs (gloo); on GPUs use detectron2's own ``launch`` unchanged.

detectron2's launch asserts CUDA and hard-codes NCCL. The smallest working fix: spawn the
processes, join a gloo process group, and set detectron2's local process group so ``comm`` works.
"""

import socket
from typing import Callable, Sequence

import torch.distributed as dist
import torch.multiprocessing as mp

from detectron2.utils import comm


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_cpu(main_func: Callable, num_processes: int, args: Sequence = (), dist_url=None):
    """Run ``main_func(*args)`` in ``num_processes`` gloo processes on this machine (1 = inline)."""
    if num_processes <= 1:
        return main_func(*args)
    dist_url = dist_url if dist_url and dist_url != "auto" else f"tcp://127.0.0.1:{_free_port()}"
    mp.spawn(
        _cpu_worker, nprocs=num_processes, args=(main_func, num_processes, dist_url, tuple(args))
    )


def _cpu_worker(rank: int, main_func: Callable, world_size: int, dist_url: str, args: tuple):
    dist.init_process_group("gloo", init_method=dist_url, world_size=world_size, rank=rank)
    comm._LOCAL_PROCESS_GROUP = dist.new_group(list(range(world_size)))
    comm.synchronize()
    try:
        main_func(*args)
    finally:
        dist.destroy_process_group()
