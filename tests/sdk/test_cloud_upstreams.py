"""The cloud providers' zero-config contracts, with the official openai SDK: Bedrock from the
standard AWS variables (requests SigV4-signed, which the mock verifies) and Vertex AI from a
service-account key file (the gateway gets an OAuth token from the key file's token endpoint,
here the mock's, which checks the assertion's RS256 signature)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import openai
import pytest

from conftest import (
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    MOCK_TEXT,
    VERTEX_SA,
    Gateway,
    Mock,
    gateway_env,
    header,
    launch_gateway,
)


def only(mock: Mock, **env: str) -> dict[str, str]:
    e = gateway_env(mock, **env)
    e.pop("OPENAI_API_KEY")
    e.pop("OPENAI_BASE_URL")
    return e


@pytest.fixture(scope="module")
def bedrock(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    env = only(
        mock,
        AWS_ACCESS_KEY_ID=AWS_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=AWS_SECRET_KEY,
        AWS_REGION="eu-west-3",
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=mock.url,
    )
    gw: Gateway = launch_gateway(tmp_path_factory.mktemp("bedrock"), "gateway-bedrock", env)
    c = gw.client()
    yield c
    c.close()
    gw.svc.stop()


@pytest.fixture(scope="module")
def vertex(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    d = tmp_path_factory.mktemp("vertex")
    key = json.loads(VERTEX_SA.read_text())
    key["token_uri"] = f"{mock.url}/token"
    key_file: Path = d / "sa.json"
    key_file.write_text(json.dumps(key))
    env = only(
        mock,
        GOOGLE_APPLICATION_CREDENTIALS=str(key_file),
        GOOGLE_CLOUD_LOCATION="europe-west4",
        VERTEX_BASE_URL=mock.url,
    )
    gw: Gateway = launch_gateway(d, "gateway-vertex", env)
    c = gw.client()
    yield c
    c.close()
    gw.svc.stop()


def test_bedrock_from_aws_variables(bedrock: openai.OpenAI, mock: Mock) -> None:
    model = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    r = bedrock.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == MOCK_TEXT
    rec = mock.last_request()
    assert rec["target"] == "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse"
    auth = header(rec, "authorization")
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY}/")
    assert "/eu-west-3/bedrock/aws4_request" in auth
    text = "".join(
        c.choices[0].delta.content or ""
        for c in bedrock.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], stream=True)
        if c.choices
    )
    assert text == MOCK_TEXT


def test_vertex_from_a_key_file(vertex: openai.OpenAI, mock: Mock) -> None:
    before = mock.stats()["token_requests"]
    r = vertex.chat.completions.create(model="vertex/gemini-2.5-flash", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == MOCK_TEXT
    rec = mock.last_request()
    # The project comes from the key file, the region from GOOGLE_CLOUD_LOCATION.
    assert rec["path"] == (
        "/v1/projects/switchyard-test/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    assert header(rec, "authorization").startswith("Bearer ya29.mock-")
    vertex.chat.completions.create(model="vertex/gemini-2.5-flash", messages=[{"role": "user", "content": "Hi"}])
    # One token, fetched on the first request and reused.
    assert mock.stats()["token_requests"] == before + 1
