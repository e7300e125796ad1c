//! The CLI's client commands. They talk to a running server at `MOXXY_URL` (default
//! `http://127.0.0.1:3000`) with `MOXXY_TOKEN`; `token create` also works with the server stopped,
//! by opening the store itself.

use std::time::Duration;

use clap::Subcommand;
use serde_json::{json, Value};

/// What went wrong, as the user reads it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach Moxxy at {url} - is `moxxy serve` running? (set MOXXY_URL if it runs elsewhere)")]
    Unreachable { url: String },
    #[error("{message}")]
    Api { message: String },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once. Works with the server stopped (opens the store) or running.
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated: admin, chat, read.
        #[arg(long, default_value = "admin", value_delimiter = ',')]
        scopes: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long)]
        expires_in: Option<u64>,
    },
    /// List tokens (never their text).
    List,
    /// Revoke a token by id; it stops working at once.
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum ProvidersCommand {
    /// List providers and their state.
    List,
    /// Register an OpenAI-compatible provider. The key is read from --api-key-env's variable or
    /// the vault, or from --api-key.
    Add {
        name: String,
        #[arg(long)]
        base_url: String,
        /// Comma-separated model ids.
        #[arg(long, value_delimiter = ',', required = true)]
        models: Vec<String>,
        #[arg(long)]
        api_key: Option<String>,
        #[arg(long)]
        api_key_env: Option<String>,
        #[arg(long)]
        api_key_vault: Option<String>,
    },
    /// List a provider's models.
    Models { id: String },
    /// Remove a custom provider.
    Remove { id: String },
}

#[derive(Subcommand)]
pub enum AuthCommand {
    /// Switch the Anthropic provider to a Claude OAuth session read from a credentials JSON file
    /// (`{"claudeAiOauth": {"accessToken", "refreshToken", "expiresAt"}}`, as Claude Code writes
    /// it to ~/.claude/.credentials.json). Moxxy refreshes it from then on.
    Import { file: std::path::PathBuf },
}

/// `moxxy auth import FILE`: reads the file and calls `PUT /v1/providers/anthropic/oauth`.
/// The tokens are never printed.
pub fn run_auth(command: AuthCommand) -> Result<(), ClientError> {
    let AuthCommand::Import { file } = command;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| ClientError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let value: Value = serde_json::from_str(&text).map_err(|_| {
        ClientError::Usage(format!(
            "{} is not JSON - give Claude's credentials file",
            file.display()
        ))
    })?;
    let oauth = &value["claudeAiOauth"];
    let field = |name: &str| {
        oauth.get(name).filter(|v| !v.is_null()).cloned().ok_or_else(|| {
            ClientError::Usage(format!(
                "{}: claudeAiOauth.{name} is missing - give Claude's credentials file ({{\"claudeAiOauth\": {{\"accessToken\", \"refreshToken\", \"expiresAt\"}}}})",
                file.display()
            ))
        })
    };
    let body = json!({
        "access_token": field("accessToken")?,
        "refresh_token": field("refreshToken")?,
        "expires_at": field("expiresAt")?,
    });
    runtime()?.block_on(async {
        let provider = call(
            reqwest::Method::PUT,
            "/v1/providers/anthropic/oauth",
            Some(body),
        )
        .await?;
        println!(
            "anthropic now uses the OAuth session (access token …{})",
            provider["auth"]["last4"].as_str().unwrap_or("")
        );
        Ok(())
    })
}

pub(crate) fn base_url() -> String {
    std::env::var("MOXXY_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:3000".into())
        .trim_end_matches('/')
        .to_string()
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ClientError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClientError::Usage(format!("could not start: {e}")))
}

