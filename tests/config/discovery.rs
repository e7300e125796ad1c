//! `providers.ollama.discovery_interval_s`: how often Ollama is asked for its status and models.

use super::parse;

#[test]
fn the_discovery_interval_defaults_to_ten_seconds() {
    let cfg = parse("").unwrap();
    assert_eq!(cfg.providers.ollama.discovery_interval_s, 10);
}

#[test]
fn the_discovery_interval_is_read_from_the_file_and_zero_is_allowed() {
    let cfg = parse("[providers.ollama]\ndiscovery_interval_s = 2\n").unwrap();
    assert_eq!(cfg.providers.ollama.discovery_interval_s, 2);
    let cfg = parse("[providers.ollama]\ndiscovery_interval_s = 0\n").unwrap();
    assert_eq!(cfg.providers.ollama.discovery_interval_s, 0);
}

#[test]
fn only_ollama_takes_a_discovery_interval() {
    let err = parse("[providers.openai]\ndiscovery_interval_s = 5\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("providers.openai.discovery_interval_s") && err.contains("only the ollama"),
        "{err}"
    );
}

#[test]
fn a_negative_discovery_interval_is_refused() {
    let err = parse("[providers.ollama]\ndiscovery_interval_s = -1\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("providers.ollama.discovery_interval_s"),
        "{err}"
    );
}

#[test]
fn a_discovery_interval_over_a_day_is_refused_naming_the_limit() {
    let err = parse("[providers.ollama]\ndiscovery_interval_s = 9223372036854775807\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("providers.ollama.discovery_interval_s") && err.contains("at most 86400"),
        "{err}"
    );
    let cfg = parse("[providers.ollama]\ndiscovery_interval_s = 86400\n").unwrap();
    assert_eq!(cfg.providers.ollama.discovery_interval_s, 86_400);
}
