//! The bad-input matrix: every route of the API, through the real binary, fed what a confused
//! client, a broken script or an attacker sends — malformed JSON, wrong types, missing and
//! unknown fields, oversize bodies, invalid UTF-8, huge numbers, empty strings, odd and
//! traversing ids, duplicate names, wrong content types and methods.
//!
//! One table ([`cases`]); for each row the test checks that the answer is the right 4xx, in the
//! route's error shape (Anthropic's on `/v1/messages`, the API's everywhere else), with a
//! message that names what to fix; that the store is unchanged (a dump of every listing, taken
//! before and after each row, compares equal); and that no bad input reached an upstream. At the
//! end, the same routes with their valid bodies succeed, so each refusal was the input's fault.
#![allow(clippy::unwrap_used)]

mod e2e;

use e2e::{ServerOptions, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

/// The body limit of the server under test (`server.body_limit_bytes`).
const BODY_LIMIT: usize = 64 * 1024;

/// One bad request and what it must get.
struct Case {
    method: Method,
    path: String,
    /// `None`: no body and no content type.
    body: Option<(&'static str, Vec<u8>)>,
    /// The statuses that are right (usually one).
    statuses: &'static [u16],
    /// Words the error message must hold, compared without regard to case.
    words: Vec<&'static str>,
}

fn json_body(value: &Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", value.to_string().into_bytes()))
}

fn raw(content_type: &'static str, body: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    Some((content_type, body.to_vec()))
}

fn case(
    method: Method,
    path: &str,
    body: Option<(&'static str, Vec<u8>)>,
    statuses: &'static [u16],
    words: &[&'static str],
) -> Case {
    Case {
        method,
        path: path.to_string(),
        body,
        statuses,
        words: words.to_vec(),
    }
}

/// A valid body for each route that takes one: the bad bodies are built from these.
fn valid_bodies() -> Vec<(Method, &'static str, Value)> {
    vec![
        (
            Method::POST,
            "/v1/tokens",
            json!({"name": "new", "scopes": ["read"], "expires_in": 3600}),
        ),
        (
            Method::POST,
            "/v1/providers",
            json!({"name": "fresh", "base_url": "https://api.fresh.example/v1",
                   "api_key": "fresh-key-0123456789", "models": ["m1"]}),
        ),
        (
            Method::PATCH,
            "/v1/providers/acme",
            json!({"models": ["m2"]}),
        ),
        (
            Method::PUT,
            "/v1/providers/anthropic/oauth",
            json!({"access_token": "sk-ant-oat01-abc", "refresh_token": "sk-ant-ort01-def",
                   "expires_at": "2030-01-01T00:00:00Z"}),
        ),
        (
            Method::PUT,
            "/v1/vault/fresh",
            json!({"value": "fresh-secret-value"}),
        ),
        (
            Method::POST,
            "/v1/chat/completions",
            json!({"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}),
        ),
        (
            Method::POST,
            "/v1/messages",
            json!({"model": "openai/gpt-4.1", "max_tokens": 16,
                   "messages": [{"role": "user", "content": "hi"}]}),
        ),
        (
            Method::POST,
            "/v1/agents",
            json!({"name": "fresh-agent", "model": "openai/gpt-4.1", "system": "Be brief."}),
        ),
        (
            Method::PATCH,
            "/v1/agents/helper",
            json!({"temperature": 0.5}),
        ),
        (
            Method::POST,
            "/v1/agents/helper/messages",
            json!({"content": "hi"}),
        ),
    ]
}

/// `base` with `key` set to `value` (or removed, for `Value::Null` given as `remove`).
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut body = base.clone();
    body[key] = value;
    body
}

fn without(base: &Value, key: &str) -> Value {
    let mut body = base.clone();
    body.as_object_mut().unwrap().remove(key);
    body
}

/// Every bad request of the matrix.
fn cases() -> Vec<Case> {
    use Method as M;
    let mut cases = Vec::new();
    let long = "a".repeat(2000);

    // What every route with a body must refuse, whatever it is.
    for (method, path, valid) in valid_bodies() {
        let c = |body, statuses, words: &[&'static str]| {
            case(method.clone(), path, body, statuses, words)
        };
        let text = valid.to_string();
        let half = text.as_bytes()[..text.len() / 2].to_vec();
        cases.push(c(raw("application/json", &half), &[400], &["JSON"]));
        let trailing = format!("{valid}}}");
        cases.push(c(
            raw("application/json", trailing.as_bytes()),
            &[400],
            &["JSON"],
        ));
        cases.push(c(raw("application/json", b""), &[400], &["JSON"]));
        cases.push(c(raw("application/json", b"[]"), &[400, 422], &["object"]));
        cases.push(c(
            raw("application/json", b"null"),
            &[400, 422],
            &["object"],
        ));
        cases.push(c(
            raw("application/json", b"\"text\""),
            &[400, 422],
            &["object"],
        ));
        // Latin-1 inside the last string value.
        let close = text.rfind('"').unwrap();
        let mut latin1 = text.as_bytes()[..close].to_vec();
        latin1.extend_from_slice(b"caf\xe9");
        latin1.extend_from_slice(&text.as_bytes()[close..]);
        cases.push(c(raw("application/json", &latin1), &[400], &["UTF-8"]));
        let mut nested = "[".repeat(10_000);
        nested.push_str(&"]".repeat(10_000));
        cases.push(c(
            raw("application/json", nested.as_bytes()),
            &[400, 422],
            &["JSON"],
        ));
        let padding = "x".repeat(BODY_LIMIT + 10 * 1024);
        let oversize = with(&valid, "padding", json!(padding));
        cases.push(c(json_body(&oversize), &[413], &["larger than", "65536"]));
        let text = text.into_bytes();
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
        ] {
            cases.push(c(raw(content_type, &text), &[415], &["application/json"]));
        }
    }

    // POST /v1/tokens.
    let token = json!({"name": "new", "scopes": ["read"]});
    let t = |body: Value, statuses, words: &[&'static str]| {
        case(M::POST, "/v1/tokens", json_body(&body), statuses, words)
    };
    cases.push(t(without(&token, "name"), &[422], &["name"]));
    cases.push(t(with(&token, "name", json!(5)), &[422], &["name"]));
    cases.push(t(with(&token, "name", json!("")), &[400], &["name"]));
    cases.push(t(with(&token, "name", json!("   ")), &[400], &["name"]));
    cases.push(t(with(&token, "name", json!("a\u{0}b")), &[400], &["name"]));
    cases.push(t(with(&token, "name", json!(long)), &[400], &["name"]));
    cases.push(t(
        with(&token, "scopes", json!("admin")),
        &[422],
        &["scopes"],
    ));
    cases.push(t(
        with(&token, "scopes", json!(["root"])),
        &[422],
        &["scopes"],
    ));
    cases.push(t(with(&token, "scopes", json!([])), &[400], &["scopes"]));
    cases.push(t(
        with(&token, "expires_in", json!(0)),
        &[400],
        &["expires_in"],
    ));
    cases.push(t(
        with(&token, "expires_in", json!(-1)),
        &[422],
        &["expires_in"],
    ));
    cases.push(t(
        with(&token, "expires_in", json!(1e30)),
        &[422],
        &["expires_in"],
    ));
    cases.push(t(
        with(&token, "expires_in", json!("1h")),
        &[422],
        &["expires_in"],
    ));
    cases.push(case(
        M::POST,
        "/v1/tokens",
        raw(
            "application/json",
            br#"{"name": "new", "expires_in": 18446744073709551616}"#,
        ),
        &[400, 422],
        &["expires_in"],
    ));
    cases.push(t(
        with(&token, "expires_in", json!(u64::MAX)),
        &[400],
        &["expires_in"],
    ));
    cases.push(t(with(&token, "admin", json!(true)), &[422], &["admin"]));

    // DELETE /v1/tokens/{id}: ids that name nothing.
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "%C3%BC%F0%9F%99%82",
        long.as_str(),
        "tok%2F1",
    ] {
        cases.push(case(
            M::DELETE,
            &format!("/v1/tokens/{id}"),
            None,
            &[404],
            &["not found"],
        ));
    }

    // POST /v1/providers.
    let reg = json!({"name": "fresh", "base_url": "https://api.fresh.example/v1",
                     "api_key": "fresh-key-0123456789", "models": ["m1"]});
    let p = |body: Value, statuses, words: &[&'static str]| {
        case(M::POST, "/v1/providers", json_body(&body), statuses, words)
    };
    cases.push(p(without(&reg, "name"), &[422], &["name"]));
    cases.push(p(without(&reg, "base_url"), &[422], &["base_url"]));
    for name in [
        "",
        "Fresh",
        "../etc",
        "a/b",
        "a\u{0}b",
        "ünï",
        "🙂",
        "-lead",
        long.as_str(),
    ] {
        cases.push(p(
            with(&reg, "name", json!(name)),
            &[400],
            &["name", "provider id"],
        ));
    }
    cases.push(p(with(&reg, "name", json!(7)), &[422], &["name"]));
    cases.push(p(with(&reg, "name", json!("acme")), &[409], &["exists"]));
    cases.push(p(with(&reg, "name", json!("openai")), &[409], &["exists"]));
    for url in [
        "",
        "api.fresh.example",
        "ftp://api.fresh.example",
        "https://",
        "javascript:alert(1)",
    ] {
        cases.push(p(with(&reg, "base_url", json!(url)), &[400], &["base_url"]));
    }
    cases.push(p(
        with(&reg, "base_url", json!("http://api.fresh.example/v1")),
        &[400],
        &["base_url", "allow_insecure_http"],
    ));
    cases.push(p(
        with(
            &reg,
            "base_url",
            json!("https://user:pw@api.fresh.example/v1"),
        ),
        &[400],
        &["base_url", "credentials"],
    ));
    cases.push(p(
        with(&reg, "base_url", json!(["https://x"])),
        &[422],
        &["base_url"],
    ));
    cases.push(p(with(&reg, "models", json!([])), &[400], &["models"]));
    cases.push(p(with(&reg, "models", json!([""])), &[400], &["models"]));
    cases.push(p(with(&reg, "models", json!("m1")), &[422], &["models"]));
    cases.push(p(with(&reg, "models", json!([1, 2])), &[422], &["models"]));
    cases.push(p(with(&reg, "api_key", json!("")), &[400], &["api_key"]));
    cases.push(p(with(&reg, "api_key", json!(12345)), &[422], &["api_key"]));
    cases.push(p(
        with(&reg, "api_key_env", json!("FRESH_KEY")),
        &[400],
        &["at most one"],
    ));
    cases.push(p(
        with(&without(&reg, "api_key"), "api_key_env", json!("1BAD NAME")),
        &[400],
        &["api_key_env"],
    ));
    cases.push(p(
        with(&without(&reg, "api_key"), "api_key_vault", json!("missing")),
        &[400],
        &["api_key_vault", "PUT /v1/vault/missing"],
    ));
    cases.push(p(
        with(&reg, "headers", json!({"Authorization": "Bearer x"})),
        &[400],
        &["headers", "credentials"],
    ));
    cases.push(p(
        with(&reg, "headers", json!({"bad header": "x"})),
        &[400],
        &["headers"],
    ));
    cases.push(p(
        with(&reg, "headers", json!({"x-ok": "line\nbreak"})),
        &[400],
        &["headers"],
    ));
    cases.push(p(
        with(&reg, "rate_limit", json!({"requests_per_minute": 0})),
        &[400],
        &["rate_limit"],
    ));
    cases.push(p(
        with(&reg, "rate_limit", json!({"requests_per_minute": -5})),
        &[422],
        &["rate_limit"],
    ));
    cases.push(p(
        with(&reg, "rate_limit", json!({"requests_per_hour": 5})),
        &[422],
        &["rate_limit"],
    ));
    cases.push(p(
        with(&reg, "timeout_ms", json!(5)),
        &[400],
        &["timeout_ms"],
    ));
    cases.push(p(
        with(&reg, "timeout_ms", json!(1e20)),
        &[422],
        &["timeout_ms"],
    ));
    cases.push(p(
        with(&reg, "timeout_ms", json!("fast")),
        &[422],
        &["timeout_ms"],
    ));
    cases.push(p(
        with(&reg, "max_retries", json!(1000)),
        &[400],
        &["max_retries"],
    ));
    cases.push(p(
        with(&reg, "max_retries", json!(-1)),
        &[422],
        &["max_retries"],
    ));
    cases.push(p(
        with(&reg, "allow_insecure_http", json!("yes")),
        &[422],
        &["allow_insecure_http"],
    ));
    cases.push(p(with(&reg, "nmae", json!("typo")), &[422], &["nmae"]));

    // PATCH /v1/providers/{id}.
    let pa = |body: Value, statuses, words: &[&'static str]| {
        case(
            M::PATCH,
            "/v1/providers/acme",
            json_body(&body),
            statuses,
            words,
        )
    };
    cases.push(pa(json!({"base_url": "nope"}), &[400], &["base_url"]));
    cases.push(pa(
        json!({"base_url": "http://remote.example/v1"}),
        &[400],
        &["allow_insecure_http"],
    ));
    cases.push(pa(json!({"models": []}), &[400], &["models"]));
    cases.push(pa(json!({"models": [""]}), &[400], &["models"]));
    cases.push(pa(json!({"api_key": ""}), &[400], &["api_key"]));
    cases.push(pa(
        json!({"api_key": "k-0123456789", "api_key_env": "K"}),
        &[400],
        &["at most one"],
    ));
    cases.push(pa(
        json!({"api_key_vault": "missing"}),
        &[400],
        &["api_key_vault"],
    ));
    cases.push(pa(json!({"timeout_ms": "fast"}), &[422], &["timeout_ms"]));
    cases.push(pa(
        json!({"timeout_ms": 99_999_999}),
        &[400],
        &["timeout_ms"],
    ));
    cases.push(pa(json!({"max_retries": 99}), &[400], &["max_retries"]));
    cases.push(pa(
        json!({"headers": {"x-api-key": "k"}}),
        &[400],
        &["headers"],
    ));
    cases.push(pa(
        json!({"rate_limit": {"tokens_per_minute": 0}}),
        &[400],
        &["rate_limit"],
    ));
    cases.push(pa(json!({"name": "renamed"}), &[422], &["name"]));
    // A valid change together with an invalid one: nothing of it may be applied.
    cases.push(pa(
        json!({"models": ["m9"], "base_url": "nope"}),
        &[400],
        &["base_url"],
    ));
    cases.push(pa(
        json!({"api_key": "new-key-0123456789", "timeout_ms": 1}),
        &[400],
        &["timeout_ms"],
    ));

    // Provider ids in paths that name nothing (and must not reach another record).
    for id in [
        "..%2Facme",
        "acme%2F..%2Facme",
        "%00",
        "ACME",
        "acme%00",
        "%C3%BC%F0%9F%99%82",
        long.as_str(),
    ] {
        let path = format!("/v1/providers/{id}");
        cases.push(case(M::GET, &path, None, &[404], &["not found"]));
        cases.push(case(M::DELETE, &path, None, &[404], &["not found"]));
        cases.push(case(
            M::PATCH,
            &path,
            json_body(&json!({"models": ["m3"]})),
            &[404],
            &["not found"],
        ));
        cases.push(case(
            M::GET,
            &format!("{path}/models"),
            None,
            &[404],
            &["not found"],
        ));
    }
    cases.push(case(
        M::GET,
        "/v1/providers/acme/models?refresh=yes",
        None,
        &[400],
        &["refresh", "upstream"],
    ));
    cases.push(case(
        M::DELETE,
        "/v1/providers/openai",
        None,
        &[409],
        &["built in"],
    ));

    // PUT /v1/providers/anthropic/oauth.
    let session = json!({"access_token": "sk-ant-oat01-abc", "refresh_token": "sk-ant-ort01-def",
                         "expires_at": "2030-01-01T00:00:00Z"});
    let o = |body: Value, statuses, words: &[&'static str]| {
        case(
            M::PUT,
            "/v1/providers/anthropic/oauth",
            json_body(&body),
            statuses,
            words,
        )
    };
    cases.push(o(
        without(&session, "refresh_token"),
        &[422],
        &["refresh_token"],
    ));
    cases.push(o(
        with(&session, "access_token", json!("")),
        &[400],
        &["access_token"],
    ));
    cases.push(o(
        with(&session, "access_token", json!("has space")),
        &[422],
        &["access_token"],
    ));
    cases.push(o(
        with(&session, "access_token", json!(42)),
        &[422],
        &["access_token"],
    ));
    for expiry in [
        json!("tomorrow"),
        json!(-1),
        json!(1.5),
        json!(true),
        json!(""),
        json!(1e30),
        json!("99999999999999999999999"),
    ] {
        cases.push(o(
            with(&session, "expires_at", expiry),
            &[422],
            &["expires_at"],
        ));
    }
    cases.push(o(with(&session, "scope", json!("all")), &[422], &["scope"]));
    cases.push(case(
        M::PUT,
        "/v1/providers/openai/oauth",
        json_body(&session),
        &[404, 405],
        &[],
    ));
    cases.push(case(
        M::DELETE,
        "/v1/providers/anthropic/oauth",
        None,
        &[404],
        &["no OAuth session"],
    ));

    // PUT and DELETE /v1/vault/{name}.
    let value = json!({"value": "v"});
    for name in [
        "..%2F..%2Fmaster.key",
        "%00",
        "a%2Fb",
        "%C3%BC",
        "-lead",
        &"n".repeat(200),
    ] {
        cases.push(case(
            M::PUT,
            &format!("/v1/vault/{name}"),
            json_body(&value),
            &[400],
            &["name"],
        ));
    }
    cases.push(case(
        M::PUT,
        "/v1/vault/provider:acme",
        json_body(&value),
        &[400],
        &["PATCH the provider"],
    ));
    cases.push(case(
        M::PUT,
        "/v1/vault/oauth:anthropic",
        json_body(&value),
        &[400],
        &["oauth"],
    ));
    let v = |body: Value, statuses, words: &[&'static str]| {
        case(M::PUT, "/v1/vault/fresh", json_body(&body), statuses, words)
    };
    cases.push(v(json!({"value": ""}), &[400], &["value"]));
    cases.push(v(json!({"value": 5}), &[422], &["value"]));
    cases.push(v(json!({}), &[422], &["value"]));
    cases.push(v(json!({"value": "v", "note": "x"}), &[422], &["note"]));
    cases.push(case(
        M::DELETE,
        "/v1/vault/team",
        None,
        &[409],
        &["used by", "vaulted"],
    ));
    cases.push(case(
        M::DELETE,
        "/v1/vault/nope",
        None,
        &[404],
        &["not found"],
    ));
    cases.push(case(
        M::DELETE,
        "/v1/vault/..%2Fteam",
        None,
        &[400, 404],
        &["team"],
    ));
    cases.push(case(
        M::DELETE,
        "/v1/vault/provider:acme",
        None,
        &[400],
        &["PATCH the provider"],
    ));

    // POST /v1/chat/completions.
    let chat = json!({"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]});
    let ch = |body: Value, statuses, words: &[&'static str]| {
        case(
            M::POST,
            "/v1/chat/completions",
            json_body(&body),
            statuses,
            words,
        )
    };
    cases.push(ch(without(&chat, "messages"), &[400], &["messages"]));
    cases.push(ch(without(&chat, "model"), &[400], &["model"]));
    cases.push(ch(with(&chat, "model", json!(5)), &[400], &["model"]));
    cases.push(ch(with(&chat, "model", json!("")), &[400, 404], &["model"]));
    cases.push(ch(
        with(&chat, "model", json!("../../etc/passwd")),
        &[404],
        &["not found"],
    ));
    cases.push(ch(
        with(&chat, "model", json!("nope/x")),
        &[404],
        &["not found"],
    ));
    cases.push(ch(
        with(&chat, "messages", json!("hi")),
        &[400],
        &["messages"],
    ));
    cases.push(ch(
        with(&chat, "messages", json!([])),
        &[400],
        &["messages"],
    ));
    cases.push(ch(
        with(
            &chat,
            "messages",
            json!([{"role": "robot", "content": "x"}]),
        ),
        &[400],
        &["role"],
    ));
    cases.push(ch(
        with(&chat, "messages", json!([{"role": "user"}])),
        &[400],
        &["content"],
    ));
    cases.push(ch(
        with(&chat, "temperature", json!("hot")),
        &[400],
        &["temperature"],
    ));
    cases.push(ch(
        with(&chat, "max_tokens", json!(-1)),
        &[400],
        &["max_tokens"],
    ));
    cases.push(ch(
        with(&chat, "max_tokens", json!(1e20)),
        &[400],
        &["max_tokens"],
    ));
    cases.push(ch(
        with(&chat, "max_tokens", json!(u64::MAX)),
        &[400],
        &["max_tokens"],
    ));
    cases.push(ch(with(&chat, "stream", json!("yes")), &[400], &["stream"]));
    cases.push(ch(
        with(&chat, "tools", json!({"type": "function"})),
        &[400],
        &["tools"],
    ));
    cases.push(case(
        M::POST,
        "/v1/chat/completions",
        raw(
            "application/json",
            br#"{"model": "openai/gpt-4.1", "temperature": 1e400, "messages": [{"role": "user", "content": "hi"}]}"#,
        ),
        &[400],
        &["JSON"],
    ));

    // POST /v1/messages (Anthropic's error shape).
    let msg = json!({"model": "openai/gpt-4.1", "max_tokens": 16,
                     "messages": [{"role": "user", "content": "hi"}]});
    let me = |body: Value, statuses, words: &[&'static str]| {
        case(M::POST, "/v1/messages", json_body(&body), statuses, words)
    };
    cases.push(me(without(&msg, "max_tokens"), &[400], &["max_tokens"]));
    cases.push(me(without(&msg, "messages"), &[400], &["messages"]));
    cases.push(me(with(&msg, "model", json!(5)), &[400], &["model"]));
    cases.push(me(
        with(&msg, "model", json!("nope/x")),
        &[404],
        &["not found"],
    ));
    cases.push(me(
        with(&msg, "max_tokens", json!(-1)),
        &[400],
        &["max_tokens"],
    ));
    cases.push(me(
        with(&msg, "max_tokens", json!(1e20)),
        &[400],
        &["max_tokens"],
    ));
    cases.push(me(
        with(&msg, "messages", json!("hi")),
        &[400],
        &["messages"],
    ));
    cases.push(me(
        with(&msg, "messages", json!([{"role": "robot", "content": "x"}])),
        &[400],
        &["role"],
    ));
    cases.push(me(with(&msg, "system", json!(5)), &[400], &["system"]));
    cases.push(me(with(&msg, "stream", json!("yes")), &[400], &["stream"]));

    agent_cases(&mut cases, &long);

    // Wrong methods: 405 naming the methods the route takes (`Allow` is checked apart).
    for (method, path, allowed) in WRONG_METHODS {
        cases.push(case(
            method.clone(),
            path,
            None,
            &[405],
            &["not allowed", allowed],
        ));
    }
    // Routes that do not exist.
    for path in [
        "/v1/nope",
        "/v1/tokens/",
        "/v2/models",
        "/v1/providers/acme/models/x",
    ] {
        cases.push(case(M::GET, path, None, &[404], &["route"]));
    }
    cases
}

/// A method each route does not take, and how the 405 names the ones it does.
const WRONG_METHODS: [(Method, &str, &str); 17] = [
    (Method::POST, "/healthz", "use GET"),
    (Method::DELETE, "/readyz", "use GET"),
    (Method::POST, "/metrics", "use GET"),
    (Method::POST, "/v1/models", "use GET"),
    (Method::GET, "/v1/chat/completions", "use POST"),
    (Method::GET, "/v1/messages", "use POST"),
    (Method::PUT, "/v1/tokens", "use GET or POST"),
    (Method::GET, "/v1/tokens/tok_1", "use DELETE"),
    (Method::POST, "/v1/vault", "use GET"),
    (Method::GET, "/v1/vault/team", "use PUT or DELETE"),
    (Method::PUT, "/v1/providers", "use GET or POST"),
    (
        Method::POST,
        "/v1/providers/acme",
        "use GET, PATCH or DELETE",
    ),
    (
        Method::GET,
        "/v1/providers/anthropic/oauth",
        "use PUT or DELETE",
    ),
    (Method::DELETE, "/v1/agents", "use GET or POST"),
    (Method::PUT, "/v1/agents/helper", "use GET, PATCH or DELETE"),
    (Method::GET, "/v1/agents/helper/messages", "use POST"),
    (Method::POST, "/v1/agents/helper/conversations", "use GET"),
];

/// The agent routes' own bad input (the bodies' common faults come from [`valid_bodies`]).
fn agent_cases(cases: &mut Vec<Case>, long: &str) {
    use Method as M;
    let agent = json!({"name": "fresh-agent", "model": "openai/gpt-4.1"});
    let a = |body: Value, statuses, words: &[&'static str]| {
        case(M::POST, "/v1/agents", json_body(&body), statuses, words)
    };
    cases.push(a(without(&agent, "name"), &[422], &["name"]));
    cases.push(a(without(&agent, "model"), &[422], &["model"]));
    cases.push(a(with(&agent, "name", json!("")), &[400, 422], &["name"]));
    cases.push(a(
        with(&agent, "name", json!("../etc")),
        &[400, 422],
        &["name"],
    ));
    cases.push(a(
        with(&agent, "name", json!("a b")),
        &[400, 422],
        &["name"],
    ));
    cases.push(a(with(&agent, "name", json!(long)), &[400, 422], &["name"]));
    cases.push(a(
        with(&agent, "name", json!("helper")),
        &[409],
        &["helper"],
    ));
    cases.push(a(with(&agent, "model", json!(7)), &[422], &["model"]));
    cases.push(a(
        with(&agent, "model", json!("nobody/nothing")),
        &[400, 404, 422],
        &["nobody/nothing"],
    ));
    cases.push(a(
        with(&agent, "temperature", json!(9)),
        &[400, 422],
        &["temperature"],
    ));
    cases.push(a(
        with(&agent, "temperature", json!("warm")),
        &[422],
        &["temperature"],
    ));
    cases.push(a(
        with(&agent, "max_tokens", json!(0)),
        &[400, 422],
        &["max_tokens"],
    ));
    cases.push(a(
        with(&agent, "max_tokens", json!(1e30)),
        &[400, 422],
        &["max_tokens"],
    ));
    cases.push(a(
        with(&agent, "max_tokens", json!(u64::MAX)),
        &[400, 422],
        &["max_tokens"],
    ));
    cases.push(a(with(&agent, "persona", json!("x")), &[422], &["persona"]));

    let p = |body: Value, statuses, words: &[&'static str]| {
        case(
            M::PATCH,
            "/v1/agents/helper",
            json_body(&body),
            statuses,
            words,
        )
    };
    cases.push(p(json!({"name": "renamed"}), &[400, 422], &["name"]));
    cases.push(p(json!({"model": ""}), &[400, 422], &["model"]));
    cases.push(p(json!({"temperature": -1}), &[400, 422], &["temperature"]));
    cases.push(p(json!({"unknown": 1}), &[422], &["unknown"]));

    let t = |body: Value, statuses, words: &[&'static str]| {
        case(
            M::POST,
            "/v1/agents/helper/messages",
            json_body(&body),
            statuses,
            words,
        )
    };
    let turn = json!({"content": "hi"});
    cases.push(t(without(&turn, "content"), &[422], &["content"]));
    cases.push(t(
        with(&turn, "content", json!("")),
        &[400, 422],
        &["content"],
    ));
    cases.push(t(with(&turn, "content", json!(5)), &[422], &["content"]));
    cases.push(t(
        with(&turn, "content", json!([])),
        &[400, 422],
        &["content"],
    ));
    cases.push(t(
        with(&turn, "content", json!([{"type": "video", "url": "x"}])),
        &[400, 422],
        &["video"],
    ));
    cases.push(t(
        with(
            &turn,
            "content",
            json!([{"type": "tool_result", "content": "x"}]),
        ),
        &[400, 422],
        &["tool_call_id"],
    ));
    cases.push(t(
        with(&turn, "conversation_id", json!("conv_missing")),
        &[404],
        &["conv_missing"],
    ));
    cases.push(t(
        with(&turn, "conversation_id", json!("../../etc/passwd")),
        &[400, 404, 422],
        &["conversation"],
    ));
    cases.push(t(with(&turn, "stream", json!("yes")), &[422], &["stream"]));

    // Names and ids that name nothing, on every agent route.
    for name in ["..%2F..%2Fetc%2Fpasswd", "%00", "%C3%BC", "nobody", long] {
        cases.push(case(
            M::GET,
            &format!("/v1/agents/{name}"),
            None,
            &[404],
            &["agent"],
        ));
        cases.push(case(
            M::PATCH,
            &format!("/v1/agents/{name}"),
            json_body(&json!({"temperature": 0.1})),
            &[404],
            &["agent"],
        ));
        cases.push(case(
            M::DELETE,
            &format!("/v1/agents/{name}"),
            None,
            &[404],
            &["agent"],
        ));
        cases.push(case(
            M::POST,
            &format!("/v1/agents/{name}/messages"),
            json_body(&json!({"content": "hi"})),
            &[404],
            &["agent"],
        ));
        cases.push(case(
            M::GET,
            &format!("/v1/agents/{name}/conversations"),
            None,
            &[404],
            &["agent"],
        ));
        cases.push(case(
            M::GET,
            &format!("/v1/agents/helper/conversations/{name}"),
            None,
            &[404],
            &["conversation"],
        ));
        cases.push(case(
            M::DELETE,
            &format!("/v1/agents/helper/conversations/{name}"),
            None,
            &[404],
            &["conversation"],
        ));
    }
}

/// What the API shows of the store: every listing, without what changes on every request
/// (`last_used_at` of the token making the requests).
async fn dump(server: &TestServer, admin: &str) -> Value {
    let api = server.api(admin);
    let mut dump = serde_json::Map::new();
    for path in [
        "/v1/providers",
        "/v1/providers/acme",
        "/v1/providers/vaulted",
        "/v1/providers/anthropic",
        "/v1/providers/acme/models",
        "/v1/tokens",
        "/v1/vault",
        "/v1/agents",
        "/v1/agents/helper",
        "/v1/agents/helper/conversations",
    ] {
        let resp = api.get(path).await;
        assert_eq!(resp.status, 200, "dump {path}: {resp}");
        let mut value = resp.json();
        if path == "/v1/tokens" {
            for token in value["data"].as_array_mut().unwrap() {
                token.as_object_mut().unwrap().remove("last_used_at");
            }
        }
        dump.insert(path.to_string(), value);
    }
    Value::Object(dump)
}

/// Sends one case with the admin token.
async fn send(server: &TestServer, admin: &str, case: &Case) -> e2e::Resp {
    let api = server.api(admin);
    match &case.body {
        Some((content_type, body)) => {
            api.send_raw(case.method.clone(), &case.path, content_type, body.clone())
                .await
        }
        None => api.send(case.method.clone(), &case.path, None).await,
    }
}

/// The error message of `resp`, checking the route's error shape.
fn message(resp: &e2e::Resp, method: &Method, path: &str) -> String {
    // A wrong method on /v1/messages never reaches the route: the API's own shape.
    if path == "/v1/messages" && *method == Method::POST {
        let body = resp.json();
        assert_eq!(body["type"], "error", "Anthropic's shape: {resp}");
        assert!(body["error"]["type"].as_str().is_some(), "{resp}");
        body["error"]["message"].as_str().unwrap().to_string()
    } else {
        let error = e2e::assert_error_shape(resp, resp.status);
        error["message"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn every_route_refuses_bad_input_saying_what_to_fix_and_changes_nothing() {
    let config = format!("[server]\nbody_limit_bytes = {BODY_LIMIT}\n");
    let server = TestServer::start(
        ServerOptions::new()
            .config(&config)
            .env("OPENAI_API_KEY", "sk-bad-input-openai-0001"),
    )
    .await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    // Something in every kind of record, for the bad input to miss.
    let url = server.fake().url();
    api.post(
        "/v1/providers",
        e2e::provider(
            "acme",
            &format!("{url}/acme/v1"),
            "acme-key-0123456789",
            &["m1"],
        ),
    )
    .await
    .expect(201);
    api.put("/v1/vault/team", json!({"value": "team-secret-value"}))
        .await
        .expect(204);
    api.post(
        "/v1/providers",
        json!({"name": "vaulted", "base_url": format!("{url}/vaulted/v1"),
               "api_key_vault": "team", "models": ["m1"]}),
    )
    .await
    .expect(201);
    api.create_token("bot", &["chat"], Some(3600)).await;
    api.post(
        "/v1/agents",
        json!({"name": "helper", "model": "openai/gpt-4.1", "system": "Help."}),
    )
    .await
    .expect(201);
    server.fake().clear_requests();

    let mut before = dump(&server, &admin).await;
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let body = case
            .body
            .as_ref()
            .map(|(t, b)| format!(" [{t}] {}", String::from_utf8_lossy(&b[..b.len().min(120)])))
            .unwrap_or_default();
        let what = format!(
            "{} {}{body}",
            case.method,
            case.path.chars().take(80).collect::<String>()
        );
        let resp = send(&server, &admin, case).await;
        let after = dump(&server, &admin).await;
        if after != before {
            failures.push(format!(
                "{what}: the store changed:\nbefore {before}\nafter  {after}"
            ));
            before = after;
        }
        if !case.statuses.contains(&resp.status) {
            failures.push(format!(
                "{what}: status {} not in {:?}: {}",
                resp.status,
                case.statuses,
                resp.text.chars().take(300).collect::<String>()
            ));
            continue;
        }
        let message = message(&resp, &case.method, &case.path);
        let lower = message.to_lowercase();
        for word in &case.words {
            if !lower.contains(&word.to_lowercase()) {
                failures.push(format!(
                    "{what} ({}): the message should say {word:?}: {message:?}",
                    resp.status
                ));
            }
        }
    }
    let upstream: Vec<String> = server
        .fake()
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path.clone())
        .collect();
    if !upstream.is_empty() {
        failures.push(format!("bad input reached an upstream: {upstream:?}"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not refused as they should be:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("{} bad inputs refused, the store unchanged", cases.len());

    // A 405 names the methods in `Allow` too.
    for (method, path, allowed) in WRONG_METHODS {
        let resp = api.send(method.clone(), path, None).await;
        let header = resp.header("allow").unwrap_or_default();
        let methods = allowed.trim_start_matches("use ").replace(" or ", ", ");
        assert_eq!(header, methods, "{method} {path}: Allow");
    }

    // The routes work with their valid bodies: each refusal above was the input's fault.
    let fake = server.fake();
    fake.set_default(
        "/v1/chat/completions",
        moxxy_fake_upstream::openai::reply(moxxy_fake_upstream::openai::completion(
            "ok",
            moxxy_fake_upstream::openai::Usage::new(1, 1),
        )),
    );
    for (method, path, body) in valid_bodies() {
        let resp = api.send(method.clone(), path, Some(body)).await;
        assert!(resp.status < 300, "valid {method} {path}: {resp}");
    }
}
