from .complexity import count_madds, count_params
from .summary import summary_table

__all__ = ['count_madds', 'count_params', 'summary_table']
