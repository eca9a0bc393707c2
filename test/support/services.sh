#!/usr/bin/env bash
# fleetgraph test services: PostgreSQL 15 + Redis + one dockerd (unix socket + TLS TCP listener) with the
# local image local/busybox:1. No systemd needed; everything lives under $FLEETGRAPH_TEST_BASE (outside the repo).
#
# Usage: test/support/services.sh up | engine-up | down | env | status | restart-docker | stop-docker | start-docker
#
#   up              install missing Debian packages, start whatever is not running (idempotent, fast when up)
#   engine-up       the same for dockerd and its image only (no PostgreSQL, no Redis): scripts/dev-engine.sh
#   down            stop everything and delete $FLEETGRAPH_TEST_BASE
#   env             print KEY=VALUE lines for the tests (source with: eval "$(services.sh env | sed 's/^/export /')")
#   status          show the state of every service; exit status 1 if one of them is not answering
#   restart-docker  SIGTERM dockerd, wait for it to exit, start it again with the same flags, wait until it answers
#   stop-docker     SIGTERM dockerd and wait for it to exit
#   start-docker    start dockerd (if not running) and wait until it answers
#
# Environment:
#   FLEETGRAPH_TEST_BASE           base directory (default /tmp/fleetgraph-test)
#   FG_PG_PORT / FG_REDIS_PORT     defaults 55432 / 56379
#   FG_DOCKER_TLS_PORT             default 23760 (dockerd --tlsverify on tcp://127.0.0.1:PORT)
#   FG_DOCKER_NAMESPACE            containerd namespace of the dockerd, default fleetgraph-test
#   FLEETGRAPH_TEST_DATABASE_URL   if set by the caller, 'up' does not start PostgreSQL (the external one is used)
#   FLEETGRAPH_TEST_REDIS_URL      if set by the caller, 'up' does not start Redis
set -eEuo pipefail
umask 022
trap 'rc=$?; printf "%s services: ERROR: \"%s\" failed (rc %s, line %s)\n" "$(date +%T.%3N)" "$BASH_COMMAND" "$rc" "$LINENO" >&2' ERR

BASE=${FLEETGRAPH_TEST_BASE:-/tmp/fleetgraph-test}
BASE=${BASE%/}
PG_PORT=${FG_PG_PORT:-55432}
PG_PASSWORD=test                      # throwaway, local-only
PG_DB=fleetgraph_test
REDIS_PORT=${FG_REDIS_PORT:-56379}
TLS_PORT=${FG_DOCKER_TLS_PORT:-23760}
NS=${FG_DOCKER_NAMESPACE:-fleetgraph-test}
PGBIN=/usr/lib/postgresql/15/bin
IMAGE=local/busybox:1
D=$BASE/docker
SOCK=$D/docker.sock
CERTS=$D/certs
LOCK=$BASE.lock                       # outside $BASE: 'down' deletes $BASE

EXT_DB=${FLEETGRAPH_TEST_DATABASE_URL:-}
EXT_REDIS=${FLEETGRAPH_TEST_REDIS_URL:-}

T0=$(date +%s.%N)
log() { printf '%s services: %s\n' "$(date +%T.%3N)" "$*" >&2; }
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
die() { log "ERROR: $*"; exit 1; }
tail_log() { [ -f "$1" ] && { log "--- last lines of $1 ---"; tail -n "${2:-30}" "$1" >&2; log "---"; }; return 0; }

# docker CLI pinned to our unix socket, immune to the caller's DOCKER_* environment (DOCKER_TLS is read by the CLI too)
DENV=(env -u DOCKER_HOST -u DOCKER_TLS -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH -u DOCKER_CONTEXT -u DOCKER_API_VERSION -u DOCKER_DEFAULT_PLATFORM)
dk() { "${DENV[@]}" docker -H "unix://$SOCK" "$@"; }
# the same through the TLS listener with the good client cert
dk_tls() { "${DENV[@]}" docker --tlsverify --tlscacert "$CERTS/ca.pem" --tlscert "$CERTS/cert.pem" --tlskey "$CERTS/key.pem" -H "tcp://127.0.0.1:$TLS_PORT" "$@"; }

