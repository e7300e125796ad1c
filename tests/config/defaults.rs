//! The defaults, the repository's config.toml, and how the file is found.

use std::path::{Path, PathBuf};

use moxxy::config::{self, Config, ConfigError, ConfigSource, LogFormat};

use super::{env_of, no_env, parse, repo_config};

#[test]
fn defaults_are_the_documented_ones() {
    let cfg = Config::default();
    assert_eq!(cfg.server.bind.to_string(), "127.0.0.1:3000");
    assert_eq!(cfg.server.body_limit_bytes, 4 * 1024 * 1024);
    assert_eq!(cfg.server.workers, None);
    assert_eq!(cfg.storage.path, PathBuf::from("./moxxy-data"));
    assert_eq!(cfg.log.level, "info");
    assert_eq!(cfg.log.format, LogFormat::Text);
    let p = &cfg.providers;
    assert_eq!(p.anthropic.base_url, "https://api.anthropic.com");
    assert_eq!(
        p.anthropic.oauth_token_url.as_deref(),
        Some("https://console.anthropic.com/v1/oauth/token")
    );
    assert_eq!(p.openai.base_url, "https://api.openai.com/v1");
    assert_eq!(p.openai.oauth_token_url, None);
    assert_eq!(p.ollama.base_url, "http://127.0.0.1:11434");
    for (_, provider) in p.iter() {
        assert_eq!(provider.max_retries, 2);
        assert_eq!(provider.timeout_ms, 600_000);
        assert_eq!(provider.rate_limit, None);
        assert_eq!(provider.models, None);
    }
    assert_eq!(cfg.aliases["opus"], "anthropic/claude-opus-5");
    assert_eq!(cfg.aliases["sonnet"], "anthropic/claude-sonnet-5");
    assert_eq!(cfg.aliases["haiku"], "anthropic/claude-haiku-4-5");
    assert_eq!(cfg.aliases["gpt-4.1"], "openai/gpt-4.1");
    assert_eq!(cfg.aliases["o3"], "openai/o3");
    assert_eq!(cfg.aliases["o4-mini"], "openai/o4-mini");
    assert_eq!(cfg.aliases.len(), 6);
    assert!(cfg.personas.is_empty());
    assert_eq!(Config::default_for_tests(), cfg);
}

#[test]
fn an_empty_file_gives_the_defaults() {
    let cfg = parse("").unwrap();
    assert_eq!(cfg.source, ConfigSource::Inline);
    assert_eq!(
        cfg,
        Config {
            source: ConfigSource::Inline,
            ..Config::default()
        }
    );
}

#[test]
fn the_repository_config_toml_loads_to_exactly_the_defaults() {
    let path = repo_config();
    let cfg = config::load(Some(&path), &no_env).unwrap();
    assert_eq!(cfg.source, ConfigSource::File(path.clone()));
    assert_eq!(cfg.source.path(), Some(path.as_path()));
    assert_eq!(
        cfg,
        Config {
            source: ConfigSource::File(path),
            ..Config::default()
        }
    );
}

#[test]
fn the_commented_examples_in_config_toml_are_valid() {
    // Uncomment every `# key = value` line and the example persona: each must be a real key
    // with a valid value, so the documentation cannot drift from the code.
    let text = std::fs::read_to_string(repo_config()).unwrap();
    let uncommented: String = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest == "[[personas]]" || is_assignment(rest) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(uncommented.contains("\n[[personas]]"));
    let cfg = parse(&uncommented).unwrap();
    assert_eq!(cfg.server.workers, Some(4));
    assert_eq!(cfg.personas.len(), 1);
    let persona = &cfg.personas[0];
    assert_eq!(persona.name, "researcher");
    assert_eq!(persona.model, "opus");
    assert_eq!(persona.temperature, Some(0.3));
    assert_eq!(persona.max_tokens, Some(2048));
    assert_eq!(
        persona.stop.as_deref(),
        Some(&["\n\nUser:".to_string()][..])
    );
    let openai = &cfg.providers.openai;
    assert_eq!(openai.base_url, "https://api.openai.com/v1");
    assert_eq!(
        openai.models.as_ref().unwrap(),
        &["gpt-4.1", "o3", "o4-mini"]
    );
    assert_eq!(
        openai.rate_limit.as_ref().unwrap().requests_per_minute,
        Some(500)
    );
}

fn is_assignment(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    })
}

#[test]
fn without_a_file_the_defaults_apply_and_dot_config_toml_is_found() {
    // The only test that changes the working directory; every other test uses absolute paths
    // or text, so running in parallel with it is safe.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let empty = tempfile::tempdir().unwrap();
    let before = std::env::current_dir().unwrap();

    std::env::set_current_dir(repo).unwrap();
    let found = config::load(None, &no_env);
    std::env::set_current_dir(empty.path()).unwrap();
    let none = config::load(None, &no_env);
    std::env::set_current_dir(before).unwrap();

    let found = found.unwrap();
    assert_eq!(
        found.source,
        ConfigSource::File(PathBuf::from("config.toml"))
    );
    let none = none.unwrap();
    assert_eq!(none.source, ConfigSource::Defaults);
    assert_eq!(none, Config::default());
}

#[test]
fn moxxy_config_and_the_command_line_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("moxxy.toml");
    std::fs::write(&file, "[server]\nbind = \"127.0.0.1:4000\"\n").unwrap();
    let from_env = env_of(&[("MOXXY_CONFIG", file.to_str().unwrap())]);
    let cfg = config::load(None, &from_env).unwrap();
    assert_eq!(cfg.server.bind.port(), 4000);
    assert_eq!(cfg.source, ConfigSource::File(file.clone()));

    // The command line wins over MOXXY_CONFIG.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "[server]\nbind = \"127.0.0.1:5000\"\n").unwrap();
    let cfg = config::load(Some(&other), &from_env).unwrap();
    assert_eq!(cfg.server.bind.port(), 5000);

    // Errors name the file that was read.
    std::fs::write(&file, "[server]\nbind = 1\n").unwrap();
    let err = config::load(None, &from_env).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: server.bind:", file.display())),
        "{err}"
    );
}

#[test]
fn a_missing_named_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let env = env_of(&[("MOXXY_CONFIG", missing.to_str().unwrap())]);
    let err = config::load(None, &env).unwrap_err();
    assert!(matches!(err, ConfigError::NotFound { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
    assert!(message.contains("MOXXY_CONFIG"), "{message}");

    let err = config::load(Some(&missing), &no_env)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("--config"), "{err}");

    // A directory is not a config file.
    let err = config::load(Some(dir.path()), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::Unreadable { .. }), "{err:?}");
}
