"""A study as one Slurm job array: task ``i`` trains run ``i`` with
``tools/train.py`` (``tools/dist_train.sh`` for several GPUs per task)."""
import os
import os.path as osp
import shlex
import shutil
import subprocess
from typing import Optional, Sequence

from ..engine.atomic_io import atomic_write_text
from .execute import StudyScripts, train_command
from .plan import Run

__all__ = ['sbatch_script', 'write_sbatch', 'submit']


def _task_command(run: Run, scripts: StudyScripts, gpus_per_task: int) -> str:
    cmd = train_command(run, scripts)
    if gpus_per_task > 1:
        dist = osp.join(osp.dirname(scripts.train), 'dist_train.sh')
        cmd = ['bash', dist, run.config, str(gpus_per_task), *cmd[3:]]
    return ' '.join(shlex.quote(c) for c in cmd)


def sbatch_script(runs: Sequence[Run], scripts: StudyScripts, work_dir: str,
                  job_name: str = 'mnext-study', partition: Optional[str] = None,
                  gpus_per_task: int = 1, cpus_per_task: int = 5,
                  time_limit: Optional[str] = None) -> str:
    """The sbatch script: one ``#SBATCH --array=0-(runs-1)`` line and a case
    per task. Tasks resume from their work dir's last checkpoint, so a
    resubmitted array continues where it stopped."""
    if not runs:
        raise ValueError('no runs to submit')
    lines = ['#!/usr/bin/env bash', f'#SBATCH --job-name={job_name}',
             f'#SBATCH --array=0-{len(runs) - 1}',
             f'#SBATCH --output={osp.join(work_dir, "slurm", "%A_%a.out")}',
             '#SBATCH --ntasks=1', f'#SBATCH --cpus-per-task={cpus_per_task}']
    if gpus_per_task > 0:
        lines.append(f'#SBATCH --gres=gpu:{gpus_per_task}')
    if partition:
        lines.append(f'#SBATCH --partition={partition}')
    if time_limit:
        lines.append(f'#SBATCH --time={time_limit}')
    lines += ['set -euo pipefail', f'cd {shlex.quote(os.getcwd())}',
              'case "$SLURM_ARRAY_TASK_ID" in']
    for run in runs:
        lines.append(f'  {run.index})  # {run.name}')
        lines.append(f'    {_task_command(run, scripts, gpus_per_task)} ;;')
    lines += ['  *) echo "no run for task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;', 'esac', '']
    return '\n'.join(lines)


def write_sbatch(path: str, text: str) -> str:
    """Write the script (creating the Slurm log folder next to it)."""
    os.makedirs(osp.join(osp.dirname(path), 'slurm'), exist_ok=True)
    atomic_write_text(path, text)
    return path


def submit(path: str) -> str:
    """``sbatch PATH``; returns sbatch's reply (the job id line)."""
    if shutil.which('sbatch') is None:
        raise FileNotFoundError('sbatch not found on PATH: run on a Slurm login node, or use '
                                '--dry-run to write the script only')
    out = subprocess.run(['sbatch', path], check=True, capture_output=True, text=True)
    return out.stdout.strip()
