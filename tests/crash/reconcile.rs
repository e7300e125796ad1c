//! Holding what the server shows against what a client expects: the expected state, or one of
//! the outcomes its in-flight write allows. The match that fits becomes the new expected state,
//! with what the client could not know (a token's id, a new conversation's id) filled in.

use std::collections::BTreeMap;

use super::model::{InFlight, State, Token, UNKNOWN_ID};
use super::observe::Seen;

/// The last four characters, as the server lists a key or a vault value.
pub fn last4(value: &str) -> &str {
    &value[value.len().saturating_sub(4)..]
}

/// `candidate` with its unknowns filled in from `seen`, when `seen` is exactly `candidate`.
pub fn fit(candidate: &State, seen: &Seen) -> Option<State> {
    let mut fitted = candidate.clone();

    let same_providers = candidate.providers.len() == seen.providers.len()
        && candidate.providers.iter().all(|(id, want)| {
            seen.providers
                .get(id)
                .is_some_and(|got| got.models == want.models && got.last4 == last4(&want.key))
        });
    let same_vault = candidate.vault.len() == seen.vault.len()
        && candidate
            .vault
            .iter()
            .all(|(name, value)| seen.vault.get(name).map(String::as_str) == Some(last4(value)));
    if !same_providers || !same_vault {
        return None;
    }

    if candidate.tokens.len() != seen.tokens.len() {
        return None;
    }
    for (name, want) in &candidate.tokens {
        let got = seen.tokens.get(name)?;
        if !want.id.is_empty() && *got != want.id {
            return None;
        }
        fitted.tokens.insert(
            name.clone(),
            Token {
                id: got.clone(),
                secret: want.secret.clone(),
            },
        );
    }

    if candidate.agents.len() != seen.agents.len() {
        return None;
    }
    for (name, want) in &candidate.agents {
        let got = seen.agents.get(name)?;
        if got.system != want.system || got.max_tokens != want.max_tokens {
            return None;
        }
        let mut unknown = None;
        let mut known = BTreeMap::new();
        for (id, messages) in &want.conversations {
            if id == UNKNOWN_ID {
                unknown = Some(messages);
            } else {
                known.insert(id.clone(), messages);
            }
        }
        let mut extra = Vec::new();
        for (id, messages) in &got.conversations {
            match known.remove(id) {
                Some(expected) if expected == messages => {}
                Some(_) => return None,
                None => extra.push((id, messages)),
            }
        }
        if !known.is_empty() {
            return None;
        }
        let conversations = &mut fitted.agents.get_mut(name)?.conversations;
        match (unknown, extra.as_slice()) {
            (None, []) => {}
            (Some(expected), [(id, messages)]) if expected == *messages => {
                conversations.remove(UNKNOWN_ID);
                conversations.insert((*id).clone(), expected.clone());
            }
            _ => return None,
        }
    }
    Some(fitted)
}

/// Matches `seen` against `expected` and the in-flight write's outcomes: the state that fits,
/// or a description of the mismatch.
pub fn reconcile(
    expected: &State,
    in_flight: Option<&InFlight>,
    seen: &Seen,
    reply: &str,
) -> Result<State, String> {
    let candidates = match in_flight {
        Some(in_flight) => in_flight.outcomes(expected, reply),
        None => vec![expected.clone()],
    };
    candidates
        .iter()
        .find_map(|candidate| fit(candidate, seen))
        .ok_or_else(|| mismatch(expected, in_flight, seen))
}

fn mismatch(expected: &State, in_flight: Option<&InFlight>, seen: &Seen) -> String {
    format!(
        "the store does not hold what was acknowledged\n\
         --- in flight at the kill ---\n{in_flight:?}\n\
         --- differences from the acknowledged state (expected => found) ---\n{}",
        differences(expected, seen).join("\n")
    )
}

/// One line per key whose acknowledged state differs from what the store holds.
fn differences(expected: &State, seen: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    let mut compare = |what: &str, want: Option<String>, got: Option<String>| {
        if want != got {
            out.push(format!("{what}: {want:?} => {got:?}"));
        }
    };
    let ids = |a: Vec<&String>, b: Vec<&String>| {
        let mut all: Vec<String> = a.into_iter().chain(b).cloned().collect();
        all.sort();
        all.dedup();
        all
    };
    for id in ids(
        expected.providers.keys().collect(),
        seen.providers.keys().collect(),
    ) {
        let want = expected.providers.get(&id);
        let want = want.map(|p| format!("{:?} key …{}", p.models, last4(&p.key)));
        let got = seen.providers.get(&id);
        let got = got.map(|p| format!("{:?} key …{}", p.models, p.last4));
        compare(&format!("provider {id}"), want, got);
    }
    for name in ids(
        expected.tokens.keys().collect(),
        seen.tokens.keys().collect(),
    ) {
        let want = expected.tokens.get(&name).map(|t| t.id.clone());
        compare(
            &format!("token {name}"),
            want,
            seen.tokens.get(&name).cloned(),
        );
    }
    for name in ids(expected.vault.keys().collect(), seen.vault.keys().collect()) {
        let want = expected.vault.get(&name).map(|v| last4(v).to_string());
        compare(
            &format!("vault {name}"),
            want,
            seen.vault.get(&name).cloned(),
        );
    }
    for name in ids(
        expected.agents.keys().collect(),
        seen.agents.keys().collect(),
    ) {
        let want = expected.agents.get(&name);
        let got = seen.agents.get(&name);
        compare(
            &format!("agent {name}"),
            want.map(|a| format!("{:?} max_tokens {}", a.system, a.max_tokens)),
            got.map(|a| format!("{:?} max_tokens {}", a.system, a.max_tokens)),
        );
        let none = BTreeMap::new();
        let want = want.map_or(&none, |a| &a.conversations);
        let got = got.map_or(&none, |a| &a.conversations);
        for id in ids(want.keys().collect(), got.keys().collect()) {
            let brief = |messages: &Vec<super::model::Message>| {
                messages
                    .iter()
                    .map(|m| format!("{:?} {:.14}", m.role, m.content))
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            compare(
                &format!("agent {name} conversation {id}"),
                want.get(&id).map(brief),
                got.get(&id).map(brief),
            );
        }
    }
    out
}
