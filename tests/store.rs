//! The sled registry: round trips, conflicts, failed writes, schema and corruption errors,
//! persistence across reopen, and acknowledged writes surviving `kill -9`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use moxxy::auth::token::{self, Scope};
use moxxy::store::{AuthSource, ProviderRecord, Store, StoreError, SCHEMA};
use moxxy::vault::{MasterKey, Vault};
use moxxy_actors::ratelimit::RateLimitConfig;
use moxxy_actors::ApiKey;

fn provider(id: &str) -> ProviderRecord {
    ProviderRecord {
        schema: SCHEMA,
        id: id.to_string(),
        kind: "openai_compatible".to_string(),
        base_url: "https://api.x.ai/v1".to_string(),
        models: vec!["grok-3".to_string()],
        auth: AuthSource::Registration,
        headers: BTreeMap::from([("x-team".to_string(), "blue".to_string())]),
        rate_limit: Some(RateLimitConfig {
            requests_per_minute: Some(60),
            tokens_per_minute: None,
        }),
        timeout_ms: Some(30_000),
        max_retries: Some(2),
        allow_insecure_http: false,
        created_at: "2026-11-25T10:00:00Z".to_string(),
        updated_at: "2026-11-25T10:00:00Z".to_string(),
    }
}

#[test]
fn provider_round_trip_and_sorted_list() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let providers = store.providers();
    let mut zeta = provider("zeta");
    zeta.auth = AuthSource::Env {
        var: "ZETA_KEY".to_string(),
    };
    providers.create(&zeta).unwrap();
    providers.create(&provider("alpha")).unwrap();

    assert_eq!(providers.get("zeta").unwrap(), Some(zeta.clone()));
    assert_eq!(providers.get("missing").unwrap(), None);
    let ids: Vec<String> = providers
        .list()
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["alpha", "zeta"]);
    assert!(store.is_healthy());
}

#[test]
fn auth_source_is_tagged_json() {
    let json = serde_json::to_value(AuthSource::Vault {
        name: "xai-key".to_string(),
    })
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "vault", "name": "xai-key"})
    );
    let json = serde_json::to_value(AuthSource::Registration).unwrap();
    assert_eq!(json, serde_json::json!({"type": "registration"}));
}

#[test]
fn create_conflict_keeps_the_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = provider("xai");
    store.providers().create(&first).unwrap();

    let mut second = provider("xai");
    second.base_url = "https://evil.example/v1".to_string();
    let err = store.providers().create(&second).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert_eq!(err.to_string(), "provider 'xai' already exists");
    assert_eq!(store.providers().get("xai").unwrap(), Some(first));
}

#[test]
fn concurrent_creates_of_one_id_let_exactly_one_win() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let providers = store.providers();
            std::thread::spawn(move || {
                let mut rec = provider("race");
                rec.models = vec![format!("m{i}")];
                providers.create(&rec).is_ok()
            })
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|won| *won)
        .count();
    assert_eq!(wins, 1);
}

#[test]
fn replace_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let providers = store.providers();
    providers.create(&provider("xai")).unwrap();

    let mut changed = provider("xai");
    changed.models = vec!["grok-4".to_string()];
    providers.replace(&changed).unwrap();
    assert_eq!(providers.get("xai").unwrap(), Some(changed));

    assert!(providers.delete("xai").unwrap());
    assert!(!providers.delete("xai").unwrap());
    // A replace after a delete does not bring the record back.
    let err = providers.replace(&provider("xai")).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert_eq!(providers.get("xai").unwrap(), None);
}

#[test]
fn a_failed_write_leaves_the_old_record_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let providers = store.providers();
    let original = provider("xai");
    providers.create(&original).unwrap();

    // A record this build could not read back is refused before anything is written.
    let mut bad = provider("xai");
    bad.schema = SCHEMA + 1;
    bad.base_url = "https://changed.example/v1".to_string();
    assert!(matches!(
        providers.replace(&bad).unwrap_err(),
        StoreError::Encode { .. }
    ));
    assert!(providers.upsert(&bad).is_err());
    bad.schema = 0;
    assert!(providers.replace(&bad).is_err());
    assert_eq!(providers.get("xai").unwrap(), Some(original));
}

#[test]
fn vault_entry_users_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let providers = store.providers();
    providers.create(&provider("xai")).unwrap();
    let mut other = provider("groq");
    other.auth = AuthSource::Vault {
        name: "shared".to_string(),
    };
    providers.create(&other).unwrap();
    assert_eq!(
        providers.using_vault_entry("provider:xai").unwrap(),
        ["xai"]
    );
    assert_eq!(providers.using_vault_entry("shared").unwrap(), ["groq"]);
    assert!(providers.using_vault_entry("unused").unwrap().is_empty());
}

#[test]
fn reopening_keeps_every_kind_of_record() {
    let dir = tempfile::tempdir().unwrap();
    let new_token = token::generate("ci", vec![Scope::Read], None, std::time::SystemTime::now());
    {
        let store = Store::open(dir.path()).unwrap();
        store.providers().create(&provider("xai")).unwrap();
        store.tokens().create(&new_token.record).unwrap();
        let vault = Vault::new(MasterKey::from_bytes([9; 32]), store.clone());
        vault
            .put("openai", &ApiKey::new("sk-persisted-value-1234"))
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.providers().get("xai").unwrap(), Some(provider("xai")));
    let hash = token::hash(new_token.secret.expose());
    assert_eq!(
        store.tokens().find_by_hash(&hash).unwrap(),
        Some(new_token.record)
    );
    let vault = Vault::new(MasterKey::from_bytes([9; 32]), store);
    assert_eq!(
        vault.get("openai").unwrap().unwrap().expose(),
        "sk-persisted-value-1234"
    );
}

