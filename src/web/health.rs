use actix_web::{HttpResponse, web};

use super::AppState;
use super::error::probe_answer;
use crate::index::IndexState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Ready when the database answers. A rebuilding index still serves (requests go to the
/// database meanwhile); an unreachable one is named, since duplicates are then slower.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = match state.store().ping().await {
        Ok(()) => "ok",
        Err(_) => "unreachable",
    };
    let index = match state.index().state() {
        IndexState::Ready => "ok",
        IndexState::Rebuilding => "rebuilding",
        IndexState::Down => "unreachable",
    };
    let body = format!("database: {database}\nindex: {index}\n");
    let healthy = database == "ok" && index != "unreachable";
    probe_answer(healthy, body)
}
