#!/usr/bin/env bash
# Installs the agentic coding CLIs that tests/sdk/test_agents.py drives, at the versions pinned
# in tests/agents: Claude Code, Codex and Cline from npm (package.json + package-lock.json, into
# tests/agents/node_modules) and aider from PyPI (requirements-aider.txt, into
# tests/agents/.venv-aider). Each is installed again only when its pin file changed. Installs
# Node.js and npm with apt when they are missing.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/agents" && pwd)"
cd "$dir"

sha() { python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

if ! command -v npm >/dev/null 2>&1; then
    echo "agent-tools: installing nodejs and npm (apt)" >&2
    if [[ $(id -u) -eq 0 ]]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi

want="$(sha package-lock.json)"
if [[ "$want" != "$(cat node_modules/.lock.sha256 2>/dev/null || true)" ]]; then
    echo "agent-tools: npm install (claude-code, codex, cline)" >&2
    # Not `npm ci`: npm records cline's per-platform optional packages without versions, and
    # `npm ci` then refuses the lock file as out of sync. package.json pins exact versions.
    npm install --no-audit --no-fund --no-save --loglevel=error
    echo "$want" >node_modules/.lock.sha256
fi

want="$(sha requirements-aider.txt)"
if [[ ! -x .venv-aider/bin/python ]]; then
    python3 -m venv .venv-aider
fi
if [[ "$want" != "$(cat .venv-aider/.requirements.sha256 2>/dev/null || true)" ]]; then
    echo "agent-tools: installing aider into tests/agents/.venv-aider" >&2
    .venv-aider/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-aider.txt
    echo "$want" >.venv-aider/.requirements.sha256
fi
