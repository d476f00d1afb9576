#!/usr/bin/env bash
# Regenerates catalog/models.json, the price list compiled into the gateway: LiteLLM's published
# list (model_prices_and_context_window.json, MIT-licensed data) from the litellm wheel on PyPI,
# with the hand-checked entries of catalog/curated.json laid over it.
# Usage: scripts/catalog-refresh.sh [litellm-version]   (default 1.110.2)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-1.110.2}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
python3 -m pip download "litellm==$VERSION" --no-deps -d "$TMP" -q
(cd "$TMP" && python3 -m zipfile -e litellm-*.whl extracted >/dev/null)
cargo build -q -p switchyard
./target/debug/switchyard catalog update \
  --from "$TMP/extracted/litellm/model_prices_and_context_window_backup.json" \
  --overrides catalog/curated.json --out catalog/models.json \
  --note "litellm $VERSION from PyPI (litellm/model_prices_and_context_window_backup.json, read $(date -u +%F))"
