"""Validation metric per epoch of several runs in one chart."""
from typing import Dict, List, Tuple

__all__ = ['plot_learning_curves']


def plot_learning_curves(curves: Dict[str, List[Tuple[int, float]]], path: str,
                         ylabel: str = 'val COCO AP') -> None:
    """Save a line per run of ``(epoch, value)`` points to ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, points in curves.items():
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker='o', label=name)
    ax.set_xlabel('epoch')
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
