"""The official Anthropic Python SDK, unchanged, against Moxxy's `/v1/messages`.

Run by tests/sdk_anthropic.rs, which starts the real server with
the Anthropic and OpenAI fakes scripted and sets MOXXY_URL and MOXXY_TOKEN (a `chat` token).
Each test runs against both upstreams: Anthropic itself and OpenAI (translated).
"""

import os

import anthropic
import pytest
from anthropic import Anthropic

MODELS = ["anthropic/claude-sonnet-4-5", "openai/gpt-4.1"]
TEXT = "Hello from Moxxy"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
MESSAGES = [{"role": "user", "content": "Say hello."}]


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: these tests are run by `cargo test --test sdk_anthropic`")
    return value


@pytest.fixture(scope="module")
def client() -> Anthropic:
    return Anthropic(base_url=_env("MOXXY_URL"), api_key=_env("MOXXY_TOKEN"), max_retries=0)


@pytest.mark.parametrize("model", MODELS)
def test_messages_create(client: Anthropic, model: str) -> None:
    message = client.messages.create(model=model, max_tokens=64, messages=MESSAGES)
    assert message.type == "message"
    assert message.model == model
    assert message.content[0].type == "text"
    assert message.content[0].text == TEXT
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0


@pytest.mark.parametrize("model", MODELS)
def test_stream_helper(client: Anthropic, model: str) -> None:
    with client.messages.stream(model=model, max_tokens=64, messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == TEXT
    assert final.content[0].text == TEXT
    assert final.stop_reason == "end_turn"
    assert final.model == model


@pytest.mark.parametrize("model", MODELS)
def test_tool_call(client: Anthropic, model: str) -> None:
    message = client.messages.create(
        model=model, max_tokens=64, tools=[WEATHER_TOOL], messages=[{"role": "user", "content": "Weather in Paris?"}]
    )
    assert message.stop_reason == "tool_use"
    calls = [block for block in message.content if block.type == "tool_use"]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert calls[0].input == {"city": "Paris"}


def test_unknown_model_raises_not_found(client: Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(model="nobody/no-such-model", max_tokens=8, messages=MESSAGES)
    assert caught.value.status_code == 404
    assert caught.value.body["error"]["message"] == "Model 'nobody/no-such-model' not found"
    assert caught.value.request_id is not None
