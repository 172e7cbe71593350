"""A DetectionCheckpointer whose files never exist half-written under their final name."""

import os

from detectron2.checkpoint import DetectionCheckpointer

from ..utils.io import atomic_torch_save, atomic_write_text


class AtomicCheckpointer(DetectionCheckpointer):
    """Writes each checkpoint to a temporary file and renames it, so a kill mid-save leaves the
    previous checkpoint and the ``last_checkpoint`` tag intact (resume always finds a whole file).
    """

    def save(self, name: str, **kwargs) -> None:
        if not self.save_dir or not self.save_to_disk:
            return
        data = {"model": self.model.state_dict()}
        data.update({key: obj.state_dict() for key, obj in self.checkpointables.items()})
        data.update(kwargs)
        basename = f"{name}.pth"
        save_file = os.path.join(self.save_dir, basename)
        self.logger.info(f"Saving checkpoint to {save_file}")
        atomic_torch_save(data, save_file)
        self.tag_last_checkpoint(basename)

    def tag_last_checkpoint(self, last_filename_basename: str) -> None:
        atomic_write_text(os.path.join(self.save_dir, "last_checkpoint"), last_filename_basename)
