//! Typed reads of a client's JSON fields. `null` counts as absent; a value of the wrong type is an
//! [`ErrorKind::InvalidRequest`](crate::error::ErrorKind) error whose `param` is the field's path
//! (`messages[2].images[0]`) and whose message says what the field must be.

use serde_json::Value;

use super::shared::invalid;
use crate::error::ProviderError;
use crate::messages::JsonObject;

/// The field, treating `null` as absent.
pub(super) fn field<'a>(object: &'a JsonObject, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

/// `path` is not of the type `expected` describes (e.g. "a string").
pub(super) fn wrong_type(path: &str, expected: &str) -> ProviderError {
    invalid(path, format!("{path} must be {expected}"))
}

pub(super) fn opt_str<'a>(
    object: &'a JsonObject,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, ProviderError> {
    match field(object, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(path, "a string")),
    }
}

pub(super) fn opt_bool(
    object: &JsonObject,
    key: &str,
    path: &str,
) -> Result<Option<bool>, ProviderError> {
    match field(object, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(path, "true or false")),
    }
}

pub(super) fn opt_f64(
    object: &JsonObject,
    key: &str,
    path: &str,
) -> Result<Option<f64>, ProviderError> {
    match field(object, key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| wrong_type(path, "a number")),
    }
}

/// A whole number, possibly negative (Ollama uses `-1` for "unlimited").
pub(super) fn opt_i64(
    object: &JsonObject,
    key: &str,
    path: &str,
) -> Result<Option<i64>, ProviderError> {
    match field(object, key) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(path, "a whole number")),
    }
}

pub(super) fn opt_u32(
    object: &JsonObject,
    key: &str,
    path: &str,
) -> Result<Option<u32>, ProviderError> {
    match field(object, key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| wrong_type(path, "a whole number from 0 to 4294967295")),
    }
}

pub(super) fn opt_array<'a>(
    object: &'a JsonObject,
    key: &str,
    path: &str,
) -> Result<Option<&'a Vec<Value>>, ProviderError> {
    match field(object, key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(wrong_type(path, "an array")),
    }
}

pub(super) fn as_object<'a>(value: &'a Value, path: &str) -> Result<&'a JsonObject, ProviderError> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(path, "a JSON object"))
}

/// An array of strings (a lone string is taken as a one-element array, as clients often send).
pub(super) fn opt_strings(
    object: &JsonObject,
    key: &str,
    path: &str,
) -> Result<Option<Vec<String>>, ProviderError> {
    match field(object, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(wrong_type(&format!("{path}[{i}]"), "a string")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(wrong_type(path, "an array of strings")),
    }
}
