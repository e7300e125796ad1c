//! Upstream addresses: absolute http(s) URLs that paths are appended to, with no credentials in
//! them, and no plain http across the network for a provider that sends a key.

use std::net::IpAddr;

use reqwest::Url;

/// Why an address was refused, in words that never repeat it.
pub const EXPECTED_URL: &str =
    "expected an absolute http(s) URL like https://api.example.com/v1; fix the address";

/// The address, trimmed and without trailing `/` (paths are appended to it), if it is an
/// absolute `http`/`https` URL with a host, no user or password, no query and no fragment.
pub fn check_url(raw: &str) -> Result<String, String> {
    let text = raw.trim().trim_end_matches('/');
    let url = Url::parse(text).map_err(|_| EXPECTED_URL.to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(EXPECTED_URL.to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain a user name or password: keys never go in config; set \
                    ANTHROPIC_API_KEY / OPENAI_API_KEY or use the vault"
                .to_string(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(
            "must not have a query (?…) or fragment (#…): request paths are appended to it; \
             remove them"
                .to_string(),
        );
    }
    Ok(text.to_string())
}

/// Whether a request to this (checked) URL would carry a key in clear across the network:
/// plain `http` to a host other than loopback.
pub fn is_insecure(url: &str) -> bool {
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    if url.scheme() != "http" {
        return false;
    }
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => !ip.is_loopback(),
        Err(_) => host != "localhost" && !host.ends_with(".localhost"),
    }
}

/// Anthropic's address without a trailing `/v1`: its SDKs read `ANTHROPIC_BASE_URL` without
/// it and append `/v1/messages`, so a `…/v1` given by habit would otherwise double the version.
pub fn strip_v1(url: String) -> String {
    match url.strip_suffix("/v1") {
        Some(base) if check_url(base).is_ok() => base.to_string(),
        _ => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_and_checked() {
        assert_eq!(
            check_url(" https://x.example/v1/ ").as_deref(),
            Ok("https://x.example/v1")
        );
        for bad in [
            "api.openai.com",
            "ftp://x.example",
            "http://",
            "/v1",
            "https://u:p@x.example",
            "https://x.example/?a=1",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_http_is_insecure_off_loopback() {
        assert!(is_insecure("http://10.0.0.2:8080"));
        assert!(is_insecure("http://proxy.internal"));
        assert!(!is_insecure("http://127.0.0.1:9000"));
        assert!(!is_insecure("http://[::1]:9000"));
        assert!(!is_insecure("http://localhost:9000"));
        assert!(!is_insecure("https://proxy.internal"));
    }

    #[test]
    fn anthropic_v1_is_stripped_once() {
        assert_eq!(
            strip_v1("https://api.anthropic.com/v1".into()),
            "https://api.anthropic.com"
        );
        assert_eq!(
            strip_v1("https://p.example/anthropic".into()),
            "https://p.example/anthropic"
        );
    }
}
