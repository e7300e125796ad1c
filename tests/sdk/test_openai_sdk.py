"""The official OpenAI Python SDK, unchanged, against Moxxy's OpenAI-compatible endpoint.

Run by tests/sdk_openai.rs, which starts the real server on a scripted fake upstream and sets:

- MOXXY_URL    the server, e.g. http://127.0.0.1:41234 (the SDK gets MOXXY_URL + "/v1")
- MOXXY_TOKEN  a mox_ token with the `chat` scope

and scripts the models these tests use (see the constants below). Each test checks what an SDK
user relies on: parsed responses, streamed deltas, the usage chunk, tool calls assembled by the
SDK's own stream accumulation, and errors raised as the SDK's own exception types.
"""

import json
import os

import openai
import pytest
from openai import OpenAI

TEXT_MODEL = "openai/gpt-4.1-mini"  # answers "Hello from Moxxy"
TEXT = "Hello from Moxxy"
TOOL_MODEL = "tools/tool-model"  # calls get_weather for Paris and Tokyo, in parallel
LIMITED_MODEL = "limited/busy-model"  # always rate-limited upstream

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Say hello."},
]


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: these tests are run by `cargo test --test sdk_openai`")
    return value


@pytest.fixture(scope="module")
def client() -> OpenAI:
    # max_retries=0: an error must reach the test as the server sent it, not be retried away.
    return OpenAI(base_url=_env("MOXXY_URL") + "/v1", api_key=_env("MOXXY_TOKEN"), max_retries=0)


def test_chat_completion(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=TEXT_MODEL, messages=MESSAGES, max_tokens=64)
    assert completion.object == "chat.completion"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == TEXT
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 9
    assert completion.usage.completion_tokens == 3
    assert completion.usage.total_tokens == 12


def test_streamed_deltas_join_to_the_text(client: OpenAI) -> None:
    stream = client.chat.completions.create(model=TEXT_MODEL, messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert chunks, "an empty stream"
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == TEXT
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert all(c.usage is None for c in chunks), "no usage chunk unless asked"


def test_stream_usage_comes_last_when_asked(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model=TEXT_MODEL,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == 9
    assert last.usage.completion_tokens == 3
    assert all(c.usage is None for c in chunks[:-1])
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT


def test_parallel_tool_calls_assembled_by_the_sdk_stream_helper(client: OpenAI) -> None:
    with client.chat.completions.stream(model=TOOL_MODEL, messages=MESSAGES, tools=[WEATHER_TOOL]) as stream:
        for _event in stream:
            pass
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 2
    assert [c.id for c in calls] == ["call_7Yq", "call_8Zr"]
    assert all(c.function.name == "get_weather" for c in calls)
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"}, {"city": "Tokyo"}]


def test_parallel_tool_calls_accumulated_by_index(client: OpenAI) -> None:
    stream = client.chat.completions.create(model=TOOL_MODEL, messages=MESSAGES, tools=[WEATHER_TOOL], stream=True)
    calls: dict[int, dict[str, str]] = {}
    for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += delta.id or ""
                if delta.function is not None:
                    call["name"] += delta.function.name or ""
                    call["arguments"] += delta.function.arguments or ""
    assert sorted(calls) == [0, 1]
    assert calls[0]["id"] == "call_7Yq" and calls[1]["id"] == "call_8Zr"
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}
    assert json.loads(calls[1]["arguments"]) == {"city": "Tokyo"}


def test_unknown_model_raises_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nobody/no-such-model", messages=MESSAGES)
    error = caught.value
    assert error.status_code == 404
    assert isinstance(error.body, dict)
    assert error.body["message"] == "Model 'nobody/no-such-model' not found"
    assert error.request_id is not None and error.request_id == error.body["request_id"]


def test_upstream_rate_limit_raises_rate_limit_error(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=LIMITED_MODEL, messages=MESSAGES)
    error = caught.value
    assert error.status_code == 429
    assert isinstance(error.body, dict)
    assert error.body["message"] == "Rate limit exceeded"
    assert error.body["provider"] == "limited"
    assert int(error.response.headers["retry-after"]) >= 1


def test_a_bad_token_raises_authentication_error() -> None:
    bad = OpenAI(base_url=_env("MOXXY_URL") + "/v1", api_key="mox_" + "0" * 64, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.chat.completions.create(model=TEXT_MODEL, messages=MESSAGES)
    assert caught.value.status_code == 401
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["message"] == "Missing or invalid API token"


def test_models_list(client: OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert TEXT_MODEL in ids
    assert TOOL_MODEL in ids
    assert all("/" in model_id for model_id in ids), ids
