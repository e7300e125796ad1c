//! The vault: encryption round trips, nothing in clear on disk, names bound to ciphertexts,
//! wrong keys, and loading the master key from the environment or its file.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use moxxy::store::Store;
use moxxy::vault::{KeySource, MasterKey, Vault, VaultEntryInfo, VaultError, KEY_FILE};
use moxxy_actors::ApiKey;

fn open(dir: &Path, key: u8) -> (Store, Vault) {
    let store = Store::open(dir).unwrap();
    let vault = Vault::new(MasterKey::from_bytes([key; 32]), store.clone());
    (store, vault)
}

#[test]
fn put_get_overwrite_delete() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, vault) = open(dir.path(), 1);
    assert!(vault.get("openai").unwrap().is_none());
    vault
        .put("openai", &ApiKey::new("sk-first-value-000"))
        .unwrap();
    assert_eq!(
        vault.get("openai").unwrap().unwrap().expose(),
        "sk-first-value-000"
    );
    vault
        .put("openai", &ApiKey::new("sk-second-value-111"))
        .unwrap();
    assert_eq!(
        vault.get("openai").unwrap().unwrap().expose(),
        "sk-second-value-111"
    );
    assert!(vault.delete("openai").unwrap());
    assert!(!vault.delete("openai").unwrap());
    assert!(vault.get("openai").unwrap().is_none());
}

#[test]
fn each_write_uses_a_fresh_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let (store, vault) = open(dir.path(), 1);
    let key = ApiKey::new("sk-same-value-every-time");
    vault.put("a", &key).unwrap();
    let first = store.vault_entries().get("a").unwrap().unwrap().ciphertext;
    vault.put("a", &key).unwrap();
    let second = store.vault_entries().get("a").unwrap().unwrap().ciphertext;
    assert_ne!(first, second);
    assert_eq!(first.len(), 24 + "sk-same-value-every-time".len() + 16);
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_plaintext_never_reaches_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "sk-plaintext-canary-0123456789abcdef";
    {
        let (store, vault) = open(dir.path(), 1);
        vault.put("canary", &ApiKey::new(secret)).unwrap();
        vault.get("canary").unwrap();
        store.flush().unwrap();
    }
    let files = files_under(dir.path());
    assert!(!files.is_empty());
    let mut scanned = 0;
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        scanned += bytes.len();
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "plaintext found in {}", file.display());
        // Not even the part before the last four characters.
        let head = &secret.as_bytes()[..secret.len() - 4];
        assert!(
            !bytes.windows(head.len()).any(|w| w == head),
            "{}",
            file.display()
        );
    }
    assert!(scanned > 0);
}

#[test]
fn a_ciphertext_moved_to_another_name_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let (store, vault) = open(dir.path(), 1);
    vault
        .put("alpha", &ApiKey::new("sk-alpha-value-123456"))
        .unwrap();
    let entries = store.vault_entries();
    let mut moved = entries.get("alpha").unwrap().unwrap();
    moved.name = "beta".to_string();
    entries.put(&moved).unwrap();

    let err = vault.get("beta").unwrap_err();
    assert!(
        matches!(err, VaultError::Undecryptable { ref name } if name == "beta"),
        "{err}"
    );
    assert!(!err.to_string().contains("sk-alpha"), "{err}");
    // The original still opens.
    assert_eq!(
        vault.get("alpha").unwrap().unwrap().expose(),
        "sk-alpha-value-123456"
    );
}

#[test]
fn a_wrong_master_key_is_reported_not_garbage() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (_store, vault) = open(dir.path(), 1);
        vault.check().unwrap();
        vault
            .put("openai", &ApiKey::new("sk-right-key-value-42"))
            .unwrap();
    }
    {
        let (_store, wrong) = open(dir.path(), 2);
        assert!(matches!(wrong.check(), Err(VaultError::WrongKey)));
        assert!(matches!(wrong.get("openai"), Err(VaultError::WrongKey)));
        let err = wrong
            .put("other", &ApiKey::new("sk-other-value-000000"))
            .unwrap_err();
        assert!(matches!(err, VaultError::WrongKey), "{err}");
        assert!(err.to_string().contains("does not open the vault"), "{err}");
        // Nothing was added under the wrong key.
        assert_eq!(wrong.list().unwrap().len(), 1);
    }
    let (_store, right) = open(dir.path(), 1);
    right.check().unwrap();
    assert_eq!(
        right.get("openai").unwrap().unwrap().expose(),
        "sk-right-key-value-42"
    );
}

#[test]
fn an_empty_vault_accepts_any_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, vault) = open(dir.path(), 5);
    vault.check().unwrap();
}

