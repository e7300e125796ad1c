//! The environment's layer: each variable wins over the file.

use std::path::PathBuf;

use moxxy::config::{self, Config, ConfigSource, LogFormat};

use super::{env_of, parse, refusal};

const FILE_WITH_EVERYTHING: &str = r#"
[server]
bind = "127.0.0.1:4000"
[storage]
path = "/srv/from-file"
[log]
level = "warn"
[providers.anthropic]
base_url = "https://anthropic.file.example"
oauth_token_url = "https://token.file.example/oauth/token"
[providers.openai]
base_url = "https://openai.file.example/v1"
[providers.ollama]
base_url = "http://ollama.file.example:11434"
"#;

#[test]
fn the_file_overrides_the_defaults() {
    let cfg = parse(FILE_WITH_EVERYTHING).unwrap();
    assert_eq!(cfg.server.bind.to_string(), "127.0.0.1:4000");
    assert_eq!(cfg.storage.path, PathBuf::from("/srv/from-file"));
    assert_eq!(cfg.log.level, "warn");
    assert_eq!(
        cfg.providers.anthropic.base_url,
        "https://anthropic.file.example"
    );
    assert_eq!(
        cfg.providers.anthropic.oauth_token_url.as_deref(),
        Some("https://token.file.example/oauth/token")
    );
    assert_eq!(
        cfg.providers.openai.base_url,
        "https://openai.file.example/v1"
    );
    assert_eq!(
        cfg.providers.ollama.base_url,
        "http://ollama.file.example:11434"
    );
}

#[test]
fn each_environment_variable_wins_over_the_file() {
    type Getter = fn(&Config) -> String;
    let cases: [(&str, &str, Getter, &str); 7] = [
        (
            "MOXXY_BIND",
            "0.0.0.0:8080",
            |c| c.server.bind.to_string(),
            "0.0.0.0:8080",
        ),
        (
            "MOXXY_DATA_DIR",
            "/var/lib/moxxy",
            |c| c.storage.path.display().to_string(),
            "/var/lib/moxxy",
        ),
        (
            "ANTHROPIC_BASE_URL",
            "https://proxy.example/anthropic",
            |c| c.providers.anthropic.base_url.clone(),
            "https://proxy.example/anthropic",
        ),
        (
            "OPENAI_BASE_URL",
            "https://proxy.example/v1",
            |c| c.providers.openai.base_url.clone(),
            "https://proxy.example/v1",
        ),
        (
            "ANTHROPIC_OAUTH_TOKEN_URL",
            "https://claude.ai/v1/oauth/token",
            |c| c.providers.anthropic.oauth_token_url.clone().unwrap(),
            "https://claude.ai/v1/oauth/token",
        ),
        (
            "OLLAMA_HOST",
            "10.0.0.5:9999",
            |c| c.providers.ollama.base_url.clone(),
            "http://10.0.0.5:9999",
        ),
        (
            "RUST_LOG",
            "moxxy=debug,actix_web=info",
            |c| c.log.level.clone(),
            "moxxy=debug,actix_web=info",
        ),
    ];
    let from_file = parse(FILE_WITH_EVERYTHING).unwrap();
    for (var, value, get, want) in cases {
        assert_ne!(
            get(&from_file),
            want,
            "{var}: the file must set something else"
        );
        let cfg = config::from_toml_str(FILE_WITH_EVERYTHING, &env_of(&[(var, value)])).unwrap();
        assert_eq!(get(&cfg), want, "{var}");
        // Without a file, too.
        let cfg = config::from_toml_str("", &env_of(&[(var, value)])).unwrap();
        assert_eq!(get(&cfg), want, "{var} over the defaults");
    }
}

#[test]
fn blank_variables_count_as_unset() {
    let env = env_of(&[("MOXXY_BIND", ""), ("RUST_LOG", " "), ("OLLAMA_HOST", "")]);
    let cfg = config::from_toml_str(FILE_WITH_EVERYTHING, &env).unwrap();
    assert_eq!(cfg.server.bind.to_string(), "127.0.0.1:4000");
    assert_eq!(cfg.log.level, "warn");
    assert_eq!(
        cfg.providers.ollama.base_url,
        "http://ollama.file.example:11434"
    );
}

