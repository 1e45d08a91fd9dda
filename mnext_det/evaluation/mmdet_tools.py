"""mmdet's shipped analysis tools (``mmdet/.mim/tools/analysis_tools``) as
functions: located in the installed wheel and imported from there, never
copied. Needs mmdet."""
import importlib.util
import os
import os.path as osp
from types import ModuleType
from typing import Any, Dict, List, Sequence

import numpy as np

__all__ = ['mmdet_tool_path', 'load_mmdet_tool', 'confusion_matrix', 'plot_confusion_matrices']


def mmdet_tool_path(name: str, group: str = 'analysis_tools') -> str:
    """Path of ``tools/<group>/<name>.py`` in the installed mmdet wheel."""
    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', group, f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmdet {mmdet.__version__} ships no {group}/{name}.py '
                                f'(looked for {path})')
    return path


def load_mmdet_tool(name: str, group: str = 'analysis_tools') -> ModuleType:
    """Import a shipped tool as a module (its ``main`` does not run)."""
    spec = importlib.util.spec_from_file_location(f'mmdet_tools_{group}_{name}',
                                                  mmdet_tool_path(name, group))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def confusion_matrix(dataset: Any, results: Sequence[Dict], score_thr: float = 0.3,
                     tp_iou_thr: float = 0.5) -> np.ndarray:
    """``(C + 1) x (C + 1)`` counts (last row/column: background) from
    mmdet's ``confusion_matrix.py``, at that tool's default thresholds."""
    tool = load_mmdet_tool('confusion_matrix')
    return tool.calculate_confusion_matrix(dataset, results, score_thr, None, tp_iou_thr)


# the smallest confusion-matrix figure whose title and labels fit (mmdet's tool
# sizes it by the class count: 2 x 1.6 inches for three classes)
_MIN_CONFUSION_INCHES = (5.0, 4.0)


def plot_confusion_matrices(matrices: Sequence[np.ndarray], classes: Sequence[str],
                            names: Sequence[str], path: str) -> List[str]:
    """mmdet's confusion-matrix plot for each detector (at least
    :data:`_MIN_CONFUSION_INCHES`), side by side in one PNG at ``path``;
    returns the per-detector PNGs it wrote next to it."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from PIL import Image
    tool = load_mmdet_tool('confusion_matrix')
    stem = osp.splitext(path)[0]
    parts = []
    for matrix, name in zip(matrices, names):
        save_dir = f'{stem}_{name}'
        os.makedirs(save_dir, exist_ok=True)
        tool.plot_confusion_matrix(np.asarray(matrix, float), tuple(classes) + ('background', ),
                                   save_dir=save_dir, show=False,
                                   title=f'Normalized Confusion Matrix: {name}')
        part = osp.join(save_dir, 'confusion_matrix.png')
        fig = plt.gcf()
        width, height = fig.get_size_inches()  # mmdet's: half an inch per class
        if width < _MIN_CONFUSION_INCHES[0]:  # its title and labels did not fit
            fig.set_size_inches(*_MIN_CONFUSION_INCHES)
            fig.tight_layout()
            fig.savefig(part, format='png', bbox_inches='tight')  # a long title too
        plt.close('all')
        parts.append(part)
    images = [Image.open(p).convert('RGB') for p in parts]
    canvas = Image.new('RGB', (sum(i.width for i in images), max(i.height for i in images)),
                       'white')
    x = 0
    for image in images:
        canvas.paste(image, (x, 0))
        x += image.width
    canvas.save(path)
    return parts
