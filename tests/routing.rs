//! Model routing: `PROVIDER/MODEL`, aliases, bare ids, Ollama tags, and the two documented
//! failures, against a directory of real (idle) provider actors.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use actix::{Actor, Addr};
use actix_web::http::StatusCode;
use moxxy::api::ApiError;
use moxxy::builtin_models::builtin_models;
use moxxy::directory::ProviderEntry;
use moxxy::routing::{resolve, Route};
use moxxy_actors::provider::{ProviderActor, ProviderConfig, ProviderKind};

fn actor(id: &str, kind: ProviderKind) -> Addr<ProviderActor> {
    let config = ProviderConfig::new(id, kind, "http://127.0.0.1:9");
    ProviderActor::new(config).unwrap().start()
}

fn entry(id: &str, kind: ProviderKind, models: &[&str], open: bool) -> ProviderEntry {
    ProviderEntry {
        id: id.to_string(),
        kind,
        models: models.iter().map(|m| m.to_string()).collect(),
        open_model_list: open,
        addr: actor(id, kind),
    }
}

/// The built-ins, Ollama with two pulled models, and two custom providers that share a model.
fn directory() -> BTreeMap<String, ProviderEntry> {
    let entries = [
        entry(
            "anthropic",
            ProviderKind::Anthropic,
            builtin_models(ProviderKind::Anthropic),
            true,
        ),
        entry(
            "openai",
            ProviderKind::OpenAi,
            builtin_models(ProviderKind::OpenAi),
            true,
        ),
        entry(
            "ollama",
            ProviderKind::Ollama,
            &["llama3.2:latest", "qwen3:8b"],
            true,
        ),
        entry(
            "xai",
            ProviderKind::OpenAiCompatible,
            &["grok-3", "shared-model"],
            false,
        ),
        entry(
            "together",
            ProviderKind::OpenAiCompatible,
            &["meta-llama/Llama-3-70b", "shared-model", "gpt-4.1"],
            false,
        ),
    ];
    entries.into_iter().map(|e| (e.id.clone(), e)).collect()
}

