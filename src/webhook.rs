//! Webhook mode: the Bot API posts updates to an axum endpoint behind the TLS-terminating
//! reverse proxy; several replicas on one PostgreSQL database behave as one bot.
//!
//! Each request is handled to the end before it is answered (Telegram redelivers an update
//! that did not get a 2xx), through a per-update guard:
//! 1. the `X-Telegram-Bot-Api-Secret-Token` header is compared in constant time (teloxide's
//!    own webhook helper compares with `==`), on SHA-256 digests so that not even the length
//!    of the secret leaks;
//! 2. the turn runs in a task of its own, which the request awaits: axum drops a request's
//!    future when the client disconnects, and that must never cancel a turn half-way;
//! 3. the person's lock is taken: in this process (a keyed mutex), and across replicas a
//!    PostgreSQL advisory lock keyed by the pseudonym, so one person's updates never run
//!    concurrently anywhere (the lock key is pseudonymous: `pg_locks` shows no Telegram id);
//! 4. the update id is claimed (`processed_updates`, `INSERT … ON CONFLICT DO NOTHING`) inside
//!    that lock and committed before the update is handled: a redelivery, to this replica or
//!    another, finds the claim and is answered 200 without a second reply or report.
//!
//! Time bound: waiting for the locks, and the whole request, are bounded by
//! `webhook.update_timeout_secs` (PostgreSQL's `lock_timeout` for the advisory lock). An update
//! that could not get its locks in time is answered 503 with nothing claimed, so Telegram
//! delivers it again later; one whose turn is still running at the bound is answered 503 too
//! (the turn goes on), and its redelivery finds the claim once the turn is done. The claim
//! itself is never cut short: abandoning a claim that reached the database would lose the
//! update.
//!
//! Why the claim is committed before the turn (at most once) rather than with it: a turn makes
//! several commits of its own (draft, case, receipt) and sends messages; replaying a turn that
//! got half-way would apply a person's text to a step it was not meant for, or send a second
//! reply. With the turn in its own task, the only way to lose an update is a process that dies
//! mid-turn (a crash, or the shutdown bound); the person then sees no answer and sends again.
//!
//! Order: Telegram delivers one person's updates in order, and a person acts after seeing the
//! bot's answer; the lock makes sure two updates of one person never overlap, whichever
//! replica gets them.
//!
//! Shutdown: on SIGTERM the listener stops accepting, requests in flight finish, and the
//! process exits after at most the drain bound; the webhook stays registered for the other
//! replicas.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use teloxide::prelude::*;
use tracing::{info, warn};

use crate::bot::{App, TgBot};
use crate::metrics::METRICS;

/// The header carrying the secret token.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// How many updates one replica handles at once: each holds a database connection for its
/// lock while its turn needs others from the same pool (16), so this stays well below it.
const MAX_IN_FLIGHT: usize = 6;

/// Errors of the webhook server. None carries content.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Registering the webhook or the command menus with Telegram failed.
    #[error("registering the webhook with Telegram failed: {0}")]
    Register(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The server failed.
    #[error("the webhook server failed: {0}")]
    Serve(std::io::Error),
    /// After the stop signal, updates were still in flight when the drain bound was reached
    /// (they are abandoned; Telegram redelivers those it got no answer for).
    #[error("updates were still in flight when the drain bound was reached")]
    DrainBound,
}

/// Webhook settings.
pub struct WebhookOptions {
    /// The public URL Telegram posts to (its path is served here).
    pub url: url::Url,
    /// The local address behind the reverse proxy.
    pub listen: SocketAddr,
    /// The secret token.
    pub secret: SecretString,
    /// How long in-flight updates may take to finish after the stop signal.
    pub drain: Duration,
    /// How long one update may wait for its locks and be handled before it is answered 503.
    pub update_timeout: Duration,
}

/// A secret compared in constant time.
struct SecretCheck {
    digest: [u8; 32],
}

