//! Reading the upstream's hints from response headers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use moxxy_actors::retry::{
    exhausted_until, parse_go_duration, parse_rfc3339, passthrough_headers, retry_after,
    should_retry,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// 2025-08-21T12:40:00Z, a fixed "now".
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_755_780_000)
}

#[test]
fn retry_after_ms_is_read_as_float_milliseconds() {
    let h = headers(&[("retry-after-ms", "1500.5")]);
    assert_eq!(
        retry_after(&h, now()),
        Some(Duration::from_micros(1_500_500))
    );
}

#[test]
fn retry_after_ms_wins_over_retry_after() {
    let h = headers(&[("retry-after", "30"), ("retry-after-ms", "250")]);
    assert_eq!(retry_after(&h, now()), Some(Duration::from_millis(250)));
}

#[test]
fn garbage_retry_after_ms_falls_back_to_retry_after() {
    let h = headers(&[("retry-after-ms", "soon"), ("retry-after", "7")]);
    assert_eq!(retry_after(&h, now()), Some(Duration::from_secs(7)));
}

#[test]
fn retry_after_seconds_may_be_fractional() {
    let h = headers(&[("retry-after", "2.5")]);
    assert_eq!(retry_after(&h, now()), Some(Duration::from_millis(2500)));
    let h = headers(&[("retry-after", " 3 ")]);
    assert_eq!(retry_after(&h, now()), Some(Duration::from_secs(3)));
}

#[test]
fn retry_after_http_date_in_the_future_is_the_time_until_it() {
    let date = httpdate::fmt_http_date(now() + Duration::from_secs(42));
    let h = headers(&[("retry-after", &date)]);
    assert_eq!(retry_after(&h, now()), Some(Duration::from_secs(42)));
}

#[test]
fn retry_after_http_date_in_the_past_is_zero() {
    let date = httpdate::fmt_http_date(now() - Duration::from_secs(42));
    let h = headers(&[("retry-after", &date)]);
    assert_eq!(retry_after(&h, now()), Some(Duration::ZERO));
}

#[test]
fn garbage_or_missing_retry_after_is_no_hint() {
    for value in ["soon", "-1", "NaN", "inf", "", "1e400", "Wed, 99 Foo 2025"] {
        let h = headers(&[("retry-after", value)]);
        assert_eq!(retry_after(&h, now()), None, "retry-after: {value:?}");
    }
    assert_eq!(retry_after(&HeaderMap::new(), now()), None);
}

#[test]
fn should_retry_reads_true_and_false_only() {
    assert_eq!(
        should_retry(&headers(&[("x-should-retry", "true")])),
        Some(true)
    );
    assert_eq!(
        should_retry(&headers(&[("x-should-retry", "false")])),
        Some(false)
    );
    assert_eq!(
        should_retry(&headers(&[("x-should-retry", "TRUE")])),
        Some(true)
    );
    assert_eq!(should_retry(&headers(&[("x-should-retry", "maybe")])), None);
    assert_eq!(should_retry(&HeaderMap::new()), None);
}

#[test]
fn anthropic_exhausted_until_is_the_latest_reset_of_empty_buckets() {
    let h = headers(&[
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", "2025-08-21T12:40:10Z"),
        ("anthropic-ratelimit-tokens-remaining", "0"),
        ("anthropic-ratelimit-tokens-reset", "2025-08-21T12:40:40.5Z"),
        // Not empty: its later reset must not count.
        ("anthropic-ratelimit-input-tokens-remaining", "5000"),
        (
            "anthropic-ratelimit-input-tokens-reset",
            "2025-08-21T12:45:00Z",
        ),
    ]);
    assert_eq!(
        exhausted_until(&h, now()),
        Some(Duration::from_millis(40_500))
    );
}

#[test]
fn anthropic_output_tokens_bucket_counts_and_offsets_are_honoured() {
    let h = headers(&[
        ("anthropic-ratelimit-output-tokens-remaining", "0"),
        // 14:41:00 at +02:00 is 12:41:00 UTC.
        (
            "anthropic-ratelimit-output-tokens-reset",
            "2025-08-21T14:41:00+02:00",
        ),
    ]);
    assert_eq!(exhausted_until(&h, now()), Some(Duration::from_secs(60)));
}

#[test]
fn an_empty_bucket_whose_reset_is_past_gives_zero() {
    let h = headers(&[
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", "2025-08-21T12:39:00Z"),
    ]);
    assert_eq!(exhausted_until(&h, now()), Some(Duration::ZERO));
}

