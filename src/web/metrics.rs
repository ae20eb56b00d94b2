//! `/metrics` in Prometheus' text format: HTTP requests by route and status with their
//! latencies, the duplicate index, the database pool, and the build.
//! `roster_store_calls_total` counts every database call, which is how "a duplicate
//! costs no query" is checked from outside.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use super::AppState;
use crate::index::IndexState;

pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    in_flight: IntGauge,
}

/// Counts a request as in flight for as long as it lives, however it ends.
pub struct InFlight<'a>(&'a IntGauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// From a rejected duplicate (about a millisecond) to a large import.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

impl Default for HttpMetrics {
    fn default() -> Self {
        let requests = IntCounterVec::new(
            Opts::new("roster_http_requests_total", "HTTP requests answered"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "roster_http_request_duration_seconds",
                "Time from a request's arrival to its answer",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("valid metric");
        let in_flight = IntGauge::new("roster_http_requests_in_flight", "Requests being answered")
            .expect("valid metric");
        let registry = Registry::new();
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(in_flight.clone()),
        ] {
            registry.register(metric).expect("registered once");
        }
        Self {
            registry,
            requests,
            latency,
            in_flight,
        }
    }
}

impl HttpMetrics {
    pub fn begin(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[route, method, status_label(status)])
            .inc();
        self.latency
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
    }
}

/// Statuses as static strings: no allocation per request for the common ones.
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        301 => "301",
        303 => "303",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        409 => "409",
        413 => "413",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        _ => match status / 100 {
            1 => "1xx",
            2 => "2xx",
            3 => "3xx",
            4 => "4xx",
            _ => "5xx",
        },
    }
}

fn gauge(out: &mut String, name: &str, help: &str, samples: &[(&str, u64)]) {
    use std::fmt::Write;
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut body = String::with_capacity(4096);
    index_metrics(&mut body, &state);
    store_metrics(&mut body, &state);
    gauge(
        &mut body,
        "roster_build_info",
        "The running release",
        &[(&format!("{{version=\"{}\"}}", crate::VERSION), 1)],
    );
    let mut encoded = Vec::new();
    if let Err(error) =
        TextEncoder::new().encode(&state.http_metrics.registry.gather(), &mut encoded)
    {
        log::warn!("failed to encode the HTTP metrics: {error}");
    }
    body.push_str(&String::from_utf8_lossy(&encoded));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

fn index_metrics(body: &mut String, state: &AppState) {
    let index = state.index().stats();
    let index_state = state.index().state();
    counter(
        body,
        "roster_index_rejections_total",
        "Duplicates turned away by the index alone",
        index.rejections,
    );
    counter(
        body,
        "roster_index_rebuilds_total",
        "Rebuilds of the duplicate index from the database",
        index.rebuilds,
    );
    gauge(
        body,
        "roster_index_ready",
        "1 when the duplicate index answers on its own",
        &[("", u64::from(index_state == IndexState::Ready))],
    );
    let states = [IndexState::Ready, IndexState::Rebuilding, IndexState::Down].map(|each| {
        (
            format!("{{state=\"{}\"}}", each.as_str()),
            each == index_state,
        )
    });
    let samples: Vec<(&str, u64)> = states
        .iter()
        .map(|(labels, current)| (labels.as_str(), u64::from(*current)))
        .collect();
    gauge(
        body,
        "roster_index_state",
        "The duplicate index's state, 1 for the current one",
        &samples,
    );
}

fn store_metrics(body: &mut String, state: &AppState) {
    let pool = state.store().pool_stats();
    counter(
        body,
        "roster_store_calls_total",
        "Calls made to the database",
        state.store().calls(),
    );
    gauge(
        body,
        "roster_db_pool_connections",
        "Database connections, open and in use",
        &[
            ("{state=\"open\"}", u64::from(pool.open)),
            ("{state=\"in_use\"}", u64::from(pool.in_use)),
        ],
    );
    gauge(
        body,
        "roster_db_pool_max_connections",
        "The most database connections the pool opens",
        &[("", u64::from(pool.max))],
    );
    gauge(
        body,
        "roster_db_pool_waiting",
        "Database calls waiting for a connection",
        &[("", pool.waiting)],
    );
}
