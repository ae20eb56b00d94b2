//! `roster health`: asks a running server whether it is alive, for container
//! healthchecks in an image that has no curl. Plain HTTP/1.1 over a socket with a
//! deadline on every step: a probe must never hang longer than the check allows.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use actix_web::http::Uri;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";
const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("{0:?} is not an http://HOST[:PORT] address")]
    BadUrl(String),
    #[error("could not reach {url}")]
    Unreachable {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url} answered {status:?}")]
    Unhealthy { url: String, status: String },
}

/// Succeeds when `GET {base}/healthz` answers 200.
pub fn check(base: &str) -> Result<(), HealthError> {
    let bad_url = || HealthError::BadUrl(base.to_owned());
    let uri: Uri = base.parse().map_err(|_| bad_url())?;
    if uri.scheme_str() != Some("http") {
        return Err(bad_url());
    }
    let host = uri.host().ok_or_else(bad_url)?;
    let port = uri.port_u16().unwrap_or(80);
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    let unreachable = |source| HealthError::Unreachable {
        url: url.clone(),
        source,
    };
    let address = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(unreachable)?
        .next()
        .ok_or_else(bad_url)?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(unreachable)?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(unreachable)?;
    let path = format!("{}/healthz", uri.path().trim_end_matches('/'));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(unreachable)?;
    // The status line is all that is needed.
    let mut status_line = String::new();
    BufReader::new(stream.take(256))
        .read_line(&mut status_line)
        .map_err(unreachable)?;
    let status_line = status_line.trim_end();
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(HealthError::Unhealthy {
            url,
            status: status_line.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_addresses_are_accepted() {
        for url in [
            "https://127.0.0.1:8080",
            "127.0.0.1:8080",
            "http://",
            "ftp://x",
        ] {
            assert!(matches!(check(url), Err(HealthError::BadUrl(_))), "{url}");
        }
    }

    #[test]
    fn a_closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let answer = check(&format!("http://127.0.0.1:{port}"));
        assert!(matches!(answer, Err(HealthError::Unreachable { .. })));
    }
}
