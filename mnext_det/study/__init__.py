"""Seeded backbone comparisons: plan (config x lr x seed), run locally or as
a Slurm array, resume, and report mean, std and 95 % CIs with paired
differences to the baseline."""
from .execute import StudyFailed, StudyScripts, execute_local, run_result
from .plan import ConfigSpec, Run, parse_config_spec, parse_lr_grid, plan_study, study_metric
from .report import aggregate, write_report
from .slurm import sbatch_script, submit, write_sbatch
from .stats import paired_difference, summarize, t_critical_95

__all__ = ['ConfigSpec', 'Run', 'StudyFailed', 'StudyScripts', 'aggregate', 'execute_local',
           'paired_difference', 'parse_config_spec', 'parse_lr_grid', 'plan_study',
           'run_result', 'sbatch_script', 'study_metric', 'submit', 'summarize', 't_critical_95',
           'write_report', 'write_sbatch']
