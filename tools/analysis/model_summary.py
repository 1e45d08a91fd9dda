"""Print params and MAdds of every MobileNeXt width next to the paper's.

    python tools/analysis/model_summary.py [--input-size 224] [--num-classes 1000]
"""
import argparse

from mnext_det import create_model, list_models
from mnext_det.analysis import count_madds, count_params

# The authors' README: params (M), MAdds (M), top-1 (%); official code params.
PUBLISHED = {
    'mobilenext_035': (1.8, 80, 64.7, 1_913_976),
    'mobilenext_050': (2.1, 110, 67.7, 2_152_304),
    'mobilenext_075': (2.5, 210, 72.0, 2_766_168),
    'mobilenext_100': (3.5, 300, 74.02, 3_535_416),
    'mobilenext_140': (6.1, 590, 76.1, 6_126_168),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--num-classes', type=int, default=1000)
    args = parser.parse_args()
    print(f'| model | params | official code params | match | MAdds (conv+FC) | '
          f'paper params | paper MAdds | paper top-1 |')
    print('|---|---|---|---|---|---|---|---|')
    for name in list_models():
        model = create_model(name, num_classes=args.num_classes)
        params = count_params(model)
        madds = count_madds(model, (1, 3, args.input_size, args.input_size))
        p_m, madds_m, top1, official = PUBLISHED[name]
        match = 'yes' if params == official else 'NO'
        if args.num_classes != 1000:
            match = 'n/a (classes != 1000)'
        print(f'| {name} | {params:,} | {official:,} | {match} | {madds / 1e6:.1f}M | '
              f'{p_m}M | {madds_m}M | {top1} |')


if __name__ == '__main__':
    main()
