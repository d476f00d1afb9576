"""Virtual keys across two gateway processes sharing PostgreSQL: a key created through one is
accepted by the other within a second, and a deleted key is refused by both within a second.
The official OpenAI SDK is the caller. Each run uses a PostgreSQL schema of its own (127.0.0.1,
database `test`, user `root`)."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import httpx2
import openai
import pytest

from conftest import CLIENT_KEY, MOCK_TEXT, SWITCHYARD_BIN, UPSTREAM_KEY, Gateway, Mock, base_env, header, launch_gateway

ADMIN_KEY = "admin-key-tenants-1"
WITHIN_S = 1.0


@pytest.fixture
def pg_url() -> str:
    schema = f"tenants_{secrets.token_hex(8)}"
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "root", "-d", "test", "-qc", f"CREATE SCHEMA {schema}"],
        check=True,
    )
    return f"postgres://root@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"


@pytest.fixture
def pair(mock: Mock, pg_url: str, tmp_path: Path) -> Iterator[tuple[Gateway, Gateway]]:
    config = f"""
        server:
          discover_env: false
          tenants:
            postgres_url: "{pg_url}"
        providers:
          - name: openai
            base_url: {mock.base_url}
            api_key: {UPSTREAM_KEY}
    """
    env = base_env()
    # A static client key keeps client auth on from the start, so an unknown virtual key is a
    # 401 until the replica's snapshot has it. Both replicas hash keys with the same secret.
    env.update(SWITCHYARD_API_KEYS=CLIENT_KEY, SWITCHYARD_ADMIN_KEYS=ADMIN_KEY, SWITCHYARD_SECRET_KEY="c2hhcmVkLXNlY3JldC1mb3ItdHdvLXJlcGxpY2FzLTAxMjM0NTY3")
    gws = []
    for name in ("replica-a", "replica-b"):
        d = tmp_path / name
        d.mkdir()
        gws.append(launch_gateway(d, name, env, config))
    yield gws[0], gws[1]
    for g in gws:
        g.svc.stop()


def admin(gw: Gateway, method: str, path: str, json: dict | None = None) -> httpx2.Response:
    return httpx2.request(method, gw.url + path, json=json, headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10.0)


def status_of(gw: Gateway, key: str) -> int:
    try:
        gw.client(api_key=key).chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        return 200
    except openai.APIStatusError as e:
        return e.status_code


def within(deadline_s: float, check: Callable[[], bool]) -> float:
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"not within {deadline_s}s")


def test_a_key_made_on_one_replica_works_on_the_other_and_deleted_fails_on_both(pair: tuple[Gateway, Gateway]) -> None:
    a, b = pair
    r = admin(a, "POST", "/admin/v1/workspaces/default/keys", {"name": "shared"})
    assert r.status_code == 201, r.text
    key, key_id = r.json()["key"], r.json()["id"]
    assert status_of(a, key) == 200
    within(WITHIN_S, lambda: status_of(b, key) == 200)
    reply = b.client(api_key=key).chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == MOCK_TEXT
    # Deleted through the other replica: refused by both within a second.
    assert admin(b, "DELETE", f"/admin/v1/keys/{key_id}").status_code == 200
    within(WITHIN_S, lambda: status_of(b, key) == 401)
    within(WITHIN_S, lambda: status_of(a, key) == 401)
    # Both replicas' audit shows the changes, made through either.
    actions = [e["action"] for e in admin(a, "GET", "/admin/v1/audit").json()["data"]]
    assert actions[:2] == ["key.delete", "key.create"]


def test_vault_rotation_rewraps_every_credential_and_a_wrong_kek_is_a_clear_start_up_error(
    mock: Mock, tmp_path: Path
) -> None:
    d = tmp_path / "vault"
    d.mkdir()
    # The configured key is one the mock refuses: a 200 means the vault's key was sent.

    def config(kek: str) -> str:
        return f"""
            server:
              discover_env: false
              tenants:
                sqlite_path: {d / "tenants.db"}
                secret_key_file: {d / "secret"}
                kek_file: {d / kek}
            providers:
              - name: openai
                base_url: {mock.base_url}
                api_key: sk-configured-but-refused-by-the-mock
        """

    env = base_env()
    env.update(SWITCHYARD_API_KEYS=CLIENT_KEY, SWITCHYARD_ADMIN_KEYS=ADMIN_KEY)
    gw = launch_gateway(d, "vault-1", env, config("old.kek"))
    try:
        r = admin(gw, "POST", "/admin/v1/credentials", {"provider": "openai", "name": "org", "api_key": UPSTREAM_KEY})
        assert r.status_code == 201, r.text
        assert status_of(gw, CLIENT_KEY) == 200
        assert dict(mock.last_request()["headers"])["authorization"] == f"Bearer {UPSTREAM_KEY}"
    finally:
        gw.svc.stop()
    # A dump of the database (and its write-ahead log) holds no plaintext secret.
    dump = b"".join(p.read_bytes() for p in d.glob("tenants.db*"))
    assert dump and UPSTREAM_KEY.encode() not in dump

    new = subprocess.run([str(SWITCHYARD_BIN), "vault", "new-kek"], capture_output=True, text=True, check=True)
    (d / "new.kek").write_text(new.stdout)
    rotated = subprocess.run(
        [str(SWITCHYARD_BIN), "vault", "rotate-kek", "--config", str(d / "vault-1.yaml"), "--new-kek-file", str(d / "new.kek")],
        capture_output=True, text=True, env=env, cwd=d, timeout=30,
    )
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("re-wrapped 1 credentials with kek-"), rotated.stdout

    # The old KEK no longer opens them: a clear start-up error, not a silent fallback.
    stale = subprocess.run(
        [str(SWITCHYARD_BIN), "serve", "--listen", "127.0.0.1:0", "--config", str(d / "vault-1.yaml")],
        capture_output=True, text=True, env=env, cwd=d, timeout=30,
    )
    assert stale.returncode == 2, stale.stderr
    assert "key-encryption key" in stale.stderr and "rotate-kek" in stale.stderr, stale.stderr

    gw = launch_gateway(d, "vault-2", env, config("new.kek"))
    try:
        assert status_of(gw, CLIENT_KEY) == 200
        assert dict(mock.last_request()["headers"])["authorization"] == f"Bearer {UPSTREAM_KEY}"
    finally:
        gw.svc.stop()


def test_the_admin_cli_makes_workspaces_keys_and_admins_the_gateway_accepts(mock: Mock, tmp_path: Path) -> None:
    d = tmp_path / "cli"
    d.mkdir()
    cfg = d / "gw.yaml"
    cfg.write_text(f"""
