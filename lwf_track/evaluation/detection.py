"""Detection AP of the per-frame detections, scored by detectron2's COCOEvaluator (pycocotools).

The COCO-format gt (``<dataset>_coco_format.json``) is written here rather than converted from the
registered records, because those hold only the training boxes: the gt needs the ignore regions of
:mod:`~lwf_track.evaluation.ground_truth` as ``iscrowd`` boxes. Its images are the evaluated frames
(integer ids, with ``sequence`` and ``frame`` fields); its category 1 is the pedestrian (the model's
class 0). With the detections in ``coco_instances_results.json`` beside it, pycocotools re-scores a
run directly.
"""

import json
import math
import os
import uuid

from detectron2.data import MetadataCatalog
from detectron2.evaluation import COCOEvaluator

from ..utils.io import atomic_write_text

PEDESTRIAN_CATEGORY = 1
AP_KEYS = ("AP", "AP50", "AP75")


def coco_ground_truth(sequences, truths: dict) -> tuple:
    """COCO-format gt of every evaluated frame and ``{(sequence, frame): image id}``.

    ``sequences``: dicts of :func:`lwf_track.data.datasets.get_sequences`; ``truths``:
    ``{sequence: {frame: FrameTruth}}`` of those with gt. Without any gt the dict has no
    ``annotations`` (COCOEvaluator then only writes the detections).
    """
    images, annotations, image_ids = [], [], {}
    for sequence in sequences:
        name = sequence["name"]
        for frame in range(sequence["first_frame"], sequence["last_frame"] + 1):
            image_id = len(images) + 1
            image_ids[(name, frame)] = image_id
            images.append(
                {
                    "id": image_id,
                    "file_name": f"{name}/{frame:06d}",
                    "width": sequence["width"],
                    "height": sequence["height"],
                    "sequence": name,
                    "frame": frame,
                }
            )
            truth = truths.get(name, {}).get(frame)
            if truth is None:
                continue
            for boxes, crowd in ((truth.boxes, 0), (truth.ignore, 1)):
                for x, y, w, h in boxes.tolist():
                    annotations.append(
                        {
                            "id": len(annotations) + 1,
                            "image_id": image_id,
                            "bbox": [x, y, w, h],
                            "area": w * h,
                            "iscrowd": crowd,
                            "category_id": PEDESTRIAN_CATEGORY,
                        }
                    )
    coco = {"images": images, "categories": [{"id": PEDESTRIAN_CATEGORY, "name": "pedestrian"}]}
    if truths:
        coco["annotations"] = annotations
    return coco, image_ids


class DetectionScorer:
    """Feeds every evaluated frame's detections to a COCOEvaluator; AP, AP50, AP75 over the frames
    of the sequences with gt (a frame that got no detections counts its people as misses)."""

    def __init__(self, sequences, truths, output_dir, dataset_name, max_dets_per_image=100):
        self._gt, self._image_ids = coco_ground_truth(sequences, truths)
        self._scored_ids = [i for (name, _), i in self._image_ids.items() if name in truths]
        self._output_dir = output_dir
        self._gt_path = os.path.join(output_dir, f"{dataset_name}_coco_format.json")
        self._max_dets_per_image = max_dets_per_image
        self._evaluator = None  # built at the first frame: it writes and reads the gt file

    def add(self, sequence: str, frame: int, instances) -> None:
        """One frame's detections (``pred_boxes``, ``scores``, ``pred_classes``) on CPU."""
        if self._evaluator is None:
            self._evaluator = self._build_evaluator()
        image = {"image_id": self._image_ids[(sequence, frame)]}
        self._evaluator.process([image], [{"instances": instances}])

    def evaluate(self) -> dict:
        """``{AP, AP50, AP75}`` in %, None where not computable (no gt, no detections)."""
        results = {}
        if self._evaluator is not None:
            results = self._evaluator.evaluate(img_ids=self._scored_ids or None).get("bbox", {})
        return {key: _finite(results.get(key)) for key in AP_KEYS}

    def _build_evaluator(self) -> COCOEvaluator:
        atomic_write_text(self._gt_path, json.dumps(self._gt))
        # COCOEvaluator reads its gt file from a dataset's metadata; a private name, removed at
        # once, keeps the registered set's metadata free of this run's file.
        name = f"lwf_track_coco_gt_{uuid.uuid4().hex}"
        MetadataCatalog.get(name).set(
            json_file=self._gt_path,
            thing_classes=["pedestrian"],
            thing_dataset_id_to_contiguous_id={PEDESTRIAN_CATEGORY: 0},
        )
        try:
            evaluator = COCOEvaluator(
                name,
                tasks=("bbox",),
                distributed=False,  # the MOT evaluator gathers the frames itself
                output_dir=self._output_dir,
                max_dets_per_image=self._max_dets_per_image,
                use_fast_impl=False,  # the official pycocotools code (no compiled ops needed)
            )
        finally:
            MetadataCatalog.remove(name)
        evaluator.reset()
        return evaluator


def _finite(value):
    return None if value is None or not math.isfinite(value) else float(value)