fn aliases() -> BTreeMap<String, String> {
    [
        ("opus", "anthropic/claude-opus-4-5"),
        ("local", "ollama/llama3.2"),
        ("gone", "nowhere/model"),
        ("chain", "opus"),
        ("gpt-4.1", "openai/gpt-4.1"),
        ("relay", "together/meta-llama/Llama-3-70b"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

fn ok(name: &str) -> Route {
    let dir = directory();
    let route = resolve(name, &dir, &aliases()).unwrap();
    assert!(
        dir.get(&route.provider).unwrap().addr == route.addr,
        "the route's address is its provider's"
    );
    route
}

fn err(name: &str) -> ApiError {
    resolve(name, &directory(), &aliases()).unwrap_err()
}

fn at(route: &Route) -> (&str, &str) {
    (&route.provider, &route.model)
}

#[actix_web::test]
async fn provider_slash_model_routes_to_that_provider() {
    assert_eq!(at(&ok("xai/grok-3")), ("xai", "grok-3"));
    assert_eq!(
        at(&ok("anthropic/claude-sonnet-4-5")),
        ("anthropic", "claude-sonnet-4-5")
    );
}

#[actix_web::test]
async fn built_in_providers_take_any_model_by_provider_prefix() {
    assert_eq!(
        at(&ok("anthropic/claude-future-9")),
        ("anthropic", "claude-future-9")
    );
    assert_eq!(at(&ok("openai/gpt-7-turbo")), ("openai", "gpt-7-turbo"));
}

#[actix_web::test]
async fn a_custom_provider_takes_only_its_registered_models() {
    let e = err("xai/grok-9");
    assert_eq!(e.status, StatusCode::NOT_FOUND);
    assert_eq!(e.message, "Model 'xai/grok-9' not found");
}

#[actix_web::test]
async fn the_split_is_at_the_first_slash() {
    assert_eq!(
        at(&ok("together/meta-llama/Llama-3-70b")),
        ("together", "meta-llama/Llama-3-70b")
    );
    assert_eq!(
        at(&ok("ollama/library/llama3")),
        ("ollama", "library/llama3:latest")
    );
}

#[actix_web::test]
async fn an_unknown_prefix_makes_the_whole_name_a_bare_id() {
    assert_eq!(
        at(&ok("meta-llama/Llama-3-70b")),
        ("together", "meta-llama/Llama-3-70b")
    );
}

#[actix_web::test]
async fn ollama_names_without_a_tag_mean_latest() {
    assert_eq!(at(&ok("ollama/llama3.2")), ("ollama", "llama3.2:latest"));
    assert_eq!(at(&ok("ollama/qwen3:8b")), ("ollama", "qwen3:8b"));
    // Bare ids match the pulled list under the same rule.
    assert_eq!(at(&ok("llama3.2")), ("ollama", "llama3.2:latest"));
    assert_eq!(at(&ok("llama3.2:latest")), ("ollama", "llama3.2:latest"));
    // A tag that is not pulled is not a bare match.
    assert_eq!(err("qwen3").status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn ollama_takes_unpulled_models_by_prefix_and_lets_the_upstream_answer() {
    assert_eq!(at(&ok("ollama/mistral")), ("ollama", "mistral:latest"));
}

#[actix_web::test]
async fn a_bare_id_offered_once_routes_to_its_provider() {
    assert_eq!(at(&ok("gpt-4.1-mini")), ("openai", "gpt-4.1-mini"));
    assert_eq!(
        at(&ok("claude-haiku-4-5")),
        ("anthropic", "claude-haiku-4-5")
    );
}

#[actix_web::test]
async fn a_bare_id_offered_by_several_lists_the_choices() {
    let e = err("shared-model");
    assert_eq!(e.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        e.message,
        "Model 'shared-model' is offered by several providers - use one of: \
         together/shared-model, xai/shared-model"
    );
    assert_eq!(e.param.as_deref(), Some("model"));
    // Each choice resolves.
    assert_eq!(at(&ok("xai/shared-model")), ("xai", "shared-model"));
    assert_eq!(
        at(&ok("together/shared-model")),
        ("together", "shared-model")
    );
}

#[actix_web::test]
async fn an_unknown_name_is_404_word_for_word() {
    for name in ["no-such-model", "nowhere/model", "openai/", "Opus"] {
        let e = err(name);
        assert_eq!(e.status, StatusCode::NOT_FOUND, "{name}");
        assert_eq!(e.message, format!("Model '{name}' not found"));
        assert_eq!(e.code.as_deref(), Some("model_not_found"));
        assert_eq!(e.param.as_deref(), Some("model"));
    }
}

#[actix_web::test]
async fn an_alias_resolves_its_target() {
    assert_eq!(at(&ok("opus")), ("anthropic", "claude-opus-4-5"));
    assert_eq!(at(&ok("local")), ("ollama", "llama3.2:latest"));
    assert_eq!(at(&ok("relay")), ("together", "meta-llama/Llama-3-70b"));
}

#[actix_web::test]
async fn an_alias_wins_over_a_bare_id_of_the_same_name() {
    // `gpt-4.1` is offered by OpenAI and by the relay; the default alias keeps it on OpenAI.
    assert_eq!(at(&ok("gpt-4.1")), ("openai", "gpt-4.1"));
    let no_aliases = BTreeMap::new();
    let e = resolve("gpt-4.1", &directory(), &no_aliases).unwrap_err();
    assert_eq!(e.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn an_alias_to_nothing_is_404_with_the_alias_name() {
    let e = err("gone");
    assert_eq!(e.status, StatusCode::NOT_FOUND);
    assert_eq!(e.message, "Model 'gone' not found");
}

#[actix_web::test]
async fn aliases_do_not_chain() {
    let e = err("chain");
    assert_eq!(e.status, StatusCode::NOT_FOUND);
    assert_eq!(e.message, "Model 'chain' not found");
}
