"""Set-up shared by train_net.py and track_net.py: the config, and how they end on a user error."""

import os
import sys
from collections.abc import Callable

from detectron2.config import get_cfg

from ..config import add_lwf_config
from ..utils.errors import CheckpointError, MOTFormatError

# Errors that mean the user's input is missing or wrong (data, weights, config file), not a bug:
# the commands print their one-line message instead of a traceback.
USER_ERRORS = (FileNotFoundError, NotADirectoryError, MOTFormatError, CheckpointError)


def build_config(config_file: str, opts=()):
    """Default keys + lwf_track keys + the yaml + command-line overrides, frozen.

    Pure, as detectron2's ``setup()``: it reads the yaml only. What needs files (nID, whether
    MODEL.WEIGHTS exists) is settled when the model is built.
    """
    if not os.path.isfile(config_file):
        raise FileNotFoundError(f"{config_file}: config file not found (--config-file)")
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.merge_from_file(config_file)
    cfg.merge_from_list(list(opts))
    cfg.freeze()
    return cfg


def exit_on_user_error(main: Callable, *args):
    """``main(*args)``; a :data:`USER_ERRORS` ends the process with its message on one line of
    stderr and exit status 1."""
    try:
        return main(*args)
    except USER_ERRORS as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(1) from None
