"""The README's experiment tables are copies of the generated ``<benchmark>/<grid>.md`` files.

A block of the README between ``<!-- begin results/<benchmark>/<grid>.md -->`` and
``<!-- end results/<benchmark>/<grid>.md -->`` is replaced by that file, so no number in it is
typed by hand and every table there is the one the result files give.
"""

import re
from pathlib import Path

from lwf_track.utils.io import atomic_write_text

BLOCK = re.compile(
    r"(<!-- begin results/(?P<key>[\w.-]+/[\w.-]+\.md) -->\n)(?P<body>.*?)"
    r"(<!-- end results/(?P=key) -->)",
    re.DOTALL,
)


def readme_blocks(text: str) -> dict[str, str]:
    """``{"<benchmark>/<grid>.md": body}`` of every generated block of a README's text."""
    return {m["key"]: m["body"] for m in BLOCK.finditer(text)}


def sync_readme(readme: Path, results_root: Path) -> list[str]:
    """Copy every block's file under ``results_root`` into ``readme``; returns the blocks that
    changed. A block whose file does not exist is an error naming it."""
    text = readme.read_text()
    missing = [key for key in readme_blocks(text) if not (results_root / key).is_file()]
    if missing:
        raise ValueError(f"{readme}: generated blocks name files not in {results_root}: {missing}")
    changed = []

    def fill(match) -> str:
        body = (results_root / match["key"]).read_text()
        if body != match["body"]:
            changed.append(match["key"])
        return match.group(1) + body + match.group(4)

    updated = BLOCK.sub(fill, text)
    if changed:
        atomic_write_text(str(readme), updated)
    return changed
