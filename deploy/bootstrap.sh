#!/usr/bin/env bash
# Creates the data root (docs/architecture.md "Data root") owned by UID 1000. Run once per host as root.
set -euo pipefail
ROOT="${HOMELAB_ROOT:-/opt/homelab}"
install -d -o 1000 -g 1000 -m 0750 "$ROOT"
for d in events world state agent actions \
         actions/pending actions/approved actions/running actions/completed \
         actions/failed actions/rejected actions/cancelled; do
  install -d -o 1000 -g 1000 -m 0750 "$ROOT/$d"
done
echo "data root ready at $ROOT"
