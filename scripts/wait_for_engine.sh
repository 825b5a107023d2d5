#!/usr/bin/env bash
# Wait until the Docker Engine answers (`docker info`), at most SECONDS (default 120), then exit 0;
# else say what to check and exit 1. Codespaces' postStartCommand runs it before `make env`: the
# docker-in-docker feature starts dockerd in the background, and the socket is not up at once.
#   scripts/wait_for_engine.sh [SECONDS]
set -euo pipefail
limit="${1:-120}"
if ! command -v docker >/dev/null 2>&1; then
  echo "error: no docker command on PATH; the dev container's docker-in-docker feature installs it." >&2
  exit 1
fi
start=$SECONDS
said=""
until docker info >/dev/null 2>&1; do
  waited=$((SECONDS - start))
  if [ "$waited" -ge "$limit" ]; then
    echo "error: the Docker Engine did not answer within ${limit} s ($(docker info 2>&1 | tail -n 1))." >&2
    echo "-> Look at /tmp/dockerd.log (docker-in-docker's log), rebuild the container if dockerd failed," \
      "then run: make env" >&2
    exit 1
  fi
  if [ -z "$said" ]; then
    echo "Waiting for the Docker Engine (at most ${limit} s)..."
    said=1
  fi
  sleep 2
done
echo "Docker Engine answers after $((SECONDS - start)) s."
