"""The detector comparison as a grouped bar chart (``compare.png``)."""
import math
import os
import os.path as osp
from typing import List, Sequence

import numpy as np

from ..evaluation.comparison_report import metric_columns, summary_rows
from ..evaluation.detector_eval import DetectorResult

__all__ = ['plot_chart', 'score_axis_top']


def score_axis_top(values: Sequence[float]) -> float:
    """Top of a score axis starting at 0: 15 % above the highest finite
    value, so bar labels fit and APs of a few hundredths stay readable; 1
    when there is none above 0."""
    finite = [v for v in values if math.isfinite(v) and v > 0]
    return 1.15 * max(finite) if finite else 1.


def plot_chart(results: Sequence[DetectorResult], path: str, title: str = '') -> None:
    """Grouped bar chart of the accuracy columns, one bar per detector; a
    metric COCO could not compute (-1, e.g. no large objects) is left out."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = summary_rows(results)
    cols = [c for c, _ in metric_columns(results)]
    fig, ax = plt.subplots(figsize=(1.4 * len(cols) + 3, 4))
    width = 0.8 / len(rows)
    shown: List[float] = []
    for i, row in enumerate(rows):
        vals = [row[c] if row[c] >= 0 else float('nan') for c in cols]
        shown += vals
        bars = ax.bar(np.arange(len(cols)) + i * width, vals, width,
                      label=f'{row["name"]} ({row["latency_ms"]:.0f} ms)')
        ax.bar_label(bars, labels=['' if math.isnan(v) else f'{v:.3f}' for v in vals],
                     fontsize=7)
    centre = width * (len(rows) - 1) / 2
    ax.set_xticks(np.arange(len(cols)) + centre, cols)
    ax.set_xlim(centre - 0.5, len(cols) - 0.5 + centre)
    ax.set_ylabel('score')
    ax.set_ylim(0, score_axis_top(shown))
    ax.set_title(title or 'Detector comparison')
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