#[test]
fn openai_exhausted_until_reads_go_durations() {
    let h = headers(&[
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-reset-requests", "1.5s"),
        ("x-ratelimit-remaining-tokens", "0"),
        ("x-ratelimit-reset-tokens", "6m0s"),
    ]);
    assert_eq!(exhausted_until(&h, now()), Some(Duration::from_secs(360)));
}

#[test]
fn buckets_with_tokens_left_do_not_count() {
    let h = headers(&[
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-reset-requests", "12ms"),
        ("x-ratelimit-remaining-tokens", "149984"),
        ("x-ratelimit-reset-tokens", "1h"),
    ]);
    assert_eq!(exhausted_until(&h, now()), Some(Duration::from_millis(12)));
    let none_empty = headers(&[
        ("x-ratelimit-remaining-requests", "10"),
        ("x-ratelimit-reset-requests", "1s"),
        ("anthropic-ratelimit-tokens-remaining", "1000"),
        ("anthropic-ratelimit-tokens-reset", "2025-08-21T12:41:00Z"),
    ]);
    assert_eq!(exhausted_until(&none_empty, now()), None);
}

#[test]
fn an_empty_bucket_with_an_unreadable_reset_is_ignored() {
    let h = headers(&[
        ("x-ratelimit-remaining-tokens", "0"),
        ("x-ratelimit-reset-tokens", "soon"),
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", "tomorrow"),
    ]);
    assert_eq!(exhausted_until(&h, now()), None);
}

#[test]
fn go_durations_parse_as_go_does() {
    let table: [(&str, Option<Duration>); 16] = [
        ("1s", Some(Duration::from_secs(1))),
        ("6m0s", Some(Duration::from_secs(360))),
        ("12ms", Some(Duration::from_millis(12))),
        ("59.9s", Some(Duration::from_millis(59_900))),
        ("1h2m3s", Some(Duration::from_secs(3723))),
        ("500us", Some(Duration::from_micros(500))),
        ("1µs", Some(Duration::from_micros(1))),
        ("1μs", Some(Duration::from_micros(1))),
        ("10ns", Some(Duration::from_nanos(10))),
        ("2m59.56s", Some(Duration::from_millis(179_560))),
        (".5s", Some(Duration::from_millis(500))),
        ("0", Some(Duration::ZERO)),
        ("5", None),
        ("-1s", None),
        ("1x", None),
        ("", None),
    ];
    for (text, expected) in table {
        assert_eq!(parse_go_duration(text), expected, "{text:?}");
    }
    for garbage in ["s", "1.5.5s", "ms", "1h 2m", "99999999999999999999999h"] {
        assert_eq!(parse_go_duration(garbage), None, "{garbage:?}");
    }
}

#[test]
fn rfc3339_accepts_fractions_offsets_and_lower_case() {
    let base = UNIX_EPOCH + Duration::from_secs(1_755_780_059);
    assert_eq!(parse_rfc3339("2025-08-21T12:40:59Z"), Some(base));
    assert_eq!(parse_rfc3339("2025-08-21t12:40:59z"), Some(base));
    assert_eq!(parse_rfc3339("2025-08-21T12:40:59+00:00"), Some(base));
    assert_eq!(parse_rfc3339("2025-08-21T07:40:59-05:00"), Some(base));
    assert_eq!(
        parse_rfc3339("2025-08-21T12:40:59.250Z"),
        Some(base + Duration::from_millis(250))
    );
    for garbage in [
        "",
        "2025-08-21",
        "2025-13-21T12:40:59Z",
        "2025-08-21T12:40:59+25:00",
    ] {
        assert_eq!(parse_rfc3339(garbage), None, "{garbage:?}");
    }
}

#[test]
fn passthrough_keeps_rate_limit_headers_only() {
    let h = headers(&[
        ("content-type", "application/json"),
        ("x-request-id", "req_1"),
        ("x-ratelimit-remaining-requests", "9"),
        ("x-ratelimit-reset-tokens", "6m0s"),
        ("anthropic-ratelimit-tokens-remaining", "1000"),
        ("anthropic-priority-input-tokens-limit", "10"),
        ("retry-after", "3"),
        ("retry-after-ms", "3000"),
    ]);
    let mut kept = passthrough_headers(&h);
    kept.sort();
    let expected: Vec<(String, String)> = [
        ("anthropic-ratelimit-tokens-remaining", "1000"),
        ("retry-after", "3"),
        ("retry-after-ms", "3000"),
        ("x-ratelimit-remaining-requests", "9"),
        ("x-ratelimit-reset-tokens", "6m0s"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(kept, expected);
}