impl SecretCheck {
    fn new(secret: &SecretString) -> Self {
        Self {
            digest: Sha256::digest(secret.expose_secret().as_bytes()).into(),
        }
    }

    fn matches(&self, given: Option<&[u8]>) -> bool {
        // Hashing first makes the comparison independent of the given length too.
        let d: [u8; 32] = Sha256::digest(given.unwrap_or(b"")).into();
        given.is_some() && bool::from(d.ct_eq(&self.digest))
    }
}

/// In-process locks by key; entries disappear when nobody holds or waits for them.
#[derive(Default)]
struct KeyedLocks {
    map: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    async fn lock(&self, key: i64) -> KeyedGuard<'_> {
        let m = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key).or_default().clone()
        };
        let guard = m.clone().lock_owned().await;
        KeyedGuard {
            locks: self,
            key,
            _guard: Some(guard),
            mutex: m,
        }
    }
}

struct KeyedGuard<'a> {
    locks: &'a KeyedLocks,
    key: i64,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    mutex: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for KeyedGuard<'_> {
    fn drop(&mut self) {
        self._guard.take();
        let mut map = self.locks.map.lock().unwrap_or_else(|e| e.into_inner());
        // Two references left (the map's and ours): nobody else holds or waits.
        if Arc::strong_count(&self.mutex) == 2 {
            map.remove(&self.key);
        }
    }
}

struct Hook {
    bot: TgBot,
    app: Arc<App>,
    secret: SecretCheck,
    local: KeyedLocks,
    permits: tokio::sync::Semaphore,
    update_timeout: Duration,
}

/// The lock key of an update: from the pseudonym of the person (or of the chat, for updates
/// without one), so that neither a Telegram id nor a chat id reaches the database's lock table.
fn lock_key(app: &App, update: &Update) -> i64 {
    let id = update
        .from()
        .map(|u| i64::try_from(u.id.0).unwrap_or(i64::MAX))
        .or_else(|| update.chat().map(|c| c.id.0));
    match id {
        Some(id) => {
            let p = app.secret.pseudonym(id);
            let mut k = [0u8; 8];
            k.copy_from_slice(&p.0[..8]);
            i64::from_be_bytes(k)
        }
        None => 0,
    }
}

