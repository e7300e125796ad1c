//! What each key expects, in words, for type errors: "server.bind: expected an address like
//! 127.0.0.1:3000, got a number" says more than serde's "expected a string".

use super::keypath::{KeyPath, Segment};

/// The description of what the value at `path` expects, when we have one.
pub fn expected(path: &KeyPath) -> Option<&'static str> {
    Some(match generalise(path).as_str() {
        "" => "a TOML document of tables: [server], [storage], [log], [providers.*], [aliases], [[personas]]",
        "server" | "storage" | "log" | "providers" | "providers.*" => "a table",
        "server.bind" => "an address like 127.0.0.1:3000",
        "server.body_limit_bytes" => "a whole number of bytes, like 4194304 (4 MiB)",
        "server.workers" => "a whole number of worker threads, like 4",
        "server.agent_queue_limit" => "a whole number of turns, like 64",
        "server.body_timeout_s" => "a whole number of seconds from 1 to 3600, like 30",
        "server.shutdown_grace_s" => "a whole number of seconds from 0 to 3600, like 10",
        "storage.path" => "a directory path, like \"./moxxy-data\"",
        "log.level" => "a level like \"info\" or a filter like \"moxxy=debug,info\"",
        "log.format" => "\"text\" or \"json\"",
        "providers.*.base_url" | "providers.*.oauth_token_url" => {
            "an absolute http(s) URL, like \"https://api.openai.com/v1\""
        }
        "providers.*.max_retries" => "a whole number of retries from 0 to 10",
        "providers.*.timeout_ms" => "a whole number of milliseconds, like 600000",
        "providers.*.rate_limit" => {
            "a table like { requests_per_minute = 60, tokens_per_minute = 100000 }"
        }
        "providers.*.rate_limit.requests_per_minute" | "providers.*.rate_limit.tokens_per_minute" => {
            "a whole number per minute, greater than 0"
        }
        "providers.*.models" => "a list of model ids, like [\"gpt-4.1\", \"o3\"]",
        "providers.*.models[]" => "a model id (a string)",
        "providers.*.allow_insecure_http" => "true or false",
        "aliases" => "a table of NAME = \"PROVIDER/MODEL\"",
        "aliases.*" => "\"PROVIDER/MODEL\", like \"anthropic/claude-sonnet-5\"",
        "personas" => "a list of [[personas]] tables",
        "personas[]" => "a [[personas]] table",
        "personas[].name" => "an agent id like \"researcher\"",
        "personas[].model" => "a model name like \"sonnet\" or \"anthropic/claude-sonnet-5\"",
        "personas[].system" => "a string (the system prompt)",
        "personas[].temperature" => "a number from 0 to 2",
        "personas[].max_tokens" => "a whole number of tokens, greater than 0",
        "personas[].stop" => "a list of stop sequences (strings)",
        "personas[].stop[]" => "a stop sequence (a string)",
        _ => return None,
    })
}

/// The path with indexes as `[]` and the names the user chooses (a provider id, an alias) as
/// `*`: `providers.*.base_url`, `personas[].name`.
fn generalise(path: &KeyPath) -> String {
    let segments = path.segments();
    let named_by_user = matches!(
        segments.first(),
        Some(Segment::Key(k)) if k == "providers" || k == "aliases"
    );
    let mut out = String::new();
    for (n, seg) in segments.iter().enumerate() {
        match seg {
            Segment::Key(k) => {
                if n > 0 {
                    out.push('.');
                }
                out.push_str(if n == 1 && named_by_user { "*" } else { k });
            }
            Segment::Index(_) => out.push_str("[]"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_chosen_names_are_generalised() {
        let url = expected(&KeyPath::of(&["providers", "openai", "base_url"]));
        assert!(url.is_some_and(|e| e.contains("URL")));
        assert_eq!(
            url,
            expected(&KeyPath::of(&["providers", "ollama", "base_url"]))
        );
        let alias = expected(&KeyPath::of(&["aliases", "gpt-4.1"]));
        assert!(alias.is_some_and(|e| e.contains("PROVIDER/MODEL")));
        let temperature = KeyPath::of(&["personas"]).index(3).key("temperature");
        assert!(expected(&temperature).is_some_and(|e| e.contains("0 to 2")));
        assert_eq!(expected(&KeyPath::of(&["nonsense", "key"])), None);
    }
}
