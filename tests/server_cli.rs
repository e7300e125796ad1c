//! The command line beside the server (API.md, Command line): `moxxy token create` with the
//! server stopped (it opens the store) and running (the bootstrap route, via `MOXXY_URL`), and
//! the client commands `token list|revoke` and `providers list|models|remove`.

#![allow(clippy::unwrap_used)]

mod e2e;

use e2e::{is_mox_token, provider, ServerOptions, TestServer};

#[tokio::test]
async fn token_create_works_with_the_server_stopped() {
    let mut server = TestServer::start(ServerOptions::new()).await;
    let status = server.stop().await;
    assert!(
        status.success(),
        "SIGTERM right after start exits 0, got {status}\n{}",
        server.logs()
    );

    let out = server
        .cli(&["token", "create", "--name", "admin"], &[])
        .await;
    out.expect_success();
    let token = out.last_line().to_owned();
    assert!(
        is_mox_token(&token),
        "the token alone on the last line:\n{out}"
    );

    server.restart().await;
    let list = server
        .api(&token)
        .get("/v1/tokens")
        .await
        .expect(200)
        .json();
    let item = &list["data"][0];
    assert_eq!(item["name"], "admin");
    assert_eq!(item["scopes"], serde_json::json!(["admin"]));
    // It was the first token: the bootstrap route is closed now.
    let resp = server
        .anon()
        .post(
            "/v1/tokens",
            serde_json::json!({"name": "x", "scopes": ["admin"]}),
        )
        .await;
    assert_eq!(resp.status, 401, "{resp}");
}

#[tokio::test]
async fn token_create_works_while_the_server_runs() {
    let server = TestServer::start(ServerOptions::new()).await;
    let url = server.url().to_owned();

    let out = server
        .cli(
            &["token", "create", "--name", "admin"],
            &[("MOXXY_URL", url.as_str())],
        )
        .await;
    out.expect_success();
    let admin = out.last_line().to_owned();
    assert!(is_mox_token(&admin), "{out}");
    server.api(&admin).get("/v1/tokens").await.expect(200);

    // The next one needs an admin token.
    let out = server
        .cli(
            &["token", "create", "--name", "nope"],
            &[("MOXXY_URL", url.as_str())],
        )
        .await;
    assert!(!out.status.success(), "a second token needs auth:\n{out}");
    assert!(!out.stdout.contains("mox_"), "{out}");

    let args = [
        "token",
        "create",
        "--name",
        "bot",
        "--scopes",
        "chat",
        "--expires-in",
        "3600",
    ];
    let out = server
        .cli(
            &args,
            &[("MOXXY_URL", url.as_str()), ("MOXXY_TOKEN", admin.as_str())],
        )
        .await;
    out.expect_success();
    let bot = out.last_line().to_owned();
    assert!(is_mox_token(&bot), "{out}");
    let list = server.api(&admin).get("/v1/tokens").await.json();
    let item = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "bot")
        .unwrap()
        .clone();
    assert_eq!(item["scopes"], serde_json::json!(["chat"]));
    assert!(item["expires_at"].is_string(), "{item}");
}

#[tokio::test]
async fn token_list_and_revoke_talk_to_the_server() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let (id, doomed) = server
        .api(&admin)
        .create_token("doomed", &["read"], None)
        .await;
    let env = [("MOXXY_URL", server.url()), ("MOXXY_TOKEN", admin.as_str())];

    let out = server.cli(&["token", "list"], &env).await;
    out.expect_success();
    assert!(
        out.stdout.contains("doomed") && out.stdout.contains(&id),
        "{out}"
    );
    assert!(
        !out.stdout.contains(&doomed) && !out.stdout.contains(&admin),
        "a list never shows a token:\n{out}"
    );

    server
        .cli(&["token", "revoke", &id], &env)
        .await
        .expect_success();
    assert_eq!(server.api(&doomed).get("/v1/providers").await.status, 401);

    let out = server
        .cli(
            &["token", "list"],
            &[
                ("MOXXY_URL", server.url()),
                ("MOXXY_TOKEN", e2e::UNKNOWN_TOKEN),
            ],
        )
        .await;
    assert!(
        !out.status.success(),
        "a bad token fails the command:\n{out}"
    );
}

#[tokio::test]
async fn providers_list_models_and_remove_talk_to_the_server() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    let base = format!("{}/xai/v1", server.fake().url());
    let key = "xai-cli-test-0123456789abcd";
    server
        .api(&admin)
        .post("/v1/providers", provider("xai", &base, key, &["grok-3"]))
        .await
        .expect(201);
    let env = [("MOXXY_URL", server.url()), ("MOXXY_TOKEN", admin.as_str())];

    let out = server.cli(&["providers", "list"], &env).await;
    out.expect_success();
    for id in ["anthropic", "openai", "ollama", "xai"] {
        assert!(out.stdout.contains(id), "{id} missing:\n{out}");
    }
    assert!(!out.stdout.contains(key), "a key is never printed:\n{out}");

    let out = server.cli(&["providers", "models", "xai"], &env).await;
    out.expect_success();
    assert!(out.stdout.contains("grok-3"), "{out}");

    server
        .cli(&["providers", "remove", "xai"], &env)
        .await
        .expect_success();
    assert_eq!(
        server.api(&admin).get("/v1/providers/xai").await.status,
        404
    );

    let out = server.cli(&["providers", "remove", "xai"], &env).await;
    assert!(!out.status.success(), "removing what is gone fails:\n{out}");
    assert!(
        out.stderr.contains("Provider 'xai' not found"),
        "the API's message reaches the user:\n{out}"
    );
}

#[tokio::test]
async fn every_command_has_help() {
    let server = TestServer::start(ServerOptions::new()).await;
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["token", "--help"],
        &["token", "create", "--help"],
        &["providers", "--help"],
    ] {
        let out = server.cli(args, &[]).await;
        out.expect_success();
        assert!(
            out.stdout.len() > 40,
            "`moxxy {}` says what it does:\n{out}",
            args.join(" ")
        );
    }
}
