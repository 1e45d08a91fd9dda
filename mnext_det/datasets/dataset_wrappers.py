"""``ValidatedDataset``: the checks of ``tools/misc/check_dataset.py`` applied to
each sample training loads."""
import copy
import json
import logging
import multiprocessing
import os.path as osp
from typing import Any, Dict, List, Optional, Set, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DATASETS

from .checks.scan import Issue, check_boxes, inspect_image, parse_coco

__all__ = ['ValidatedDataset', 'BadSampleError']


class BadSampleError(ValueError):
    """A training sample failed validation or could not be loaded (a user
    error: the tools print it as one line and exit 2)."""


@DATASETS.register_module()
class ValidatedDataset:
    """Wrap a dataset so that every sample is checked before it is used.

    Per sample (cheap: image header and end marker, no second decode): the
    image file exists and is readable, is not truncated, has the width and
    height its annotation states (after EXIF rotation), its boxes have
    positive size and lie inside the image; then loading it through the
    wrapped dataset's pipeline must not raise. COCO annotation files are
    also checked once at start (the summary is logged).

    Args:
        dataset: The wrapped dataset or its config.
        on_error: ``'raise'``: :class:`BadSampleError` naming the file and
            the problem. ``'skip'``: log a warning naming the file and the
            running count of skipped samples, and use the next sample.
            Default: ``'raise'``.
        tolerance: Pixels a box may reach past the image border. Default: 1.0.
        max_consecutive_bad: With ``'skip'``, give up after this many bad
            samples in a row (the data is likely unusable). Default: 50.
        lazy_init: Defer ``full_init`` as mmengine datasets do. Default: False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, Dict],
                 on_error: str = 'raise',
                 tolerance: float = 1.0,
                 max_consecutive_bad: int = 50,
                 lazy_init: bool = False) -> None:
        if on_error not in ('raise', 'skip'):
            raise ValueError("ValidatedDataset: on_error must be 'raise' or 'skip', "
                             f'got {on_error!r}')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.on_error = on_error
        self.tolerance = tolerance
        self.max_consecutive_bad = max_consecutive_bad
        self._skipped = multiprocessing.Value('i', 0)
        self._local_skipped = 0
        self._known_bad: Set[int] = set()
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    @property
    def skipped(self) -> int:
        """Samples skipped so far (all dataloader workers of this process)."""
        return self._skipped.value if self._skipped is not None else self._local_skipped

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self._log_annotation_summary()
        self._fully_initialized = True

    def _log_annotation_summary(self) -> None:
        ann_file = getattr(self.dataset, 'ann_file', '')
        if not (isinstance(ann_file, str) and ann_file.endswith('.json') and osp.isfile(ann_file)):
            return
        try:
            with open(ann_file, encoding='utf-8') as f:
                _, issues, _ = parse_coco(json.load(f), ann_file, tolerance=self.tolerance)
        except ValueError as e:
            raise BadSampleError(f'{ann_file}: cannot parse ({e})') from None
        errors = [i for i in issues if i.is_error]
        if errors:
            kinds = sorted({i.kind for i in errors})
            print_log(f'{ann_file}: {len(errors)} annotation problem(s) ({", ".join(kinds)}), '
                      f'first: {errors[0]}. mmdet ignores such boxes; run '
                      'tools/misc/check_dataset.py for the full list.',
                      logger='current', level=logging.WARNING)

    def __len__(self) -> int:
        self.full_init()
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        self.full_init()
        return self.dataset.get_data_info(idx)

    def __getattr__(self, name: str) -> Any:
        # Forward anything else (cat_ids, coco, ...) to the wrapped dataset.
        if name == 'dataset':
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getstate__(self) -> Dict[str, Any]:
        # A shared counter cannot be pickled (spawned workers): count locally.
        state = self.__dict__.copy()
        state['_local_skipped'] = self.skipped
        state['_skipped'] = None
        return state

    def __getitem__(self, idx: int) -> Any:
        self.full_init()
        for attempt in range(self.max_consecutive_bad + 1):
            i = (idx + attempt) % len(self.dataset)
            if i in self._known_bad:
                continue
            info = self.dataset.get_data_info(i)
            path = str(info.get('img_path', f'sample {i}'))
            problem = self._check(info, path)
            if problem is None:
                try:
                    return self.dataset[i]
                except Exception as e:  # noqa: BLE001  (re-raised below, naming the file)
                    problem = f'loading failed: {type(e).__name__}: {e}'
                    if self.on_error == 'raise':
                        raise BadSampleError(f'{path}: {problem}') from e
            if self.on_error == 'raise':
                raise BadSampleError(f'{path}: {problem}. Fix or remove it '
                                     '(tools/misc/check_dataset.py '
                                     'lists every bad file), or set '
                                     "sample_validation=dict(on_error='skip').")
            self._known_bad.add(i)
            count = self._count_skip()
            print_log(f'skipped bad sample {path}: {problem} ({count} skipped so far)',
                      logger='current', level=logging.WARNING)
        raise BadSampleError(f'{self.max_consecutive_bad + 1} bad samples in a row from index '
                             f'{idx}; the dataset looks unusable (tools/misc/check_dataset.py)')

    def _count_skip(self) -> int:
        if self._skipped is None:
            self._local_skipped += 1
            return self._local_skipped
        with self._skipped.get_lock():
            self._skipped.value += 1
            return self._skipped.value

    def _check(self, info: Dict[str, Any], path: str) -> Optional[str]:
        if 'img_path' not in info:
            return None
        issues, size = inspect_image(path, decode=False)
        errors: List[Issue] = [i for i in issues if i.is_error]
        if not errors and size is not None:
            want = (info.get('width'), info.get('height'))
            if None not in want and (int(want[0]), int(want[1])) != size:
                return (f'size_mismatch (annotation says {want[0]} x {want[1]}, image is '
                        f'{size[0]} x {size[1]})')
            boxes = [inst['bbox'] for inst in info.get('instances', []) if 'bbox' in inst]
            errors = check_boxes(boxes, size[0], size[1], path, self.tolerance)
        if errors:
            return '; '.join(f'{e.kind}' + (f' ({e.detail})' if e.detail else '') for e in errors)
        return None
