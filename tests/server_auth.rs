//! The auth matrix, through the real binary: every route × every way to present a credential
//! (none, malformed, another scheme, well formed but unknown, one character off, revoked,
//! expired, in the query string) is the documented 401 and changes nothing; every route × every
//! scope is 403 naming the missing scope, or passes; and the bootstrap rule (API.md): the first
//! token without auth only while no token exists (a revoked one still counts), only from
//! loopback, only once when raced, and no other route opens before it.
#![allow(clippy::unwrap_used)]

mod e2e;

use std::net::{IpAddr, UdpSocket};
use std::time::Duration;

use e2e::{ServerOptions, TestServer, UNKNOWN_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};

const NO_TOKEN: &str = "Missing or invalid API token";

/// The scope a route needs (`None`: no auth at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    Nothing,
    Read,
    Chat,
    Admin,
}

impl Needs {
    fn name(self) -> &'static str {
        match self {
            Needs::Nothing => "",
            Needs::Read => "read",
            Needs::Chat => "chat",
            Needs::Admin => "admin",
        }
    }
}

/// One route, with a body that would succeed if the caller were allowed (so a hole in auth
/// shows as a changed store, not just a status).
struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    needs: Needs,
}

fn route(method: Method, path: &str, body: Option<Value>, needs: Needs) -> Route {
    Route {
        method,
        path: path.to_string(),
        body,
        needs,
    }
}

