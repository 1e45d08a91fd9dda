#!/usr/bin/env bash
# Multi-process evaluation with torchrun (GPUs: NCCL; CPU: gloo).
#   tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT environment variables.
CONFIG=$1
CHECKPOINT=$2
NPROCS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
if [ -z "$CONFIG" ] || [ -z "$CHECKPOINT" ] || [ -z "$NPROCS" ]; then
  echo "usage: $0 CONFIG CHECKPOINT NUM_PROCS [test.py args...]" >&2; exit 2
fi
. "$(dirname "$0")/dist_args.sh"
check_dist_args "$CONFIG" "$NPROCS"
PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
python -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROCS" --master_port="$PORT" \
    "$(dirname "$0")/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
