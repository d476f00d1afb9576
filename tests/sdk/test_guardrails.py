"""Guardrails as the official OpenAI and Anthropic SDKs see them: a request denied on input
(no upstream call), a flagged one, an answer refused (content_filter / refusal / incomplete) or
aborted with an error, streamed and not, and a redaction inside a stream."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import anthropic
import openai
import pytest

from conftest import CLIENT_KEY, UPSTREAM_KEY, Gateway, Mock, base_env, launch_gateway

REFUSAL = "I can't discuss that project."


def config(mock: Mock) -> str:
    return f"""server:
  discover_env: false
providers:
  - name: openai
    base_url: {mock.base_url}
    api_key: {UPSTREAM_KEY}
  - name: anthropic
    base_url: {mock.url}
    api_key: {UPSTREAM_KEY}
client_keys:
  - name: sdk
    key: {CLIENT_KEY}
guardrails:
  policies:
    - id: no-secrets-in
      action: deny
      stages: [input]
      checks:
        - check: regex_match
          patterns: ["(?i)top secret"]
    - id: watch-refunds
      stages: [input]
      checks:
        - check: contains
          words: [refund]
    - id: refuse-falcon
      action: deny
      stages: [output]
      refusal: "{REFUSAL}"
      checks:
        - check: regex_match
          patterns: ["(?i)project\\\\s+falcon"]
    - id: abort-codes
      action: deny
      stages: [output]
      checks:
        - check: regex_match
          patterns: ["LAUNCH-CODE-\\\\d+"]
    - id: mask-accounts
      action: redact
      stages: [output]
      checks:
        - check: regex_redact
          patterns: [{{label: account, pattern: "ACC-\\\\d{{4}}"}}]
  attach:
    org: [no-secrets-in, watch-refunds, refuse-falcon, abort-codes, mask-accounts]
"""


@pytest.fixture(scope="module")
def gw(mock: Mock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    g = launch_gateway(tmp_path_factory.mktemp("guardrails"), "gateway-guardrails", base_env(), config(mock))
    yield g
    g.svc.stop()


@pytest.fixture(scope="module")
def oai(gw: Gateway) -> openai.OpenAI:
    return gw.client()


@pytest.fixture(scope="module")
def claude(gw: Gateway) -> Iterator[anthropic.Anthropic]:
    c = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=10.0)
    yield c
    c.close()


def says(text: str, chunks: int = 6) -> dict:
    return {"mock": {"content": text, "chunks": chunks}}


def upstream_calls(mock: Mock) -> int:
    return len([r for r in mock.requests() if r["path"].endswith(("/chat/completions", "/messages", "/responses"))])


def test_input_deny_never_reaches_the_provider(oai: openai.OpenAI, claude: anthropic.Anthropic, mock: Mock) -> None:
    with pytest.raises(openai.BadRequestError) as ei:
        oai.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "this is TOP SECRET"}])
    assert ei.value.code == "content_policy_violation"
    assert "no-secrets-in" in ei.value.message
    with pytest.raises(openai.BadRequestError):
        oai.responses.create(model="openai/gpt-4o-mini", input="top secret plans", stream=True)
    with pytest.raises(anthropic.BadRequestError) as ai:
        claude.messages.create(
            model="anthropic/claude-haiku-4-5", max_tokens=32, messages=[{"role": "user", "content": "top secret"}]
        )
    assert ai.value.body["error"]["type"] == "invalid_request_error"
    assert upstream_calls(mock) == 0


def test_a_flag_is_named_in_a_header(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "I want a refund"}]
    )
    assert raw.headers["x-switchyard-guardrails"] == "flag=watch-refunds"
    assert raw.parse().choices[0].message.content


def test_chat_refusal_streamed_and_not(oai: openai.OpenAI) -> None:
    msgs = [{"role": "user", "content": "status?"}]
    r = oai.chat.completions.create(model="openai/gpt-4o-mini", messages=msgs, extra_body=says("Project Falcon ships"))
    assert r.choices[0].finish_reason == "content_filter"
    assert r.choices[0].message.content == REFUSAL
    chunks = list(
        oai.chat.completions.create(
            model="openai/gpt-4o-mini", messages=msgs, stream=True,
            extra_body=says("All fine. Project Falcon ships in May, more words after it"),
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Falcon" not in text and text.endswith(REFUSAL)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["content_filter"]


def test_chat_abort_mid_stream_raises_in_the_sdk(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "code?"}], stream=True,
        extra_body=says("the code is LAUNCH-CODE-42 and more"),
    )
    got = ""
    with pytest.raises(openai.APIError) as ei:
        for c in stream:
            if c.choices:
                got += c.choices[0].delta.content or ""
    assert "abort-codes" in str(ei.value)
    assert "LAUNCH-CODE" not in got


def test_redaction_inside_a_stream(oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "account?"}], stream=True,
            extra_body=says("Your account ACC-2468 is active today", chunks=9),
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Your account [ACCOUNT] is active today"


def test_messages_refusal_streamed_and_not(claude: anthropic.Anthropic) -> None:
    msgs = [{"role": "user", "content": "status?"}]
    m = claude.messages.create(model="anthropic/claude-haiku-4-5", max_tokens=64, messages=msgs, extra_body=says("project falcon!"))
    assert m.stop_reason == "refusal"
    assert m.content[0].text == REFUSAL
    with claude.messages.stream(
        model="anthropic/claude-haiku-4-5", max_tokens=64, messages=msgs,
        extra_body=says("Sure: Project Falcon is next, and then some more text"),
    ) as s:
        final = s.get_final_message()
    assert final.stop_reason == "refusal"
    text = "".join(b.text for b in final.content if b.type == "text")
    assert "Falcon" not in text and text.endswith(REFUSAL)


def test_messages_abort_mid_stream_raises_in_the_sdk(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.APIStatusError):
        with claude.messages.stream(
            model="anthropic/claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": "code?"}],
            extra_body=says("LAUNCH-CODE-9 is it"),
        ) as s:
            s.get_final_message()


def test_responses_refusal_streamed_and_not(oai: openai.OpenAI) -> None:
    r = oai.responses.create(model="openai/gpt-4o-mini", input="status?", extra_body=says("project falcon is a go"))
    assert r.status == "incomplete"
    assert r.incomplete_details is not None and r.incomplete_details.reason == "content_filter"
    assert r.output_text == REFUSAL
    events = list(
        oai.responses.create(
            model="openai/gpt-4o-mini", input="status?", stream=True,
            extra_body=says("here: project falcon is a go, with more words after"),
        )
    )
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "content_filter"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert "falcon" not in deltas.lower()
