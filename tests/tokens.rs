//! `mox_` tokens: their form, hashing, checking, scopes, secrecy, and their records in the store.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use moxxy::auth::token::{self, Scope, TokenRejection};
use moxxy::store::{Store, StoreError};
use sha2::{Digest, Sha256};

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn now() -> SystemTime {
    SystemTime::now()
}

#[test]
fn a_token_has_the_documented_form() {
    let new = token::generate("admin", vec![Scope::Admin], None, now());
    let text = new.secret.expose();
    // ^mox_[0-9a-f]{64}$
    assert_eq!(text.len(), 68, "{}", text.len());
    let hex = text.strip_prefix("mox_").unwrap();
    assert!(is_lower_hex(hex));
    assert!(token::looks_like_token(text));

    let rec = &new.record;
    assert_eq!(rec.schema, moxxy::store::SCHEMA);
    let id_hex = rec.id.strip_prefix("tok_").unwrap();
    assert!(id_hex.len() == 16 && is_lower_hex(id_hex), "{}", rec.id);
    assert_eq!(rec.prefix, format!("mox_{}", &hex[..4]));
    assert_eq!(rec.hash, hex::encode(Sha256::digest(text.as_bytes())));
    assert_eq!(rec.hash, token::hash(text));
    assert_eq!(rec.scopes, [Scope::Admin]);
    assert_eq!(rec.name, "admin");
    assert!(rec.expires_at.is_none() && rec.revoked_at.is_none() && rec.last_used_at.is_none());
}

#[test]
fn looks_like_token_rejects_near_misses() {
    let good = format!("mox_{}", "a1".repeat(32));
    assert!(token::looks_like_token(&good));
    for bad in [
        String::new(),
        "mox_".to_string(),
        format!("mox_{}", "A1".repeat(32)),
        format!("mox_{}", "a1".repeat(31)),
        format!("mox_{}0", "a1".repeat(32)),
        format!("sk-_{}", "a1".repeat(32)),
        format!("mox_{}g", "a1".repeat(31) + "a"),
        format!("MOX_{}", "a1".repeat(32)),
    ] {
        assert!(!token::looks_like_token(&bad), "{bad}");
    }
}

#[test]
fn two_tokens_differ() {
    let a = token::generate("a", vec![Scope::Chat], None, now());
    let b = token::generate("a", vec![Scope::Chat], None, now());
    assert_ne!(a.secret.expose(), b.secret.expose());
    assert_ne!(a.record.id, b.record.id);
    assert_ne!(a.record.hash, b.record.hash);
}

#[test]
fn secrets_are_not_printed() {
    let new = token::generate("a", vec![Scope::Chat], None, now());
    assert_eq!(format!("{:?}", new.secret), "mox_****");
    let debug = format!("{new:?}");
    let hex = &new.secret.expose()[4..];
    assert!(!debug.contains(hex), "{debug}");
    let json = serde_json::to_string(&new.record).unwrap();
    assert!(!json.contains(hex), "{json}");
}

#[test]
fn verify_checks_hash_revocation_and_expiry() {
    let t0 = now();
    let new = token::generate("a", vec![Scope::Read], Some(Duration::from_secs(60)), t0);
    let text = new.secret.expose();
    assert_eq!(token::verify(text, &new.record, t0), Ok(()));
    assert_eq!(
        token::verify(text, &new.record, t0 + Duration::from_secs(61)),
        Err(TokenRejection::Expired)
    );
    let other = token::generate("b", vec![Scope::Read], None, t0);
    assert_eq!(
        token::verify(other.secret.expose(), &new.record, t0),
        Err(TokenRejection::Mismatch)
    );
    let mut revoked = new.record.clone();
    revoked.revoked_at = Some("2026-01-01T00:00:00Z".to_string());
    assert_eq!(
        token::verify(text, &revoked, t0),
        Err(TokenRejection::Revoked)
    );
    let mut garbled = new.record.clone();
    garbled.expires_at = Some("next tuesday".to_string());
    assert_eq!(
        token::verify(text, &garbled, t0),
        Err(TokenRejection::Expired)
    );
}

#[test]
fn an_enormous_lifetime_is_cut_to_year_9999() {
    let new = token::generate("a", vec![Scope::Read], Some(Duration::MAX), now());
    assert_eq!(
        new.record.expires_at.as_deref(),
        Some("9999-12-31T23:59:59Z")
    );
    assert_eq!(
        token::verify(new.secret.expose(), &new.record, now()),
        Ok(())
    );
}

#[test]
fn scope_table() {
    use Scope::*;
    for needed in [Admin, Chat, Read] {
        assert!(token::allows(&[Admin], needed));
    }
    assert!(token::allows(&[Chat], Chat));
    assert!(!token::allows(&[Chat], Read));
    assert!(!token::allows(&[Chat], Admin));
    assert!(token::allows(&[Read], Read));
    assert!(!token::allows(&[Read], Chat));
    assert!(!token::allows(&[Read], Admin));
    assert!(token::allows(&[Read, Chat], Chat));
    assert!(!token::allows(&[Read, Chat], Admin));
    assert!(!token::allows(&[], Read));

    assert_eq!(
        serde_json::to_string(&[Admin, Chat, Read]).unwrap(),
        r#"["admin","chat","read"]"#
    );
    assert_eq!(Scope::parse("chat"), Ok(Chat));
    let err = Scope::parse("root").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown scope 'root': expected admin, chat or read"
    );
}

