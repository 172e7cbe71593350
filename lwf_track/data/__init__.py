"""MOTChallenge data: parsers, detectron2 registration (done at import) and the dataset mapper."""

from .datasets import (
    datasets_root,
    get_num_identities,
    get_sequences,
    identity_offsets,
    register_all_mot,
    register_mot_split,
)
from .mapper import MOTDatasetMapper
from .mot import (
    MOTSequence,
    SeqInfo,
    frame_range,
    list_sequences,
    load_mot_split,
    load_sequence,
    read_det,
    read_gt,
    read_results,
    read_seqinfo,
    scan_sequence,
)

register_all_mot()

__all__ = [
    "MOTDatasetMapper",
    "MOTSequence",
    "SeqInfo",
    "datasets_root",
    "frame_range",
    "get_num_identities",
    "get_sequences",
    "identity_offsets",
    "list_sequences",
    "load_mot_split",
    "load_sequence",
    "read_det",
    "read_gt",
    "read_results",
    "read_seqinfo",
    "register_all_mot",
    "register_mot_split",
    "scan_sequence",
]
