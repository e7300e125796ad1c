//! Checks beyond the listings, after each restart: every token the store lists (and whose
//! secret the client knows) opens the API and every revoked one does not; one provider's key and
//! one vault value, chosen at random, reach the upstream whole (they decrypt to exactly what was
//! acknowledged, not merely the same last four characters).

use rand::rngs::StdRng;
use rand::Rng;
use serde_json::json;

use super::client::Client;
use super::e2e::{chat, TestServer};

/// The upstream route of every custom provider (`base_url` = fake + `/crash/v1`).
pub const CRASH_ROUTE: &str = "/crash/v1/chat/completions";
/// The provider a vault value is checked through; made and removed within one check.
const PROBE: &str = "probe";

/// Known tokens work; revoked ones get 401.
pub async fn tokens_work(server: &TestServer, clients: &[Client]) {
    for client in clients {
        for (name, token) in &client.state.tokens {
            if let Some(secret) = &token.secret {
                let resp = server.api(secret).get("/v1/tokens").await;
                assert_eq!(resp.status, 200, "listed token {name} must work:\n{resp}");
            }
        }
        for secret in &client.revoked {
            let resp = server.api(secret).get("/v1/tokens").await;
            assert_eq!(resp.status, 401, "a revoked token stays revoked:\n{resp}");
        }
    }
}

/// The `Authorization` the fake saw on the last call to the crash route.
fn last_auth(server: &TestServer) -> String {
    server
        .fake()
        .requests()
        .iter()
        .rev()
        .find(|r| r.route() == CRASH_ROUTE)
        .and_then(|r| r.header("authorization").map(str::to_string))
        .unwrap_or_default()
}

/// One random provider: a completion through it sends exactly the acknowledged key.
pub async fn a_provider_key_is_whole(
    server: &TestServer,
    admin: &str,
    clients: &[Client],
    rng: &mut StdRng,
) {
    let providers: Vec<_> = clients
        .iter()
        .flat_map(|c| c.state.providers.iter())
        .collect();
    if providers.is_empty() {
        return;
    }
    let (id, provider) = providers[rng.random_range(0..providers.len())];
    server.fake().clear_requests();
    let model = format!("{id}/{}", provider.models[0]);
    server
        .api(admin)
        .post("/v1/chat/completions", chat(&model, "key check"))
        .await
        .expect(200);
    assert_eq!(
        last_auth(server),
        format!("Bearer {}", provider.key),
        "provider {id} sends the key last acknowledged"
    );
}

/// One random vault entry: a provider reading its key from it sends exactly the acknowledged
/// value. The probe provider is removed again, so the entry stays free to delete.
pub async fn a_vault_value_is_whole(
    server: &TestServer,
    admin: &str,
    base_url: &str,
    clients: &[Client],
    rng: &mut StdRng,
) {
    let entries: Vec<_> = clients.iter().flat_map(|c| c.state.vault.iter()).collect();
    if entries.is_empty() {
        return;
    }
    let (name, value) = entries[rng.random_range(0..entries.len())];
    let api = server.api(admin);
    let probe = json!({"name": PROBE, "base_url": base_url, "api_key_vault": name,
                       "models": ["probe-model"]});
    api.post("/v1/providers", probe).await.expect(201);
    server.fake().clear_requests();
    api.post(
        "/v1/chat/completions",
        chat(&format!("{PROBE}/probe-model"), "vault check"),
    )
    .await
    .expect(200);
    assert_eq!(
        last_auth(server),
        format!("Bearer {value}"),
        "vault entry {name} holds the value last acknowledged"
    );
    api.delete(&format!("/v1/providers/{PROBE}"))
        .await
        .expect(204);
}