/// Every route of the API. `victim_token` and the `victim*` records exist to be deleted by the
/// one caller allowed to.
fn routes(url: &str, victim_token: &str, conversation: &str) -> Vec<Route> {
    use Method as M;
    let chat = json!({"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]});
    let messages = json!({"model": "openai/gpt-4.1", "max_tokens": 16,
                          "messages": [{"role": "user", "content": "hi"}]});
    vec![
        route(M::GET, "/healthz", None, Needs::Nothing),
        route(M::GET, "/readyz", None, Needs::Nothing),
        route(M::GET, "/metrics", None, Needs::Read),
        route(
            M::POST,
            "/v1/tokens",
            Some(json!({"name": "made", "scopes": ["admin"]})),
            Needs::Admin,
        ),
        route(M::GET, "/v1/tokens", None, Needs::Read),
        route(
            M::DELETE,
            &format!("/v1/tokens/{victim_token}"),
            None,
            Needs::Admin,
        ),
        route(M::GET, "/v1/providers", None, Needs::Read),
        route(
            M::POST,
            "/v1/providers",
            Some(json!({"name": "made", "base_url": format!("{url}/made/v1"),
                        "api_key": "made-key-0123456789", "models": ["m1"]})),
            Needs::Admin,
        ),
        route(M::GET, "/v1/providers/acme", None, Needs::Read),
        route(
            M::PATCH,
            "/v1/providers/acme",
            Some(json!({"models": ["m2"]})),
            Needs::Admin,
        ),
        route(M::DELETE, "/v1/providers/victim", None, Needs::Admin),
        route(M::GET, "/v1/providers/acme/models", None, Needs::Read),
        route(
            M::PUT,
            "/v1/providers/anthropic/oauth",
            Some(
                json!({"access_token": "sk-ant-oat01-auth-matrix", "refresh_token": "sk-ant-ort01-auth-matrix",
                        "expires_at": "2030-01-01T00:00:00Z"}),
            ),
            Needs::Admin,
        ),
        route(
            M::DELETE,
            "/v1/providers/anthropic/oauth",
            None,
            Needs::Admin,
        ),
        route(M::GET, "/v1/models", None, Needs::Chat),
        route(M::POST, "/v1/chat/completions", Some(chat), Needs::Chat),
        route(M::POST, "/v1/messages", Some(messages), Needs::Chat),
        route(M::GET, "/v1/vault", None, Needs::Read),
        route(
            M::PUT,
            "/v1/vault/made",
            Some(json!({"value": "made-secret-value"})),
            Needs::Admin,
        ),
        route(M::DELETE, "/v1/vault/victim", None, Needs::Admin),
        route(M::GET, "/v1/agents", None, Needs::Read),
        route(
            M::POST,
            "/v1/agents",
            Some(json!({"name": "made-agent", "model": "openai/gpt-4.1"})),
            Needs::Admin,
        ),
        route(M::GET, "/v1/agents/keep", None, Needs::Read),
        route(
            M::PATCH,
            "/v1/agents/keep",
            Some(json!({"system": "Changed."})),
            Needs::Admin,
        ),
        route(M::DELETE, "/v1/agents/victim-agent", None, Needs::Admin),
        route(
            M::POST,
            "/v1/agents/keep/messages",
            Some(json!({"content": "hi"})),
            Needs::Chat,
        ),
        route(M::GET, "/v1/agents/keep/conversations", None, Needs::Read),
        route(
            M::GET,
            &format!("/v1/agents/keep/conversations/{conversation}"),
            None,
            Needs::Read,
        ),
    ]
}

/// How a request presents (or fails to present) a credential.
#[derive(Clone, Debug)]
enum Cred {
    None,
    Bearer(String),
    Header(&'static str, String),
    Query(String),
}

/// Sends `route` with `cred`; `x_api_key` sends a bearer token as `x-api-key` instead.
async fn send(server: &TestServer, route: &Route, cred: &Cred) -> e2e::Resp {
    let path = match cred {
        Cred::Query(token) => format!("{}?token={token}&api_key={token}", route.path),
        _ => route.path.clone(),
    };
    let api = match cred {
        Cred::Bearer(token) => server.api(token),
        _ => server.anon(),
    };
    let mut request = api.request(route.method.clone(), &path);
    if let Cred::Header(name, value) = cred {
        request = request.header(*name, value);
    }
    if let Some(body) = &route.body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    e2e::Resp {
        request: format!("{} {path}", route.method),
        status,
        headers,
        text,
    }
}

/// Checks a 401 in the route's shape, word for word.
fn assert_401(resp: &e2e::Resp, route: &Route, what: &str) {
    assert_eq!(resp.status, 401, "{what}: {resp}");
    if route.path == "/v1/messages" {
        let body = resp.json();
        assert_eq!(body["type"], "error", "{what}: {resp}");
        assert_eq!(
            body["error"]["type"], "authentication_error",
            "{what}: {resp}"
        );
        assert_eq!(body["error"]["message"], NO_TOKEN, "{what}: {resp}");
    } else {
        e2e::assert_error(resp, 401, NO_TOKEN);
    }
}

/// What the API shows of the store (the admin token's `last_used_at` aside).
async fn dump(server: &TestServer, admin: &str) -> Value {
    let api = server.api(admin);
    let mut dump = serde_json::Map::new();
    for path in [
        "/v1/providers",
        "/v1/tokens",
        "/v1/vault",
        "/v1/agents",
        "/v1/agents/keep/conversations",
    ] {
        let mut value = api.get(path).await.expect(200).json();
        for item in value["data"].as_array_mut().unwrap() {
            item.as_object_mut().unwrap().remove("last_used_at");
        }
        dump.insert(path.to_string(), value);
    }
    Value::Object(dump)
}

#[tokio::test]
async fn every_route_refuses_every_bad_credential_and_every_missing_scope() {
    let server =
        TestServer::start(ServerOptions::new().env("OPENAI_API_KEY", "sk-auth-matrix-openai-0001"))
            .await;
    let admin = server.bootstrap_admin_token().await;
    let api = server.api(&admin);
    let url = server.fake().url();
    for name in ["acme", "victim"] {
        api.post(
            "/v1/providers",
            e2e::provider(
                name,
                &format!("{url}/{name}/v1"),
                "acme-key-0123456789",
                &["m1"],
            ),
        )
        .await
        .expect(201);
    }
    api.put("/v1/vault/victim", json!({"value": "victim-secret"}))
        .await
        .expect(204);
    let (victim_id, _) = api.create_token("victim", &["read"], None).await;
    let (_, read) = api.create_token("reader", &["read"], None).await;
    let (_, chat) = api.create_token("bot", &["chat"], None).await;
    let (revoked_id, revoked) = api.create_token("gone", &["admin"], None).await;
    api.delete(&format!("/v1/tokens/{revoked_id}"))
        .await
        .expect(204);
    let (_, expired) = api.create_token("brief", &["admin"], Some(1)).await;
    // One admin token with its last character changed: right form, right prefix, wrong token.
    let mut off_by_one = admin.clone();
    let last = off_by_one.pop().unwrap();
    off_by_one.push(if last == '0' { '1' } else { '0' });
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let bad = vec![
        ("no token", Cred::None),
        ("not a mox_ token", Cred::Bearer("not-a-token".into())),
        (
            "an empty bearer",
            Cred::Header("authorization", "Bearer ".into()),
        ),
        (
            "another scheme",
            Cred::Header("authorization", format!("Token {admin}")),
        ),
        (
            "basic auth",
            Cred::Header("authorization", "Basic YWRtaW46YWRtaW4=".into()),
        ),
        (
            "the token without a scheme",
            Cred::Header("authorization", admin.clone()),
        ),
        ("an unknown token", Cred::Bearer(UNKNOWN_TOKEN.into())),
        (
            "upper-case hex",
            Cred::Bearer(admin.to_uppercase().replacen("MOX_", "mox_", 1)),
        ),
        ("one character off", Cred::Bearer(off_by_one)),
        ("a revoked token", Cred::Bearer(revoked)),
        ("an expired token", Cred::Bearer(expired)),
        ("the token in the query", Cred::Query(admin.clone())),
        (
            "x-api-key unknown",
            Cred::Header("x-api-key", UNKNOWN_TOKEN.into()),
        ),
    ];
    for name in ["keep", "victim-agent"] {
        api.post(
            "/v1/agents",
            json!({"name": name, "model": "openai/gpt-4.1"}),
        )
        .await
        .expect(201);
    }
    let conversation = api
        .post("/v1/agents/keep/messages", json!({"content": "hello"}))
        .await
        .expect(200)
        .json()["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let routes = routes(&url, &victim_id, &conversation);
    server.fake().clear_requests();
    let before = dump(&server, &admin).await;
    let mut tried = 0;
    for route in &routes {
        for (name, cred) in &bad {
            let what = format!("{} {} with {name}", route.method, route.path);
            let resp = send(&server, route, cred).await;
            if route.needs == Needs::Nothing {
                assert_eq!(resp.status, 200, "{what}: no auth needed: {resp}");
            } else {
                assert_401(&resp, route, &what);
            }
            tried += 1;
        }
    }
    assert_eq!(
        dump(&server, &admin).await,
        before,
        "a refused request changed the store"
    );

    // Scopes: each single-scope token on each route, refused routes first (they change nothing).
    let scoped = [("admin", &admin), ("read", &read), ("chat", &chat)];
    for route in &routes {
        for (scope, token) in scoped {
            let allowed =
                route.needs == Needs::Nothing || scope == "admin" || scope == route.needs.name();
            if allowed {
                continue;
            }
            let what = format!("{} {} with a {scope} token", route.method, route.path);
            let resp = send(&server, route, &Cred::Bearer(token.to_string())).await;
            assert_eq!(resp.status, 403, "{what}: {resp}");
            let message = if route.path == "/v1/messages" {
                let body = resp.json();
                assert_eq!(body["error"]["type"], "permission_error", "{what}");
                body["error"]["message"].as_str().unwrap().to_string()
            } else {
                let error = e2e::assert_error_shape(&resp, 403);
                assert_eq!(error["type"], "permission_error", "{what}");
                error["message"].as_str().unwrap().to_string()
            };
            let needed = format!("'{}' scope", route.needs.name());
            assert!(
                message.contains(&needed),
                "{what}: names the scope: {message}"
            );
            tried += 1;
        }
    }
    assert_eq!(
        dump(&server, &admin).await,
        before,
        "a forbidden request changed the store"
    );
    let upstream = server.fake().requests().len();
    assert_eq!(upstream, 0, "a refused request reached an upstream");

    // And the allowed ones pass (in route order: create before delete, PUT before DELETE).
    for route in &routes {
        for (scope, token) in scoped {
            let allowed =
                route.needs == Needs::Nothing || scope == "admin" || scope == route.needs.name();
            if !allowed {
                continue;
            }
            let what = format!("{} {} with a {scope} token", route.method, route.path);
            let resp = send(&server, route, &Cred::Bearer(token.to_string())).await;
            assert!(
                (200..300).contains(&resp.status)
                    || (route.method != Method::GET && resp.status == 409),
                "{what}: allowed: {resp}"
            );
            tried += 1;
        }
    }
    // 28 routes × 13 bad credentials; 38 forbidden and 46 allowed route × scope cases.
    assert_eq!(tried, 28 * 13 + 38 + 46);
    eprintln!("{tried} route × credential cases");
}

#[tokio::test]
async fn bootstrap_opens_only_the_token_route_only_while_no_token_exists() {
    let server = TestServer::start(ServerOptions::new()).await;
    // Before any token: every other route is closed too; a presented bad token is no bootstrap.
    for path in [
        "/v1/providers",
        "/v1/tokens",
        "/v1/vault",
        "/v1/models",
        "/metrics",
    ] {
        e2e::assert_error(&server.anon().get(path).await, 401, NO_TOKEN);
    }
    let resp = server
        .anon()
        .post(
            "/v1/providers",
            e2e::provider(
                "early",
                "https://api.early.example/v1",
                "early-key-0123456789",
                &["m"],
            ),
        )
        .await;
    e2e::assert_error(&resp, 401, NO_TOKEN);
    let resp = server
        .api(UNKNOWN_TOKEN)
        .post("/v1/tokens", json!({"name": "x", "scopes": ["admin"]}))
        .await;
    e2e::assert_error(&resp, 401, NO_TOKEN);

    // Eight racing bootstraps: exactly one wins.
    let attempts = (0..8).map(|i| {
        let anon = server.anon();
        async move {
            anon.post(
                "/v1/tokens",
                json!({"name": format!("racer{i}"), "scopes": ["admin"]}),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let won: Vec<&e2e::Resp> = answers.iter().filter(|r| r.status == 201).collect();
    assert_eq!(won.len(), 1, "one bootstrap wins: {answers:?}");
    for lost in answers.iter().filter(|r| r.status != 201) {
        e2e::assert_error(lost, 401, NO_TOKEN);
    }
    let admin = won[0].json()["token"].as_str().unwrap().to_string();
    let listed = server
        .api(&admin)
        .get("/v1/tokens")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");

    // Revoking the only token does not reopen the bootstrap route: it was used.
    let id = listed["data"][0]["id"].as_str().unwrap().to_string();
    server
        .api(&admin)
        .delete(&format!("/v1/tokens/{id}"))
        .await
        .expect(204);
    let resp = server
        .anon()
        .post("/v1/tokens", json!({"name": "again", "scopes": ["admin"]}))
        .await;
    e2e::assert_error(&resp, 401, NO_TOKEN);
}

/// A local address that is not loopback, if the machine has one (the source address of a route
/// to a documentation address; nothing is sent).
fn non_loopback_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn bootstrap_is_refused_from_a_peer_that_is_not_loopback() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("skipped: this machine has no address but loopback to connect from");
        return;
    };
    let server = TestServer::start(ServerOptions::new().env("MOXXY_BIND", "0.0.0.0:0")).await;
    let port = server.url().rsplit(':').next().unwrap().to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let body = json!({"name": "remote", "scopes": ["admin"]});
    let resp = client
        .post(format!("http://{ip}:{port}/v1/tokens"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "bootstrap from {ip} must be refused");
    let error: Value = resp.json().await.unwrap();
    assert_eq!(error["error"]["message"], NO_TOKEN);
    // From loopback it works: nothing was created by the refused attempt.
    let resp = client
        .post(format!("http://127.0.0.1:{port}/v1/tokens"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}

/// Tokens are remembered for a second once checked (src/auth/cache.rs); a revocation must still
/// take effect at once, even for a token in use from several clients while it is revoked.
#[tokio::test]
async fn a_token_in_busy_use_is_refused_from_the_moment_its_revocation_is_acknowledged() {
    let server = TestServer::start(ServerOptions::new()).await;
    let admin = server.bootstrap_admin_token().await;
    for round in 0..5 {
        let (id, busy) = server
            .api(&admin)
            .create_token(&format!("busy{round}"), &["read"], None)
            .await;
        // Warm: the token is checked and remembered.
        server.api(&busy).get("/v1/providers").await.expect(200);
        let revoked_at = std::sync::Arc::new(std::sync::OnceLock::<std::time::Instant>::new());
        let hammers = (0..4).map(|_| {
            let api = server.api(&busy);
            let revoked_at = revoked_at.clone();
            async move {
                let mut late_successes = 0;
                for _ in 0..40 {
                    let started = std::time::Instant::now();
                    let resp = api.get("/v1/providers").await;
                    let after_revoke = revoked_at.get().is_some_and(|at| started >= *at);
                    if after_revoke && resp.status != 401 {
                        late_successes += 1;
                    }
                }
                late_successes
            }
        });
        let revoke = async {
            tokio::time::sleep(Duration::from_millis(5 * round)).await;
            server
                .api(&admin)
                .delete(&format!("/v1/tokens/{id}"))
                .await
                .expect(204);
            revoked_at.set(std::time::Instant::now()).unwrap();
        };
        let (late, ()) = tokio::join!(futures_util::future::join_all(hammers), revoke);
        assert_eq!(
            late.iter().sum::<i32>(),
            0,
            "round {round}: requests after the revocation was acknowledged still got in"
        );
        e2e::assert_error(&server.api(&busy).get("/v1/providers").await, 401, NO_TOKEN);
    }
}
