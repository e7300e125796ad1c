//! Where a value sits in the file (`providers.openai.base_url`, `personas[1].name`,
//! `aliases."gpt-4.1"`), written the way TOML would write the key, so an error points at it.

use std::fmt;

/// One step into the document: a key of a table or an index into an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path from the top of the document to one value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The top of the document.
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// A path from plain keys, e.g. `["server", "bind"]`.
    pub fn of(keys: &[&str]) -> Self {
        KeyPath(
            keys.iter()
                .map(|k| Segment::Key((*k).to_string()))
                .collect(),
        )
    }

    /// This path, one key deeper.
    pub fn key(&self, key: &str) -> Self {
        let mut next = self.0.clone();
        next.push(Segment::Key(key.to_string()));
        KeyPath(next)
    }

    /// This path, one array element deeper.
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.0.clone();
        next.push(Segment::Index(index));
        KeyPath(next)
    }

    /// The table or array holding this value (the root holds itself).
    pub fn parent(&self) -> Self {
        let mut up = self.0.clone();
        up.pop();
        KeyPath(up)
    }

    /// The steps, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The value at this path in `doc`, if there is one.
    pub fn lookup<'a>(&self, doc: &'a toml::Table) -> Option<&'a toml::Value> {
        let (first, rest) = self.0.split_first()?;
        let mut value = match first {
            Segment::Key(k) => doc.get(k)?,
            Segment::Index(_) => return None,
        };
        for seg in rest {
            value = match (seg, value) {
                (Segment::Key(k), toml::Value::Table(t)) => t.get(k)?,
                (Segment::Index(i), toml::Value::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_key(k) {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Whether TOML accepts the key unquoted (`A-Za-z0-9_-`).
fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What kind of value this is, in words, for "expected …, got a string" (never the value).
pub fn describe_kind(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "a number",
        toml::Value::Float(_) => "a decimal number",
        toml::Value::Boolean(_) => "true/false",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}
