//! Everything checked after one kill and restart, and the figures it adds up.

use std::collections::BTreeMap;

use rand::rngs::StdRng;

use super::checks;
use super::client::Client;
use super::e2e::TestServer;
use super::model::State;
use super::observe::observe;
use super::reconcile::reconcile;

/// Revoked tokens each client keeps checking (the most recent).
const REVOKED_KEPT: usize = 4;
/// Journal lines a failure shows.
const JOURNAL_SHOWN: usize = 60;

/// What the in-flight writes turned out to be, by kind of write: `(untouched, applied)`.
pub type InFlightFigures = BTreeMap<&'static str, (u64, u64)>;

/// What every check after a restart needs, and the figures they add up.
pub struct Checker {
    pub admin: String,
    /// Where every custom provider points.
    pub base_url: String,
    /// The assistant text of every turn.
    pub reply: String,
    /// For the failure message: the run's seed.
    pub seed: u64,
    /// Picks the provider and the vault entry checked whole.
    pub rng: StdRng,
    pub in_flight: InFlightFigures,
}

impl Checker {
    /// Reads the store, matches it against every client's expected state (and its in-flight
    /// write), adopts the match, and runs the deeper checks. Panics, naming the client and the
    /// seed, on any difference.
    pub async fn verify(&mut self, server: &TestServer, clients: &mut [Client]) {
        let api = server.api(&self.admin);
        let seen = observe(&api, &self.base_url, clients.len()).await;
        for (client, seen) in clients.iter_mut().zip(&seen) {
            let in_flight = client.in_flight.take();
            let state = reconcile(&client.state, in_flight.as_ref(), seen, &self.reply)
                .unwrap_or_else(|diff| {
                    let recent = client.journal.len().saturating_sub(JOURNAL_SHOWN);
                    panic!(
                        "client {} after kill {} (replay: MOXXY_CRASH_SEED={}): {diff}\n\
                         --- the client's last writes ---\n{}",
                        client.index,
                        client.round + 1,
                        self.seed,
                        client.journal[recent..].join("\n")
                    )
                });
            if let Some(write) = &in_flight {
                let entry = self.in_flight.entry(write.write.kind()).or_default();
                if state == client.state {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
            note_revoked(client, &state);
            client.state = state;
        }
        checks::tokens_work(server, clients).await;
        checks::a_provider_key_is_whole(server, &self.admin, clients, &mut self.rng).await;
        checks::a_vault_value_is_whole(server, &self.admin, &self.base_url, clients, &mut self.rng)
            .await;
    }
}

/// Tokens with a known secret that the store no longer lists were revoked: remember them.
fn note_revoked(client: &mut Client, after: &State) {
    for (name, token) in &client.state.tokens {
        if let (false, Some(secret)) = (after.tokens.contains_key(name), &token.secret) {
            client.revoked.push(secret.clone());
        }
    }
    let excess = client.revoked.len().saturating_sub(REVOKED_KEPT);
    client.revoked.drain(..excess);
}
