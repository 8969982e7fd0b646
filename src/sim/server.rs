//! The HTTP side: an axum router on 127.0.0.1 serving
//! `/bot<token>/<method>` and `/file/bot<token>/<path>`, with fault
//! injection and long-polled getUpdates.
//!
//! Invariants: the state mutex is never held across an `.await`; every
//! request to a method route is recorded exactly once, after its effect on
//! the state, and then `activity` is bumped so waiters re-check; a dropped
//! connection writes no byte of a response (the connection's I/O is poisoned
//! before the handler returns, see [`SimListener`]).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::serve::{IncomingStream, Listener};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::ApiError;
use super::methods;
use super::params::Params;
use super::state::State;
use super::types::CallOutcome;

/// Webhook retry policy (how the fake Telegram retries failed deliveries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookRetry {
    /// Attempts per update before it is dropped (Telegram also gives up eventually).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time, capped at 2 s.
    pub initial_backoff: Duration,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(50),
        }
    }
}

/// State shared by the server, the webhook worker and the test-facing API.
pub(crate) struct Shared {
    state: Mutex<State>,
    pub token: String,
    /// Bumped after every recorded call (citizens wait on it).
    pub activity: watch::Sender<u64>,
    /// Bumped whenever the update queue or webhook configuration changes.
    pub updates: watch::Sender<u64>,
    /// Set when the simulator is dropped; long polls return at once.
    pub shutdown: watch::Sender<bool>,
    pub http: reqwest::Client,
    pub webhook_retry: WebhookRetry,
}

impl Shared {
    pub(crate) fn new(
        state: State,
        token: String,
        http: reqwest::Client,
        webhook_retry: WebhookRetry,
    ) -> Self {
        Self {
            state: Mutex::new(state),
            token,
            activity: watch::Sender::new(0),
            updates: watch::Sender::new(0),
            shutdown: watch::Sender::new(false),
            http,
            webhook_retry,
        }
    }

    /// Locks the state. A poisoned lock means a panic elsewhere already
    /// failed the test; recovering the guard lets that original panic be the
    /// one reported instead of a cascade of "poisoned" panics.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn notify_activity(&self) {
        self.activity.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(crate) fn notify_updates(&self) {
        self.updates.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// Builds the router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/file/{bot}/{*path}", get(download))
        .route("/{bot}/{method}", any(api))
        .fallback(|| async { error_response(&ApiError::not_found()) })
        // Uploads up to Telegram's 50 MB limit must reach the handler so it
        // can answer like Telegram (413) rather than axum's 2 MB default.
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(shared)
}

fn ok_response(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({ "ok": true, "result": result })),
    )
        .into_response()
}

fn error_response(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(e.body())).into_response()
}

fn outcome_of(r: &Result<Value, ApiError>) -> CallOutcome {
    match r {
        Ok(_) => CallOutcome::Ok,
        Err(e) => CallOutcome::Error {
            code: e.code,
            description: e.description.clone(),
        },
    }
}

/// What to do once a call has taken effect.
struct After {
    /// Drop the connection instead of answering.
    lose_response: bool,
    /// Hold the answer this long first.
    hold: Option<std::time::Duration>,
}

