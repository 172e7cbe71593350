"""MOTChallenge data: file formats, detectron2 registration (done at import) and the mapper."""

from .datasets import (
    benchmark_folders,
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
    frame_range,
    list_sequences,
    load_mot_split,
    load_sequence,
    scan_sequence,
)
from .mot_format import (
    SeqInfo,
    read_det,
    read_gt,
    read_results,
    read_seqinfo,
    write_mot_results,
)

register_all_mot()

__all__ = [
    "MOTDatasetMapper",
    "MOTSequence",
    "SeqInfo",
    "benchmark_folders",
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
    "write_mot_results",
]