# process alive and not a zombie
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
# pid from a pidfile, only if that process is alive and has the expected command name
# (dockerd writes its pidfile without a trailing newline: 'read' then fails although it read the pid)
pid_of() { local p='' c; { read -r p || [ -n "$p" ]; } 2>/dev/null <"$1" || return 1; running "$p" && read -r c 2>/dev/null <"/proc/$p/comm" && [ "$c" = "$2" ] && echo "$p"; }
waitfor() { # waitfor <seconds> <command...>
  local end; end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.1; done
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# ---------------------------------------------------------------- packages
install_pkgs() {
  local missing=() need_pg=$1
  command -v dockerd >/dev/null && command -v docker >/dev/null || missing+=(docker.io)
  if [ "$2" = 1 ]; then command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server); fi
  # a *static* busybox is needed: it is copied into an empty rootfs
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
  if [ "$need_pg" = 1 ]; then [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/psql" ] || missing+=(postgresql-15); fi
  command -v openssl >/dev/null || missing+=(openssl)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v iptables >/dev/null || missing+=(iptables)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]} and not root"
  log "installing missing packages: ${missing[*]}"
  # only the missing ones (a plain install of installed packages would upgrade them); policy-rc.d keeps the
  # maintainer scripts from starting system postgres/redis/containerd/docker services
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
  fi
  local rc=0
  { apt-get update -qq -o DPkg::Lock::Timeout=300 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
  } >"${BASE}.apt.log" 2>&1 || rc=$?
  [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || { tail_log "${BASE}.apt.log" 40; die "apt-get install failed"; }
  log "packages installed ($(elapsed) s)"
}