#[test]
fn a_second_open_of_one_directory_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Open { .. }), "{msg}");
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert!(msg.contains("another moxxy"), "{msg}");
}

#[test]
fn an_unusable_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let target = file.join("data");
    let err = Store::open(&target).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(
        err.to_string().contains(&target.display().to_string()),
        "{err}"
    );
}

/// Writes raw bytes into a tree, as a damaged disk or a newer moxxy would leave them.
fn write_raw(dir: &Path, tree: &str, key: &str, value: &[u8]) {
    let db = open_when_released(dir);
    db.open_tree(tree).unwrap().insert(key, value).unwrap();
    db.flush().unwrap();
}

/// Opens the sled database in `dir` once the store just dropped has let go of its file lock:
/// sled's background flusher holds the database a moment past the drop.
fn open_when_released(dir: &Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(
                    e.to_string().contains("lock"),
                    "open {}: {e}",
                    dir.display()
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("open {}: {e}", dir.display()),
        }
    }
}

#[test]
fn future_schema_and_corrupt_records_are_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let mut future = serde_json::to_value(provider("future")).unwrap();
    future["schema"] = serde_json::json!(2);
    write_raw(
        dir.path(),
        "providers",
        "future",
        future.to_string().as_bytes(),
    );
    write_raw(dir.path(), "providers", "garbled", b"\x00\xffnot json");
    let mut wrong = serde_json::to_value(provider("wrong")).unwrap();
    wrong["models"] = serde_json::json!("sk-leaky-secret-value");
    write_raw(
        dir.path(),
        "providers",
        "wrong",
        wrong.to_string().as_bytes(),
    );

    let store = Store::open(dir.path()).unwrap();
    let providers = store.providers();
    let err = providers.get("future").unwrap_err();
    assert!(matches!(err, StoreError::Schema { found: 2, .. }), "{err}");
    assert!(err.to_string().contains("'future'"), "{err}");

    let err = providers.get("garbled").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("'garbled'"), "{err}");

    let err = providers.get("wrong").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{msg}");
    assert!(msg.contains("'wrong'") && msg.contains("models"), "{msg}");
    assert!(!msg.contains("sk-leaky"), "{msg}");

    assert!(providers.list().is_err());
}

const CHILD_ENV: &str = "MOXXY_STORE_CRASH_CHILD_DIR";

/// The child half of [`acknowledged_writes_survive_kill_9`]: does nothing unless started by it.
/// Writes records of every kind, printing `acked KIND NAME` after each write returns (flushed),
/// until it is killed.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(Path::new(&dir)).unwrap();
    let vault = Vault::new(MasterKey::from_bytes([3; 32]), store.clone());
    let mut counter = provider("counter");
    store.providers().create(&counter).unwrap();
    let mut out = std::io::stdout().lock();
    let now = std::time::SystemTime::now();
    for i in 0..5_000u32 {
        let id = format!("p{i:05}");
        store.providers().create(&provider(&id)).unwrap();
        writeln!(out, "acked provider {id}").unwrap();

        let new_token = token::generate(format!("t{i}"), vec![Scope::Chat], None, now);
        store.tokens().create(&new_token.record).unwrap();
        writeln!(out, "acked token {}", new_token.secret.expose()).unwrap();

        let name = format!("v{i:05}");
        vault
            .put(&name, &ApiKey::new(format!("value-number-{i:05}")))
            .unwrap();
        writeln!(out, "acked vault {name}").unwrap();

        counter.models = vec![i.to_string()];
        store.providers().replace(&counter).unwrap();
        writeln!(out, "acked counter {i}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("acked ") {
            acked.push(rest.to_string());
            if acked.len() == 120 {
                child.kill().unwrap(); // SIGKILL on Unix
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(acked.len(), 120, "the child stopped early: {status:?}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }

    let store = Store::open(dir.path()).unwrap();
    let vault = Vault::new(MasterKey::from_bytes([3; 32]), store.clone());
    vault.check().unwrap();
    let mut last_counter = 0u32;
    for ack in &acked {
        let (kind, what) = ack.split_once(' ').unwrap();
        match kind {
            "provider" => assert!(store.providers().get(what).unwrap().is_some(), "{ack}"),
            "token" => assert!(
                store
                    .tokens()
                    .find_by_hash(&token::hash(what))
                    .unwrap()
                    .is_some(),
                "lost token"
            ),
            "vault" => {
                let value = vault.get(what).unwrap().unwrap();
                assert_eq!(value.expose(), format!("value-number-{}", &what[1..]));
            }
            "counter" => last_counter = what.parse().unwrap(),
            other => panic!("unexpected ack {other}"),
        }
    }
    // The record replaced over and over is whole, and at least as new as the last ack.
    let counter = store.providers().get("counter").unwrap().unwrap();
    let seen: u32 = counter.models[0].parse().unwrap();
    assert!(seen >= last_counter, "{seen} < {last_counter}");
}
