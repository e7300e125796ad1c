//! A full disk (issue 7, "Crash safety"): the data directory on a 6 MiB tmpfs is filled through
//! the API (large vault values, agent turns with long messages) until writes are refused.
//!
//! Proven: every refused write is a clean 507 in the documented JSON shape whose message says
//! what to fix (`The data directory is full - free space on its disk and retry`), a streamed
//! turn included, and no request hangs; deletions still work on the full disk (they may use
//! the reserve); with the disk filled to the last byte by another process, deletions too are
//! refused cleanly; nothing panics; `/healthz` and every read keep answering; after a `kill -9`
//! on the disk filled to the last byte moxxy cannot open its store (sled writes when it opens)
//! and exits at once saying to free space, then starts with everything acknowledged intact once
//! there is; and when the disk has room again, writes work at once (no restart) and survive
//! another `kill -9`.
//!
//! Why moxxy refuses before the disk is quite full: sled 0.34 does not survive running out of
//! space (a failed write leaves every later flush waiting forever), so the store keeps a reserve
//! and never lets sled reach the end of the disk (`src/store/room.rs`).
//!
//! The tmpfs is mounted without privileges in a user and mount namespace (`unshare --user
//! --map-root-user --mount`), and the server runs inside it through `nsenter`. Where user
//! namespaces are not available the test fails and says so; set `MOXXY_TEST_NO_TMPFS=1` to skip
//! it there (it then prints that it skipped, and why).

#![allow(clippy::unwrap_used)]

mod e2e;

#[path = "crash/tmpfs.rs"]
mod tmpfs;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use moxxy_fake_upstream::{Canned, FakeUpstream};
use serde_json::{json, Value};

use e2e::{assert_error, Api, Resp, ServerOptions, TestServer};
use tmpfs::Tmpfs;

/// The size of the data directory's disk.
const DISK_MIB: u64 = 6;
/// The size it grows to when space is freed.
const ROOMY_MIB: u64 = 64;
/// One vault value used to fill the disk.
const VALUE_BYTES: usize = 256 * 1024;
/// One long user message used to fill the disk.
const MESSAGE_BYTES: usize = 64 * 1024;
/// Writes tried before the disk must have filled (24 MiB of values on a 6 MiB disk).
const MAX_FILL_WRITES: usize = 96;
/// The message of a write refused for a full disk (API.md, *Errors*).
const FULL: &str = "The data directory is full - free space on its disk and retry";
const AGENT: &str = "filler";
/// How long a start on a full disk may take to give up.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// The file another process fills the disk with, beside the data directory.
const BALLAST: &str = "ballast";
/// The reply of every turn on the canned fake.
fn reply() -> String {
    (0..Canned::default().stream_chunks)
        .map(|i| format!("word{i} "))
        .collect()
}

/// What was acknowledged: vault values by name, and each turn's conversation with its
/// user message (a turn per conversation).
#[derive(Default)]
struct Acknowledged {
    vault: BTreeMap<String, String>,
    turns: BTreeMap<String, String>,
}

/// A large value whose last four characters name it.
fn large_value(n: usize, size: usize) -> String {
    format!("{}{n:04}", "v".repeat(size))
}

/// One agent turn in a new conversation, streamed or not.
async fn turn(api: &Api, content: &str, stream: bool) -> Resp {
    api.post(
        &format!("/v1/agents/{AGENT}/messages"),
        json!({"content": content, "stream": stream}),
    )
    .await
}

/// The conversation id a JSON turn or a whole stream acknowledged; `None` when the stream ended
/// with an error event (which must then be the full-disk error).
fn acknowledged_turn(resp: &Resp) -> Option<String> {
    if resp.content_type() != "text/event-stream" {
        return resp.json()["conversation_id"].as_str().map(str::to_string);
    }
    let mut conversation = None;
    for block in resp.text.split("\n\n") {
        let event = block.lines().find_map(|l| l.strip_prefix("event: "));
        let data: Value = block
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null);
        match event {
            Some("start") => conversation = data["conversation_id"].as_str().map(str::to_string),
            Some("done") => return conversation,
            Some("error") => {
                assert_eq!(data["error"]["message"], FULL, "{resp}");
                assert_eq!(data["error"]["code"], "storage_full", "{resp}");
                return None;
            }
            _ => {}
        }
    }
    panic!("a stream without `done` or `error`:\n{resp}");
}

