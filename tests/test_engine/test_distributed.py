"""Multi-process CPU training (gloo): ``tools/dist_train.sh CONFIG 2`` trains
one synchronized model, and when a rank dies or hangs the other exits with a
clear message within the configured bound; in-process, the CPU distributed
config and the detection of a peer's failure."""
import os.path as osp
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from mnext_det.engine import PEER_FAILURE_EXIT_CODE, configure_cpu_distributed, is_peer_failure

from ..fault_injection import ROOT, train_env, write_classification_run
from .runtime_cfg import runtime_cfg

pytestmark = pytest.mark.schedule_first

CPU_ONLY = pytest.mark.skipif(torch.cuda.is_available(), reason='CPU (gloo) path')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@CPU_ONLY
@pytest.mark.parametrize('hooks', [[], [dict(type='ChannelsLastHook')]],
                         ids=['nchw', 'channels_last'])
def test_dist_train_sh_two_processes_train_one_synchronized_model(tmp_path, hooks):
    cfg = write_classification_run(
        tmp_path, max_epochs=2, batch_size=2,
        extra_hooks=[dict(type='DumpRankStateHook')] + hooks,
        extra='randomness = dict(seed=0, diff_rank_seed=True)')
    work = str(tmp_path / 'work')
    proc = subprocess.run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), cfg, '2',
                           '--work-dir', work], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=train_env(PORT=str(_free_port())))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'CPUAwareDistributedDataParallel' in proc.stdout
    r0, r1 = (torch.load(osp.join(work, f'rank{r}.pth')) for r in (0, 1))
    assert r0['iters'] == r1['iters'] == 2 * 4  # 16 images / (2 ranks x 2) per epoch
    assert r0['input_sum'] != r1['input_sum']  # each rank trained on its own shard
    for k in r0['params']:
        torch.testing.assert_close(r0['params'][k], r1['params'][k], rtol=0, atol=0, msg=k)
    moved = sum(float((r0['params'][k] - r0['init_params'][k]).abs().sum())
                for k in r0['params'])
    assert moved > 0
    assert open(osp.join(work, 'last_checkpoint')).read().strip().endswith('epoch_2.pth')


def _launch_two_ranks(cfg: str, work: str):
    port = str(_free_port())
    procs = []
    for rank in (0, 1):
        env = train_env(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE='2',
                        LOCAL_WORLD_SIZE='2', MASTER_ADDR='127.0.0.1', MASTER_PORT=port)
        procs.append(subprocess.Popen(
            [sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg, '--work-dir', work,
             '--launcher', 'pytorch'], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True))
    return procs


@CPU_ONLY
@pytest.mark.parametrize('sig, bound_s', [
    (signal.SIGKILL, 20),
    pytest.param(signal.SIGSTOP, 15 + 20, marks=pytest.mark.slow),  # hung: waits the timeout
])
def test_other_rank_exits_within_bound_when_one_dies_or_hangs(tmp_path, sig, bound_s):
    timeout_s = 15
    cfg = write_classification_run(
        tmp_path, max_epochs=200, batch_size=2, dist_timeout=timeout_s,
        extra_hooks=[dict(type='SelfKillHook', at_iter=6, sig=int(sig), rank=1)])
    work = str(tmp_path / 'work')
    rank0, rank1 = _launch_two_ranks(cfg, work)
    try:
        _, err0 = rank0.communicate(timeout=240)
        exited = time.time()
    finally:
        for p in (rank0, rank1):
            if p.poll() is None:
                p.kill()
            p.communicate()
    signalled = float(open(osp.join(work, 'rank1_signalled')).read())
    assert rank0.returncode == PEER_FAILURE_EXIT_CODE, err0[-3000:]
    assert '[rank 0] distributed training stopped at epoch ' in err0
    assert 'lost contact with another rank' in err0 and 'Restart all ranks with --resume' in err0
    assert exited - signalled < bound_s


@CPU_ONLY
def test_mmengine_still_needs_the_cpu_workarounds(tmp_path):
    """Fails once mmengine can start ``--launcher pytorch`` without CUDA and
    DDP accepts device_ids for CPU modules: then configure_cpu_distributed
    and init_cpu_process_group can go."""
    code = textwrap.dedent('''
        import torch
        from mmengine.dist import init_dist
        try:
            init_dist('pytorch', backend='gloo')
        except Exception as e:
            print('init_dist failed:', type(e).__name__)
        import torch.distributed as dist
        if not dist.is_initialized():
            dist.init_process_group('gloo')
        try:
            torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2), device_ids=[0])
        except Exception as e:
            print('DDP device_ids failed:', type(e).__name__)
    ''')
    env = train_env(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                    MASTER_PORT=str(_free_port()), CUDA_VISIBLE_DEVICES='')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120, env=env, cwd=str(tmp_path)).stdout
    assert 'init_dist failed' in out and 'DDP device_ids failed' in out, out


def test_cpu_distributed_config(monkeypatch):
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    cfg = runtime_cfg(launcher='pytorch', env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)))
    assert len(configure_cpu_distributed(cfg)) == 2
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=60)
    assert cfg.model_wrapper_cfg.type == 'CPUAwareDistributedDataParallel'
    assert configure_cpu_distributed(runtime_cfg()) == []  # launcher none


def test_peer_failure_detection():
    assert is_peer_failure(RuntimeError('[gloo/transport/tcp/pair.cc:545] Read error: '
                                        'Connection reset by peer'))
    # gloo's words when a hung peer hits the timeout inside DDP's buffer broadcast
    assert is_peer_failure(RuntimeError('Application timeout caused pair closure'))
    assert not is_peer_failure(RuntimeError('CUDA out of memory'))
    assert not is_peer_failure(ValueError('gloo'))
