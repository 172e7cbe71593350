"""A DetectionCheckpointer whose files never exist half-written under their final name."""

import os
import re

from detectron2.checkpoint import DetectionCheckpointer

from ..utils.checkpoint_file import LOAD_ERRORS, first_line
from ..utils.errors import CheckpointError
from ..utils.io import atomic_torch_save, atomic_write_text

# detectron2's tag file in a run's OUTPUT_DIR naming its newest checkpoint (what --resume loads)
LAST_CHECKPOINT = "last_checkpoint"
# What ``atomic_open`` leaves beside a checkpoint (or the ``last_checkpoint`` tag) when the process
# is killed mid-save: "." + final name + "." + tempfile.mkstemp's random suffix.
_TEMPORARY = re.compile(rf"^\.(?:.+\.pth|{LAST_CHECKPOINT})\.[A-Za-z0-9_]+$")


def has_checkpoint(output_dir) -> bool:
    """Whether ``output_dir`` holds a checkpoint that ``--resume`` would load."""
    return os.path.isfile(os.path.join(output_dir, LAST_CHECKPOINT))


class AtomicCheckpointer(DetectionCheckpointer):
    """Writes each checkpoint to a temporary file and renames it, so a kill mid-save leaves the
    previous checkpoint and the ``last_checkpoint`` tag intact (resume always finds a whole file).

    A SIGKILL mid-save cannot remove its temporary file (``.model_0000009.pth.<random>``); the next
    save removes such leftovers, so a run that was killed and resumed to the end leaves none.
    Loading a truncated or corrupt file raises :class:`CheckpointError` naming it.
    """

    def save(self, name: str, **kwargs) -> None:
        if not self.save_dir or not self.save_to_disk:
            return
        data = {"model": self.model.state_dict()}
        data.update({key: obj.state_dict() for key, obj in self.checkpointables.items()})
        data.update(kwargs)
        basename = f"{name}.pth"
        save_file = os.path.join(self.save_dir, basename)
        self.remove_stale_temporaries()
        self.logger.info(f"Saving checkpoint to {save_file}")
        atomic_torch_save(data, save_file)
        self.tag_last_checkpoint(basename)

    def tag_last_checkpoint(self, last_filename_basename: str) -> None:
        atomic_write_text(os.path.join(self.save_dir, LAST_CHECKPOINT), last_filename_basename)

    def remove_stale_temporaries(self) -> list:
        """Delete temporary checkpoint files left by a killed save; returns their names.

        Only the main process saves, one checkpoint at a time, so any such file is a leftover.
        """
        try:
            names = os.listdir(self.save_dir)
        except FileNotFoundError:
            return []
        stale = sorted(name for name in names if _TEMPORARY.match(name))
        for name in stale:
            try:
                os.remove(os.path.join(self.save_dir, name))
            except FileNotFoundError:
                pass
        if stale:
            self.logger.info(f"Removed temporary files of an interrupted save: {', '.join(stale)}")
        return stale

    def _load_file(self, filename: str):
        try:
            return super()._load_file(filename)
        except LOAD_ERRORS as error:
            raise CheckpointError(filename, first_line(error)) from error
