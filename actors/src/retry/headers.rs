//! The upstream's hints, read from its response headers (PROTOCOLS.md §0, §1.7, §2.6, §5).
//!
//! Every reader is tolerant: a missing, non-ASCII or malformed header is "no hint", never an
//! error, because a hint only refines what we would do anyway (back off).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// How one upstream writes the time a bucket is full again.
#[derive(Clone, Copy)]
enum Reset {
    /// An RFC 3339 instant (Anthropic).
    Rfc3339,
    /// A Go-style duration from now (OpenAI).
    GoDuration,
}

/// The rate-limit buckets we read: (remaining header, reset header, how the reset is written).
const BUCKETS: [(&str, &str, Reset); 6] = [
    (
        "anthropic-ratelimit-requests-remaining",
        "anthropic-ratelimit-requests-reset",
        Reset::Rfc3339,
    ),
    (
        "anthropic-ratelimit-tokens-remaining",
        "anthropic-ratelimit-tokens-reset",
        Reset::Rfc3339,
    ),
    (
        "anthropic-ratelimit-input-tokens-remaining",
        "anthropic-ratelimit-input-tokens-reset",
        Reset::Rfc3339,
    ),
    (
        "anthropic-ratelimit-output-tokens-remaining",
        "anthropic-ratelimit-output-tokens-reset",
        Reset::Rfc3339,
    ),
    (
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
        Reset::GoDuration,
    ),
    (
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-tokens",
        Reset::GoDuration,
    ),
];

/// A header's value as text, if it is there and printable ASCII.
fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// A finite, non-negative decimal number.
fn non_negative_number(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|value| value.is_finite() && *value >= 0.0)
}

/// How long the upstream asks us to wait, as both official SDKs read it: `retry-after-ms`
/// (milliseconds, fractions allowed) first, then `retry-after` as seconds (fractions allowed) or
/// as an HTTP date. A date already past means "now" (zero).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let from_ms = header_str(headers, "retry-after-ms")
        .and_then(non_negative_number)
        .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok());
    if from_ms.is_some() {
        return from_ms;
    }
    let value = header_str(headers, "retry-after")?;
    if let Some(seconds) = non_negative_number(value) {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The upstream's `x-should-retry: true|false`, which overrides what the status alone says.
pub fn should_retry(headers: &HeaderMap) -> Option<bool> {
    let value = header_str(headers, "x-should-retry")?;
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// How long until the upstream's empty buckets are full again: the latest reset among the buckets
/// whose `remaining` is 0, from Anthropic's `anthropic-ratelimit-*` or OpenAI's `x-ratelimit-*`
/// headers. `None` when no bucket is empty (or an empty one gives no readable reset); a reset
/// already past counts as zero. The caller caps it (a cool-down longer than its config allows is
/// the upstream's business, not ours).
pub fn exhausted_until(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    BUCKETS
        .iter()
        .filter(|(remaining, _, _)| {
            header_str(headers, remaining)
                .and_then(|value| value.parse::<f64>().ok())
                .is_some_and(|value| value <= 0.0)
        })
        .filter_map(|(_, reset, format)| {
            let value = header_str(headers, reset)?;
            match format {
                Reset::Rfc3339 => {
                    let at = parse_rfc3339(value)?;
                    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
                }
                Reset::GoDuration => parse_go_duration(value),
            }
        })
        .max()
}

/// The upstream rate-limit headers worth passing on to our clients, as name/value pairs in the
/// upstream's order: `x-ratelimit-*`, `anthropic-ratelimit-*`, `retry-after` and `retry-after-ms`
/// (the SDKs on the other side read the same headers to pace themselves).
pub fn passthrough_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            name.starts_with("x-ratelimit-")
                || name.starts_with("anthropic-ratelimit-")
                || name == "retry-after"
                || name == "retry-after-ms"
        })
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect()
}

/// A Go `time.Duration` string, as OpenAI writes its resets: repeated `<decimal><unit>` with units
/// `h`, `m`, `s`, `ms`, `us`/`µs`/`μs`, `ns` (`1s`, `6m0s`, `12ms`, `59.9s`, `1h2m3s`), or a bare
/// `0`. Negative or overflowing durations are `None`.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let (whole, after) = split_digits(rest);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after_dot) => split_digits(after_dot),
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        // The unit runs to the next number, so `ms` is never read as `m` followed by junk.
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        total_nanos = total_nanos.checked_add(whole.checked_mul(unit_nanos)?)?;
        // Digits past the eighteenth are below a nanosecond of any unit: ignore them.
        let fraction = fraction.get(..fraction.len().min(18)).unwrap_or("");
        if !fraction.is_empty() {
            let digits: u128 = fraction.parse().ok()?;
            let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
            total_nanos = total_nanos.checked_add(digits.checked_mul(unit_nanos)? / scale)?;
        }
        rest = after;
    }
    u64::try_from(total_nanos).ok().map(Duration::from_nanos)
}

/// Splits `text` after its leading ASCII digits.
fn split_digits(text: &str) -> (&str, &str) {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    text.split_at(len)
}

/// An RFC 3339 instant (`2025-08-21T12:40:59Z`, with or without fractions, `Z` or a `±HH:MM`
/// offset; lower-case `t`/`z` and a space for `T` are accepted, a missing zone is read as UTC).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let text = text.trim().to_ascii_uppercase();
    let (local, offset) = split_offset(&text)?;
    let local = humantime::parse_rfc3339_weak(&local).ok()?;
    // `local` is the wall time at `offset` from UTC: UTC = local - offset.
    if offset >= 0 {
        local.checked_sub(Duration::from_secs(offset.unsigned_abs()))
    } else {
        local.checked_add(Duration::from_secs(offset.unsigned_abs()))
    }
}

/// Splits a trailing `±HH:MM` offset off an upper-cased timestamp: the timestamp in UTC form
/// (ending in `Z`) and the offset in seconds. A timestamp without one is returned as is, offset 0.
fn split_offset(text: &str) -> Option<(String, i64)> {
    let Some(split) = text.len().checked_sub(6) else {
        return Some((text.to_string(), 0));
    };
    let (Some(head), Some(tail)) = (text.get(..split), text.get(split..)) else {
        return Some((text.to_string(), 0));
    };
    let bytes = tail.as_bytes();
    let sign = match bytes.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Some((text.to_string(), 0)),
    };
    if bytes.get(3) != Some(&b':') {
        return Some((text.to_string(), 0));
    }
    let hours = two_digits(tail.get(1..3)?).filter(|h| *h < 24)?;
    let minutes = two_digits(tail.get(4..6)?).filter(|m| *m < 60)?;
    Some((format!("{head}Z"), sign * (hours * 3600 + minutes * 60)))
}

/// Exactly two ASCII digits.
fn two_digits(text: &str) -> Option<i64> {
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}
