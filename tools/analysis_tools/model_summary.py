"""Print params and MAdds of every MobileNeXt width next to the paper's.

    python tools/analysis_tools/model_summary.py [--input-size 224] [--num-classes 1000]
"""
import argparse

from mnext_det.analysis import summary_table
from mnext_det.tool_errors import run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--num-classes', type=int, default=1000)
    args = parser.parse_args()
    print('\n'.join(summary_table(args.input_size, args.num_classes)))


if __name__ == '__main__':
    run_tool(main)
