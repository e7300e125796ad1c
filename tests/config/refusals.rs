//! Refusals: keys in the file, unknown keys, wrong types, bad addresses; each names the key or
//! the variable and never the value.

use moxxy::config::{self, ConfigError};

use super::{env_of, parse, refusal};

#[test]
fn unknown_keys_are_named_with_the_allowed_ones() {
    let err = parse("[sever]\nbind = \"127.0.0.1:3000\"\n").unwrap_err();
    assert!(matches!(err, ConfigError::UnknownKey { .. }), "{err:?}");
    let err = err.to_string();
    assert!(
        err.starts_with("inline config: sever: unknown key"),
        "{err}"
    );
    assert!(
        err.contains("server, storage, log, providers, aliases, personas"),
        "{err}"
    );

    let err = parse("[server]\nbnd = \"127.0.0.1:3000\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.bnd: unknown key"), "{err}");
    assert!(err.contains("bind, body_limit_bytes, workers"), "{err}");

    let err = parse("[providers.xai]\nbase_url = \"https://api.x.ai/v1\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("providers.xai: unknown key"), "{err}");
    assert!(err.contains("POST /v1/providers"), "{err}");

    let err = parse("[providers.openai.rate_limit]\nrpm = 5\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("providers.openai.rate_limit.rpm: unknown key"),
        "{err}"
    );

    let err = parse("[[personas]]\nname = \"bot\"\nmodel = \"sonnet\"\ntemprature = 0.2\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("personas[0].temprature (persona 'bot'): unknown key"),
        "{err}"
    );
}

#[test]
fn key_looking_values_are_refused_naming_the_field_not_the_value() {
    let cases = [
        ("[providers.openai]\napi_key = \"sk-proj-abc123secret\"\n", "sk-proj-abc123secret", "providers.openai.api_key"),
        ("[providers.anthropic]\napi_key = \"not-prefixed-value\"\n", "not-prefixed-value", "providers.anthropic.api_key"),
        ("[somewhere.deeper]\nvalue = \"sk-ant-api03-deepsecret\"\n", "sk-ant-api03-deepsecret", "somewhere.deeper.value"),
        ("[[personas]]\nname = \"bot\"\nmodel = \"sonnet\"\nsystem = \"xai-grokkey\"\n", "xai-grokkey", "personas[0].system"),
        ("[[personas]]\nname = \"bot\"\nmodel = \"sonnet\"\nstop = [\"ok\", \"gsk_groqsecret\"]\n", "gsk_groqsecret", "personas[0].stop[1]"),
        ("[aliases]\ngemini = \"AIzaSyGoogleSecret\"\n", "AIzaSyGoogleSecret", "aliases.gemini"),
        ("token = \"plain-literal-tok\"\n", "plain-literal-tok", "token"),
        ("[server]\npassword = \"hunter2hunter2\"\n", "hunter2hunter2", "server.password"),
        ("[providers.openai]\nheaders = { Authorization = \"Bearer sk-inheader\" }\n", "sk-inheader", "providers.openai.headers.Authorization"),
        ("[providers.ollama]\nbase_url = \"sk-inurl\"\n", "sk-inurl", "providers.ollama.base_url"),
        ("[x]\nsecrets = [{ key = \"nested-in-array\" }]\n", "nested-in-array", "x.secrets[0].key"),
    ];
    for (text, secret, field) in cases {
        let err = parse(text).unwrap_err();
        assert!(
            matches!(err, ConfigError::KeyInFile { .. }),
            "{text}: {err:?}"
        );
        let message = refusal(text, secret);
        assert!(message.contains(field), "{text}: {message}");
        assert!(message.contains("looks like an API key"), "{message}");
        assert!(
            message.contains("ANTHROPIC_API_KEY / OPENAI_API_KEY"),
            "{message}"
        );
        assert!(
            message.contains("PUT /v1/vault/{name}") && message.contains("api_key_vault"),
            "{message}"
        );
    }
    // Several at once are all named.
    let message = refusal("a = \"sk-one111\"\n[b]\ntoken = \"two222\"\n", "111");
    assert!(message.contains("a, b.token: look like"), "{message}");
    assert!(!message.contains("two222"), "{message}");
}

