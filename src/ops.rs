//! The operations listener (`ops.listen`, default 127.0.0.1:8471): `/healthz` (the process is
//! alive), `/readyz` (the process is not shutting down, the database answers, its migrations
//! are current — or ahead by additive ones only, see [`crate::store::SchemaState`] — and keys
//! to seal to are registered) and `/metrics` (Prometheus text, see [`crate::metrics`]).
//!
//! `/readyz` turns 503 as soon as SIGTERM arrives, so that a load balancer stops sending new
//! updates to a replica that is draining.
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
use crate::store::{SchemaState, Store};

/// What the ops endpoints look at.
#[derive(Clone)]
pub struct OpsState {
    store: Store,
    /// True once the process is shutting down.
    stopping: tokio::sync::watch::Receiver<bool>,
    /// The bot's keyring pin: readiness then requires the signed keyring to verify.
    trust: Option<std::sync::Arc<crate::trust::Trust>>,
}

impl OpsState {
    /// The state for `store`; `stopping` turns true when shutdown begins.
    pub fn new(store: Store, stopping: tokio::sync::watch::Receiver<bool>) -> Self {
        Self {
            store,
            stopping,
            trust: None,
        }
    }

    /// Readiness also requires the signed keyring to verify against `trust` (`serve`): a
    /// forged or cut-back keyring makes the bot refuse to seal, and the operator sees why.
    #[must_use]
    pub fn with_trust(mut self, trust: std::sync::Arc<crate::trust::Trust>) -> Self {
        self.trust = Some(trust);
        self
    }
}

/// Why the process is not ready, in one fixed phrase.
pub async fn readiness(
    store: &Store,
    trust: Option<&crate::trust::Trust>,
) -> Result<(), &'static str> {
    store.ping().await.map_err(|_| "database unreachable")?;
    match store.schema_state().await {
        Ok(SchemaState::Current | SchemaState::AheadAdditive) => {}
        Ok(SchemaState::Pending) => return Err("database migrations pending"),
        Ok(SchemaState::Incompatible(_)) => {
            return Err("the database has migrations this version does not know");
        }
        Err(_) => return Err("database unreachable"),
    }
    let ring = match trust {
        Some(t) => t.sealing_keyring(store).await.map_err(|e| match e {
            crate::trust::TrustError::Store(_) => "database unreachable",
            _ => "the signed keyring does not verify against the pinned authority",
        })?,
        None => store.keyring().await.map_err(|_| "database unreachable")?,
    };
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

async fn readyz(State(state): State<OpsState>) -> (StatusCode, String) {
    if *state.stopping.borrow() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: shutting down\n".to_owned(),
        );
    }
    match readiness(&state.store, state.trust.as_deref()).await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

async fn metrics(State(state): State<OpsState>) -> impl IntoResponse {
    // A failed count is shown as tipline_database_up 0, not hidden.
    // Counted once an hour: a gauge that moved with every report would date it.
    let queue = METRICS
        .case_gauges(crate::clock::unix_now(), || state.store.case_counts())
        .await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        METRICS.render(queue.as_deref()),
    )
}

/// The router (exposed for tests).
pub fn router(state: OpsState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Binds `listen` and serves the ops endpoints in a background task until it is aborted.
pub async fn spawn(
    listen: SocketAddr,
    state: OpsState,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(listen = %listen, "ops endpoints listening");
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(state)).await {
            tracing::warn!(error = %e, "the ops listener failed");
        }
    }))
}
