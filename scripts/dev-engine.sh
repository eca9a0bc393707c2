#!/usr/bin/env bash
# npm run dev:engine [-- up | down]
#
# A private Docker engine for trying fleetgraph on a machine without one (or without wanting to
# hand it /var/run/docker.sock): the dockerd the tests use (test/support/services.sh engine-up),
# with the image local/busybox:1 built locally, so nothing needs a registry. It runs in the
# background until `npm run dev:engine -- down`. Needs root (dockerd); installs docker.io and
# busybox-static with apt-get when missing.
#
#   FLEETGRAPH_DEV_ENGINE_BASE   where it lives (default /tmp/fleetgraph-dev)
#   FLEETGRAPH_DEV_ENGINE_TLS_PORT  its mutual-TLS listener on 127.0.0.1 (default 23770)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
services=$here/../test/support/services.sh
export FLEETGRAPH_TEST_BASE=${FLEETGRAPH_DEV_ENGINE_BASE:-/tmp/fleetgraph-dev}
export FG_DOCKER_TLS_PORT=${FLEETGRAPH_DEV_ENGINE_TLS_PORT:-23770}
export FG_DOCKER_NAMESPACE=fleetgraph-dev
base=${FLEETGRAPH_TEST_BASE%/}
sock=$base/docker/docker.sock

case "${1:-up}" in
  up) ;;
  down) exec "$services" down ;;
  *) echo "usage: npm run dev:engine [-- up | down]" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "dev:engine starts a dockerd and must run as root: sudo npm run dev:engine" >&2
  exit 1
fi
"$services" engine-up
# started with sudo: let the invoking user's `npm start` open the socket (dockerd recreates it as root:root 0660)
if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID" "$sock"; fi

cat <<OUT

A private Docker engine is running (stop it with: npm run dev:engine -- down).
  endpoint:  unix://$sock
  image:     local/busybox:1 (built locally; no registry needed)
  docker CLI: docker -H unix://$sock run --rm local/busybox:1 true

1. Allow the endpoint, then start fleetgraph in the same shell:
     export FLEETGRAPH_ENDPOINT_ALLOW=unix:$sock
     npm start
2. Get a token:
     TOKEN=\$(npm run -s token -- --account dev --permissions docker.hosts.manage,docker.resources.manage,docker.containers.exec,docker.logs.read | tail -1)
3. Register the engine:
     curl -s http://localhost:4000/graphql -H "authorization: Bearer \$TOKEN" -H 'content-type: application/json' -d '{
       "query": "mutation(\$in: RegisterDockerHostInput!) { registerDockerHost(input: \$in) { host { id status } } }",
       "variables": { "in": { "name": "dev", "apiEndpoint": "unix://$sock", "environment": "development" } } }'
OUT
