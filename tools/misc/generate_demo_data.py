"""Write the built-in shapes detection dataset (COCO json, VOC xml, crops).

    python tools/misc/generate_demo_data.py [--out data/shapes] [--num-train 3000]
        [--num-val 200] [--num-test 200] [--image-size 320] [--seed 0] [--workers N] [--force]

Deterministic: the same arguments give the same files. See
mnext_det/datasets/synthetic.py for the layout.
"""
import argparse
import time

from mnext_det.datasets.synthetic import (SyntheticConfig, dataset_exists,
                                          generate_shapes_dataset)
from mnext_det.engine.cpus import usable_cpus
from mnext_det.tool_errors import run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/shapes')
    default = SyntheticConfig()
    parser.add_argument('--num-train', type=int, default=default.num_train)
    parser.add_argument('--num-val', type=int, default=default.num_val)
    parser.add_argument('--num-test', type=int, default=default.num_test)
    parser.add_argument('--image-size', type=int, default=default.image_size)
    parser.add_argument('--max-objects', type=int, default=default.max_objects)
    parser.add_argument('--seed', type=int, default=default.seed)
    parser.add_argument('--workers', type=int, default=min(2, usable_cpus()),
                        help='processes drawing scenes (the output does not depend on it)')
    parser.add_argument('--force', action='store_true', help='regenerate when present')
    args = parser.parse_args()
    cfg = SyntheticConfig(num_train=args.num_train, num_val=args.num_val, num_test=args.num_test,
                          image_size=args.image_size, max_objects=args.max_objects,
                          seed=args.seed)
    if dataset_exists(args.out, cfg) and not args.force:
        print(f'{args.out} already holds this dataset (use --force to regenerate)')
        return
    start = time.time()
    counts = generate_shapes_dataset(args.out, cfg, workers=args.workers)
    print(f'wrote {args.out}: {cfg.num_train} train / {cfg.num_val} val / {cfg.num_test} test '
          f'images, objects per split {counts}, in {time.time() - start:.0f} s')


if __name__ == '__main__':
    run_tool(main)