/// One API call; the error body's message becomes the error.
pub(crate) async fn call(
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, ClientError> {
    let url = base_url();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| ClientError::Usage(e.to_string()))?;
    let mut request = client.request(method, format!("{url}{path}"));
    if let Ok(token) = std::env::var("MOXXY_TOKEN") {
        request = request.bearer_auth(token.trim());
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .map_err(|_| ClientError::Unreachable { url: url.clone() })?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let value: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if status.is_success() {
        return Ok(value);
    }
    let message = value["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("the server answered {status}"));
    let hint = if status == reqwest::StatusCode::UNAUTHORIZED {
        " (set MOXXY_TOKEN to a mox_ token)"
    } else {
        ""
    };
    Err(ClientError::Api {
        message: format!("{message}{hint}"),
    })
}

pub fn run_token(command: TokenCommand) -> Result<(), ClientError> {
    match command {
        TokenCommand::Create {
            name,
            scopes,
            expires_in,
        } => create_token(&name, &scopes, expires_in),
        TokenCommand::List => runtime()?.block_on(async {
            let list = call(reqwest::Method::GET, "/v1/tokens", None).await?;
            println!(
                "{:<22} {:<20} {:<18} {:<11} LAST USED",
                "ID", "NAME", "SCOPES", "PREFIX"
            );
            for t in list["data"].as_array().into_iter().flatten() {
                let scopes: Vec<&str> = t["scopes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                println!(
                    "{:<22} {:<20} {:<18} {:<11} {}",
                    t["id"].as_str().unwrap_or(""),
                    t["name"].as_str().unwrap_or(""),
                    scopes.join(","),
                    t["prefix"].as_str().unwrap_or(""),
                    t["last_used_at"].as_str().unwrap_or("never")
                );
            }
            Ok(())
        }),
        TokenCommand::Revoke { id } => runtime()?.block_on(async {
            call(reqwest::Method::DELETE, &format!("/v1/tokens/{id}"), None).await?;
            println!("revoked {id}");
            Ok(())
        }),
    }
}

/// Creates a token in the store when the server is stopped, or through the API when it runs (the
/// store is then locked by the server).
fn create_token(name: &str, scopes: &[String], expires_in: Option<u64>) -> Result<(), ClientError> {
    let parsed: Result<Vec<crate::auth::token::Scope>, _> = scopes
        .iter()
        .map(|s| crate::auth::token::Scope::parse(s.trim()))
        .collect();
    let parsed = parsed.map_err(|_| {
        ClientError::Usage("--scopes takes admin, chat and read, comma-separated".into())
    })?;
    let env = |n: &str| std::env::var(n).ok();
    let config = crate::config::load(None, &env).map_err(|e| ClientError::Usage(e.to_string()))?;
    match crate::store::Store::open(&config.storage.path) {
        Ok(store) => {
            let new = crate::auth::token::generate(
                name,
                parsed,
                expires_in.map(Duration::from_secs),
                std::time::SystemTime::now(),
            );
            store
                .tokens()
                .create(&new.record)
                .map_err(|e| ClientError::Usage(e.to_string()))?;
            eprintln!(
                "created token {} ({name}); it is shown once:",
                new.record.id
            );
            println!("{}", new.secret.expose());
            Ok(())
        }
        Err(_) => runtime()?.block_on(async {
            let mut body = json!({"name": name, "scopes": scopes});
            if let Some(secs) = expires_in {
                body["expires_in"] = json!(secs);
            }
            let created = call(reqwest::Method::POST, "/v1/tokens", Some(body)).await?;
            eprintln!(
                "created token {} ({name}); it is shown once:",
                created["id"].as_str().unwrap_or("")
            );
            println!("{}", created["token"].as_str().unwrap_or(""));
            Ok(())
        }),
    }
}

pub fn run_providers(command: ProvidersCommand) -> Result<(), ClientError> {
    runtime()?.block_on(async {
        match command {
            ProvidersCommand::List => {
                let list = call(reqwest::Method::GET, "/v1/providers", None).await?;
                println!(
                    "{:<16} {:<18} {:<15} {:<6} BASE URL",
                    "ID", "KIND", "STATE", "KEY"
                );
                for p in list["data"].as_array().into_iter().flatten() {
                    let key = match (&p["auth"]["set"], &p["auth"]["last4"]) {
                        (_, Value::String(l4)) => format!("…{l4}"),
                        (Value::Bool(true), _) => "set".into(),
                        _ => "-".into(),
                    };
                    println!(
                        "{:<16} {:<18} {:<15} {:<6} {}",
                        p["id"].as_str().unwrap_or(""),
                        p["kind"].as_str().unwrap_or(""),
                        p["status"]["state"].as_str().unwrap_or(""),
                        key,
                        p["base_url"].as_str().unwrap_or("")
                    );
                }
            }
            ProvidersCommand::Add {
                name,
                base_url,
                models,
                api_key,
                api_key_env,
                api_key_vault,
            } => {
                let mut body = json!({"name": name, "base_url": base_url, "models": models});
                if let Some(k) = api_key {
                    body["api_key"] = json!(k);
                }
                if let Some(v) = api_key_env {
                    body["api_key_env"] = json!(v);
                }
                if let Some(v) = api_key_vault {
                    body["api_key_vault"] = json!(v);
                }
                let created = call(reqwest::Method::POST, "/v1/providers", Some(body)).await?;
                println!("registered {}", created["id"].as_str().unwrap_or(""));
            }
            ProvidersCommand::Models { id } => {
                let list = call(
                    reqwest::Method::GET,
                    &format!("/v1/providers/{id}/models"),
                    None,
                )
                .await?;
                for m in list["data"].as_array().into_iter().flatten() {
                    println!(
                        "{}/{}\t{}",
                        m["provider"].as_str().unwrap_or(""),
                        m["id"].as_str().unwrap_or(""),
                        m["source"].as_str().unwrap_or("")
                    );
                }
            }
            ProvidersCommand::Remove { id } => {
                call(
                    reqwest::Method::DELETE,
                    &format!("/v1/providers/{id}"),
                    None,
                )
                .await?;
                println!("removed {id}");
            }
        }
        Ok(())
    })
}
