"""The project's own error types: every message names the file (and line) and what was expected."""

from typing import Optional


class MOTFormatError(ValueError):
    """A MOTChallenge file (seqinfo.ini, gt.txt, det.txt, results) that cannot be read."""

    def __init__(self, path, message: str, line: Optional[int] = None):
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path} line {line}"
        super().__init__(f"{where}: {message}")
