# Sourced by tools/dist_train.sh and tools/dist_test.sh: refuse a missing
# config and a process count torchrun would end in a traceback on.
#   check_dist_args CONFIG NUM_PROCS
check_dist_args() {
  if [ ! -f "$1" ]; then
    echo "error: config file not found: $1" >&2; exit 2
  fi
  case "$2" in
    auto|cpu|gpu) return ;;  # torchrun's own choices
    ''|*[!0-9]*) ;;
    *) [ "$2" -ge 1 ] && return ;;
  esac
  echo "error: NUM_PROCS must be a number >= 1 (or auto, cpu, gpu), got '$2'" >&2; exit 2
}