/// Applies transport faults before the call: `Err(response)` short-circuits it; otherwise
/// what to do after it took effect.
async fn apply_faults(
    sh: &Shared,
    conn: &ConnHandle,
    method: &str,
    params: &Params,
) -> Result<After, Response> {
    let decision = {
        let mut guard = sh.lock();
        let st = &mut *guard;
        st.fault_state.decide(&st.faults, method)
    };
    if let Some(delay) = decision.stall {
        tokio::time::sleep(delay).await;
    }
    if decision.drop {
        sh.lock()
            .record_call(method, || params.to_record(), None, CallOutcome::Dropped);
        sh.notify_activity();
        conn.kill();
        return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    if decision.bad_gateway || decision.internal_error {
        let e = if decision.bad_gateway {
            ApiError::bad_gateway()
        } else {
            ApiError::internal_server_error()
        };
        sh.lock().record_call(
            method,
            || params.to_record(),
            None,
            outcome_of(&Err(e.clone())),
        );
        sh.notify_activity();
        return Err(error_response(&e));
    }
    Ok(After {
        lose_response: decision.lose_response,
        hold: decision.hold_response,
    })
}

async fn api(
    AxState(sh): AxState<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    Path((bot, method)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = bot.strip_prefix("bot") else {
        return error_response(&ApiError::not_found());
    };
    let canonical = methods::canonical(&method);
    let name = canonical.unwrap_or(method.as_str()).to_owned();
    *sh.lock().received.entry(name.clone()).or_default() += 1;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let parsed = Params::parse(uri.query(), content_type, &body);
    if token != sh.token {
        let e = ApiError::unauthorized();
        let record = || {
            parsed
                .as_ref()
                .map(Params::to_record)
                .unwrap_or(Value::Null)
        };
        sh.lock()
            .record_call(&name, record, None, outcome_of(&Err(e.clone())));
        sh.notify_activity();
        return error_response(&e);
    }
    let mut params = match parsed {
        Ok(p) => p,
        Err(e) => {
            sh.lock()
                .record_call(&name, || Value::Null, None, outcome_of(&Err(e.clone())));
            sh.notify_activity();
            return error_response(&e);
        }
    };
    let _in_flight = {
        let mut st = sh.lock();
        let chat = canonical.and_then(|m| methods::chat_hint(&st, m, &params));
        InFlight::begin(&sh, &mut st, chat)
    };
    let after = match apply_faults(&sh, &conn, &name, &params).await {
        Ok(after) => after,
        Err(resp) => return resp,
    };
    let Some(m) = canonical else {
        let e = ApiError::not_found();
        sh.lock().record_call(
            &name,
            || params.to_record(),
            None,
            outcome_of(&Err(e.clone())),
        );
        sh.notify_activity();
        return error_response(&e);
    };
    if m == "getUpdates" {
        return get_updates(&sh, params).await;
    }
    let result = {
        let mut st = sh.lock();
        let out = methods::call(&mut st, m, &mut params);
        st.record_call(
            m,
            || params.to_record(),
            out.chat_id,
            outcome_of(&out.result),
        );
        out.result
    };
    sh.notify_activity();
    if matches!(m, "setWebhook" | "deleteWebhook") {
        sh.notify_updates();
    }
    if let Some(hold) = after.hold {
        // The call took effect; the answer comes late (or, if the client is gone, never).
        tokio::time::sleep(hold).await;
    }
    if after.lose_response {
        // The call took effect; the answer never arrives.
        conn.kill();
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    match result {
        Ok(v) => ok_response(v),
        Err(e) => error_response(&e),
    }
}

/// Marks a request as in flight for its chat until dropped (also when the
/// client goes away mid-request and axum drops the handler).
struct InFlight<'a> {
    sh: &'a Shared,
    chat: Option<i64>,
}

impl<'a> InFlight<'a> {
    fn begin(sh: &'a Shared, st: &mut State, chat: Option<i64>) -> Self {
        if let Some(c) = chat.and_then(|id| st.chats.get_mut(&id)) {
            c.in_flight += 1;
        }
        Self { sh, chat }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.chat {
            if let Some(c) = self.sh.lock().chats.get_mut(&id) {
                c.in_flight = c.in_flight.saturating_sub(1);
            }
            self.sh.notify_activity();
        }
    }
}

/// Long-polled getUpdates with Telegram's offset, limit and conflict semantics.
async fn get_updates(sh: &Shared, params: Params) -> Response {
    let parsed = (|| -> Result<_, ApiError> {
        let offset = params.i64("offset")?;
        let limit = params.i64("limit")?.unwrap_or(100).clamp(1, 100);
        let timeout = params.i64("timeout")?.unwrap_or(0).clamp(0, 600);
        let allowed = match params.json("allowed_updates")? {
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        };
        Ok((offset, limit, timeout, allowed))
    })();
    let (offset, limit, timeout, allowed) = match parsed {
        Ok(v) => v,
        Err(e) => {
            sh.lock().record_call(
                "getUpdates",
                || params.to_record(),
                None,
                outcome_of(&Err(e.clone())),
            );
            sh.notify_activity();
            return error_response(&e);
        }
    };
    let limit = usize::try_from(limit).unwrap_or(100);
    let deadline = Instant::now() + Duration::from_secs(timeout.unsigned_abs());
    let mut updates_rx = sh.updates.subscribe();
    let mut shutdown_rx = sh.shutdown.subscribe();
    let my_generation = {
        let mut st = sh.lock();
        if let Some(a) = allowed {
            st.allowed_updates = Some(a);
        }
        st.poll_generation += 1;
        st.poll_generation
    };
    // Wake any older poll so it can report the conflict, as Telegram does.
    sh.notify_updates();
    updates_rx.borrow_and_update();
    loop {
        let done = {
            let mut st = sh.lock();
            let closing = *shutdown_rx.borrow();
            let result = if st.poll_generation != my_generation {
                Some(Err(ApiError::conflict(
                    "terminated by other getUpdates request; make sure that only one bot instance is running",
                )))
            } else {
                match methods::take_updates(&mut st, offset, limit) {
                    Err(e) => Some(Err(e)),
                    Ok(v) if !v.is_empty() || Instant::now() >= deadline || closing => {
                        Some(Ok(Value::Array(v)))
                    }
                    Ok(_) => None,
                }
            };
            if let Some(r) = &result {
                st.record_call("getUpdates", || params.to_record(), None, outcome_of(r));
            }
            result
        };
        if let Some(r) = done {
            sh.notify_activity();
            return match r {
                Ok(v) => ok_response(v),
                Err(e) => error_response(&e),
            };
        }
        tokio::select! {
            _ = updates_rx.changed() => {}
            _ = shutdown_rx.changed() => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

async fn download(
    AxState(sh): AxState<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    const METHOD: &str = "downloadFile";
    let params = Params::default();
    if bot.strip_prefix("bot") != Some(sh.token.as_str()) {
        let e = ApiError::unauthorized();
        sh.lock().record_call(
            METHOD,
            || json!({ "file_path": path }),
            None,
            outcome_of(&Err(e.clone())),
        );
        sh.notify_activity();
        return error_response(&e);
    }
    // A lost answer to a download is a failed download: nothing to take effect.
    if let Err(resp) = apply_faults(&sh, &conn, METHOD, &params).await {
        return resp;
    }
    let found = {
        let mut st = sh.lock();
        let bytes = st
            .file_paths
            .get(&path)
            .and_then(|id| st.files.get(id))
            .map(|f| f.bytes.clone());
        let outcome = match bytes {
            Some(_) => CallOutcome::Ok,
            None => CallOutcome::Error {
                code: 404,
                description: "Not Found".into(),
            },
        };
        st.record_call(METHOD, || json!({ "file_path": path }), None, outcome);
        bytes
    };
    sh.notify_activity();
    match found {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        None => error_response(&ApiError::not_found()),
    }
}

// ------------------------------------------------------------ killable connections

/// Per-connection switch that makes the connection's I/O fail, so hyper drops
/// the socket without writing a response.
#[derive(Debug, Default)]
struct KillSwitch(AtomicBool);

/// Handle to the current connection's [`KillSwitch`], given to handlers as
/// connect info.
#[derive(Clone, Debug)]
pub(crate) struct ConnHandle(Arc<KillSwitch>);

impl ConnHandle {
    fn kill(&self) {
        self.0.0.store(true, Ordering::SeqCst);
    }
}

/// A TCP stream whose reads and writes fail once its switch is flipped.
pub(crate) struct KillableStream {
    inner: TcpStream,
    switch: Arc<KillSwitch>,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.switch.0.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection dropped by fault injection",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// TCP listener producing [`KillableStream`]s.
pub(crate) struct SimListener {
    inner: TcpListener,
}

impl SimListener {
    pub(crate) fn new(inner: TcpListener) -> Self {
        Self { inner }
    }
}

impl Listener for SimListener {
    type Io = KillableStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, _)) => {
                    // Small request/response exchanges: avoid Nagle delays.
                    let _ = stream.set_nodelay(true);
                    let switch = Arc::new(KillSwitch::default());
                    return (
                        KillableStream {
                            inner: stream,
                            switch: switch.clone(),
                        },
                        ConnHandle(switch),
                    );
                }
                Err(e) => {
                    // Typically EMFILE under load; back off briefly like axum's own listener.
                    tracing::debug!(error = %e, "simulator accept failed");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        // Only used by axum for diagnostics; a fresh, unused handle is fine.
        self.inner.local_addr().map(|_| ConnHandle(Arc::default()))
    }
}

impl Connected<IncomingStream<'_, SimListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Binds 127.0.0.1 on a random port.
pub(crate) async fn bind() -> io::Result<(SimListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    Ok((SimListener::new(listener), addr))
}
