#!/usr/bin/env bash
# Runs the console's browser suite (tests/browser): Playwright for Python driving Debian's
# chromium against the built gateway and mock provider.
#
# Installs what it needs when missing: the chromium package (apt), the Python packages of
# tests/browser/requirements.txt into .venv (again only when that file changed), and axe-core
# (npm, pinned by tests/browser/package-lock.json) into tests/browser/node_modules.
# Arguments go to pytest. Screenshots land in target/console-screenshots/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ ! -x /usr/bin/chromium ]]; then
    echo "browser-tests: installing chromium" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

source "$root/scripts/venv-requirements.sh"
venv_requirements browser "$root/tests/browser/requirements.txt"

if [[ ! -f tests/browser/node_modules/axe-core/axe.min.js ]]; then
    echo "browser-tests: installing axe-core" >&2
    (cd tests/browser && npm ci --silent --no-audit --no-fund)
fi

export SWITCHYARD_BIN="${SWITCHYARD_BIN:-$root/target/debug/switchyard}"
export SWITCHYARD_MOCK_BIN="${SWITCHYARD_MOCK_BIN:-$root/target/debug/switchyard-mock}"
exec "$venv/bin/python" -m pytest tests/browser -q "$@"
