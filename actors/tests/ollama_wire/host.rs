//! `OLLAMA_HOST` (PROTOCOLS.md §3.1, Ollama's `envconfig` tests), model names and `/api/tags`.

use moxxy_actors::provider::ollama::{decode_tags, normalize_model, parse_host};
use moxxy_actors::ErrorKind;

#[test]
fn parse_host_follows_every_row_of_ollamas_table() {
    let cases: [(Option<&str>, &str); 27] = [
        // unset / empty
        (None, "http://127.0.0.1:11434"),
        (Some(""), "http://127.0.0.1:11434"),
        // a bare address or name gets the default port
        (Some("1.2.3.4"), "http://1.2.3.4:11434"),
        (Some("example.com"), "http://example.com:11434"),
        (Some("1.2.3.4:1234"), "http://1.2.3.4:1234"),
        (Some("example.com:1234"), "http://example.com:1234"),
        // the bind form ":1234" is reached on loopback
        (Some(":1234"), "http://127.0.0.1:1234"),
        (Some(":0"), "http://127.0.0.1:0"),
        // IPv6, bracketed or not
        (Some("[::1]"), "http://[::1]:11434"),
        (Some("::1"), "http://[::1]:11434"),
        (Some("[::1]:1337"), "http://[::1]:1337"),
        // a scheme implies its port; the path is kept
        (Some("http://1.2.3.4"), "http://1.2.3.4:80"),
        (Some("http://1.2.3.4:4321"), "http://1.2.3.4:4321"),
        (Some("https://1.2.3.4"), "https://1.2.3.4:443"),
        (Some("https://1.2.3.4:4321"), "https://1.2.3.4:4321"),
        (
            Some("https://example.com/ollama"),
            "https://example.com:443/ollama",
        ),
        (
            Some("https://example.com/ollama/"),
            "https://example.com:443/ollama",
        ),
        (Some("ollama.com"), "https://ollama.com:443"),
        // spaces and quotes are stripped
        (Some(" 1.2.3.4 "), "http://1.2.3.4:11434"),
        (Some("\"1.2.3.4\""), "http://1.2.3.4:11434"),
        (Some(" \" 1.2.3.4 \" "), "http://1.2.3.4:11434"),
        (Some("'1.2.3.4'"), "http://1.2.3.4:11434"),
        // a bad port falls back to the default
        (Some(":66000"), "http://127.0.0.1:11434"),
        (Some(":-1"), "http://127.0.0.1:11434"),
        (Some("example.com:abc"), "http://example.com:11434"),
        (Some("https://example.com:99999"), "https://example.com:443"),
        (Some("1.2.3.4:"), "http://1.2.3.4:11434"),
    ];
    for (value, expected) in cases {
        assert_eq!(parse_host(value), expected, "OLLAMA_HOST={value:?}");
    }
}

#[test]
fn parse_host_connects_to_loopback_for_unspecified_addresses() {
    assert_eq!(parse_host(Some("0.0.0.0")), "http://127.0.0.1:11434");
    assert_eq!(parse_host(Some("0.0.0.0:8080")), "http://127.0.0.1:8080");
    assert_eq!(parse_host(Some("[::]")), "http://[::1]:11434");
    assert_eq!(parse_host(Some("::")), "http://[::1]:11434");
    assert_eq!(parse_host(Some("[::]:9000")), "http://[::1]:9000");
    assert_eq!(
        parse_host(Some("http://0.0.0.0:11434")),
        "http://127.0.0.1:11434"
    );
}

#[test]
fn normalize_model_adds_latest_only_when_no_tag() {
    assert_eq!(normalize_model("llama3"), "llama3:latest");
    assert_eq!(normalize_model("llama3:latest"), "llama3:latest");
    assert_eq!(normalize_model("ns/m:7b"), "ns/m:7b");
    assert_eq!(normalize_model("ns/m"), "ns/m:latest");
    // A registry port is not a tag.
    assert_eq!(
        normalize_model("localhost:5000/library/llama3"),
        "localhost:5000/library/llama3:latest"
    );
    assert_eq!(normalize_model("qwen3:0.6b"), "qwen3:0.6b");
}

#[test]
fn decode_tags_lists_pulled_models_in_order() {
    let body = br#"{"models": [
        {"name": "llama3.2:latest", "model": "llama3.2:latest", "modified_at": "2025-05-04T17:37:44-07:00",
         "size": 2019393189, "digest": "a80c4f17acd5",
         "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                     "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}},
        {"model": "qwen3:8b"},
        {"name": null, "model": "ns/tool:1b"}
    ]}"#;
    assert_eq!(
        decode_tags(body).unwrap(),
        ["llama3.2:latest", "qwen3:8b", "ns/tool:1b"]
    );
    assert!(decode_tags(br#"{"models": null}"#).unwrap().is_empty());
    assert!(decode_tags(b"{}").unwrap().is_empty());
}

#[test]
fn decode_tags_rejects_a_body_that_is_not_a_listing() {
    let err = decode_tags(b"<html>502 Bad Gateway</html>").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(err.message.contains("/api/tags"), "{}", err.message);
}