async fn receive(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if !hook
        .secret
        .matches(headers.get(SECRET_HEADER).map(|v| v.as_bytes()))
    {
        METRICS.rejected();
        warn!("webhook request with a wrong or missing secret token refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(_) => {
            // A redelivery would not parse either: accept, count, and move on.
            warn!("unreadable update dropped");
            METRICS.update("other");
            return StatusCode::OK;
        }
    };
    let deadline = tokio::time::Instant::now() + hook.update_timeout;
    // This future is dropped if the client disconnects; the spawned turn is not.
    let turn = tokio::spawn(turn(hook.clone(), update, deadline));
    match tokio::time::timeout_at(deadline, turn).await {
        Ok(Ok(status)) => status,
        Ok(Err(_)) => {
            // The handler panicked after the claim: a redelivery is answered as a duplicate.
            warn!("update handling panicked");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        Err(_) => {
            warn!("update still being handled at its time bound; answered 503");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// One update: admitted (the locks, waited for until `deadline`; then the claim), then
/// handled to the end.
async fn turn(hook: Arc<Hook>, update: Update, deadline: tokio::time::Instant) -> StatusCode {
    let key = lock_key(&hook.app, &update);
    let locked = tokio::time::timeout_at(deadline, async {
        // The person's local lock first: waiting for it holds no database connection, so one
        // person's burst cannot take every permit while the others wait.
        let local = hook.local.lock(key).await;
        let permit = hook.permits.acquire().await.ok()?;
        let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
        match hook.app.store.lock_chat(key, wait).await {
            Ok(lock) => Some((local, permit, lock)),
            Err(e) => {
                // lock_timeout, or the database is down.
                warn!(error = %e, "could not take a chat lock");
                None
            }
        }
    })
    .await;
    // Cancelling the wait above is safe: an unfinished lock attempt ends with its
    // transaction, and nothing is claimed yet, so Telegram's redelivery is handled normally.
    let Ok(Some((_local, _permit, lock))) = locked else {
        warn!("an update could not get the person's lock in time; answered 503");
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    // Not under the deadline: a claim that reached the database must not be abandoned, or the
    // update would be lost (claimed, never handled).
    let day = crate::clock::Day::today().0;
    match hook.app.store.claim_update(update.id.0, day).await {
        Ok(true) => {}
        Ok(false) => {
            METRICS.duplicate();
            tracing::debug!("redelivered update ignored");
            lock.release().await;
            return StatusCode::OK;
        }
        Err(e) => {
            warn!(error = %e, "could not claim an update");
            lock.release().await;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    crate::bot::handle_update(hook.bot.clone(), hook.app.clone(), update).await;
    lock.release().await;
    StatusCode::OK
}

/// Registers the webhook and serves it until `stop` resolves; then drains in-flight updates
/// for at most `opts.drain` ([`WebhookError::DrainBound`] if some were still running).
pub async fn run_webhook(
    bot: TgBot,
    app: Arc<App>,
    opts: WebhookOptions,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebhookError> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| WebhookError::Bind {
            addr: opts.listen,
            source,
        })?;
    crate::bot::set_commands(&bot)
        .await
        .map_err(|e| WebhookError::Register(e.to_string()))?;
    // Every replica registers the same public URL; doing it again is harmless.
    bot.set_webhook(opts.url.clone())
        .secret_token(opts.secret.expose_secret().to_owned())
        .await
        .map_err(|e| WebhookError::Register(crate::bot::request_error_kind(&e)))?;
    // Receipts a crash left owed, before any update is served (other replicas are kept
    // out by the person's database lock).
    let owed = app.deliver_owed_receipts(&bot).await;
    if owed > 0 {
        info!(
            count = owed,
            "receipts owed from before a restart delivered"
        );
    }
    let path = opts.url.path().to_owned();
    let hook = Arc::new(Hook {
        bot,
        app,
        secret: SecretCheck::new(&opts.secret),
        local: KeyedLocks::default(),
        permits: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
        update_timeout: opts.update_timeout,
    });
    let router = Router::new()
        .route(if path.is_empty() { "/" } else { &path }, post(receive))
        .with_state(hook)
        .layer(axum::middleware::from_fn(|r, n| {
            crate::metrics::track_http("webhook", r, n)
        }));
    info!(listen = %opts.listen, "webhook listening");
    let draining = Arc::new(tokio::sync::Notify::new());
    let notify = draining.clone();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        stop.await;
        info!("shutting down: draining in-flight updates");
        notify.notify_one();
    });
    let server = std::future::IntoFuture::into_future(server);
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r.map_err(WebhookError::Serve)?,
        _ = draining.notified() => {
            match tokio::time::timeout(opts.drain, &mut server).await {
                Ok(r) => r.map_err(WebhookError::Serve)?,
                Err(_) => return Err(WebhookError::DrainBound),
            }
        }
    }
    info!("webhook stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_check() {
        let c = SecretCheck::new(&SecretString::from("s3cret-token_value"));
        assert!(c.matches(Some(b"s3cret-token_value")));
        assert!(!c.matches(Some(b"s3cret-token_valuE")));
        assert!(!c.matches(Some(b"s3cret")));
        assert!(!c.matches(Some(b"")));
        assert!(!c.matches(None));
    }

    #[tokio::test]
    async fn keyed_locks_exclude_and_clean_up() {
        let locks = KeyedLocks::default();
        let g = locks.lock(7).await;
        let other = locks.lock(8).await;
        drop(other);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), locks.lock(7))
                .await
                .is_err()
        );
        drop(g);
        drop(locks.lock(7).await);
        assert!(locks.map.lock().unwrap().is_empty());
    }
}