# ---------------------------------------------------------------- postgres
pg_conn() { echo "host=127.0.0.1 port=$PG_PORT user=postgres password=$PG_PASSWORD dbname=${1:-postgres} sslmode=disable connect_timeout=5"; }
pg_sql() { "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -Atq "$(pg_conn)" -c "$1"; }
pg_running() { as_pg "$PGBIN/pg_ctl" -D "$BASE/pg/data" status >/dev/null 2>&1; }

pg_up() {
  local P=$BASE/pg
  mkdir -p "$P"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$P"
  if [ ! -f "$P/data/PG_VERSION" ]; then
    rm -rf "$P/data"
    printf '%s\n' "$PG_PASSWORD" >"$P/pw"; [ "$(id -u)" = 0 ] && chown postgres "$P/pw"
    # initdb refuses root -> run as the 'postgres' user created by postgresql-common
    as_pg "$PGBIN/initdb" -D "$P/data" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust \
      --auth-host=scram-sha-256 --pwfile="$P/pw" --no-sync >"$P/initdb.log" 2>&1 ||
      { rm -f "$P/pw"; tail_log "$P/initdb.log"; die "initdb failed"; }
    rm -f "$P/pw"
  fi
  # a postmaster killed with SIGKILL leaves its pidfile; pg_ctl (and postgres itself) take it as a running
  # server if *any* process has that pid now, and the test runs' churn reuses pids soon
  local old=''
  if [ -f "$P/data/postmaster.pid" ] && { read -r old <"$P/data/postmaster.pid"; } 2>/dev/null && ! pid_of "$P/data/postmaster.pid" postgres >/dev/null; then
    log "postmaster.pid names pid $old, which is no postgres: removing it"; rm -f "$P/data/postmaster.pid"
  fi
  if ! pg_running; then
    # 9>&- : the daemon must not inherit our lock fd
    as_pg "$PGBIN/pg_ctl" -D "$P/data" -l "$P/log" -w -t 60 -o "-p $PG_PORT -k $P -c listen_addresses=127.0.0.1 \
      -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null 9>&- ||
      { tail_log "$P/log"; die "postgres did not start on 127.0.0.1:$PG_PORT"; }
  fi
  local have
  have=$(pg_sql "select 1 from pg_database where datname='$PG_DB'") || { tail_log "$P/log"; die "cannot connect to postgres on 127.0.0.1:$PG_PORT"; }
  [ "$have" = 1 ] || pg_sql "create database $PG_DB" || die "create database $PG_DB failed"
  log "postgres ready on 127.0.0.1:$PG_PORT (db $PG_DB, user postgres = superuser)"
}

pg_down() {
  [ -f "$BASE/pg/data/postmaster.pid" ] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$BASE/pg/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- redis
redis_ping() { env -u REDISCLI_AUTH redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
redis_up() {
  mkdir -p "$BASE/redis"
  if ! pid_of "$BASE/redis/pid" redis-server >/dev/null; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --pidfile "$BASE/redis/pid" \
      --dir "$BASE/redis" --logfile "$BASE/redis/log" --save '' --appendonly no 9>&- ||
      { tail_log "$BASE/redis/log"; die "redis-server failed"; }
  fi
  waitfor 15 redis_ping || { tail_log "$BASE/redis/log"; die "redis does not answer on 127.0.0.1:$REDIS_PORT"; }
  log "redis ready on 127.0.0.1:$REDIS_PORT"
}
redis_down() {
  local p; p=$(pid_of "$BASE/redis/pid" redis-server) || return 0
  env -u REDISCLI_AUTH redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$p" 2>/dev/null || true
  waitfor 10 eval "! running $p" || kill -9 "$p" 2>/dev/null || true
}

# ---------------------------------------------------------------- certificates
gen_cert() { # gen_cert <ca-prefix> <out-prefix> <CN> <extensions...>
  local ca=$1 out=$2 cn=$3; shift 3
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$cn" -keyout "$out-key.pem" -out "$out.csr" 2>/dev/null
  printf '%s\n' "$@" >"$out.ext"
  openssl x509 -req -sha256 -in "$out.csr" -CA "$ca.pem" -CAkey "$ca-key.pem" -CAcreateserial -days 365 \
    -extfile "$out.ext" -out "$out-cert.pem" 2>/dev/null
  rm -f "$out.csr" "$out.ext"
}
CERTS_NEW=0
make_certs() { # (re)generates the certificates when missing or expiring within a day; sets CERTS_NEW=1 then
  if [ -s "$CERTS/wrong-key.pem" ] && openssl x509 -checkend 86400 -noout -in "$CERTS/ca.pem" >/dev/null 2>&1; then return 0; fi
  rm -rf "$CERTS"; mkdir -p "$CERTS"
  local ext='keyUsage=critical,digitalSignature'   # ECDSA P-256 keys (fast to generate)
  (
    set -e
    cd "$CERTS"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 365 -subj /CN=fleetgraph-test-ca -keyout ca-key.pem -out ca.pem 2>/dev/null
    gen_cert ca server localhost 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'extendedKeyUsage=serverAuth' "$ext" 'basicConstraints=CA:FALSE'
    gen_cert ca client fleetgraph-test-client 'extendedKeyUsage=clientAuth' "$ext" 'basicConstraints=CA:FALSE'
    mv client-cert.pem cert.pem; mv client-key.pem key.pem
    # a second, unrelated CA + client cert ("wrong" client): dockerd must reject it
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 365 -subj /CN=fleetgraph-wrong-ca -keyout wrong-ca-key.pem -out wrong-ca.pem 2>/dev/null
    gen_cert wrong-ca wrong fleetgraph-test-client 'extendedKeyUsage=clientAuth' "$ext" 'basicConstraints=CA:FALSE'
    rm -f ./*.srl
    chmod 600 ca-key.pem server-key.pem wrong-ca-key.pem
    chmod 644 key.pem wrong-key.pem       # client keys: readable by a non-root test user too
  )
  openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/server-cert.pem" "$CERTS/cert.pem" >/dev/null 2>&1 &&
    openssl verify -CAfile "$CERTS/wrong-ca.pem" "$CERTS/wrong-cert.pem" >/dev/null 2>&1 &&
    ! openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/wrong-cert.pem" >/dev/null 2>&1 ||
    { rm -rf "$CERTS"; die "certificate generation failed"; }
  CERTS_NEW=1
  log "certificates generated in $CERTS"
}

# ---------------------------------------------------------------- dockerd
docker_pid() { # from the pidfile, else (pidfile lost) the dockerd running with our exec-root
  pid_of "$D/pid" dockerd && return 0
  local p; for p in $(procs_under "$D/exec "); do [ "$(cat "/proc/$p/comm")" = dockerd ] && { echo "$p"; return 0; }; done
  return 1
}
docker_answers() { dk version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_docker() {
  mkdir -p "$D"
  make_certs
  if [ $CERTS_NEW = 1 ] && docker_pid >/dev/null; then log "certificates changed: restarting dockerd"; stop_docker; fi
  local pid=''
  if pid=$(docker_pid); then
    echo "$pid" >"$D/pid"                                   # (re)writes a lost pidfile
    if ! waitfor 20 docker_answers; then                    # e.g. its socket file was unlinked
      log "dockerd (pid $pid) runs but unix://$SOCK does not answer: restarting it"; stop_docker; pid=''
    fi
  fi
  if [ -z "$pid" ]; then
    # never start a second daemon on the same socket/port: a failing one unlinks the running one's socket
    docker_answers && die "unix://$SOCK answers but no dockerd with exec-root $D/exec was found"
    port_busy "$TLS_PORT" && die "127.0.0.1:$TLS_PORT is already in use by another process (set FG_DOCKER_TLS_PORT)"
    rm -f "$D/pid"
    # what a crashed dockerd left: its containerd and shims, and its containerd pidfile, which dockerd
    # trusts if *any* process has that pid (then it waits for a containerd that is not there)
    local h; h=$(procs_under "$D/exec/")
    [ -n "$h" ] && { log "killing what a dead dockerd left: $(echo $h)"; kill -9 $h 2>/dev/null || true; }
    rm -f "$D/exec/containerd/containerd.pid"
    # --bridge=none/--iptables=false: never fight another dockerd of this netns over docker0 / iptables chains
    # --shutdown-timeout 1 + containers removed on 'down'; setsid: own session, survives the calling shell
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid "${DENV[@]}" dockerd \
      --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/pid" \
      -H "unix://$SOCK" \
      --tlsverify --tlscacert "$CERTS/ca.pem" --tlscert "$CERTS/server-cert.pem" --tlskey "$CERTS/server-key.pem" \
      -H "tcp://127.0.0.1:$TLS_PORT" \
      --bridge=none --iptables=false --ip-masq=false --userland-proxy=false \
      --storage-driver=overlay2 --shutdown-timeout 1 \
      --containerd-namespace "$NS" --containerd-plugins-namespace "$NS-plugins" \
      --log-level=warn >>"$D/log" 2>&1 </dev/null 9>&- &
    pid=$!
    log "dockerd started (pid $pid)"
  else
    log "dockerd running (pid $pid) on unix://$SOCK and tcp://127.0.0.1:$TLS_PORT (TLS)"; return 0
  fi
  local end=$(( $(date +%s) + 60 ))
  until docker_answers; do
    running "$pid" || pid=$(docker_pid) || { tail_log "$D/log"; die "dockerd exited during startup"; }
    [ "$(date +%s)" -ge "$end" ] && { tail_log "$D/log"; die "dockerd does not answer on unix://$SOCK"; }
    sleep 0.1
  done
  log "dockerd ready on unix://$SOCK and tcp://127.0.0.1:$TLS_PORT (TLS)"
}

stop_docker() {
  local pid; pid=$(docker_pid) || { log "dockerd not running"; return 0; }
  local t; t=$(date +%s.%N)
  kill -TERM "$pid"
  if ! waitfor 60 eval "! running $pid"; then
    log "dockerd did not exit within 60 s: SIGKILL"; kill -9 "$pid" 2>/dev/null || true
    waitfor 10 eval "! running $pid" || true
  fi
  log "dockerd stopped in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
}

image_up() {
  if ! dk image inspect "$IMAGE" >/dev/null 2>&1; then
    local r=$D/rootfs
    rm -rf "$r"; mkdir -p "$r/bin" "$r/tmp" "$r/etc" "$r/proc" "$r/sys" "$r/dev"
    cp /bin/busybox "$r/bin/busybox"
    local a; for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
    chmod 1777 "$r/tmp"
    echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"; echo 'root:x:0:' >"$r/etc/group"
    tar -C "$r" -c . | dk import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$IMAGE" >/dev/null || die "docker import failed"
    rm -rf "$r" "$BASE/busybox.tar"
  fi
  if [ ! -s "$BASE/busybox.tar" ]; then     # for 'docker load' into other daemons (swarm.sh)
    dk image save "$IMAGE" -o "$BASE/busybox.tar.tmp" && chmod 644 "$BASE/busybox.tar.tmp" && mv "$BASE/busybox.tar.tmp" "$BASE/busybox.tar" || die "docker save failed"
  fi
  log "image $IMAGE ready ($BASE/busybox.tar)"
}

docker_down() {
  if docker_pid >/dev/null && docker_answers; then
    dk ps -aq | xargs -r "${DENV[@]}" docker -H "unix://$SOCK" rm -f >/dev/null 2>&1 || true
  fi
  stop_docker
}

# last resort after the graceful stops: our own daemons (matched by our base dir in their command line)
sweep() {
  local p
  for p in $(procs_under "$BASE/" postgres redis-server); do
    log "killing leftover $(cat "/proc/$p/comm" 2>/dev/null) (pid $p)"; kill -9 "$p" 2>/dev/null || true
  done
  awk -v b="$BASE/" 'index($2, b) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

# ---------------------------------------------------------------- commands
lock() { mkdir -p "$(dirname "$BASE")"; exec 9>"$LOCK"; flock -w 600 9 || die "could not lock $LOCK"; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (dockerd)"; }

cmd_up() {
  need_root; lock
  local want_pg=1 want_redis=1
  [ -n "$EXT_DB" ] && { want_pg=0; log "FLEETGRAPH_TEST_DATABASE_URL set by caller: not starting postgres"; }
  [ -n "$EXT_REDIS" ] && { want_redis=0; log "FLEETGRAPH_TEST_REDIS_URL set by caller: not starting redis"; }
  install_pkgs "$want_pg" "$want_redis"
  mkdir -p "$BASE"
  [ $want_pg = 1 ] && pg_up
  [ $want_redis = 1 ] && redis_up
  start_docker
  image_up
  log "up in $(elapsed) s"
}

cmd_engine_up() {
  need_root; lock
  install_pkgs 0 0
  mkdir -p "$BASE"
  start_docker
  image_up
  log "engine up in $(elapsed) s"
}

cmd_down() {
  need_root; lock
  docker_down
  redis_down
  pg_down
  sweep
  rm -rf "$BASE" "${BASE}.apt.log"
  log "down in $(elapsed) s"
}

cmd_env() {
  echo "FLEETGRAPH_TEST_BASE=$BASE"
  echo "FLEETGRAPH_TEST_DATABASE_URL=${EXT_DB:-postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB}"
  echo "FLEETGRAPH_TEST_REDIS_URL=${EXT_REDIS:-redis://127.0.0.1:$REDIS_PORT}"
  echo "FLEETGRAPH_TEST_DOCKER_SOCKET=$SOCK"
  echo "FLEETGRAPH_TEST_DOCKER_TLS_ENDPOINT=https://127.0.0.1:$TLS_PORT"
  echo "FLEETGRAPH_TEST_DOCKER_CERTS=$CERTS"
  echo "FLEETGRAPH_TEST_IMAGE=$IMAGE"
  echo "FLEETGRAPH_TEST_BUSYBOX_TAR=$BASE/busybox.tar"
}

cmd_status() {
  local bad=0 v
  if [ -n "$EXT_DB" ]; then echo "postgres: external ($EXT_DB)"
  elif v=$(pg_sql 'show server_version' 2>/dev/null); then echo "postgres: up, $v on 127.0.0.1:$PG_PORT"
  else echo "postgres: DOWN"; bad=1; fi
  if [ -n "$EXT_REDIS" ]; then echo "redis: external ($EXT_REDIS)"
  elif redis_ping; then echo "redis: up on 127.0.0.1:$REDIS_PORT"
  else echo "redis: DOWN"; bad=1; fi
  if v=$(dk version --format '{{.Server.Version}}' 2>/dev/null); then echo "dockerd: up, $v on unix://$SOCK (pid $(docker_pid || echo ?))"
  else echo "dockerd: DOWN (unix://$SOCK)"; bad=1; fi
  if dk_tls version --format '{{.Server.Version}}' >/dev/null 2>&1; then echo "dockerd TLS: up on tcp://127.0.0.1:$TLS_PORT"
  else echo "dockerd TLS: DOWN (tcp://127.0.0.1:$TLS_PORT)"; bad=1; fi
  if dk image inspect "$IMAGE" >/dev/null 2>&1; then echo "image: $IMAGE present"
  else echo "image: $IMAGE MISSING"; bad=1; fi
  return $bad
}

case "${1:-}" in
  up) cmd_up ;;
  engine-up) cmd_engine_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  status) cmd_status || exit 1 ;;
  restart-docker) need_root; lock; stop_docker; start_docker; log "restart-docker in $(elapsed) s" ;;
  stop-docker) need_root; lock; stop_docker ;;
  start-docker) need_root; lock; start_docker; log "start-docker in $(elapsed) s" ;;
  *) echo "usage: $0 up | engine-up | down | env | status | restart-docker | stop-docker | start-docker" >&2; exit 2 ;;
esac
