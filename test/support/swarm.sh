#!/usr/bin/env bash
# fleetgraph test swarm: 3 dockerd on one machine, each in its own network namespace, joined by a bridge that
# lives in a 4th namespace. 'up' does NOT form a swarm (the product does swarm init/join through the API).
#
# Usage: test/support/swarm.sh up | down | env | status | form | reset | stop-node N [--graceful|--kill] | start-node N
#
#   up              install missing packages, create the namespaces, start the 3 dockerd, load local/busybox:1
#                   on every node (idempotent, fast when already up). No swarm is formed.
#   down            stop everything, delete the namespaces and $FLEETGRAPH_SWARM_BASE
#   env             print KEY=VALUE lines (FLEETGRAPH_SWARM_N1_SOCKET, FLEETGRAPH_SWARM_N1_ADDR, ...)
#   status          node daemons and their swarm state; exit status 1 if a daemon is not answering
#   form            swarm init on n1, join n2 and n3 (managers; FLEETGRAPH_SWARM_MANAGERS=1 -> n2,n3 workers),
#                   wait until every node is Ready. Idempotent.
#   reset           start any stopped node, make every node leave its swarm (swarm leave --force), remove all
#                   containers, unused networks and volumes, make sure local/busybox:1 is still there
#   stop-node N     SIGTERM node N's dockerd and wait until it exited. Running task containers are killed
#                   (SIGKILL) once the daemon has begun shutting down, so this takes ~1-3 s instead of ~13 s.
#                   --graceful: don't kill the containers (each gets its StopTimeout, default 10 s).
#                   --kill: SIGKILL dockerd, its containerd, shims and containers at once (a crash).
#   start-node N    start node N's dockerd again with the same flags and wait until it answers
#
# Environment:
#   FLEETGRAPH_SWARM_BASE       base directory (default /tmp/fleetgraph-swarm)
#   FLEETGRAPH_SWARM_NET        underlay /24 prefix (default 192.168.232); nodes are .11 .12 .13, root netns .254
#   FLEETGRAPH_SWARM_MANAGERS   managers made by 'form' (3 or 1; default 3)
#   FLEETGRAPH_TEST_BASE        where services.sh keeps busybox.tar (reused if present)
set -eEuo pipefail
umask 022
trap 'rc=$?; printf "%s swarm: ERROR: \"%s\" failed (rc %s, line %s)\n" "$(date +%T.%3N)" "$BASH_COMMAND" "$rc" "$LINENO" >&2' ERR

SW=${FLEETGRAPH_SWARM_BASE:-/tmp/fleetgraph-swarm}
SW=${SW%/}
NET=${FLEETGRAPH_SWARM_NET:-192.168.232}
N=3
MANAGERS=${FLEETGRAPH_SWARM_MANAGERS:-3}
SVC_TAR=${FLEETGRAPH_TEST_BASE:-/tmp/fleetgraph-test}/busybox.tar
IMAGE=local/busybox:1
P=fg                                   # netns / hostname prefix: fg-br, fg-n1..3, root veth fg-root
LOCK=$SW.lock

