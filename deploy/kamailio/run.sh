#!/usr/bin/env bash
# Runs the pool proxy in the foreground as the calling user (no root needed),
# with its pid file and control socket in a private runtime directory.
#
#   deploy/kamailio/run.sh            # start (Ctrl-C stops it)
#   deploy/kamailio/run.sh -c         # only check the configuration
#
# Environment (all optional):
#   LISTEN           proto:ip:port the trunk sends calls to (udp:127.0.0.1:5060)
#   DISPATCHER_LIST  worker list file (dispatcher.list next to this script)
#   RUN_DIR          runtime directory (a new one under $TMPDIR)
#   SHM_MB           shared memory in MB (64)
# Any further arguments go to kamailio, e.g. -A 'WORKER_REPLY_MS=500'.
# Inspect the pool with: kamcmd -s "unix:$RUN_DIR/kamailio_ctl" dispatcher.list
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
listen=${LISTEN:-udp:127.0.0.1:5060}
list=$(realpath "${DISPATCHER_LIST:-$here/dispatcher.list}")
if [ "${1:-}" = -c ]; then
    exec kamailio -c -f "$here/kamailio.cfg" -A "LISTEN=$listen" -A "DISPATCHER_LIST=\"$list\""
fi
run_dir=${RUN_DIR:-$(mktemp -d -t kamailio-pool.XXXXXX)}
mkdir -p "$run_dir"
echo "kamailio: listen $listen, workers from $list, runtime dir $run_dir" >&2
exec kamailio -f "$here/kamailio.cfg" -DD -E -Y "$run_dir" -P "$run_dir/kamailio.pid" \
    -m "${SHM_MB:-64}" -M 8 \
    -A "LISTEN=$listen" \
    -A "DISPATCHER_LIST=\"$list\"" \
    -A "CTL_SOCKET=\"unix:$run_dir/kamailio_ctl\"" \
    "$@"