server:
  discover_env: false
  tenants:
    sqlite_path: {d / "tenants.db"}
    secret_key_file: {d / "secret"}
    kek_file: {d / "kek"}
providers:
  - name: openai
    base_url: {mock.base_url}
    api_key: sk-configured-but-not-what-the-mock-takes
""")
    env = base_env()
    env.update(SWITCHYARD_API_KEYS=CLIENT_KEY, SWITCHYARD_ADMIN_KEYS=ADMIN_KEY)

    def cli(*args: str, stdin: str | None = None) -> dict:
        p = subprocess.run([str(SWITCHYARD_BIN), "admin", "--config", str(cfg), *args],
                           capture_output=True, text=True, env=env, cwd=d, timeout=30, input=stdin)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    ws = cli("create-workspace", "team-c")
    key = cli("create-key", "--workspace", ws["id"], "--name", "ci", "--model", "openai/*")["key"]
    user = cli("create-user", "--email", "ops@example.com", "--role", "admin")
    admin_key = cli("create-admin-key", "--user", user["id"], "--name", "ops")["key"]
    assert [w["name"] for w in cli("workspaces")["data"]] == ["default", "team-c"]
    assert cli("keys", "--workspace", ws["id"])["data"][0]["models"] == ["openai/*"]
    bad = subprocess.run([str(SWITCHYARD_BIN), "admin", "--config", str(cfg), "create-key", "--workspace", "ws-nope", "--name", "x"],
                         capture_output=True, text=True, env=env, cwd=d, timeout=30)
    assert bad.returncode == 1 and "no workspace 'ws-nope'" in bad.stderr

    # Rotation prints the new key once; the old one works through its grace; disable, enable.
    key_id = cli("keys", "--workspace", ws["id"])["data"][0]["id"]
    rotated = cli("rotate-key", key_id, "--grace-secs", "600")["key"]
    assert rotated != key and rotated.startswith("sk-sy-")
    assert cli("disable-key", key_id)["disabled"] is True
    assert cli("enable-key", key_id)["disabled"] is False
    # A credential from standard input (never on the command line); listed without its secret.
    # The mock takes only UPSTREAM_KEY: the configured key would be refused.
    cred = cli("create-credential", stdin=json.dumps(
        {"provider": "openai", "workspace": ws["id"], "name": "team-c openai", "api_key": UPSTREAM_KEY}))
    listed = cli("credentials")
    assert [c["id"] for c in listed["data"]] == [cred["id"]] and UPSTREAM_KEY not in json.dumps(listed)
    blocked = cli("block-end-user", "--workspace", ws["id"], "user-9")
    assert blocked["blocked"] is True
    assert [u["id"] for u in cli("end-users", "--workspace", ws["id"])["data"]] == ["user-9"]
    actions = [e["action"] for e in cli("audit", "--workspace", ws["id"])["data"]]
    assert actions[:5] == ["end_user.block", "credential.create", "key.enable", "key.disable", "key.rotate"]

    gw = launch_gateway(d, "cli-gw", env, cfg.read_text())
    try:
        # Both secrets of the rotated key work within the grace; the workspace's credential is
        # the one the provider sees; the blocked end user is refused.
        assert status_of(gw, key) == 200 and status_of(gw, rotated) == 200
        assert header(mock.last_request("/v1/chat/completions"), "authorization") == f"Bearer {UPSTREAM_KEY}"
        with pytest.raises(openai.PermissionDeniedError):
            gw.client(api_key=rotated).chat.completions.create(
                model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], user="user-9")
        # The admin key made on the command line acts as its user, an organisation admin.
        r = httpx2.get(gw.url + "/admin/v1/users", headers={"authorization": f"Bearer {admin_key}"}, timeout=10.0)
        assert r.status_code == 200 and r.json()["data"][0]["email"] == "ops@example.com"
        actors = {e["actor"] for e in admin(gw, "GET", "/admin/v1/audit").json()["data"]}
        assert "cli:admin" in actors
    finally:
        gw.svc.stop()


def test_a_public_listener_starts_with_only_virtual_keys_and_refuses_with_none(mock: Mock, tmp_path: Path) -> None:
    d = tmp_path / "public"
    d.mkdir()
    cfg = d / "gw.yaml"
    cfg.write_text(f"""
server:
  discover_env: false
  tenants:
    sqlite_path: {d / "tenants.db"}
    secret_key_file: {d / "secret"}
    kek_file: {d / "kek"}
providers:
  - name: openai
    base_url: {mock.base_url}
    api_key: {UPSTREAM_KEY}
""")
    env = base_env()  # no static client keys
    serve = [str(SWITCHYARD_BIN), "serve", "--listen", "0.0.0.0:0", "--config", str(cfg)]
    refused = subprocess.run(serve, capture_output=True, text=True, env=env, cwd=d, timeout=30)
    assert refused.returncode == 2 and "refusing to listen on 0.0.0.0:0" in refused.stderr, refused.stderr
    made = subprocess.run([str(SWITCHYARD_BIN), "admin", "--config", str(cfg), "create-key", "--name", "only"],
                          capture_output=True, text=True, env=env, cwd=d, timeout=30)
    assert made.returncode == 0, made.stderr
    p = subprocess.Popen(serve, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env, cwd=d, text=True)
    try:
        line = p.stderr.readline()
        assert line.startswith("switchyard listening on http://0.0.0.0:"), line
        assert "1 virtual keys" in line, line
    finally:
        p.terminate()
        p.wait(timeout=10)
