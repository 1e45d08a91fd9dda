"""The ``mnext-det`` console command: ``env``, ``models``, ``summary``."""
import argparse
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``mnext-det`` command."""
    parser = argparse.ArgumentParser(prog='mnext-det', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('env', help='print versions and say what is wrong with the environment')
    models = sub.add_parser('models', help='list the names create_model accepts')
    models.add_argument('filter', nargs='?', default='',
                        help="only names matching this wildcard pattern, e.g. '*_1?0'")
    summary = sub.add_parser('summary', help='params and MAdds of every width vs the paper, '
                             'or of the model a config builds')
    summary.add_argument('--config', help='a classifier or detector config file')
    summary.add_argument('--input-size', type=int, default=224)
    summary.add_argument('--num-classes', type=int, default=1000)
    args = parser.parse_args(argv)
    if args.command == 'env':
        from .env_check import main as env_main
        return env_main()
    if args.command == 'models':
        from .models import list_models
        names = list_models(args.filter)
        if not names:
            print(f'error: no model name matches {args.filter!r}; names: {list_models()}',
                  file=sys.stderr)
            return 2
        print('\n'.join(names))
        return 0
    from .analysis import config_summary, summary_table
    from .tool_errors import tool_status

    def summary() -> None:
        rows = (config_summary(args.config) if args.config is not None else
                summary_table(args.input_size, args.num_classes))
        print('\n'.join(rows))

    return tool_status(summary)


if __name__ == '__main__':
    sys.exit(main())
