# Sourced by the test scripts: `venv_requirements NAME REQUIREMENTS_FILE` makes .venv at the
# repository root when missing and installs the file's pinned packages into it, again only when
# the file changed since the last install (a stamp per NAME in the venv). Sets $venv.
venv_requirements() {
    local name="$1" req="$2"
    venv="$root/.venv"
    local stamp="$venv/.$name-requirements.sha256"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "$name-tests: creating $venv" >&2
        python3 -m venv "$venv"
    fi
    local want have
    want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$req")"
    have="$(cat "$stamp" 2>/dev/null || true)"
    if [[ "$want" != "$have" ]]; then
        echo "$name-tests: installing $req" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
        echo "$want" >"$stamp"
    fi
}
