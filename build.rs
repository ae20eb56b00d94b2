// Migrations are embedded at compile time; without this, a new migration directory is
// silently left out of the binary until some Rust file changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