/// Sends a write and sorts its answer: a 2xx (acknowledged, `true`) or the clean full-disk
/// error (`false`). Anything else fails the test.
fn full_or_ok(resp: &Resp) -> bool {
    if (200..300).contains(&resp.status) {
        return true;
    }
    let error = assert_error(resp, 507, FULL);
    assert_eq!(error["code"], "storage_full", "{resp}");
    assert_eq!(error["type"], "api_error", "{resp}");
    false
}

/// Every acknowledged vault entry is listed with its last four characters (and no `deleted`
/// one is), and every acknowledged turn's conversation holds the user message and its reply.
async fn assert_intact(api: &Api, acked: &Acknowledged, deleted: &[String]) {
    let listed = api.get("/v1/vault").await.expect(200).json();
    let listed: BTreeMap<String, String> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().into(),
                e["last4"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (name, value) in &acked.vault {
        assert_eq!(
            listed.get(name).map(String::as_str),
            Some(&value[value.len() - 4..]),
            "vault entry {name} as acknowledged"
        );
    }
    for name in deleted {
        assert!(
            !listed.contains_key(name),
            "deleted entry {name} stays deleted"
        );
    }
    for (id, content) in &acked.turns {
        let conversation = api
            .get(&format!("/v1/agents/{AGENT}/conversations/{id}"))
            .await
            .expect(200)
            .json();
        let messages = conversation["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2, "{id}: a user message and its reply");
        assert_eq!(messages[0]["content"].as_str(), Some(content.as_str()));
        assert_eq!(messages[1]["content"].as_str(), Some(reply().as_str()));
    }
}

/// Runs `moxxy serve` as the server runs it (same environment, same namespace) on a disk with
/// no space left, and waits for it to exit.
async fn start_on_a_full_disk(server: &TestServer, tmpfs: &Tmpfs) -> e2e::Output {
    let enter = tmpfs.enter();
    let mut command = Command::new(&enter[0]);
    command
        .args(&enter[1..])
        .arg(env!("CARGO_BIN_EXE_moxxy"))
        .arg("serve")
        .env_clear()
        .envs(server.env().iter().map(|(k, v)| (k, v)))
        .current_dir(tmpfs.dir());
    e2e::run(command, START_TIMEOUT).await
}

/// The tmpfs, or why the test skips (`MOXXY_TEST_NO_TMPFS=1`); fails where it cannot be made.
fn tmpfs_or_skip() -> Option<Tmpfs> {
    match Tmpfs::mount(DISK_MIB) {
        Ok(tmpfs) => Some(tmpfs),
        Err(why) if std::env::var("MOXXY_TEST_NO_TMPFS").as_deref() == Ok("1") => {
            println!("skipped: MOXXY_TEST_NO_TMPFS=1 and no small tmpfs can be made here: {why}");
            None
        }
        Err(why) => panic!(
            "the full-disk test cannot mount its {DISK_MIB} MiB tmpfs: {why}\n\
             It needs unprivileged user namespaces (unshare --user --map-root-user --mount). \
             Set MOXXY_TEST_NO_TMPFS=1 to skip this test on a machine without them."
        ),
    }
}

#[tokio::test]
async fn a_full_disk_gives_clean_507s_and_loses_nothing_acknowledged() {
    let Some(tmpfs) = tmpfs_or_skip() else {
        return;
    };
    let fake = FakeUpstream::start().await.unwrap();
    Canned::default().install(&fake);
    let enter = tmpfs.enter();
    let enter: Vec<&str> = enter.iter().map(String::as_str).collect();
    let options = ServerOptions::new()
        .upstream(&fake)
        .env("OPENAI_API_KEY", "sk-test-openai-full-disk-0123456789")
        .env(
            "MOXXY_DATA_DIR",
            &tmpfs.dir().join("data").to_string_lossy(),
        )
        .wrapper(&enter);
    let mut server = TestServer::start(options).await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let agent = json!({"name": AGENT, "model": "openai/gpt-4.1", "max_tokens": 64});
    api.post("/v1/agents", agent).await.expect(201);

    // Fill the disk: large vault values, and every third write a turn with a long message.
    let mut acked = Acknowledged::default();
    let mut refused = 0;
    for n in 0..MAX_FILL_WRITES {
        let ok = if n % 3 == 2 {
            let content = large_value(n, MESSAGE_BYTES);
            let resp = turn(&api, &content, n % 2 == 0).await;
            let acknowledged = full_or_ok(&resp)
                .then(|| acknowledged_turn(&resp))
                .flatten();
            match acknowledged {
                Some(id) => acked.turns.insert(id, content).is_none(),
                None => false,
            }
        } else {
            let value = large_value(n, VALUE_BYTES);
            let resp = api
                .put(&format!("/v1/vault/fill-{n}"), json!({"value": value}))
                .await;
            let ok = full_or_ok(&resp);
            if ok {
                acked.vault.insert(format!("fill-{n}"), value);
            }
            ok
        };
        if !ok {
            refused += 1;
            break;
        }
    }
    assert!(
        refused > 0,
        "{MAX_FILL_WRITES} large writes fit on a {DISK_MIB} MiB disk?\n{}",
        tmpfs.usage()
    );
    assert!(
        !acked.vault.is_empty(),
        "some writes fit before the disk filled"
    );
    println!(
        "full disk: {} vault values and {} turns acknowledged before the first 507\n{}",
        acked.vault.len(),
        acked.turns.len(),
        tmpfs.usage()
    );

    // Full: every kind of write is acknowledged or refused cleanly, and deletions still work.
    let small = json!({"value": "a-small-value-0123456789-smal"});
    if full_or_ok(&api.put("/v1/vault/small", small.clone()).await) {
        acked
            .vault
            .insert("small".into(), small["value"].as_str().unwrap().into());
    }
    let token = json!({"name": "late", "scopes": ["read"]});
    full_or_ok(&api.post("/v1/tokens", token).await);
    let provider = json!({"name": "late", "base_url": format!("{}/v1", fake.url()),
                          "api_key": "sk-late-0123456789abcdef", "models": ["m"]});
    if full_or_ok(&api.post("/v1/providers", provider).await) {
        api.delete("/v1/providers/late").await.expect(204);
    }
    for stream in [false, true] {
        let content = format!("while full, stream {stream}");
        let resp = turn(&api, &content, stream).await;
        if full_or_ok(&resp) {
            if let Some(id) = acknowledged_turn(&resp) {
                acked.turns.insert(id, content);
            }
        }
    }
    let first = acked.vault.keys().next().cloned().unwrap();
    api.delete(&format!("/v1/vault/{first}")).await.expect(204);
    acked.vault.remove(&first);
    let deleted = vec![first];

    // Another process fills the disk to the last byte: writes and deletions alike are refused
    // cleanly; reads and liveness go on.
    tmpfs.fill(BALLAST);
    let small = json!({"value": "a-small-value-0123456789-late"});
    assert!(!full_or_ok(&api.put("/v1/vault/late", small).await));
    let second = acked.vault.keys().next().cloned().unwrap();
    assert!(!full_or_ok(
        &api.delete(&format!("/v1/vault/{second}")).await
    ));
    assert!(!full_or_ok(&turn(&api, "on a full disk", true).await));
    let health = server.anon().get("/healthz").await;
    assert_eq!(health.status, 200, "{health}");
    api.get("/v1/providers").await.expect(200);
    api.get("/v1/tokens").await.expect(200);
    assert_intact(&api, &acked, &deleted).await;

    // kill -9 on the disk filled to the last byte: sled cannot open its store without writing,
    // so moxxy exits at once saying what to fix; with space freed it starts, and everything
    // acknowledged is there.
    server.kill9().await;
    let refused = start_on_a_full_disk(&server, &tmpfs).await;
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused
            .stderr
            .contains("the disk under it is full: free space on it"),
        "{refused}"
    );
    assert!(!refused.stderr.contains("panicked"), "{refused}");
    tmpfs.remove(BALLAST);
    server.restart().await;
    let api = server.api(&admin);
    assert_eq!(server.anon().get("/healthz").await.status, 200);
    assert_intact(&api, &acked, &deleted).await;

    // Room again: writes work at once, and survive another kill -9.
    tmpfs.resize(ROOMY_MIB);
    let value = large_value(9999, VALUE_BYTES);
    api.put("/v1/vault/after", json!({"value": value}))
        .await
        .expect(204);
    acked.vault.insert("after".into(), value);
    for stream in [false, true] {
        let content = format!("after the disk was freed, stream {stream}");
        let resp = turn(&api, &content, stream).await;
        let id = acknowledged_turn(resp.expect(200)).unwrap();
        acked.turns.insert(id, content);
    }
    server.kill9().await;
    server.restart().await;
    let api = server.api(&admin);
    assert_intact(&api, &acked, &deleted).await;
    assert_eq!(server.anon().get("/readyz").await.status, 200);

    let logs = server.logs();
    assert!(!logs.contains("panicked"), "the server panicked:\n{logs}");
    assert!(
        logs.contains("the disk under the data directory is full"),
        "the log says why writes were refused"
    );
    assert!(
        !logs.contains("ran out of space during a write"),
        "sled itself never ran out of space:\n{logs}"
    );
}
