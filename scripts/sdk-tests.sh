#!/usr/bin/env bash
# Runs the official-SDK test suite (tests/sdk) against the built gateway and mock provider,
# with the agent CLIs (scripts/agent-tools.sh) for test_agents.py.
#
# Creates .venv at the repository root when missing and installs tests/sdk/requirements.txt into
# it, again only when that file has changed since the last install. Arguments go to pytest.
#
# Binaries: SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN, defaulting to target/debug/switchyard and
# target/debug/switchyard-mock (build them first with `cargo build`).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

source "$root/scripts/venv-requirements.sh"
venv_requirements sdk "$root/tests/sdk/requirements.txt"

# The agent CLIs test_agents.py drives (Claude Code, Codex, Cline, aider), pinned.
"$root/scripts/agent-tools.sh"

export SWITCHYARD_BIN="${SWITCHYARD_BIN:-$root/target/debug/switchyard}"
export SWITCHYARD_MOCK_BIN="${SWITCHYARD_MOCK_BIN:-$root/target/debug/switchyard-mock}"
for bin in "$SWITCHYARD_BIN" "$SWITCHYARD_MOCK_BIN"; do
    if [[ ! -x "$bin" ]]; then
        echo "sdk-tests: $bin is missing or not executable; run 'cargo build' first" >&2
        exit 2
    fi
done

exec "$venv/bin/python" -m pytest tests/sdk -q "$@"
