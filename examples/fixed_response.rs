//! The benchmark's HTTP limit: the same server stack as Roster (actix-web, same worker
//! count) answering a fixed body, so `scripts/bench` can say what share of the
//! machine's HTTP capacity each scenario reaches.

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18999".into());
    HttpServer::new(|| {
        App::new().default_service(web::to(|| async {
            HttpResponse::Ok().content_type("text/plain").body("ok\n")
        }))
    })
    .bind(address)?
    .run()
    .await
}
