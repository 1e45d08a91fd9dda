"""Run exported ONNX models with ONNX Runtime: image reading, the
preprocessing stored in the model's metadata, and detector post-processing."""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .onnx_export import read_metadata, require_detector
from .postprocess import raw_detections

__all__ = ['read_image', 'preprocess', 'normalize_loaded', 'OnnxRuntimeModel']


def read_image(path: str) -> np.ndarray:
    """Read an image file as an RGB ``uint8`` array ``(H, W, 3)``, turned as
    its EXIF orientation says (a phone's photo upright) and a 16-bit one
    scaled to 8 bits, as mmcv's ``LoadImageFromFile`` reads it for mmdet.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a readable image (the message names it).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    from ..datasets.transforms import ImageDecodeError, rgb8_array
    if not osp.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    try:
        with Image.open(path) as img:
            return rgb8_array(ImageOps.exif_transpose(img), path)
    except (UnidentifiedImageError, OSError, ImageDecodeError) as e:
        raise ValueError(f'cannot read image {path}: {e}') from None


# the metadata's interpolation (torchvision's names) as PIL's resampling filters
_PIL_RESAMPLE = {'nearest': 0, 'bilinear': 2, 'bicubic': 3}


def preprocess(image: np.ndarray, meta: Dict[str, Any]) -> Tuple[np.ndarray, Tuple[float, float]]:
    """RGB ``uint8`` image -> ``(1, 3, H, W)`` float32 input and the
    ``(w_scale, h_scale)`` of the resize, following ``meta`` (see
    :func:`mnext_det.deploy.preprocess_metadata`)."""
    h, w = meta['input_size']
    if meta['resize'] == 'stretch':
        import cv2
        resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
        scale = (w / image.shape[1], h / image.shape[0])
    elif meta['resize'] == 'shorter_side_center_crop':
        from PIL import Image
        size = meta['resize_size']
        ih, iw = image.shape[:2]
        if ih <= iw:
            nh, nw = size, int(size * iw / ih)
        else:
            nh, nw = int(size * ih / iw), size
        method = _PIL_RESAMPLE[meta.get('interpolation', 'bicubic')]
        resized = np.asarray(Image.fromarray(image).resize((nw, nh), method))
        top, left = int(round((nh - h) / 2.)), int(round((nw - w) / 2.))
        resized = resized[top:top + h, left:left + w]
        scale = (nw / iw, nh / ih)
    else:
        raise ValueError(f"unknown resize {meta['resize']!r} in the model metadata")
    if meta['color'] == 'BGR':
        resized = resized[..., ::-1]
    x = (resized.astype(np.float32) - np.float32(meta['mean'])) / np.float32(meta['std'])
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), scale


def normalize_loaded(images: np.ndarray, meta: Dict[str, Any]) -> np.ndarray:
    """Images as mmdet's test pipeline packs them (``(N, 3, H, W)``, BGR,
    0-255, already resized) -> the model's float32 input: channel order and
    mean/std from ``meta``, as the detector's data preprocessor does."""
    images = np.asarray(images, np.float32)
    if meta['color'] == 'RGB':  # mmdet loads BGR
        images = images[:, ::-1]
    mean = np.float32(meta['mean']).reshape(1, 3, 1, 1)
    std = np.float32(meta['std']).reshape(1, 3, 1, 1)
    return np.ascontiguousarray((images - mean) / std)


class OnnxRuntimeModel:
    """An exported model in an ONNX Runtime CPU session.

    Args:
        file: ``.onnx`` file from ``tools/deploy/export.py``.
        num_threads: Intra-op threads (None: ONNX Runtime's default).
        profile_prefix: Write ONNX Runtime's per-op profile with this prefix.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not an ONNX model, or ONNX Runtime cannot
            load its graph; the message names the file.
    """

    def __init__(self, file: str, num_threads: Optional[int] = None,
                 profile_prefix: Optional[str] = None) -> None:
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
        self.file = file
        self.meta, _ = read_metadata(file)
        options = ort.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = num_threads
            options.inter_op_num_threads = 1
        if profile_prefix is not None:
            options.enable_profiling = True
            options.profile_file_prefix = profile_prefix
        try:
            self.session = ort.InferenceSession(file, options,
                                                providers=['CPUExecutionProvider'])
        except (ort_errors.Fail, ort_errors.InvalidGraph, ort_errors.InvalidProtobuf,
                ort_errors.NotImplemented, ort_errors.InvalidArgument) as e:
            raise ValueError(f'{file}: ONNX Runtime cannot load it ({e})') from None
        graph_input = self.session.get_inputs()[0]
        self.input_name = graph_input.name
        self.output_names = [o.name for o in self.session.get_outputs()]
        batch = graph_input.shape[0] if graph_input.shape else None
        self.fixed_batch = batch if isinstance(batch, int) else None  # export.py --batch N

    def __call__(self, x: np.ndarray) -> List[np.ndarray]:
        """Raw outputs for a preprocessed ``(N, 3, H, W)`` float32 batch; a
        graph exported with a fixed batch runs it in chunks of that size,
        the last one padded with zeros whose outputs are dropped."""
        x = np.ascontiguousarray(x, np.float32)
        size = self.fixed_batch
        if size is None or len(x) == size:
            return self.session.run(None, {self.input_name: x})
        chunks = []
        for start in range(0, len(x), size):
            part = x[start:start + size]
            n = len(part)
            if n < size:
                part = np.concatenate([part, np.zeros((size - n, *part.shape[1:]), part.dtype)])
            chunks.append([out[:n] for out in self.session.run(None, {self.input_name: part})])
        return [np.concatenate([chunk[i] for chunk in chunks]) for i in range(len(chunks[0]))]

    def classify(self, image: np.ndarray, topk: int = 5) -> List[Tuple[int, float]]:
        """``topk`` (class index, softmax probability) pairs for one RGB image."""
        x, _ = preprocess(image, self.meta)
        logits = self(x)[0][0].astype(np.float64)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        top = np.argsort(-probs)[:topk]
        return [(int(i), float(probs[i])) for i in top]

    def detect(self, image: np.ndarray) -> Dict[str, np.ndarray]:
        """Detections (``bboxes`` in image pixels, ``scores``, ``labels``)
        for one RGB image, post-processed with the settings in the metadata."""
        x, scale = preprocess(image, self.meta)
        return self.detect_batch(x, [scale])[0]

    def detect_batch(self, x: np.ndarray,
                     scale_factors: Sequence[Tuple[float, float]]) -> List[Dict[str, np.ndarray]]:
        """Detections in original-image pixels for a preprocessed batch, one
        ``(w_scale, h_scale)`` per image. Raw graphs (boxes + scores) are
        post-processed in numpy, end-to-end graphs (``export.py --nms``)
        have NMS inside and drop their padding (label -1)."""
        require_detector(self.file, self.meta)
        outputs = self(x)
        if self.meta.get('graph', 'raw') == 'end2end':
            dets, labels = outputs
            results = []
            for det, label, scale in zip(dets, labels, scale_factors):
                keep = label >= 0
                results.append(dict(
                    bboxes=det[keep, :4] / np.asarray(tuple(scale) * 2, np.float32),
                    scores=det[keep, 4], labels=label[keep].astype(np.int64)))
            return results
        boxes, scores = outputs
        return raw_detections(boxes, scores, scale_factors, self.meta)

    def class_names(self) -> Sequence[str]:
        """Class names stored at export (empty if none)."""
        return self.meta.get('classes', [])
