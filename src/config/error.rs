//! Why configuration was refused. Every message names where the problem is (the file and the key
//! path, or the environment variable) and what to do, and never contains the offending value: a
//! value in the wrong place may be a key.

use std::fmt;

use super::keypath::KeyPath;

/// What named a config file that could not be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedBy {
    /// `moxxy serve --config PATH`.
    CommandLine,
    /// The `MOXXY_CONFIG` environment variable.
    EnvVar,
}

impl fmt::Display for NamedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NamedBy::CommandLine => "given with --config: check the path",
            NamedBy::EnvVar => {
                "named by MOXXY_CONFIG: fix the path, or unset MOXXY_CONFIG to use ./config.toml"
            }
        })
    }
}

/// Where a setting came from, the way an error names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A key in the config file: `config.toml: server.bind`, or
    /// `config.toml: personas[0].model (persona 'researcher')`.
    File { file: String, key: String },
    /// An environment variable: `MOXXY_BIND (environment variable)`.
    Env(&'static str),
}

impl Origin {
    /// The key at `path` in `file`.
    pub fn file(file: &str, path: &KeyPath) -> Self {
        Origin::File {
            file: file.to_string(),
            key: path.to_string(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { file, key } => write!(f, "{file}: {key}"),
            Origin::Env(var) => write!(f, "{var} (environment variable)"),
        }
    }
}

/// Configuration that Moxxy refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A config file named explicitly does not exist.
    #[error("{file}: config file not found ({named_by})")]
    NotFound { file: String, named_by: NamedBy },

    /// The config file exists but could not be read.
    #[error("{file}: cannot read the config file: {reason}; check that it is a readable UTF-8 text file")]
    Unreadable { file: String, reason: String },

    /// The file is not valid TOML.
    #[error("{file}: TOML syntax error at line {line}, column {column}: {message}; fix the syntax there")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },

    /// Values (or key names) that look like API keys.
    #[error(
        "{file}: {}: {} like an API key; keys never go in config files: set ANTHROPIC_API_KEY / \
         OPENAI_API_KEY, or store it with PUT /v1/vault/{{name}} and use api_key_vault",
        keys.join(", "),
        if keys.len() == 1 { "looks" } else { "look" }
    )]
    KeyInFile { file: String, keys: Vec<String> },

    /// A key Moxxy does not know (a typo, or a setting from another version).
    #[error("{file}: {key}: unknown key; {}", unknown_key_advice(allowed, hint))]
    UnknownKey {
        file: String,
        key: String,
        allowed: Vec<String>,
        hint: Option<&'static str>,
    },

    /// A value of the wrong type.
    #[error("{file}: {key}: expected {expected}, got {got}")]
    WrongType {
        file: String,
        key: String,
        expected: String,
        got: String,
    },

    /// A required key is absent.
    #[error("{file}: {key}: missing; add it ({expected})")]
    MissingKey {
        file: String,
        key: String,
        expected: String,
    },

    /// A value of the right type that is not acceptable.
    #[error("{origin}: {problem}")]
    Invalid { origin: Origin, problem: String },
}

impl ConfigError {
    /// A refused value, with what is expected instead.
    pub(crate) fn invalid(origin: Origin, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            origin,
            problem: problem.into(),
        }
    }
}

fn unknown_key_advice(allowed: &[String], hint: &Option<&'static str>) -> String {
    let mut advice = if allowed.is_empty() {
        "remove it".to_string()
    } else {
        format!("remove it or use one of: {}", allowed.join(", "))
    };
    if let Some(hint) = hint {
        advice.push_str(" (");
        advice.push_str(hint);
        advice.push(')');
    }
    advice
}
