//! Reading JSON objects field by field, with errors that name the field.
//!
//! Why not serde derives: a client of Moxxy's `/v1/messages` deserves "max_tokens: expected an
//! integer", not "invalid type: string at line 1 column 40", and there is no path-tracking
//! deserializer among our dependencies. Everything here treats `null` as absent, as the brief's
//! tolerant-decoding rule asks.

use serde_json::Value;

use crate::error::{ErrorKind, ProviderError};
use crate::messages::JsonObject;

/// An `invalid_request_error` for the field at `param`, saying what to fix.
pub(super) fn invalid(param: &str, what: &str) -> ProviderError {
    let mut err = ProviderError::new(ErrorKind::InvalidRequest, format!("{param}: {what}"));
    err.param = Some(param.to_string());
    err
}

/// A JSON object and where it sits in the request (`messages[2].content[0]`).
pub(super) struct Obj<'a> {
    map: &'a JsonObject,
    path: String,
}

impl<'a> Obj<'a> {
    /// `value` as an object, or an error naming `path`.
    pub(super) fn new(value: &'a Value, path: impl Into<String>) -> Result<Self, ProviderError> {
        let path = path.into();
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            _ => Err(invalid(&path, "expected an object")),
        }
    }

    /// The path of `key` inside this object, for errors and nested objects.
    pub(super) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`, `None` when it is missing or `null`.
    pub(super) fn opt(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// The value of `key`, which must be present.
    pub(super) fn req(&self, key: &str) -> Result<&'a Value, ProviderError> {
        self.opt(key)
            .ok_or_else(|| invalid(&self.path_of(key), "field required"))
    }

    pub(super) fn req_str(&self, key: &str) -> Result<&'a str, ProviderError> {
        let value = self.req(key)?;
        value
            .as_str()
            .ok_or_else(|| invalid(&self.path_of(key), "expected a string"))
    }

    pub(super) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, ProviderError> {
        self.opt(key)
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| invalid(&self.path_of(key), "expected a string"))
            })
            .transpose()
    }

    pub(super) fn req_u32(&self, key: &str) -> Result<u32, ProviderError> {
        let value = self.req(key)?;
        self.as_u32(key, value)
    }

    pub(super) fn opt_u32(&self, key: &str) -> Result<Option<u32>, ProviderError> {
        self.opt(key).map(|v| self.as_u32(key, v)).transpose()
    }

    fn as_u32(&self, key: &str, value: &Value) -> Result<u32, ProviderError> {
        value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| invalid(&self.path_of(key), "expected a non-negative integer"))
    }

    pub(super) fn opt_f64(&self, key: &str) -> Result<Option<f64>, ProviderError> {
        self.opt(key)
            .map(|v| {
                v.as_f64()
                    .ok_or_else(|| invalid(&self.path_of(key), "expected a number"))
            })
            .transpose()
    }

    pub(super) fn opt_bool(&self, key: &str) -> Result<Option<bool>, ProviderError> {
        self.opt(key)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| invalid(&self.path_of(key), "expected true or false"))
            })
            .transpose()
    }

    pub(super) fn req_array(&self, key: &str) -> Result<&'a [Value], ProviderError> {
        let value = self.req(key)?;
        value
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| invalid(&self.path_of(key), "expected an array"))
    }

    pub(super) fn opt_array(&self, key: &str) -> Result<Option<&'a [Value]>, ProviderError> {
        self.opt(key)
            .map(|v| {
                v.as_array()
                    .map(Vec::as_slice)
                    .ok_or_else(|| invalid(&self.path_of(key), "expected an array"))
            })
            .transpose()
    }

    /// The nested object at `key`, if present.
    pub(super) fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, ProviderError> {
        self.opt(key)
            .map(|v| Obj::new(v, self.path_of(key)))
            .transpose()
    }

    /// The fields not in `known`: what the unified types do not model, kept for pass-through.
    pub(super) fn rest(&self, known: &[&str]) -> JsonObject {
        self.map
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Tolerant reads for upstream bodies: a missing, `null` or mistyped field is simply absent.
pub(super) fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// See [`str_at`].
pub(super) fn u64_at(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

/// Adds to `target` every field of `extra` it lacks, recursing into objects both have: fields
/// Moxxy set always win, pass-through fields fill the gaps.
pub(super) fn merge_missing(target: &mut JsonObject, extra: &JsonObject) {
    for (key, value) in extra {
        match (target.get_mut(key), value) {
            (None, _) => {
                target.insert(key.clone(), value.clone());
            }
            (Some(Value::Object(ours)), Value::Object(theirs)) => merge_missing(ours, theirs),
            (Some(_), _) => {}
        }
    }
}

/// A fresh id such as `msg_moxxy…`, for answers whose upstream gave none.
pub(super) fn new_id(prefix: &str) -> String {
    format!("{prefix}moxxy{:024x}", rand::random::<u128>() >> 32)
}

/// At most `max` characters of `text` with its whitespace runs collapsed, for error messages that
/// quote a body without dumping it.
pub(super) fn excerpt(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = collapsed.chars().take(max).collect();
    if collapsed.chars().count() > max {
        out.push('…');
    }
    out
}