#[test]
fn keys_hidden_in_syntax_errors_or_urls_are_not_echoed() {
    let message = refusal(
        "[providers.openai]\napi_key = sk-ant-unquoted\n",
        "unquoted",
    );
    assert!(message.contains("line 2"), "{message}");
    let message = refusal(
        "[providers.openai]\nbase_url = \"https://user:pa55word@proxy.example/v1\"\n",
        "pa55word",
    );
    assert!(message.contains("providers.openai.base_url"), "{message}");
    assert!(message.contains("user name or password"), "{message}");
    let err = config::from_toml_str(
        "",
        &env_of(&[("OPENAI_BASE_URL", "https://u:envpass@x.example/v1")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("OPENAI_BASE_URL") && !err.contains("envpass"),
        "{err}"
    );
}

#[test]
fn wrong_types_name_the_path_and_what_is_expected() {
    let err = parse("[server]\nbind = 3000\n").unwrap_err();
    assert!(matches!(err, ConfigError::WrongType { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "inline config: server.bind: expected an address like 127.0.0.1:3000, got a number"
    );
    let err = refusal(
        "[providers.openai]\nmax_retries = \"three-times\"\n",
        "three-times",
    );
    assert!(
        err.contains("providers.openai.max_retries: expected a whole number of retries"),
        "{err}"
    );
    assert!(err.ends_with("got a string"), "{err}");
    let err = refusal("[providers.openai]\ntimeout_ms = -5\n", "-5");
    assert!(
        err.contains("providers.openai.timeout_ms") && err.contains("out of range"),
        "{err}"
    );
    let err = refusal(
        "[[personas]]\nname = \"bot\"\nmodel = \"sonnet\"\ntemperature = \"warm-ish\"\n",
        "warm-ish",
    );
    assert!(
        err.contains("personas[0].temperature (persona 'bot'): expected a number from 0 to 2"),
        "{err}"
    );
    let err = parse("server = 1\n").unwrap_err().to_string();
    assert!(
        err.contains("server: expected a table, got a number"),
        "{err}"
    );
    let err = parse("[aliases]\nfast = 5\n").unwrap_err().to_string();
    assert!(
        err.contains("aliases.fast: expected \"PROVIDER/MODEL\""),
        "{err}"
    );
    let err = parse("[[personas]]\nname = \"bot\"\n").unwrap_err();
    assert!(matches!(err, ConfigError::MissingKey { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("personas[0].model (persona 'bot'): missing"),
        "{err}"
    );
}

#[test]
fn bad_bind_addresses_are_refused() {
    // (Values that do not occur in the message's own example, so a leak would show.)
    for bad in [
        "localhost",
        "10.9.8.7",
        "10.9.8.7:99999",
        "my-host:4444",
        "4444",
    ] {
        let err = refusal(&format!("[server]\nbind = \"{bad}\"\n"), bad);
        assert!(
            err.contains("server.bind: expected an address like 127.0.0.1:3000"),
            "{err}"
        );
        let err = config::from_toml_str("", &env_of(&[("MOXXY_BIND", bad)]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("MOXXY_BIND (environment variable): expected"),
            "{err}"
        );
        assert!(!err.contains(bad), "{err}");
    }
    assert_eq!(
        parse("[server]\nbind = \"[::1]:3001\"\n")
            .unwrap()
            .server
            .bind
            .to_string(),
        "[::1]:3001"
    );
    assert_eq!(
        parse("[server]\nbind = \"localhost:3002\"\n")
            .unwrap()
            .server
            .bind
            .to_string(),
        "127.0.0.1:3002"
    );
}

#[test]
fn bad_urls_are_refused() {
    for bad in [
        "api.openai.com/v1",
        "ftp://files.example",
        "https://x.example/v1?x=1",
        "https://x.example/v1#frag",
    ] {
        let err = refusal(&format!("[providers.openai]\nbase_url = \"{bad}\"\n"), bad);
        assert!(err.contains("providers.openai.base_url:"), "{err}");
        let err = config::from_toml_str("", &env_of(&[("ANTHROPIC_BASE_URL", bad)]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ANTHROPIC_BASE_URL"), "{err}");
    }
    let err = parse("[providers.ollama]\nbase_url = \"https://\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("providers.ollama.base_url: expected an absolute http(s) URL"),
        "{err}"
    );
    let err = parse("[providers.anthropic]\noauth_token_url = \"nope\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("providers.anthropic.oauth_token_url: expected an absolute http(s) URL"),
        "{err}"
    );
}

#[test]
fn plain_http_off_loopback_needs_consent_where_a_key_would_travel() {
    let err = parse("[providers.openai]\nbase_url = \"http://10.0.0.2:8000/v1\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("providers.openai.base_url") && err.contains("allow_insecure_http"),
        "{err}"
    );
    let cfg = parse(
        "[providers.openai]\nbase_url = \"http://10.0.0.2:8000/v1\"\nallow_insecure_http = true\n",
    )
    .unwrap();
    assert!(cfg.providers.openai.allow_insecure_http);
    assert_eq!(cfg.providers.openai.base_url, "http://10.0.0.2:8000/v1");
    // Loopback (the fake upstreams of the tests) and Ollama (no key) need none.
    let env = env_of(&[
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:45678"),
        ("OLLAMA_HOST", "192.168.1.9"),
    ]);
    let cfg = config::from_toml_str("", &env).unwrap();
    assert_eq!(cfg.providers.anthropic.base_url, "http://127.0.0.1:45678");
    assert_eq!(cfg.providers.ollama.base_url, "http://192.168.1.9:11434");
    let err = parse("[providers.ollama]\nallow_insecure_http = true\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("providers.ollama.allow_insecure_http"),
        "{err}"
    );
}
