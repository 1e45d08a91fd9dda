"""Params and MAdds of every MobileNeXt width next to the published figures."""
from typing import List

from ..models import create_model, list_models
from .complexity import count_madds, count_norm_flops, count_params

# The authors' README (params M, MAdds M, top-1 %) and their code's exact params.
PUBLISHED = {
    'mobilenext_035': (1.8, 80, 64.7, 1_913_976),
    'mobilenext_050': (2.1, 110, 67.7, 2_152_304),
    'mobilenext_075': (2.5, 210, 72.0, 2_766_168),
    'mobilenext_100': (3.5, 300, 74.02, 3_535_416),
    'mobilenext_140': (6.1, 590, 76.1, 6_126_168),
}


def summary_table(input_size: int = 224, num_classes: int = 1000) -> List[str]:
    """Markdown rows: our params and MAdds (at ``input_size`` with
    ``num_classes``) beside the paper's (224, 1000 classes) and the official
    code's parameter count.

    Raises:
        ValueError: ``input_size`` or ``num_classes`` below 1.
    """
    if input_size < 1:
        raise ValueError(f'input_size must be >= 1, got {input_size}')
    rows = [f'| model | params | official code params | match | MAdds (conv+FC) at {input_size} | '
            'paper params | paper MAdds at 224 | paper top-1 |',
            '|---|---|---|---|---|---|---|---|']
    for name in list_models():
        model = create_model(name, num_classes=num_classes)
        params = count_params(model)
        madds = count_madds(model, (1, 3, input_size, input_size))
        p_m, madds_m, top1, official = PUBLISHED[name]
        match = ('yes' if params == official else 'NO') if num_classes == 1000 else \
            'n/a (classes != 1000)'
        rows.append(f'| {name} | {params:,} | {official:,} | {match} | {madds / 1e6:.1f}M | '
                    f'{p_m}M | {madds_m}M | {top1} |')
    return rows


def config_summary(config: str) -> List[str]:
    """Markdown rows: params, MAdds and BN flops of the model a config (or a
    ``create_model`` name) builds, at its test input size (detectors) or 224.
    mmdet's ``get_flops.py`` reports MAdds + BN flops as its "Flops"."""
    from ..datasets.pipeline_info import input_size_of
    from ..deploy.builder import build_model
    model, cfg = build_model(config)
    detector = cfg is not None and 'bbox_head' in cfg.model
    width, height = input_size_of(cfg) if detector else (224, 224)
    shape = (1, 3, height, width)
    madds, norm = count_madds(model, shape), count_norm_flops(model, shape)
    return ['| config | input (h, w) | params | MAdds (conv+FC) | BN flops | '
            'get_flops.py "Flops" (sum) |', '|---|---|---|---|---|---|',
            f'| {config} | ({height}, {width}) | {count_params(model) / 1e6:.3f}M | '
            f'{madds / 1e6:.3f}M | {norm / 1e6:.3f}M | {(madds + norm) / 1e6:.3f}M |']
