"""Reading a checkpoint file with errors that name it (torch's own messages do not)."""

import pickle

import torch

from .errors import CheckpointError

# What torch.load raises for a truncated, corrupt or foreign file.
LOAD_ERRORS = (RuntimeError, EOFError, pickle.UnpicklingError, ValueError)


def load_checkpoint_file(path: str, **kwargs):
    """``torch.load(path, **kwargs)`` whose errors for a truncated or corrupt file name the file
    (:class:`CheckpointError`)."""
    try:
        return torch.load(path, **kwargs)
    except LOAD_ERRORS as error:
        raise CheckpointError(path, first_line(error)) from error


def first_line(error: BaseException, limit: int = 200) -> str:
    """The error's type and the first line of its message, cut to ``limit`` characters."""
    text = (str(error).strip().splitlines() or [""])[0]
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