#[test]
fn secrets_in_the_environment_are_not_configuration() {
    let env = env_of(&[
        ("ANTHROPIC_API_KEY", "sk-ant-api03-envsecret"),
        ("OPENAI_API_KEY", "sk-proj-envsecret"),
        (
            "MOXXY_MASTER_KEY",
            "bWFzdGVyIGtleSBtYXN0ZXIga2V5IG1hc3RlciBrZXkh",
        ),
    ]);
    let cfg = config::from_toml_str("", &env).unwrap();
    let debug = format!("{cfg:?}");
    assert!(
        !debug.contains("envsecret") && !debug.contains("bWFzdGVy"),
        "{debug}"
    );
    assert_eq!(
        cfg,
        Config {
            source: ConfigSource::Inline,
            ..Config::default()
        }
    );
}

#[test]
fn anthropic_base_url_drops_a_trailing_v1_and_slash() {
    for given in [
        "https://proxy.example",
        "https://proxy.example/",
        "https://proxy.example/v1",
        "https://proxy.example/v1/",
    ] {
        let cfg = config::from_toml_str("", &env_of(&[("ANTHROPIC_BASE_URL", given)])).unwrap();
        assert_eq!(
            cfg.providers.anthropic.base_url, "https://proxy.example",
            "{given}"
        );
        let file = format!("[providers.anthropic]\nbase_url = \"{given}\"\n");
        assert_eq!(
            parse(&file).unwrap().providers.anthropic.base_url,
            "https://proxy.example"
        );
    }
    // OpenAI's keeps its path, only the trailing slash goes.
    let cfg = config::from_toml_str(
        "",
        &env_of(&[("OPENAI_BASE_URL", "https://x.example/v1beta/openai/")]),
    )
    .unwrap();
    assert_eq!(
        cfg.providers.openai.base_url,
        "https://x.example/v1beta/openai"
    );
}

#[test]
fn ollama_host_takes_all_of_ollamas_forms() {
    let cases = [
        ("example.com", "http://example.com:11434"),
        ("1.2.3.4:1234", "http://1.2.3.4:1234"),
        ("http://1.2.3.4", "http://1.2.3.4:80"),
        ("https://1.2.3.4", "https://1.2.3.4:443"),
        ("http://ollama.lan:4000", "http://ollama.lan:4000"),
        (
            "https://example.com/ollama",
            "https://example.com:443/ollama",
        ),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        (":1234", "http://127.0.0.1:1234"),
        ("[::1]:1337", "http://[::1]:1337"),
        ("::1", "http://[::1]:11434"),
        (" \"10.1.1.1:5000\" ", "http://10.1.1.1:5000"),
        ("ollama.com", "https://ollama.com:443"),
    ];
    for (host, want) in cases {
        let cfg = config::from_toml_str("", &env_of(&[("OLLAMA_HOST", host)])).unwrap();
        assert_eq!(cfg.providers.ollama.base_url, want, "OLLAMA_HOST={host}");
    }
    let err = config::from_toml_str("", &env_of(&[("OLLAMA_HOST", "ftp://weird.example")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("OLLAMA_HOST"), "{err}");
    assert!(!err.contains("weird.example"), "{err}");
}

#[test]
fn rust_log_replaces_the_level_and_a_bad_one_names_the_variable() {
    let cfg = config::from_toml_str(
        "[log]\nlevel = \"warn\"\n",
        &env_of(&[("RUST_LOG", "debug")]),
    )
    .unwrap();
    assert_eq!(cfg.log.level, "debug");
    let err = config::from_toml_str("", &env_of(&[("RUST_LOG", "moxxy=loudest")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("RUST_LOG"), "{err}");
    assert!(!err.contains("loudest"), "{err}");
}

#[test]
fn log_level_and_format_are_checked() {
    let cfg = parse("[log]\nlevel = \"moxxy=debug,info\"\nformat = \"json\"\n").unwrap();
    assert_eq!(cfg.log.level, "moxxy=debug,info");
    assert_eq!(cfg.log.format, LogFormat::Json);
    let err = refusal("[log]\nlevel = \"verbose\"\n", "verbose");
    assert!(err.contains("log.level"), "{err}");
    let err = refusal("[log]\nformat = \"xml\"\n", "xml");
    assert!(
        err.contains("log.format") && err.contains("\"text\" or \"json\""),
        "{err}"
    );
}