#[test]
fn list_shows_last4_only_for_long_values() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, vault) = open(dir.path(), 1);
    vault
        .put("long", &ApiKey::new("sk-abcdefghij9fQk"))
        .unwrap();
    vault
        .put("exactly-12", &ApiKey::new("abcdefgh1234"))
        .unwrap();
    vault.put("short", &ApiKey::new("abc12345")).unwrap();
    let listed: Vec<(String, Option<String>)> = vault
        .list()
        .unwrap()
        .into_iter()
        .map(
            |VaultEntryInfo {
                 name,
                 last4,
                 updated_at,
             }| {
                assert!(updated_at.ends_with('Z'), "{updated_at}");
                (name, last4)
            },
        )
        .collect();
    assert_eq!(
        listed,
        [
            ("exactly-12".to_string(), Some("1234".to_string())),
            ("long".to_string(), Some("9fQk".to_string())),
            ("short".to_string(), None),
        ]
    );
}

#[test]
fn names_are_validated() {
    for ok in [
        "a",
        "provider:xai",
        "OPENAI_API_KEY",
        "a.b-c_d:e",
        &"x".repeat(128),
    ] {
        assert!(Vault::validate_name(ok).is_ok(), "{ok}");
    }
    for bad in ["", "-a", ".a", "a b", "a/b", "ä", &"x".repeat(129)] {
        let err = Vault::validate_name(bad).unwrap_err();
        assert!(
            err.to_string().contains("starting with a letter or digit"),
            "{err}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (_store, vault) = open(dir.path(), 1);
    assert!(matches!(
        vault.put("bad name", &ApiKey::new("v")),
        Err(VaultError::InvalidName(_))
    ));
}

#[test]
fn master_key_debug_hides_it() {
    assert_eq!(
        format!("{:?}", MasterKey::from_bytes([7; 32])),
        "MasterKey(*****)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (_store, vault) = open(dir.path(), 7);
    assert_eq!(format!("{vault:?}"), "Vault { .. }");
}

#[test]
fn env_key_in_either_base64_alphabet() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = [0xfb_u8; 32]; // encodes with '+' and '/' in the standard alphabet
    for text in [
        STANDARD.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        format!("{}\n", STANDARD.encode(bytes)),
    ] {
        let (key, source) = MasterKey::load(dir.path(), Some(&text)).unwrap();
        assert_eq!(source, KeySource::Env);
        // The same key as from_bytes: what one seals, the other opens.
        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        Vault::new(key, store.clone())
            .put("k", &ApiKey::new("value-value-1"))
            .unwrap();
        let again = Vault::new(MasterKey::from_bytes(bytes), store);
        assert_eq!(again.get("k").unwrap().unwrap().expose(), "value-value-1");
    }
    // The environment wins over a key file, and no file is written.
    assert!(!dir.path().join(KEY_FILE).exists());
}

#[test]
fn bad_env_keys_say_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let short = STANDARD.encode([1u8; 16]);
    for (value, expect) in [
        ("not base64 at all!!", "not valid base64"),
        (short.as_str(), "16 bytes"),
        ("", "empty"),
    ] {
        let err = MasterKey::load(dir.path(), Some(value)).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, VaultError::EnvKey { .. }), "{msg}");
        assert!(msg.contains(expect), "{msg}");
        assert!(msg.contains("head -c32 /dev/urandom | base64"), "{msg}");
        if !value.is_empty() {
            assert!(!msg.contains(value), "{msg}");
        }
    }
}

#[test]
fn a_generated_key_file_is_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (first, source) = MasterKey::load(&data, None).unwrap();
    let path = data.join(KEY_FILE);
    assert_eq!(source, KeySource::Generated(path.clone()));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(STANDARD.decode(text.trim()).unwrap().len(), 32);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 1);

    let (second, source) = MasterKey::load(&data, None).unwrap();
    assert_eq!(source, KeySource::File(path));
    let store = Store::open(&dir.path().join("store")).unwrap();
    Vault::new(first, store.clone())
        .put("k", &ApiKey::new("value-value-2"))
        .unwrap();
    let reopened = Vault::new(second, store);
    reopened.check().unwrap();
    assert_eq!(
        reopened.get("k").unwrap().unwrap().expose(),
        "value-value-2"
    );
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    MasterKey::load(dir.path(), None).unwrap();
    let path = dir.path().join(KEY_FILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = MasterKey::load(dir.path(), None).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, VaultError::KeyFileMode { mode: 0o644, .. }),
        "{msg}"
    );
    assert!(msg.contains("chmod 600") && msg.contains("0644"), "{msg}");
}

#[test]
fn a_damaged_key_file_is_an_error_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(KEY_FILE);
    std::fs::write(&path, "too-short\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = MasterKey::load(dir.path(), None).unwrap_err();
    assert!(matches!(err, VaultError::KeyFile { .. }), "{err}");
    assert!(err.to_string().contains("master.key"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "too-short\n");
}
