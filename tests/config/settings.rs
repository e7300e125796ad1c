//! Checks of provider settings, syntax errors, aliases and personas.

use moxxy::config::ConfigError;

use super::{parse, refusal};

#[test]
fn provider_settings_are_checked() {
    let cfg = parse(
        "[providers.openai]\nmax_retries = 5\ntimeout_ms = 30000\nmodels = [\"gpt-4.1\", \"o3\"]\n\
         rate_limit = { requests_per_minute = 60, tokens_per_minute = 90000 }\n",
    )
    .unwrap();
    let openai = &cfg.providers.openai;
    assert_eq!((openai.max_retries, openai.timeout_ms), (5, 30_000));
    assert_eq!(openai.models.as_deref().unwrap(), ["gpt-4.1", "o3"]);
    assert_eq!(
        openai.rate_limit.as_ref().unwrap().tokens_per_minute,
        Some(90_000)
    );

    let refused = [
        (
            "[providers.openai]\noauth_token_url = \"https://x.example/token\"\n",
            "providers.openai.oauth_token_url: only the anthropic provider",
        ),
        (
            "[providers.openai]\nmax_retries = 11\n",
            "providers.openai.max_retries: expected at most 10",
        ),
        (
            "[providers.openai]\ntimeout_ms = 0\n",
            "providers.openai.timeout_ms: expected a timeout",
        ),
        (
            "[providers.openai]\nrate_limit = { requests_per_minute = 0 }\n",
            "providers.openai.rate_limit.requests_per_minute: expected a limit greater than 0",
        ),
        (
            "[providers.ollama]\nmodels = [\"llama3\", \"llama3\"]\n",
            "providers.ollama.models[1]: this model is listed twice",
        ),
        (
            "[providers.ollama]\nmodels = [\"\"]\n",
            "providers.ollama.models[0]: expected a model id",
        ),
        (
            "[server]\nbody_limit_bytes = 0\n",
            "server.body_limit_bytes: expected a number of bytes",
        ),
        (
            "[server]\nworkers = 0\n",
            "server.workers: expected a number of worker threads",
        ),
        (
            "[server]\nworkers = 100000\n",
            "server.workers: expected at most 1024 worker threads",
        ),
        (
            "[server]\nagent_queue_limit = 0\n",
            "server.agent_queue_limit: expected a number of turns greater than 0",
        ),
        (
            "[server]\nagent_queue_limit = 9223372036854775807\n",
            "server.agent_queue_limit: expected at most 100000 turns",
        ),
        (
            "[storage]\npath = \"\"\n",
            "storage.path: expected a directory path",
        ),
    ];
    for (text, want) in refused {
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn a_syntax_error_gives_its_line_and_column() {
    let err = parse("[server]\nbind = \"127.0.0.1:3000\"\nworkers = \n").unwrap_err();
    match &err {
        ConfigError::Syntax { line, column, .. } => assert_eq!((*line, *column), (3, 11), "{err}"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("inline config: TOML syntax error at line 3, column 11"),
        "{err}"
    );
}

#[test]
fn aliases_add_to_and_override_the_defaults() {
    let cfg = parse(
        "[aliases]\nfast = \"openai/gpt-4.1-mini\"\nopus = \"anthropic/claude-opus-4-8\"\n\
         \"llama.big\" = \"ollama/library/llama3:70b\"\n",
    )
    .unwrap();
    assert_eq!(cfg.aliases["fast"], "openai/gpt-4.1-mini");
    assert_eq!(cfg.aliases["opus"], "anthropic/claude-opus-4-8");
    assert_eq!(cfg.aliases["llama.big"], "ollama/library/llama3:70b");
    assert_eq!(cfg.aliases["sonnet"], "anthropic/claude-sonnet-5");
    assert_eq!(cfg.aliases["o4-mini"], "openai/o4-mini");
    assert_eq!(cfg.aliases.len(), 8);

    for (text, key) in [
        ("[aliases]\nfast = \"gpt-4.1-mini\"\n", "aliases.fast"),
        ("[aliases]\nfast = \"OpenAI/gpt-4.1\"\n", "aliases.fast"),
        ("[aliases]\nfast = \"openai/\"\n", "aliases.fast"),
        (
            "[aliases]\n\"a/b\" = \"openai/gpt-4.1\"\n",
            "aliases.\"a/b\"",
        ),
    ] {
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.contains(&format!("inline config: {key}: ")),
            "{text}: {err}"
        );
    }
}

#[test]
fn personas_are_parsed_and_validated() {
    let cfg = parse(
        "[[personas]]\nname = \"researcher\"\nmodel = \"anthropic/claude-opus-4-8\"\n\
         system = \"Be careful.\"\ntemperature = 0.3\nmax_tokens = 2048\nstop = [\"END\"]\n\
         [[personas]]\nname = \"helper-2\"\nmodel = \"sonnet\"\n",
    )
    .unwrap();
    assert_eq!(cfg.personas.len(), 2);
    assert_eq!(cfg.personas[0].name, "researcher");
    assert_eq!(cfg.personas[0].system.as_deref(), Some("Be careful."));
    assert_eq!(cfg.personas[1].temperature, None);

    let persona = |body: &str| format!("[[personas]]\nname = \"bot\"\nmodel = \"sonnet\"\n{body}");
    let refused = [
        (format!("{}{}", persona(""), persona("")), "personas[1].name (persona 'bot'): a persona named 'bot' is already defined at personas[0]"),
        (persona("temperature = 2.5\n"), "personas[0].temperature (persona 'bot'): expected a temperature from 0 to 2"),
        (persona("temperature = -0.1\n"), "personas[0].temperature (persona 'bot')"),
        (persona("max_tokens = 0\n"), "personas[0].max_tokens (persona 'bot'): expected a number of tokens"),
        (persona("stop = [\"\"]\n"), "personas[0].stop[0] (persona 'bot'): a stop sequence must not be empty"),
        ("[[personas]]\nname = \"Research Bot\"\nmodel = \"sonnet\"\n".to_string(), "personas[0].name: expected an agent id"),
        ("[[personas]]\nname = \"bot\"\nmodel = \"\"\n".to_string(), "personas[0].model (persona 'bot'): expected a model name"),
        ("[[personas]]\nname = \"bot\"\nmodel = \"Bad Provider/x\"\n".to_string(), "personas[0].model (persona 'bot')"),
    ];
    for (text, want) in refused {
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}\n=> {err}");
    }
    let long = "a".repeat(64);
    let err = refusal(
        &format!("[[personas]]\nname = \"{long}\"\nmodel = \"sonnet\"\n"),
        &long,
    );
    assert!(err.contains("personas[0].name"), "{err}");
}
