//! Webhook delivery: POSTs queued updates to the bot's webhook URL(s) the way
//! Telegram does, with the `X-Telegram-Bot-Api-Secret-Token` header and
//! retries on failure.
//!
//! Invariants: in automatic mode updates are delivered one at a time and in
//! order (the next update is not sent before the previous one got a 2xx or
//! was given up), so tests are deterministic; an update leaves the queue only
//! on a 2xx or after the last retry; every attempt is recorded.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::error::SimError;
use super::server::Shared;
use super::state::State;
use super::types::{WebhookDelivery, WebhookRouting};

const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

struct Job {
    update_id: u32,
    body: Value,
    url: String,
    secret: Option<String>,
}

/// The next automatic delivery, if the webhook is active and round-robin.
fn next_job(st: &mut State) -> Option<Job> {
    let hook = st
        .webhook
        .as_mut()
        .filter(|w| w.routing == WebhookRouting::RoundRobin && !w.urls.is_empty())?;
    if let Some(allowed) = hook.allowed_updates.as_ref().filter(|a| !a.is_empty()) {
        st.pending.retain(|u| allowed.iter().any(|a| a == u.kind));
    }
    let front = st.pending.front()?;
    let url = hook.urls[hook.next_target % hook.urls.len()].clone();
    hook.next_target = hook.next_target.wrapping_add(1);
    Some(Job {
        update_id: front.id,
        body: front.json.clone(),
        url,
        secret: hook.secret.clone(),
    })
}

/// POSTs one update; returns the HTTP status. Gives up (closing the connection) after
/// `timeout`, or the default delivery timeout.
async fn post(
    sh: &Shared,
    url: &str,
    secret: Option<&str>,
    body: &Value,
    timeout: Option<Duration>,
) -> Result<u16, reqwest::Error> {
    let mut req = sh
        .http
        .post(url)
        .timeout(timeout.unwrap_or(DELIVERY_TIMEOUT))
        .json(body);
    if let Some(s) = secret {
        req = req.header(SECRET_HEADER, s);
    }
    Ok(req.send().await?.status().as_u16())
}

fn record(
    st: &mut State,
    job_id: u32,
    url: &str,
    attempt: u32,
    result: &Result<u16, reqwest::Error>,
) {
    let (status, error) = match result {
        Ok(s) => (Some(*s), None),
        // Only the error's kind is kept: it must not carry update content.
        Err(e) => (
            None,
            Some(if e.is_timeout() {
                "timeout".to_owned()
            } else {
                "connection failed".to_owned()
            }),
        ),
    };
    if !matches!(status, Some(200..=299)) {
        let now = st.now();
        if let Some(w) = st.webhook.as_mut() {
            let msg = match status {
                Some(s) => format!("Wrong response from the webhook: {s}"),
                None => error.clone().unwrap_or_default(),
            };
            w.last_error = Some((now, msg));
        }
    }
    st.deliveries.push(WebhookDelivery {
        update_id: job_id,
        url: url.to_owned(),
        attempt,
        status,
        error,
    });
}

fn remove_pending(st: &mut State, update_id: u32) {
    if let Some(pos) = st.pending.iter().position(|u| u.id == update_id) {
        st.pending.remove(pos);
    }
}

/// The automatic delivery loop; runs until the simulator is dropped.
pub(crate) async fn run(sh: Arc<Shared>) {
    let mut rx = sh.updates.subscribe();
    let mut current: Option<u32> = None;
    let mut attempt = 0u32;
    loop {
        rx.borrow_and_update();
        let job = next_job(&mut sh.lock());
        let Some(job) = job else {
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        };
        if current != Some(job.update_id) {
            current = Some(job.update_id);
            attempt = 0;
        }
        attempt += 1;
        let result = post(&sh, &job.url, job.secret.as_deref(), &job.body, None).await;
        let success = matches!(result, Ok(200..=299));
        let retry = {
            let mut st = sh.lock();
            record(&mut st, job.update_id, &job.url, attempt, &result);
            if success || attempt >= sh.webhook_retry.max_attempts {
                remove_pending(&mut st, job.update_id);
                false
            } else {
                true
            }
        };
        sh.notify_activity();
        if retry {
            let factor = 1u32 << (attempt - 1).min(16);
            let backoff = sh
                .webhook_retry
                .initial_backoff
                .saturating_mul(factor)
                .min(MAX_BACKOFF);
            tokio::time::sleep(backoff).await;
        }
    }
}

/// Delivers the oldest pending update to `url` (manual routing).
pub(crate) async fn deliver_next_to(sh: &Shared, url: &str) -> Result<u16, SimError> {
    let (update_id, body, secret) = {
        let st = sh.lock();
        let front = st.pending.front().ok_or(SimError::NothingPending)?;
        (
            front.id,
            front.json.clone(),
            st.webhook.as_ref().and_then(|w| w.secret.clone()),
        )
    };
    let result = post(sh, url, secret.as_deref(), &body, None).await;
    {
        let mut st = sh.lock();
        let earlier = st
            .deliveries
            .iter()
            .filter(|d| d.update_id == update_id)
            .count();
        let attempt = u32::try_from(earlier).unwrap_or(u32::MAX).saturating_add(1);
        record(&mut st, update_id, url, attempt, &result);
        if matches!(result, Ok(200..=299)) {
            remove_pending(&mut st, update_id);
        }
    }
    sh.notify_activity();
    result.map_err(SimError::Delivery)
}

/// Sends an already-created update again to `url` (duplicate delivery), hanging up after
/// `timeout` if given.
pub(crate) async fn redeliver(
    sh: &Shared,
    update_id: u32,
    url: &str,
    timeout: Option<Duration>,
) -> Result<u16, SimError> {
    let (body, secret) = {
        let st = sh.lock();
        let body = st
            .history
            .get(&update_id)
            .cloned()
            .ok_or(SimError::UnknownUpdate(update_id))?;
        (body, st.webhook.as_ref().and_then(|w| w.secret.clone()))
    };
    let result = post(sh, url, secret.as_deref(), &body, timeout).await;
    {
        let mut st = sh.lock();
        let earlier = st
            .deliveries
            .iter()
            .filter(|d| d.update_id == update_id)
            .count();
        let attempt = u32::try_from(earlier).unwrap_or(u32::MAX).saturating_add(1);
        record(&mut st, update_id, url, attempt, &result);
    }
    sh.notify_activity();
    result.map_err(SimError::Delivery)
}