T0=$(date +%s.%N)
log() { printf '%s swarm: %s\n' "$(date +%T.%3N)" "$*" >&2; }
since() { awk -v a="${1:-$T0}" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
die() { log "ERROR: $*"; exit 1; }
tail_log() { [ -f "$1" ] && { log "--- last lines of $1 ---"; tail -n "${2:-30}" "$1" >&2; log "---"; }; return 0; }

DENV=(env -u DOCKER_HOST -u DOCKER_TLS -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH -u DOCKER_CONTEXT -u DOCKER_API_VERSION -u DOCKER_DEFAULT_PLATFORM)
sock() { echo "$SW/n$1/docker.sock"; }
addr() { echo "$NET.1$1"; }
# docker CLI pinned to node I's unix socket, immune to the caller's DOCKER_* environment
dkn() { local i=$1; shift; "${DENV[@]}" docker -H "unix://$(sock "$i")" "$@"; }

all_dead() { local p; for p; do running "$p" && return 1; done; return 0; }
running() { # no forks: called in tight loops
  local st; [ -n "${1:-}" ] && read -r st 2>/dev/null <"/proc/$1/stat" || return 1
  st=${st##*) }; [ "${st%% *}" != Z ]
}
# pids of processes named dockerd/containerd/containerd-shim*/runc/$2.. whose command line contains $1 (no forks)
procs_under() {
  local dir=$1 p comm args; shift
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    read -r comm 2>/dev/null <"/proc/$p/comm" || continue
    case " dockerd containerd runc $* " in *" $comm "*) ;; *) [[ $comm == containerd-shim* ]] || continue ;; esac
    mapfile -d '' args 2>/dev/null <"/proc/$p/cmdline" || continue
    [[ "${args[*]}" == *"$dir"* ]] && echo "$p"
  done
  return 0
}
# pid of node I's dockerd: from its pidfile (written without a trailing newline, hence the [ -n ]), else
# (pidfile lost) the dockerd running with the node's exec-root
node_pid() {
  local p='' c
  local a
  if { read -r p || [ -n "$p" ]; } 2>/dev/null <"$SW/n$1/pid" && running "$p" && read -r c 2>/dev/null <"/proc/$p/comm" &&
     [ "$c" = dockerd ] && mapfile -d '' a 2>/dev/null <"/proc/$p/cmdline" && [[ "${a[*]}" == *"$SW/n$1/exec "* ]]; then
    echo "$p"; return 0
  fi
  for p in $(procs_under "$SW/n$1/exec "); do read -r c 2>/dev/null <"/proc/$p/comm" && [ "$c" = dockerd ] && { echo "$p"; return 0; }; done
  return 1
}
answers() { dkn "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
state() { dkn "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }
waitfor() { # waitfor <seconds> <command...>
  local end; end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.1; done
}
check_node_arg() { [[ "${1:-}" =~ ^[1-3]$ ]] || die "node number must be 1, 2 or 3"; }

# ---------------------------------------------------------------- packages
install_pkgs() {
  local missing=()
  command -v dockerd >/dev/null && command -v docker >/dev/null || missing+=(docker.io)
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v nsenter >/dev/null && command -v unshare >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing missing packages: ${missing[*]}"
  local own_policy=0 rc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then   # keep maintainer scripts from starting system daemons
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
  fi
  { apt-get update -qq -o DPkg::Lock::Timeout=300 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
  } >"$SW.apt.log" 2>&1 || rc=$?
  [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || { tail_log "$SW.apt.log" 40; die "apt-get install failed"; }
  log "packages installed ($(since) s)"
}

# ---------------------------------------------------------------- network namespaces
net_ok() {
  local i
  [ -e "/run/netns/$P-br" ] && ip link show "$P-root" >/dev/null 2>&1 || return 1
  for i in $(seq 1 $N); do [ -e "/run/netns/$P-n$i" ] || return 1; done
}
net_down() {
  local i
  ip link del "$P-root" 2>/dev/null || true
  for i in $(seq 1 $N); do ip netns del "$P-n$i" 2>/dev/null || true; done
  ip netns del "$P-br" 2>/dev/null || true
}
net_up() {
  net_ok && return 0
  local i
  for i in $(seq 1 $N); do node_pid "$i" >/dev/null && die "namespaces incomplete while dockerd n$i runs: run '$0 down' first"; done
  net_down
  if [ -n "$(ip -4 route show "$NET.0/24" 2>/dev/null)" ] || ip -4 addr show | grep -q "inet $NET\."; then
    die "$NET.0/24 is already used in the root netns (set FLEETGRAPH_SWARM_NET to another prefix)"
  fi
  ip netns add "$P-br"
  ip -n "$P-br" link set lo up
  ip -n "$P-br" link add br0 type bridge
  ip -n "$P-br" link set br0 up
  for i in $(seq 1 $N); do
    ip netns add "$P-n$i"
    ip -n "$P-n$i" link set lo up
    # veth pair created directly between the two namespaces (never appears in the root netns)
    ip -n "$P-br" link add "n$i" type veth peer name eth0 netns "$P-n$i"
    ip -n "$P-br" link set "n$i" master br0 up
    ip -n "$P-n$i" addr add "$(addr "$i")/24" dev eth0
    ip -n "$P-n$i" link set eth0 up
    # no default route inside the node namespaces: nothing can leave the machine
  done
  # root netns gets .254 on the same bridge, so the tests reach the nodes' TCP APIs at $NET.1x:2375
  ip link add "$P-root" type veth peer name root netns "$P-br"
  ip -n "$P-br" link set root master br0 up
  ip addr add "$NET.254/24" dev "$P-root"
  ip link set "$P-root" up
  log "network namespaces ready ($NET.0/24)"
}

# ---------------------------------------------------------------- dockerd per node
start_node() { # launches node I's dockerd if it is not running (does not wait)
  local i=$1 d=$SW/n$1
  mkdir -p "$d"
  local p; if p=$(node_pid "$i"); then echo "$p" >"$d/pid"; return 0; fi   # (re)writes a lost pidfile
  # never start a second daemon on the same socket/address: a failing one unlinks the running one's socket
  answers "$i" && die "unix://$(sock "$i") answers but no dockerd with exec-root $d/exec was found"
  (exec 3<>"/dev/tcp/$(addr "$i")/2375") 2>/dev/null && die "$(addr "$i"):2375 is already in use"
  rm -f "$d/pid"
  clear_stale "$i"
  # nsenter --net only: 'ip netns exec' would also remount /sys and hide the cgroup v1 mounts from dockerd
  # unshare --uts: own hostname per node; --tls=false: no 15 s startup sleep for a non-loopback TCP listener
  # --swarm-default-advertise-addr: a swarm init/join through the API works without an AdvertiseAddr
  # --containerd-namespace: separate names even if the daemons ever share a system containerd
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid "${DENV[@]}" nsenter --net="/run/netns/$P-n$i" -- \
    unshare --uts -- sh -c 'hostname "$0" && exec "$@"' "$P-n$i" \
    dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/pid" \
      -H "unix://$d/docker.sock" -H "tcp://$(addr "$i"):2375" --tls=false \
      --cgroup-parent "/$P-n$i" --storage-driver=overlay2 --shutdown-timeout 1 \
      --swarm-default-advertise-addr "$(addr "$i")" \
      --containerd-namespace "$P-n$i" --containerd-plugins-namespace "$P-n$i-plugins" \
      --log-level=warn >>"$d/log" 2>&1 </dev/null 9>&- &
  echo $! >"$d/launcher.pid"
}
wait_node() { # wait_node I [retry]: until node I answers; one stop+start if it runs but does not answer in 20 s
  local i=$1 retry=${2:-1} end=$(( $(date +%s) + 20 )) lp
  lp=$(cat "$SW/n$i/launcher.pid" 2>/dev/null || true)
  until answers "$i"; do
    if ! node_pid "$i" >/dev/null && ! running "$lp"; then tail_log "$SW/n$i/log"; die "dockerd n$i exited during startup"; fi
    if [ "$(date +%s)" -ge "$end" ]; then
      tail_log "$SW/n$i/log" 10
      [ "$retry" = 1 ] || die "dockerd n$i does not answer on unix://$(sock "$i")"
      # e.g. its socket file was unlinked by a second daemon that failed to start
      log "n$i: dockerd runs but does not answer on unix://$(sock "$i"): restarting it"
      stop_node "$i"; start_node "$i"; wait_node "$i" 0; return 0
    fi
    sleep 0.1
  done
}
# Before a fresh start of node I's dockerd: kill what a crashed one left (its containerd, shims, task
# processes) and drop its containerd pidfile. dockerd trusts that pidfile if *any* process has the pid in
# it and then waits for a containerd that is not there ("timeout waiting for containerd to start"): with
# pid_max 32768 and a test run's churn, a dead containerd's pid is soon someone else's.
clear_stale() {
  local h; h=$(echo $(node_helpers "$1") $(container_pids "$1"))
  [ -n "$h" ] && { log "n$1: killing what a dead dockerd left: $h"; kill -9 $h 2>/dev/null || true; }
  rm -f "$SW/n$1/exec/containerd/containerd.pid"
}
# pids of the processes in node I's containers (cgroup-parent /fg-nI)
container_pids() { cat /sys/fs/cgroup/pids/"$P-n$1"/*/cgroup.procs /sys/fs/cgroup/"$P-n$1"/*/cgroup.procs 2>/dev/null | sort -u || true; }
# processes of node I other than the containers: its containerd and containerd-shims
node_helpers() { procs_under "$SW/n$1/"; }
# true when dockerd I has exited or has no swarm (:2377) listener / connection left in its netns
swarm_quiet() {
  running "$2" || return 0
  ! nsenter --net="/run/netns/$P-n$1" ss -Htan '( sport = :2377 or dport = :2377 )' 2>/dev/null | grep -qE '^(ESTAB|LISTEN|SYN)'
}
stop_node() { # stop_node I [--kill]
  local i=$1 mode=${2:-} pid t; t=$(date +%s.%N)
  if ! pid=$(node_pid "$i"); then log "n$i: dockerd not running"; return 0; fi
  if [ "$mode" = --kill ]; then
    kill -9 "$pid" $(node_helpers "$i") $(container_pids "$i") 2>/dev/null || true
  else
    kill -TERM "$pid"
    # On SIGTERM dockerd closes its API, stops its swarm node (manager listener / agent session on :2377)
    # and only then stops the containers, giving each its StopTimeout (default 10 s, task containers too).
    # Once the node has no swarm connection left, it cannot report anything anymore: kill what still
    # runs in its containers then. The swarm sees the same thing (node down), but in ~1-3 s instead of ~13 s.
    # --graceful: leave the containers their full StopTimeout
    [ "$mode" = --graceful ] || waitfor 15 swarm_quiet "$i" "$pid" || log "n$i: swarm sockets still open after 15 s"
    if [ "$mode" != --graceful ] && running "$pid"; then local c; c=$(container_pids "$i"); [ -n "$c" ] && kill -9 $c 2>/dev/null || true; fi
  fi
  if ! waitfor 60 eval "! running $pid"; then
    log "n$i: dockerd did not exit within 60 s: SIGKILL"; kill -9 "$pid" 2>/dev/null || true
  fi
  # wait for its containerd / shims as well, so a start-node right after finds a clean exec-root
  local h; waitfor 10 eval '[ -z "$(node_helpers '"$i"')" ]' || { h=$(node_helpers "$i"); [ -n "$h" ] && kill -9 $h 2>/dev/null || true; }
  log "n$i: dockerd stopped${mode:+ ($mode)} in $(since "$t") s"
}

# ---------------------------------------------------------------- image
image_tar() { # prints the path of a saved local/busybox:1 tar, building one on n1 if services.sh has none
  if [ -s "$SVC_TAR" ]; then echo "$SVC_TAR"; return 0; fi
  if [ ! -s "$SW/busybox.tar" ]; then
    if ! dkn 1 image inspect "$IMAGE" >/dev/null 2>&1; then
      local r=$SW/rootfs a
      rm -rf "$r"; mkdir -p "$r/bin" "$r/tmp" "$r/etc" "$r/proc" "$r/sys" "$r/dev"
      cp /bin/busybox "$r/bin/busybox"
      for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
      chmod 1777 "$r/tmp"
      echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"; echo 'root:x:0:' >"$r/etc/group"
      tar -C "$r" -c . | dkn 1 import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$IMAGE" >/dev/null
      rm -rf "$r"
    fi
    dkn 1 image save "$IMAGE" -o "$SW/busybox.tar.tmp" && mv "$SW/busybox.tar.tmp" "$SW/busybox.tar"
  fi
  echo "$SW/busybox.tar"
}
images_up() {
  local i tar pids=() missing=()
  for i in $(seq 1 $N); do dkn "$i" image inspect "$IMAGE" >/dev/null 2>&1 || missing+=("$i"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  tar=$(image_tar)
  # the same tar on every node -> the same image ID everywhere
  for i in "${missing[@]}"; do
    dkn "$i" image inspect "$IMAGE" >/dev/null 2>&1 || { dkn "$i" load -q -i "$tar" >/dev/null & pids+=($!); }
  done
  for i in "${pids[@]}"; do wait "$i" || die "docker load failed"; done
  log "image $IMAGE loaded on ${missing[*]/#/n} (from $tar)"
}

# ---------------------------------------------------------------- swarm
wait_swarm() { # all N nodes Ready on n1, expected number of managers Leader/Reachable
  local m=$1 end=$(( $(date +%s) + 90 )) out
  while :; do
    out=$(dkn 1 node ls --format '{{.Status}} {{.ManagerStatus}}' 2>/dev/null || true)
    [ "$(grep -c '^Ready' <<<"$out")" = $N ] && [ "$(grep -cE 'Leader|Reachable' <<<"$out")" = "$m" ] && return 0
    [ "$(date +%s)" -ge "$end" ] && { log "swarm not ready:"; dkn 1 node ls >&2 || true; die "swarm did not become ready"; }
    sleep 0.2
  done
}
cmd_form() {
  local i mtok wtok tok nid
  [[ "$MANAGERS" =~ ^[13]$ ]] || die "FLEETGRAPH_SWARM_MANAGERS must be 1 or 3"
  for i in $(seq 1 $N); do start_node "$i"; done
  for i in $(seq 1 $N); do wait_node "$i"; done
  if [ "$(state 1)" != active ]; then
    dkn 1 swarm init --advertise-addr "$(addr 1)" --listen-addr "$(addr 1):2377" >/dev/null
  elif [ "$(dkn 1 info --format '{{.Swarm.ControlAvailable}}')" != true ]; then
    die "n1 is in a swarm but is not a manager: run '$0 reset' first"
  fi
  mtok=$(dkn 1 swarm join-token -q manager); wtok=$(dkn 1 swarm join-token -q worker)
  for i in $(seq 2 $N); do
    if [ "$(state "$i")" != inactive ]; then
      nid=$(dkn "$i" info --format '{{.Swarm.NodeID}}')
      [ -n "$nid" ] && dkn 1 node inspect "$nid" >/dev/null 2>&1 && continue     # already in n1's swarm
      log "n$i is in another swarm: leaving it"; dkn "$i" swarm leave --force >/dev/null
    fi
    tok=$wtok; [ "$i" -le "$MANAGERS" ] && tok=$mtok
    dkn "$i" swarm join --token "$tok" --advertise-addr "$(addr "$i")" --listen-addr "$(addr "$i"):2377" "$(addr 1):2377" >/dev/null
  done
  wait_swarm "$MANAGERS"
  log "swarm formed ($MANAGERS manager(s)) in $(since) s"
}
reset_node() {
  local i=$1 try
  # a busy manager may answer "context deadline exceeded" to a leave: try again, then restart its daemon
  for try in 1 2 3; do
    [ "$(state "$i")" = inactive ] && break
    dkn "$i" swarm leave --force >/dev/null 2>&1 && break
    log "n$i: swarm leave failed (try $try)"; sleep 2
  done
  if [ "$(state "$i")" != inactive ]; then
    log "n$i: restarting its dockerd to leave the swarm"
    stop_node "$i"; start_node "$i"; wait_node "$i"
    [ "$(state "$i")" = inactive ] || dkn "$i" swarm leave --force >/dev/null
  fi
  dkn "$i" ps -aq | xargs -r "${DENV[@]}" docker -H "unix://$(sock "$i")" rm -f >/dev/null
  dkn "$i" network prune -f >/dev/null
  dkn "$i" volume prune -f >/dev/null
}
cmd_reset() {
  local i pids=()
  for i in $(seq 1 $N); do start_node "$i"; done
  for i in $(seq 1 $N); do wait_node "$i"; done
  # services first, while the managers still agree: fewer tasks moving while the nodes leave
  local ids; ids=$(dkn 1 service ls -q 2>/dev/null || true)
  if [ -n "$ids" ]; then dkn 1 service rm $ids >/dev/null 2>&1 || true; fi
  for i in $(seq 1 $N); do reset_node "$i" & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || die "reset failed"; done
  for i in $(seq 1 $N); do [ "$(state "$i")" = inactive ] || die "n$i still in a swarm"; done
  images_up
  log "reset: no node in a swarm ($(since) s)"
}

# ---------------------------------------------------------------- commands
lock() { mkdir -p "$(dirname "$SW")"; exec 9>"$LOCK"; flock -w 600 9 || die "could not lock $LOCK"; }
[ "$(id -u)" = 0 ] || [ "${1:-}" = env ] || die "must run as root"

cmd_up() {
  install_pkgs
  mkdir -p "$SW"
  net_up
  local i
  for i in $(seq 1 $N); do start_node "$i"; done
  for i in $(seq 1 $N); do wait_node "$i"; done
  log "3 dockerd ready"
  images_up
  log "up in $(since) s (no swarm formed: use '$0 form' for a ready-made one)"
}

cmd_down() {
  local i pid pids=()
  for i in $(seq 1 $N); do pid=$(node_pid "$i") && kill -TERM "$pid" && pids+=("$pid"); done
  if [ ${#pids[@]} -gt 0 ]; then
    # everything is deleted anyway: don't wait out each container's 10 s StopTimeout
    waitfor 2 all_dead "${pids[@]}" || true
    for i in $(seq 1 $N); do pid=$(container_pids "$i"); [ -n "$pid" ] && kill -9 $pid 2>/dev/null || true; done
    for pid in "${pids[@]}"; do waitfor 60 eval "! running $pid" || kill -9 "$pid" 2>/dev/null || true; done
  fi
  for i in $(seq 1 $N); do pid=$(node_helpers "$i"); [ -n "$pid" ] && kill -9 $pid 2>/dev/null || true; done
  awk -v b="$SW/" 'index($2, b) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  net_down
  for i in $(seq 1 $N); do
    for d in /sys/fs/cgroup/*/"$P-n$i" /sys/fs/cgroup/"$P-n$i"; do
      [ -d "$d" ] && { find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; rmdir "$d" 2>/dev/null; }
    done
  done
  rm -rf "$SW" "$SW.apt.log"
  log "down in $(since) s"
}

cmd_env() {
  local i
  echo "FLEETGRAPH_SWARM_BASE=$SW"
  for i in $(seq 1 $N); do
    echo "FLEETGRAPH_SWARM_N${i}_SOCKET=$(sock "$i")"
    echo "FLEETGRAPH_SWARM_N${i}_ADDR=$(addr "$i")"
    echo "FLEETGRAPH_SWARM_N${i}_HOST=tcp://$(addr "$i"):2375"
    echo "FLEETGRAPH_SWARM_N${i}_HOSTNAME=$P-n$i"
  done
}

cmd_status() {
  local i bad=0 v
  for i in $(seq 1 $N); do
    if v=$(dkn "$i" info --format '{{.ServerVersion}} swarm={{.Swarm.LocalNodeState}} manager={{.Swarm.ControlAvailable}} node={{.Swarm.NodeID}}' 2>/dev/null); then
      echo "n$i: up $(addr "$i") $v"
    else echo "n$i: DOWN"; bad=1; fi
  done
  return $bad
}

case "${1:-}" in
  up) lock; cmd_up ;;
  down) lock; cmd_down ;;
  env) cmd_env ;;
  status) cmd_status || exit 1 ;;
  form) lock; cmd_form ;;
  reset) lock; cmd_reset ;;
  stop-node) check_node_arg "${2:-}"; case ${3:-} in ''|--graceful|--kill) ;; *) die "unknown option ${3:-}" ;; esac; lock; stop_node "$2" "${3:-}" ;;
  start-node) check_node_arg "${2:-}"; lock; net_ok || die "namespaces missing: run '$0 up'"
    start_node "$2"; wait_node "$2"; log "n$2: dockerd ready in $(since) s" ;;
  *) echo "usage: $0 up | down | env | status | form | reset | stop-node N [--graceful|--kill] | start-node N" >&2; exit 2 ;;
esac
