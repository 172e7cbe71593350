"""Stop set-up before it starts when the disk cannot hold it (a full disk half-way through a pip
install leaves a broken .venv and an ``OSError: [Errno 28]`` that does not say how much is needed).

Usage: ``python tools/check_disk.py FOLDER GIB`` (standard library only: runs before the venv).
"""

import shutil
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tools/check_disk.py FOLDER GIB", file=sys.stderr)
        return 2
    folder, needed = argv[0], float(argv[1])
    free = shutil.disk_usage(folder).free / 2**30
    if free < needed:
        print(
            f"error: {free:.1f} GiB free on the disk of {folder!r}, set-up needs about {needed:g} "
            "GiB (Makefile, NEED_GIB: torch's CUDA build, detectron2, the tests' temporary "
            "files); free some space and rerun make",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
