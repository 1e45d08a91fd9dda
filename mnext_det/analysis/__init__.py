from .complexity import count_madds, count_norm_flops, count_params
from .summary import config_summary, summary_table

__all__ = ['count_madds', 'count_norm_flops', 'count_params', 'config_summary', 'summary_table']
