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

venv="$root/.venv"
req="$root/tests/sdk/requirements.txt"
stamp="$venv/.sdk-requirements.sha256"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "sdk-tests: creating $venv" >&2
    python3 -m venv "$venv"
fi

want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$req")"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ "$want" != "$have" ]]; then
    echo "sdk-tests: installing $req" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
fi

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