#[test]
fn the_store_finds_tokens_by_hash_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tokens = store.tokens();
    let a = token::generate("a", vec![Scope::Admin], None, now());
    let b = token::generate("b", vec![Scope::Chat], None, now() + Duration::from_secs(5));
    tokens.create(&a.record).unwrap();
    tokens.create(&b.record).unwrap();

    let found = tokens
        .find_by_hash(&token::hash(a.secret.expose()))
        .unwrap()
        .unwrap();
    assert_eq!(found, a.record);
    assert_eq!(token::verify(a.secret.expose(), &found, now()), Ok(()));
    let stranger = token::generate("c", vec![Scope::Chat], None, now());
    assert!(tokens
        .find_by_hash(&token::hash(stranger.secret.expose()))
        .unwrap()
        .is_none());

    let names: Vec<String> = tokens.list().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(tokens.get(&b.record.id).unwrap(), Some(b.record.clone()));
    assert_eq!(tokens.active_count(now()).unwrap(), 2);

    let err = tokens.create(&a.record).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
}

#[test]
fn revoking_stops_the_token_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tokens = store.tokens();
    let new = token::generate("a", vec![Scope::Admin], None, now());
    let hash = token::hash(new.secret.expose());
    tokens.create(&new.record).unwrap();

    assert!(tokens.revoke(&new.record.id).unwrap());
    assert!(tokens.find_by_hash(&hash).unwrap().is_none());
    let stored = tokens.get(&new.record.id).unwrap().unwrap();
    let revoked_at = stored.revoked_at.clone().unwrap();
    assert_eq!(
        token::verify(new.secret.expose(), &stored, now()),
        Err(TokenRejection::Revoked)
    );
    // Revoking again keeps the first time; an unknown id is not found.
    assert!(tokens.revoke(&new.record.id).unwrap());
    assert_eq!(
        tokens.get(&new.record.id).unwrap().unwrap().revoked_at,
        Some(revoked_at)
    );
    assert!(!tokens.revoke("tok_0000000000000000").unwrap());
    assert_eq!(tokens.active_count(now()).unwrap(), 0);
}

#[test]
fn touch_records_use_but_never_unrevokes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tokens = store.tokens();
    let new = token::generate("a", vec![Scope::Chat], None, now());
    tokens.create(&new.record).unwrap();

    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    tokens.touch(&new.record.id, when).unwrap();
    let touched = tokens.get(&new.record.id).unwrap().unwrap();
    assert_eq!(
        touched.last_used_at.as_deref(),
        Some("2027-01-15T08:00:00Z")
    );

    tokens.revoke(&new.record.id).unwrap();
    tokens
        .touch(&new.record.id, when + Duration::from_secs(60))
        .unwrap();
    let after = tokens.get(&new.record.id).unwrap().unwrap();
    assert!(after.revoked_at.is_some());
    assert_eq!(after.last_used_at.as_deref(), Some("2027-01-15T08:00:00Z"));
    assert!(tokens
        .find_by_hash(&token::hash(new.secret.expose()))
        .unwrap()
        .is_none());
    tokens.touch("tok_ffffffffffffffff", when).unwrap();
}

#[test]
fn touch_racing_revoke_never_leaves_a_usable_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tokens = store.tokens();
    for round in 0..20u64 {
        let new = token::generate("a", vec![Scope::Chat], None, now());
        tokens.create(&new.record).unwrap();
        let id = new.record.id.clone();
        let toucher = {
            let tokens = tokens.clone();
            let id = id.clone();
            std::thread::spawn(move || {
                for s in 0..50 {
                    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(round * 100 + s);
                    tokens.touch(&id, when).unwrap();
                }
            })
        };
        tokens.revoke(&id).unwrap();
        toucher.join().unwrap();
        assert!(tokens.get(&id).unwrap().unwrap().revoked_at.is_some());
    }
}

#[test]
fn bootstrap_is_open_only_while_no_token_was_ever_created() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tokens = store.tokens();
    assert!(tokens.is_empty().unwrap());

    let first = token::generate("admin", vec![Scope::Admin], None, now());
    tokens.create_first(&first.record).unwrap();
    assert!(!tokens.is_empty().unwrap());

    let second = token::generate("again", vec![Scope::Admin], None, now());
    let err = tokens.create_first(&second.record).unwrap_err();
    assert_eq!(err.to_string(), "a token already exists");
    // Revoking every token does not reopen it.
    tokens.revoke(&first.record.id).unwrap();
    assert!(!tokens.is_empty().unwrap());
    assert!(tokens.create_first(&second.record).is_err());
    assert!(tokens.get(&second.record.id).unwrap().is_none());
}

#[test]
fn concurrent_bootstraps_let_exactly_one_win() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let tokens = store.tokens();
            std::thread::spawn(move || {
                let new = token::generate(format!("t{i}"), vec![Scope::Admin], None, now());
                tokens.create_first(&new.record).is_ok()
            })
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(store.tokens().list().unwrap().len(), 1);
}

fn contains(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        if path.is_dir() {
            contains(&path, needle)
        } else {
            let bytes = std::fs::read(&path).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        }
    })
}

#[test]
fn the_token_text_never_reaches_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let new = token::generate("a", vec![Scope::Admin], None, now());
    {
        let store = Store::open(dir.path()).unwrap();
        store.tokens().create(&new.record).unwrap();
        store.tokens().touch(&new.record.id, now()).unwrap();
        store.flush().unwrap();
    }
    let hex = &new.secret.expose()[4..];
    assert!(!contains(dir.path(), hex.as_bytes()));
    // The hash is there: the check is looking at the right files.
    assert!(contains(dir.path(), new.record.hash.as_bytes()));
}
