//! `GET /v1/models` and `GET /v1/providers/{id}/models`.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use super::Harness;

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn v1_models_lists_every_provider_model_as_provider_slash_model() {
    let h = Harness::new().await;

    let answer = h.get("/v1/models").await;

    assert_eq!(answer.status, StatusCode::OK);
    let list = answer.json();
    assert_eq!(list["object"], "list");
    let ids = ids(&list);
    for id in [
        "anthropic/claude-sonnet-4-5",
        "openai/gpt-4.1",
        "ollama/llama3.2:latest",
        "relay/shared",
        "xai/shared",
        "xai/grok-3",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} missing from {ids:?}");
    }
    let grok = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "xai/grok-3")
        .unwrap();
    assert_eq!(
        grok,
        &json!({"id": "xai/grok-3", "object": "model", "created": 0, "owned_by": "xai"})
    );
}

#[actix_web::test]
async fn every_listed_id_routes() {
    let h = Harness::new().await;
    let list = h.get("/v1/models").await.json();
    let directory = h.state.directory.snapshot();
    for id in ids(&list) {
        let route = moxxy::routing::resolve(&id, &directory, &h.state.config.aliases);
        assert!(route.is_ok(), "{id} does not route");
    }
}

#[actix_web::test]
async fn provider_models_say_where_each_list_comes_from() {
    let h = Harness::new().await;
    for (provider, model, source) in [
        ("anthropic", "claude-haiku-4-5", "builtin"),
        ("openai", "o4-mini", "builtin"),
        ("ollama", "llama3.2:latest", "upstream"),
        ("xai", "grok-3", "registration"),
    ] {
        let answer = h.get(&format!("/v1/providers/{provider}/models")).await;
        assert_eq!(answer.status, StatusCode::OK);
        let list = answer.json();
        assert_eq!(list["object"], "list");
        let item = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == model)
            .cloned();
        assert_eq!(
            item,
            Some(json!({"id": model, "provider": provider, "source": source})),
            "{provider}"
        );
    }
}

#[actix_web::test]
async fn models_of_an_unknown_provider_are_404() {
    let h = Harness::new().await;

    let answer = h.get("/v1/providers/nope/models").await;

    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error()["message"], "Provider 'nope' not found");
}
