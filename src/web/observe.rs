//! What every request passes first: its id (`X-Request-Id`), the client's address
//! (through trusted proxies only), and, once answered, its metrics and its log line.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, web};

use super::AppState;
use crate::config::TrustedProxies;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const LOG_TARGET: &str = "roster::request";

/// The request's id: the client's own when it sent a usable one, else a fresh one.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The address of whoever sent the request, behind any trusted proxies.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl FromRequest for ClientAddress {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let address = request
            .extensions()
            .get::<ClientAddress>()
            .copied()
            .or_else(|| request.peer_addr().map(|peer| ClientAddress(peer.ip())))
            .unwrap_or(ClientAddress(IpAddr::from([0, 0, 0, 0])));
        std::future::ready(Ok(address))
    }
}

fn usable_request_id(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let usable = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    usable.then(|| value.to_owned())
}

/// The nearest address that is not one of our proxies, read from `X-Forwarded-For`
/// right to left: entries left of it were written by the client and prove nothing.
pub fn client_address(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = IpAddr>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(peer) {
        return client;
    }
    for hop in forwarded_for.rev() {
        client = hop;
        if !trusted.contains(hop) {
            break;
        }
    }
    client
}

fn forwarded_for(request: &ServiceRequest) -> Vec<IpAddr> {
    let mut hops = Vec::new();
    for value in request.headers().get_all(header::X_FORWARDED_FOR) {
        let Ok(value) = value.to_str() else {
            return Vec::new();
        };
        for hop in value.split(',') {
            // An entry that is no address ends the chain that can be believed.
            match hop.trim().parse() {
                Ok(address) => hops.push(address),
                Err(_) => hops.clear(),
            }
        }
    }
    hops
}

pub async fn observe(
    state: web::Data<AppState>,
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let started = Instant::now();
    let _in_flight = state.http_metrics.begin();
    let (id, client) = tag(&state, &request);
    let mut response = next.call(request).await?;
    record(&state, &response, &id, client, started.elapsed());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// Gives the request its id (the caller's, if usable) and its client's address.
fn tag(state: &AppState, request: &ServiceRequest) -> (String, IpAddr) {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(usable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let peer = request
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |peer| peer.ip());
    let client = client_address(
        peer,
        forwarded_for(request).into_iter(),
        &state.trusted_proxies,
    );
    request.extensions_mut().insert(ClientAddress(client));
    request.extensions_mut().insert(RequestId(id.clone()));
    (id, client)
}

/// The answer in the metrics, and in the log as one line.
fn record<B>(
    state: &AppState,
    response: &ServiceResponse<B>,
    id: &str,
    client: IpAddr,
    elapsed: Duration,
) {
    let status = response.status();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = response.request().method().clone();
    state
        .http_metrics
        .observe(&route, method.as_str(), status.as_u16(), elapsed);
    if log::log_enabled!(target: LOG_TARGET, log::Level::Info) && !is_probe(&route) {
        let path = response.request().path();
        log::info!(
            target: LOG_TARGET,
            method = method.as_str(),
            route = route.as_str(),
            status = status.as_u16(),
            duration_ms = (elapsed.as_secs_f64() * 10_000.0).round() / 10.0,
            request_id = id,
            client:% = client;
            "{method} {path} {} {:.1}ms",
            status.as_u16(),
            elapsed.as_secs_f64() * 1000.0
        );
    }
}

/// Asked every few seconds by orchestrators: a line each would drown the rest.
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        let hops = || [ip("198.51.100.1"), ip("203.0.113.7"), ip("10.0.0.3")].into_iter();
        assert_eq!(
            client_address(ip("10.0.0.2"), hops(), &trusted),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(ip("192.0.2.9"), hops(), &trusted),
            ip("192.0.2.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
        let untrusted = TrustedProxies::default();
        assert_eq!(
            client_address(ip("10.0.0.2"), hops(), &untrusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_request_id_is_kept_only_when_short_and_plain() {
        let id = |text: &str| usable_request_id(&HeaderValue::from_str(text).unwrap());
        assert_eq!(id("abc-123_X").as_deref(), Some("abc-123_X"));
        assert_eq!(id(""), None);
        assert_eq!(id("a b"), None);
        assert_eq!(id(&"x".repeat(65)), None);
        assert_eq!(id(&"x".repeat(64)).map(|id| id.len()), Some(64));
    }
}
