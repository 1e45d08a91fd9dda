"""Tolerances for two float32 evaluations of one network (eager PyTorch vs
ONNX Runtime or TFLite, BN folded vs not, NHWC vs NCHW), from the arithmetic
rather than from one machine's run.

A conv or linear layer sums ``fan_in`` rounded products; two kernels that sum
in another order (blocked, vectorised, multi-threaded, or with BN folded into
the weights first) differ by about ``sqrt(fan_in) * eps32`` of the layer's
output scale (rounding errors of a sum grow as a random walk: that is one
standard deviation). Through ``depth`` layers these errors add up at most
linearly, and the largest of ``N`` outputs' errors is about ``sqrt(2 ln N)``
standard deviations (the maximum of N Gaussians), so

    max |a - b| <= depth * sqrt(fan_in) * sqrt(2 ln N) * eps32 * max |reference|

with ``fan_in`` the largest in the network. A wrong operator, a missed BN fold
or a shifted box is orders of magnitude above this; measured with other
kernels (ONNX Runtime, NHWC, BN folded), thread counts (1, 2) and seeds (0-2;
0-9 for the training kernels' tests) the error stays below a seventh of it
(set ``MNEXT_TOL_REPORT=1`` to print the ratios). Random weights follow
``MNEXT_TEST_SEED`` (default 0), so the same tests can be run with other
seeds: every test that draws random weights or inputs passes for seeds 0-9
(README, "Two commands"). One bound this does not cover: train-mode batch norm
over a few values per channel amplifies rounding in backward, so gradients
through it are compared with a float64 evaluation
(``test_depthwise_conv.py``).
"""
import math
import os

import numpy as np
import torch

EPS32 = float(np.finfo(np.float32).eps)
TEST_SEED = int(os.environ.get('MNEXT_TEST_SEED', '0'))


def depth_and_fan_in(model: torch.nn.Module):
    """Number of conv/linear layers (an upper bound on the longest path) and
    the largest fan-in among them."""
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    fan_in = max(m.weight[0].numel() for m in layers)
    return len(layers), fan_in


def float32_bound(reference, depth: int, fan_in: int) -> float:
    """``depth * sqrt(fan_in) * sqrt(2 ln N) * eps32 * max|reference|`` for the
    ``N`` values of ``reference``."""
    reference = np.abs(np.asarray(reference, dtype=np.float64))
    tail = math.sqrt(2 * math.log(max(reference.size, 2)))
    return depth * math.sqrt(fan_in) * tail * EPS32 * float(reference.max())


def assert_float32_close(actual, reference, depth: int, fan_in: int, what: str = '') -> None:
    """Fail if ``max|actual - reference|`` exceeds :func:`float32_bound`."""
    assert_max_error(actual, reference, float32_bound(reference, depth, fan_in), what)


def assert_max_error(actual, reference, bound: float, what: str = '') -> None:
    """Fail if ``max|actual - reference|`` exceeds ``bound``."""
    actual = np.asarray(actual, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    assert actual.shape == reference.shape, (what, actual.shape, reference.shape)
    err = float(np.abs(actual - reference).max())
    if os.environ.get('MNEXT_TOL_REPORT'):
        print(f'\n[tolerance] {what}: max err {err:.3g}, bound {bound:.3g}, '
              f'ratio {err / bound:.3g}')
    assert err <= bound, (f'{what}: max |a - b| = {err:.3g} > float32 bound {bound:.3g} '
                          f'(max |ref| {np.abs(reference).max():.3g})')


def assert_ranks_top_k(order, reference, depth: int, fan_in: int, what: str = '') -> None:
    """Fail unless ``order`` (the indices another float32 evaluation of the network
    ranked first, best first) ranks the reference's top ``len(order)`` up to
    near-ties: where ``|actual - reference| <= bound`` (:func:`float32_bound`),
    the j-th largest of each is within ``bound`` of the other's, so the item
    ranked j-th has a reference score within ``2 * bound`` of the reference's
    j-th largest; only items closer than that may swap."""
    reference = np.asarray(reference, dtype=np.float64)
    order = np.asarray(order)
    bound = float32_bound(reference, depth, fan_in)
    best = np.sort(reference)[::-1][:len(order)]
    gaps = np.abs(reference[order] - best)
    assert (gaps <= 2 * bound).all(), (
        f'{what}: ranked {order.tolist()}, the reference '
        f'{np.argsort(-reference)[:len(order)].tolist()}'
        f': reference scores apart by up to {gaps.max():.3g} > 2 x float32 bound {bound:.3g}')
