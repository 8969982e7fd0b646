//! The operations listener (`ops.listen`, default 127.0.0.1:8471): `/healthz` (the process is
//! alive), `/readyz` (the database answers, its migrations are current, and keys to seal to
//! are registered) and `/metrics` (Prometheus text, see [`crate::metrics`]).
//!
//! Invariant: nothing served here names a person, a chat, a case or any text; answers are
//! fixed strings and counts. The listener is for the host, a container health check and
//! Prometheus; it must not be published on the Internet (deploy/ keeps it on loopback or the
//! internal network).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::metrics::METRICS;
use crate::store::Store;

/// Why the process is not ready, in one fixed phrase.
pub async fn readiness(store: &Store) -> Result<(), &'static str> {
    store.ping().await.map_err(|_| "database unreachable")?;
    match store.migrations_current().await {
        Ok(true) => {}
        Ok(false) => return Err("database migrations pending"),
        Err(_) => return Err("database unreachable"),
    }
    let ring = store.keyring().await.map_err(|_| "database unreachable")?;
    if ring.reviewers.is_empty() {
        return Err("no active reviewer key");
    }
    if ring.custodians.is_empty() {
        return Err("no active custodian key");
    }
    Ok(())
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(store): State<Store>) -> (StatusCode, String) {
    match readiness(&store).await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

async fn metrics(State(store): State<Store>) -> impl IntoResponse {
    let queue = store.case_counts().await.ok();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        METRICS.render(queue.as_deref()),
    )
}

/// The router (exposed for tests).
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(store)
}

/// Binds `listen` and serves the ops endpoints in a background task until it is aborted.
pub async fn spawn(
    listen: SocketAddr,
    store: Store,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(listen = %listen, "ops endpoints listening");
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(store)).await {
            tracing::warn!(error = %e, "the ops listener failed");
        }
    }))
}
