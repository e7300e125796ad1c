//! Providers end to end (API.md, Providers): the seed's registrations for xAI, Gemini and
//! DeepSeek, listing, reading, changing and removing them at run time, and every refusal.

#![allow(clippy::unwrap_used)]

mod e2e;

use e2e::{assert_error, assert_error_shape, chat, provider, Api, ServerOptions, TestServer};
use moxxy_fake_upstream::openai;
use serde_json::{json, Value};

const XAI_KEY: &str = "xai-test-0123456789abcdefQk9f";
const GEMINI_KEY: &str = "gemini-test-0123456789abcdef";
const DEEPSEEK_KEY: &str = "sk-deepseek-test-0123456789ab";

async fn admin_server() -> (TestServer, String) {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    (server, admin)
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Registers the seed's three providers, all on the fake; returns the fake's URL.
async fn register_seed(server: &TestServer, api: &Api) -> String {
    let fake = server.fake().url();
    let calls = [
        provider("xai", &format!("{fake}/v1"), XAI_KEY, &["grok-3"]),
        provider(
            "gemini",
            &format!("{fake}/v1beta/openai"),
            GEMINI_KEY,
            &["gemini-2.5-flash"],
        ),
        provider(
            "deepseek",
            &format!("{fake}/v1"),
            DEEPSEEK_KEY,
            &["deepseek-v4-pro"],
        ),
    ];
    for call in calls {
        let resp = api.post("/v1/providers", call).await;
        assert_eq!(resp.status, 201, "{resp}");
    }
    fake
}

#[tokio::test]
async fn the_seed_registrations_work_as_written() {
    let (server, admin) = admin_server().await;
    let api = server.api(&admin);
    let fake = server.fake().url();

    let resp = api
        .post(
            "/v1/providers",
            provider("xai", &format!("{fake}/v1"), XAI_KEY, &["grok-3"]),
        )
        .await;
    resp.expect(201);
    assert!(!resp.text.contains(XAI_KEY), "a key is never shown: {resp}");
    let xai = resp.json();
    assert_eq!(xai["id"], "xai");
    assert_eq!(xai["kind"], "openai_compatible");
    assert_eq!(xai["base_url"], format!("{fake}/v1"));
    assert_eq!(xai["models"], json!(["grok-3"]));
    assert_eq!(xai["auth"]["type"], "api_key");
    assert_eq!(xai["auth"]["source"], "registration");
    assert_eq!(xai["auth"]["last4"], "Qk9f");
    assert_eq!(xai["status"]["state"], "ready");
    assert!(xai["rate_limit"].is_null());
    assert!(xai["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    for call in [
        provider(
            "gemini",
            &format!("{fake}/v1beta/openai"),
            GEMINI_KEY,
            &["gemini-2.5-flash"],
        ),
        provider(
            "deepseek",
            &format!("{fake}/v1"),
            DEEPSEEK_KEY,
            &["deepseek-v4-pro"],
        ),
    ] {
        api.post("/v1/providers", call).await.expect(201);
    }

    // Listed after the built-ins.
    let resp = api.get("/v1/providers").await;
    let list = resp.expect(200).json();
    assert_eq!(list["object"], "list");
    let ids = ids(&list);
    let mut builtins = ids[..3].to_vec();
    builtins.sort();
    assert_eq!(
        builtins,
        ["anthropic", "ollama", "openai"],
        "built-ins first: {ids:?}"
    );
    let mut custom = ids[3..].to_vec();
    custom.sort();
    assert_eq!(custom, ["deepseek", "gemini", "xai"]);
    for key in [XAI_KEY, GEMINI_KEY, DEEPSEEK_KEY] {
        assert!(!resp.text.contains(key), "a key is never listed");
    }

    // GET one.
    let one = api.get("/v1/providers/gemini").await.expect(200).json();
    assert_eq!(one["base_url"], format!("{fake}/v1beta/openai"));
    assert_eq!(one["models"], json!(["gemini-2.5-flash"]));

    // Its models come from the registration.
    let models = api.get("/v1/providers/xai/models").await.expect(200).json();
    assert_eq!(models["object"], "list");
    let item = &models["data"][0];
    assert!(
        item["id"] == "grok-3" || item["id"] == "xai/grok-3",
        "{models}"
    );
    assert_eq!(item["provider"], "xai");
    assert_eq!(item["source"], "registration");
}

#[tokio::test]
async fn each_seed_provider_chats_at_its_own_address_with_its_own_key() {
    let (server, admin) = admin_server().await;
    let api = server.api(&admin);
    register_seed(&server, &api).await;
    let upstream = server.fake();
    upstream.push(
        "/v1/chat/completions",
        openai::reply(openai::completion("from xai", openai::Usage::new(3, 2))),
    );
    upstream.push(
        "/v1beta/openai/chat/completions",
        openai::reply(openai::completion("from gemini", openai::Usage::new(3, 2))),
    );
    upstream.push(
        "/v1/chat/completions",
        openai::reply(openai::completion(
            "from deepseek",
            openai::Usage::new(3, 2),
        )),
    );

    let cases = [
        (
            "xai/grok-3",
            "/v1/chat/completions",
            XAI_KEY,
            "grok-3",
            "from xai",
        ),
        (
            "gemini/gemini-2.5-flash",
            "/v1beta/openai/chat/completions",
            GEMINI_KEY,
            "gemini-2.5-flash",
            "from gemini",
        ),
        (
            "deepseek/deepseek-v4-pro",
            "/v1/chat/completions",
            DEEPSEEK_KEY,
            "deepseek-v4-pro",
            "from deepseek",
        ),
    ];
    for (model, path, key, upstream_model, text) in cases {
        upstream.clear_requests();
        let resp = api.post("/v1/chat/completions", chat(model, "hi")).await;
        let body = resp.expect(200).json();
        assert_eq!(body["choices"][0]["message"]["content"], text, "{resp}");
        let seen = upstream.requests();
        assert_eq!(seen.len(), 1, "one upstream call for {model}");
        assert_eq!(seen[0].route(), path);
        assert_eq!(
            seen[0].header("authorization"),
            Some(format!("Bearer {key}").as_str())
        );
        assert_eq!(seen[0].json()["model"], upstream_model);
    }
}

#[tokio::test]
async fn patch_takes_effect_on_the_next_request_without_restart() {
    let (server, admin) = admin_server().await;
    let api = server.api(&admin);
    register_seed(&server, &api).await;

    let resp = api
        .patch(
            "/v1/providers/xai",
            json!({"models": ["grok-3-mini", "grok-4"], "api_key": "xai-rotated-key-000000ZZ99"}),
        )
        .await;
    let patched = resp.expect(200).json();
    assert_eq!(patched["models"], json!(["grok-3-mini", "grok-4"]));
    assert_eq!(patched["auth"]["last4"], "ZZ99");
    assert!(!resp.text.contains("xai-rotated-key"), "{resp}");

    server.fake().clear_requests();
    api.post("/v1/chat/completions", chat("xai/grok-4", "hi"))
        .await
        .expect(200);
    let seen = server.fake().requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json()["model"], "grok-4");
    assert_eq!(
        seen[0].header("authorization"),
        Some("Bearer xai-rotated-key-000000ZZ99")
    );

    let resp = api
        .post("/v1/chat/completions", chat("xai/grok-3", "hi"))
        .await;
    assert_error(&resp, 404, "Model 'xai/grok-3' not found");
    assert_eq!(
        api.get("/v1/providers/xai").await.json()["models"],
        json!(["grok-3-mini", "grok-4"])
    );
}

#[tokio::test]
async fn delete_removes_a_custom_provider_and_keeps_built_ins() {
    let (server, admin) = admin_server().await;
    let api = server.api(&admin);
    register_seed(&server, &api).await;

    let resp = api.delete("/v1/providers/xai").await;
    assert_eq!(resp.status, 204, "{resp}");
    assert_error(
        &api.get("/v1/providers/xai").await,
        404,
        "Provider 'xai' not found",
    );
    assert_error(
        &api.delete("/v1/providers/xai").await,
        404,
        "Provider 'xai' not found",
    );
    assert_error(
        &api.post("/v1/chat/completions", chat("xai/grok-3", "hi"))
            .await,
        404,
        "Model 'xai/grok-3' not found",
    );
    assert!(!ids(&api.get("/v1/providers").await.json()).contains(&"xai".to_owned()));

    for builtin in ["anthropic", "openai", "ollama"] {
        let resp = api.delete(&format!("/v1/providers/{builtin}")).await;
        assert_error_shape(&resp, 409);
        api.get(&format!("/v1/providers/{builtin}"))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn a_duplicate_name_is_409_and_leaves_the_first_whole() {
    let (server, admin) = admin_server().await;
    let api = server.api(&admin);
    register_seed(&server, &api).await;
    let again = provider(
        "xai",
        "http://127.0.0.1:9/v1",
        "xai-other-key-00000000",
        &["other"],
    );
    assert_error_shape(&api.post("/v1/providers", again).await, 409);
    let builtin = provider(
        "openai",
        "http://127.0.0.1:9/v1",
        "sk-other-key-00000000",
        &["x"],
    );
    assert_error_shape(&api.post("/v1/providers", builtin).await, 409);

    let xai = api.get("/v1/providers/xai").await.json();
    assert_eq!(xai["models"], json!(["grok-3"]));
    assert_eq!(xai["auth"]["last4"], "Qk9f");
}

/// A 400 (or 422) whose error names `field`.
fn assert_names_field(resp: &e2e::Resp, field: &str) {
    assert!(
        matches!(resp.status, 400 | 422),
        "expected 400/422:\n{resp}"
    );
    let error = assert_error_shape(resp, resp.status);
    assert!(
        error["param"] == field || error["message"].as_str().unwrap().contains(field),
        "the error should name `{field}`:\n{resp}"
    );
}

#[tokio::test]
async fn bad_registrations_are_refused_naming_the_field() {
    let (server, admin) = admin_server().await;
    let api = server.api(&admin);
    let ok_url = format!("{}/v1", server.fake().url());
    let key = "test-key-0123456789abcd";

    for base_url in ["not a url", "api.x.ai/v1", "ftp://127.0.0.1/v1", ""] {
        let resp = api
            .post("/v1/providers", provider("p1", base_url, key, &["m"]))
            .await;
        assert_names_field(&resp, "base_url");
    }
    // Plain http to a host off this machine would carry the key in clear.
    let insecure = provider("p1", "http://192.0.2.10/v1", key, &["m"]);
    assert_names_field(
        &api.post("/v1/providers", insecure.clone()).await,
        "base_url",
    );
    let mut allowed = insecure;
    allowed["allow_insecure_http"] = json!(true);
    api.post("/v1/providers", allowed).await.expect(201);

    let too_long = "a".repeat(64);
    for name in [
        "Bad",
        "-lead",
        "_lead",
        "has space",
        "dots.dots",
        "",
        too_long.as_str(),
        "x/y",
    ] {
        let resp = api
            .post("/v1/providers", provider(name, &ok_url, key, &["m"]))
            .await;
        assert_names_field(&resp, "name");
    }
    api.post(
        "/v1/providers",
        provider(&"a".repeat(63), &ok_url, key, &["m"]),
    )
    .await
    .expect(201);
    api.post("/v1/providers", provider("0k_-x", &ok_url, key, &["m"]))
        .await
        .expect(201);

    let resp = api
        .post("/v1/providers", provider("p2", &ok_url, key, &[]))
        .await;
    assert_names_field(&resp, "models");

    let mut two_keys = provider("p3", &ok_url, key, &["m"]);
    two_keys["api_key_env"] = json!("SOME_VAR");
    let resp = api.post("/v1/providers", two_keys).await;
    assert!(
        matches!(resp.status, 400 | 422),
        "at most one key source:\n{resp}"
    );

    let mut unknown = provider("p4", &ok_url, key, &["m"]);
    unknown["colour"] = json!("red");
    assert_names_field(&api.post("/v1/providers", unknown).await, "colour");

    let mut wrong_type = provider("p5", &ok_url, key, &["m"]);
    wrong_type["models"] = json!("m");
    assert_names_field(&api.post("/v1/providers", wrong_type).await, "models");

    let resp = api
        .send_raw(
            reqwest::Method::POST,
            "/v1/providers",
            "application/json",
            "{\"name\": \"p6\",",
        )
        .await;
    assert_error_shape(&resp, 400);

    // None of the refused ones exists.
    let listed = ids(&api.get("/v1/providers").await.json());
    for name in ["p1", "p2", "p3", "p4", "p5", "p6"] {
        assert_eq!(
            listed.iter().filter(|id| *id == name).count(),
            usize::from(name == "p1"),
            "{listed:?}"
        );
    }
}

#[tokio::test]
async fn a_short_key_shows_no_last4_and_an_env_key_is_read_from_the_environment() {
    let server =
        TestServer::start(ServerOptions::new().env("ACME_TEST_KEY", "acme-env-key-0123456789"))
            .await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let base = format!("{}/acme/v1", server.fake().url());

    let short = api
        .post(
            "/v1/providers",
            provider("short", &base, "abc12345", &["m"]),
        )
        .await;
    let body = short.expect(201).json();
    assert_eq!(body["auth"]["type"], "api_key");
    assert!(
        body["auth"]["last4"].is_null(),
        "a key under 12 characters shows no last4: {short}"
    );

    let from_env =
        json!({"name": "acme", "base_url": base, "api_key_env": "ACME_TEST_KEY", "models": ["m"]});
    let resp = api.post("/v1/providers", from_env).await;
    assert!(!resp.expect(201).text.contains("acme-env-key"), "{resp}");
    server.fake().push(
        "/acme/v1/chat/completions",
        openai::reply(openai::completion("ok", openai::Usage::new(1, 1))),
    );
    api.post("/v1/chat/completions", chat("acme/m", "hi"))
        .await
        .expect(200);
    let seen = server.fake().requests();
    let call = seen
        .iter()
        .find(|r| r.route() == "/acme/v1/chat/completions")
        .unwrap();
    assert_eq!(
        call.header("authorization"),
        Some("Bearer acme-env-key-0123456789")
    );
}
