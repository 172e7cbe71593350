"""The project's own error types: every message names the file (and line) and what was expected."""

from typing import Optional


class MOTFormatError(ValueError):
    """A MOTChallenge file (seqinfo.ini, gt.txt, det.txt, results) that cannot be read."""

    def __init__(self, path, message: str, line: Optional[int] = None):
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path} line {line}"
        super().__init__(f"{where}: {message}")


class CheckpointError(RuntimeError):
    """A checkpoint file (``MODEL.WEIGHTS``, a resumed ``model_*.pth``) that cannot be loaded:
    truncated, corrupt, or not a checkpoint at all."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        super().__init__(
            f"{self.path}: cannot be loaded as a checkpoint ({reason}); the file is truncated, "
            "corrupt or not a PyTorch checkpoint: copy it again or point MODEL.WEIGHTS / "
            "last_checkpoint at another file"
        )
