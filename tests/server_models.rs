//! Model names and lists (API.md, Models and names): `PROVIDER/MODEL`, a bare id offered by
//! one provider, a bare id offered by several (400 with the choices), and `GET /v1/models`
//! listing every model of every ready provider.

#![allow(clippy::unwrap_used)]

mod e2e;

use e2e::{chat, provider, ServerOptions, TestServer};
use moxxy_fake_upstream::openai;

async fn start() -> (TestServer, String) {
    let server =
        TestServer::start(ServerOptions::new().env("OPENAI_API_KEY", "sk-test-openai-models-0001"))
            .await;
    let admin = server.bootstrap_admin_token().await;
    (server, admin)
}

#[tokio::test]
async fn model_names_resolve_by_provider_bare_id_or_choice() {
    let (server, admin) = start().await;
    let api = server.api(&admin);
    let fake = server.fake().url();
    for (name, models) in [
        ("one", ["solo-model", "shared-model"]),
        ("two", ["other-model", "shared-model"]),
    ] {
        api.post(
            "/v1/providers",
            provider(
                name,
                &format!("{fake}/{name}/v1"),
                "test-key-0123456789abcd",
                &models,
            ),
        )
        .await
        .expect(201);
    }

    // A bare id offered by one provider goes there.
    server.fake().push(
        "/one/v1/chat/completions",
        openai::reply(openai::completion("solo", openai::Usage::new(1, 1))),
    );
    api.post("/v1/chat/completions", chat("solo-model", "hi"))
        .await
        .expect(200);
    let seen = server.fake().requests();
    let call = seen
        .iter()
        .find(|r| r.route() == "/one/v1/chat/completions")
        .expect("routed to `one`");
    assert_eq!(call.json()["model"], "solo-model");

    // Offered by two: 400 naming both choices.
    let resp = api
        .post("/v1/chat/completions", chat("shared-model", "hi"))
        .await;
    let error = e2e::assert_error_shape(&resp, 400);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("one/shared-model") && message.contains("two/shared-model"),
        "{resp}"
    );

    // GET /v1/models: every model of every ready provider, as PROVIDER/MODEL.
    let resp = api.get("/v1/models").await;
    let list = resp.expect(200).json();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in [
        "one/solo-model",
        "one/shared-model",
        "two/other-model",
        "openai/gpt-4.1-mini",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(ids.iter().all(|id| id.contains('/')), "{ids:?}");
    assert!(list["data"][0]["object"] == "model", "{list}");
}

#[tokio::test]
async fn a_provider_without_credentials_lists_no_models() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let list = server
        .api(&admin)
        .get("/v1/models")
        .await
        .expect(200)
        .json();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.iter()
            .any(|id| id.starts_with("anthropic/") || id.starts_with("openai/")),
        "{ids:?}"
    );
}
