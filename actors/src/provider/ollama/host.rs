//! `OLLAMA_HOST`, read the way Ollama itself reads it (`envconfig.Host()`), so a value that works
//! for the `ollama` CLI works for Moxxy too.
//!
//! Two differences, both because Moxxy connects where Ollama binds: an unspecified or empty host
//! (`0.0.0.0`, `::`, `:1234`) becomes loopback, and a trailing `/` of a proxy path is dropped so
//! paths can be appended. The scheme is compared case-insensitively.

use std::net::IpAddr;

/// Ollama's port when `OLLAMA_HOST` names none and no scheme implies one.
const DEFAULT_PORT: u16 = 11434;

/// The base URL to reach Ollama at, from the value of `OLLAMA_HOST` (`None` when unset), without a
/// trailing slash, e.g. `http://127.0.0.1:11434` or `https://example.com:443/ollama`.
///
/// Follows Ollama's rules: surrounding spaces and quotes are stripped; a bare host gets port 11434;
/// `http://` and `https://` default to 80 and 443; a bad port falls back to the default; a path
/// is kept; the bare name `ollama.com` means `https://ollama.com:443`.
pub fn parse_host(value: Option<&str>) -> String {
    let raw = value.unwrap_or("").trim().trim_matches(['"', '\'']).trim();
    let (scheme, rest, default_port) = match raw.split_once("://") {
        None if raw == "ollama.com" => ("https".to_string(), "ollama.com:443", 443),
        None => ("http".to_string(), raw, DEFAULT_PORT),
        Some((scheme, rest)) => {
            let scheme = scheme.to_ascii_lowercase();
            let port = match scheme.as_str() {
                "http" => 80,
                "https" => 443,
                _ => DEFAULT_PORT,
            };
            (scheme, rest, port)
        }
    };
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = match split_host_port(hostport) {
        Some((host, port)) => (host.to_string(), parse_port(port).unwrap_or(default_port)),
        None => (bare_host(hostport), default_port),
    };
    let host = connectable(host);
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://{authority}/{path}")
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[v6]:port`; `None` when there is no port or the host
/// is an unbracketed IPv6 address.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return (!port.contains(['[', ']'])).then_some((host, port));
    }
    let (host, port) = hostport.rsplit_once(':')?;
    (!host.contains([':', '[', ']'])).then_some((host, port))
}

/// A host given without a port: an IP address (brackets optional) or a name.
fn bare_host(hostport: &str) -> String {
    match hostport.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => hostport.to_string(),
    }
}

/// A port Ollama accepts: a decimal number from 0 to 65535.
fn parse_port(port: &str) -> Option<u16> {
    port.parse::<i64>().ok().and_then(|n| u16::try_from(n).ok())
}

/// Where a client connects for a host Ollama binds to: the unspecified address (or none) means
/// "every interface", so loopback of the same family is reached.
fn connectable(host: String) -> String {
    match host.parse::<IpAddr>() {
        _ if host.is_empty() => "127.0.0.1".to_string(),
        Ok(IpAddr::V4(ip)) if ip.is_unspecified() => "127.0.0.1".to_string(),
        Ok(IpAddr::V6(ip)) if ip.is_unspecified() => "::1".to_string(),
        _ => host,
    }
}
