#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/seeds/TARGET/NAME) from real-looking bodies.

Stream targets read SEED(4 bytes) ++ BODY, the seed choosing the read boundaries; each body is
written with a few seeds (whole, a handful of cuts, a byte at a time). Run from fuzz/ after
changing a body: python3 make_seeds.py
"""
import json, os, pathlib

ROOT = pathlib.Path(__file__).resolve().parent
FIXTURES = ROOT.parent / "actors" / "tests" / "fixtures"
SEEDS = [b"\x00\x00\x00\x00", b"\x07\x31\x9a\x5e", b"\x10\x00\x00\x00"]


def write(target, name, body, seeds=True):
    d = ROOT / "seeds" / target
    d.mkdir(parents=True, exist_ok=True)
    if not seeds:
        (d / name).write_bytes(body)
        return
    for i, seed in enumerate(SEEDS):
        (d / f"{name}-{i}").write_bytes(seed + body)


def sse(events):
    out = b""
    for name, data in events:
        if name:
            out += b"event: " + name.encode() + b"\n"
        out += b"data: " + (data if isinstance(data, bytes) else json.dumps(data).encode()) + b"\n\n"
    return out


# SSE decoder: the spec's corner cases.
write("sse", "spec", b"\xef\xbb\xbf: comment\nevent: a\r\ndata: one\r\ndata:two\r\rid: 7\nretry: 1500\ndata: x\n\ndata\n\nevent: e\ndata: unterminated")
write("sse", "openai", (FIXTURES / "openai" / "spec_example.sse").read_bytes())
write("sse", "anthropic", (FIXTURES / "anthropic" / "thinking_text_tool.sse").read_bytes())

# NDJSON splitter.
ollama_sky = "".join(json.dumps(l) + "\n" for l in [
    {"model": "llama3.2", "created_at": "2025-07-07T20:22:19.18Z", "message": {"role": "assistant", "content": "The"}, "done": False},
    {"model": "llama3.2", "created_at": "2025-07-07T20:22:19.20Z", "message": {"role": "assistant", "content": " sky"}, "done": False},
    {"model": "llama3.2", "created_at": "2025-07-07T20:22:19.41Z", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop", "prompt_eval_count": 26, "eval_count": 282},
]).encode()
ollama_tools = "\r\n".join(json.dumps(l) for l in [
    {"model": "qwen3", "message": {"role": "assistant", "content": "", "thinking": "Réfléchir 🤔"}, "done": False},
    {"model": "qwen3", "message": {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}, {"function": {"index": 1, "name": "get_time", "arguments": {}}}]}, "done": False},
    {"model": "qwen3", "message": {"role": "assistant", "content": "Café 🙂"}, "done": False},
    {"model": "qwen3", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 4},
]).encode()
ollama_error = b'{"model":"llama3.2","message":{"role":"assistant","content":"Hi"},"done":false}\n{"error":"model runner has unexpectedly stopped"}\n'
write("ndjson", "sky", ollama_sky)
write("ndjson", "crlf", ollama_tools + b"\n\n   \n{\"tail\":1}")
write("stream_ollama", "sky", ollama_sky)
write("stream_ollama", "tools", ollama_tools)
write("stream_ollama", "error", ollama_error)
write("stream_ollama", "cut", ollama_sky[:150])

# OpenAI stream mapper: the fixtures, an error after 200, and a cut.
for f in sorted((FIXTURES / "openai").glob("*.sse")):
    write("stream_openai", f.stem, f.read_bytes())
write("stream_openai", "error", sse([(None, {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]}),
                                     (None, {"error": {"message": "The server had an error", "type": "server_error"}})]))
write("stream_openai", "cut", (FIXTURES / "openai" / "spec_example.sse").read_bytes()[:300])

# Anthropic stream mapper: the fixture, an overloaded error event, a cut.
anthropic = (FIXTURES / "anthropic" / "thinking_text_tool.sse").read_bytes()
write("stream_anthropic", "thinking_text_tool", anthropic)
write("stream_anthropic", "error", sse([
    ("message_start", {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 9, "output_tokens": 1}}}),
    ("ping", {"type": "ping"}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
    ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
]))
write("stream_anthropic", "cut", anthropic[:700])

# Request parsers: the bodies SDKs send.
openai_requests = {
    "plain": {"model": "openai/gpt-4.1", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}], "max_tokens": 64, "temperature": 0.2},
    "stream_tools": {"model": "sonnet", "stream": True, "stream_options": {"include_usage": True},
                     "messages": [{"role": "developer", "content": [{"type": "text", "text": "You call tools."}]},
                                  {"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
                                  {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                                  {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
                     "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
                     "tool_choice": "auto", "stop": ["\n\n"], "top_p": 0.9, "max_completion_tokens": 128},
    "response_format": {"model": "o3", "messages": [{"role": "user", "content": "json"}], "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}, "reasoning_effort": "high", "n": 1, "seed": 7},
}
for name, body in openai_requests.items():
    write("request_openai", name, json.dumps(body).encode(), seeds=False)
write("request_openai", "deep", b'{"model":"m","messages":[{"role":"user","content":' + b"[" * 40 + b"]" * 40 + b"}]}", seeds=False)

anthropic_requests = {
    "plain": {"model": "claude-sonnet-4-5", "max_tokens": 256, "system": "Be brief.", "messages": [{"role": "user", "content": "Say hello."}]},
    "tools_thinking": {"model": "anthropic/claude-opus-4-1", "max_tokens": 2048, "stream": True,
                       "thinking": {"type": "enabled", "budget_tokens": 1024},
                       "system": [{"type": "text", "text": "You call tools.", "cache_control": {"type": "ephemeral"}}],
                       "messages": [{"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]},
                                    {"role": "assistant", "content": [{"type": "thinking", "thinking": "Let me check.", "signature": "EqQBCgIYAhIM"}, {"type": "redacted_thinking", "data": "abc"}, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
                                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny"}], "is_error": False}]}],
                       "tools": [{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
                       "tool_choice": {"type": "any"}, "stop_sequences": ["END"], "temperature": 1, "top_k": 5, "metadata": {"user_id": "u1"}},
}
for name, body in anthropic_requests.items():
    write("request_anthropic", name, json.dumps(body).encode(), seeds=False)
