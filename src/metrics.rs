//! A small metrics registry rendered in the Prometheus text format (version 0.0.4).
//!
//! Invariant: every label value comes from a fixed list in this file (update kinds, error
//! codes, case statuses, HTTP servers, methods and status classes) or, for the HTTP route, from
//! the route templates compiled into the routers (`/api/v1/cases/{code}`, never the path that
//! was asked for; a path that matched no route is "unmatched"); no label can carry a user, a
//! chat, a case code or any text, whatever the caller passes. Counters are process-wide
//! atomics: with several replicas, Prometheus sums the instances.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::store::CaseStatus;

/// Update kinds counted separately; everything else is "other".
pub const UPDATE_KINDS: [&str; 6] = [
    "message",
    "edited_message",
    "callback_query",
    "channel_post",
    "my_chat_member",
    "other",
];

/// Telegram API error classes (HTTP-like codes where Telegram gives one).
pub const ERROR_CODES: [&str; 9] = [
    "400",
    "401",
    "403",
    "409",
    "429",
    "network",
    "invalid_json",
    "io",
    "other",
];

/// Upper bounds (seconds) of the update latency histogram's buckets; +Inf is implied.
pub const LATENCY_BUCKETS: [f64; 11] =
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The HTTP servers whose requests are timed.
pub const HTTP_SERVERS: [&str; 2] = ["review", "webhook"];

/// HTTP methods counted separately; everything else is "other".
const HTTP_METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "other"];

/// HTTP status classes.
const HTTP_CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

/// One latency histogram (the buckets of [`LATENCY_BUCKETS`]).
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len()],
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines; `labels` ends with a comma or is empty.
    fn render(&self, o: &mut String, name: &str, labels: &str) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        for (le, c) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(o, "{name}_bucket{{{labels}le=\"{le}\"}} {}", get(c));
        }
        let count = get(&self.count);
        let _ = writeln!(o, "{name}_bucket{{{labels}le=\"+Inf\"}} {count}");
        let plain = labels.trim_end_matches(',');
        let braces = if plain.is_empty() {
            String::new()
        } else {
            format!("{{{plain}}}")
        };
        let _ = writeln!(o, "{name}_sum{braces} {}", get(&self.sum_us) as f64 / 1e6);
        let _ = writeln!(o, "{name}_count{braces} {count}");
    }
}

/// Which HTTP requests a histogram times: indexes into the fixed lists, and a route template.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct HttpKey {
    server: usize,
    route: String,
    method: usize,
    class: usize,
}

/// How often the figures that move with submissions (the reports counter, the case gauges) are
/// published, in seconds: 3600 unless `TIPLINE_METRICS_PERIOD` says otherwise.
static PUBLISH_PERIOD: AtomicI64 = AtomicI64::new(3600);

/// Sets the publication period of submission-driven figures (at least 1 second).
pub fn set_publish_period(secs: i64) {
    PUBLISH_PERIOD.store(secs.max(1), Ordering::Relaxed);
}

/// The period index of `now` (Unix seconds).
fn period_of(now: i64) -> i64 {
    now.div_euclid(PUBLISH_PERIOD.load(Ordering::Relaxed))
}

/// A counter that shows only what was counted before the current period (an hour by default)
/// began: scrapes see it move once a period, by the previous period's total, so a scrape taken
/// after one report cannot tell when that report came.
#[derive(Debug)]
pub struct HourlyCount {
    period: i64,
    this_period: u64,
    published: u64,
}

impl HourlyCount {
    /// Zero.
    pub const fn new() -> Self {
        Self {
            period: 0,
            this_period: 0,
            published: 0,
        }
    }

    fn roll(&mut self, now: i64) {
        let period = period_of(now);
        if period != self.period {
            self.published += self.this_period;
            self.this_period = 0;
            self.period = period;
        }
    }

    /// Counts one event at `now` (Unix seconds).
    pub fn add(&mut self, now: i64) {
        self.roll(now);
        self.this_period += 1;
    }

    /// Events counted before the period that contains `now`.
    pub fn published(&mut self, now: i64) -> u64 {
        self.roll(now);
        self.published
    }
}

impl Default for HourlyCount {
    fn default() -> Self {
        Self::new()
    }
}

/// Cases by status, as one scrape shows them.
type CaseGauges = Vec<(CaseStatus, i64)>;

/// The registry.
pub struct Metrics {
    updates: [AtomicU64; UPDATE_KINDS.len()],
    duplicates: AtomicU64,
    rejected: AtomicU64,
    reports: Mutex<HourlyCount>,
    /// The case gauges as counted at the start of the current period.
    queue: Mutex<Option<(i64, CaseGauges)>>,
    errors: [AtomicU64; ERROR_CODES.len()],
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    http: Mutex<BTreeMap<HttpKey, Histogram>>,
}

/// The process's registry.
pub static METRICS: Metrics = Metrics::new();

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry.
    pub const fn new() -> Self {
        Self {
            updates: [const { AtomicU64::new(0) }; UPDATE_KINDS.len()],
            duplicates: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            reports: Mutex::new(HourlyCount::new()),
            queue: Mutex::new(None),
            errors: [const { AtomicU64::new(0) }; ERROR_CODES.len()],
            buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len()],
            latency_count: AtomicU64::new(0),
            latency_sum_us: AtomicU64::new(0),
            http: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records one HTTP request of `server` (one of [`HTTP_SERVERS`]) that matched the route
    /// template `route` (`None`: no route matched), with its method and status.
    pub fn observe_http(
        &self,
        server: &str,
        route: Option<&str>,
        method: &str,
        status: u16,
        took: Duration,
    ) {
        let pick =
            |list: &[&str], v: &str| list.iter().position(|k| *k == v).unwrap_or(list.len() - 1);
        let key = HttpKey {
            server: pick(&HTTP_SERVERS, server),
            // A template is made of the literal segments and `{name}` captures a router was
            // built with; quotes and backslashes cannot occur in one, but are refused anyway.
            route: route
                .filter(|r| !r.contains(['"', '\\', '\n']))
                .unwrap_or("unmatched")
                .to_owned(),
            method: pick(&HTTP_METHODS, method),
            class: usize::from(status.clamp(200, 599) / 100 - 2),
        };
        let mut map = self.http.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key).or_insert_with(Histogram::new).observe(took);
    }

    /// Counts one handled update of `kind` (unknown kinds count as "other").
    pub fn update(&self, kind: &str) {
        let i = UPDATE_KINDS
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(UPDATE_KINDS.len() - 1);
        self.updates[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a redelivered update that was recognised and not handled again.
    pub fn duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a webhook request refused for a wrong or missing secret token.
    pub fn rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a submitted report. Published only as of the last full hour (see
    /// [`HourlyCount`]).
    pub fn report_submitted(&self) {
        self.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(crate::clock::unix_now());
    }

    /// The case gauges to publish at `now`: counted once per period (`count` runs only when
    /// the period has changed since the last count), so they too move once an hour and cannot
    /// date a report. `None` when the count fails (shown as `tipline_database_up 0`).
    pub async fn case_gauges<F, Fut, E>(&self, now: i64, count: F) -> Option<Vec<(CaseStatus, i64)>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<(CaseStatus, i64)>, E>>,
    {
        let period = period_of(now);
        if let Some((p, v)) = &*self.queue.lock().unwrap_or_else(|e| e.into_inner())
            && *p == period
        {
            return Some(v.clone());
        }
        let counted = count().await.ok()?;
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) = Some((period, counted.clone()));
        Some(counted)
    }

    /// Reports submitted before the start of the current hour (what the metric shows).
    pub fn reports_published(&self) -> u64 {
        self.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .published(crate::clock::unix_now())
    }

    /// Counts a Telegram API error of class `code` (unknown classes count as "other").
    pub fn telegram_error(&self, code: &str) {
        let i = ERROR_CODES
            .iter()
            .position(|k| *k == code)
            .unwrap_or(ERROR_CODES.len() - 1);
        self.errors[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long handling one update took.
    pub fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Renders every metric; `queue` is the case count per status, when the database answered.
    pub fn render(&self, queue: Option<&[(CaseStatus, i64)]>) -> String {
        let mut o = String::with_capacity(4096);
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(
            o,
            "# HELP tipline_updates_total Telegram updates handled, by kind."
        );
        let _ = writeln!(o, "# TYPE tipline_updates_total counter");
        for (k, c) in UPDATE_KINDS.iter().zip(&self.updates) {
            let _ = writeln!(o, "tipline_updates_total{{kind=\"{k}\"}} {}", get(c));
        }
        let _ = writeln!(
            o,
            "# HELP tipline_duplicate_updates_total Redelivered updates recognised and not handled again."
        );
        let _ = writeln!(o, "# TYPE tipline_duplicate_updates_total counter");
        let _ = writeln!(
            o,
            "tipline_duplicate_updates_total {}",
            get(&self.duplicates)
        );
        let _ = writeln!(
            o,
            "# HELP tipline_webhook_rejected_total Webhook requests refused for a wrong or missing secret token."
        );
        let _ = writeln!(o, "# TYPE tipline_webhook_rejected_total counter");
        let _ = writeln!(o, "tipline_webhook_rejected_total {}", get(&self.rejected));
        let _ = writeln!(
            o,
            "# HELP tipline_reports_submitted_total Reports submitted before the start of the current hour (it moves once an hour, so a scrape cannot date a report)."
        );
        let _ = writeln!(o, "# TYPE tipline_reports_submitted_total counter");
        let _ = writeln!(
            o,
            "tipline_reports_submitted_total {}",
            self.reports_published()
        );
        let _ = writeln!(
            o,
            "# HELP tipline_telegram_api_errors_total Bot API errors seen by the handlers, by code."
        );
        let _ = writeln!(o, "# TYPE tipline_telegram_api_errors_total counter");
        for (k, c) in ERROR_CODES.iter().zip(&self.errors) {
            let _ = writeln!(
                o,
                "tipline_telegram_api_errors_total{{code=\"{k}\"}} {}",
                get(c)
            );
        }
        let _ = writeln!(
            o,
            "# HELP tipline_update_duration_seconds Time to handle one update, replies included."
        );
        let _ = writeln!(o, "# TYPE tipline_update_duration_seconds histogram");
        for (le, c) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                o,
                "tipline_update_duration_seconds_bucket{{le=\"{le}\"}} {}",
                get(c)
            );
        }
        let count = get(&self.latency_count);
        let _ = writeln!(
            o,
            "tipline_update_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            o,
            "tipline_update_duration_seconds_sum {}",
            get(&self.latency_sum_us) as f64 / 1e6
        );
        let _ = writeln!(o, "tipline_update_duration_seconds_count {count}");
        let _ = writeln!(
            o,
            "# HELP tipline_http_request_duration_seconds Time to answer an HTTP request of the review API or the webhook, by route template."
        );
        let _ = writeln!(o, "# TYPE tipline_http_request_duration_seconds histogram");
        {
            let map = self.http.lock().unwrap_or_else(|e| e.into_inner());
            for (k, h) in map.iter() {
                let labels = format!(
                    "server=\"{}\",route=\"{}\",method=\"{}\",code=\"{}\",",
                    HTTP_SERVERS[k.server], k.route, HTTP_METHODS[k.method], HTTP_CLASSES[k.class]
                );
                h.render(&mut o, "tipline_http_request_duration_seconds", &labels);
            }
        }
        if let Some(queue) = queue {
            let _ = writeln!(
                o,
                "# HELP tipline_cases Cases in the queue, by status, as counted at the start of the current hour."
            );
            let _ = writeln!(o, "# TYPE tipline_cases gauge");
            for (s, n) in queue {
                let _ = writeln!(o, "tipline_cases{{status=\"{}\"}} {n}", s.as_str());
            }
        }
        let _ = writeln!(
            o,
            "# HELP tipline_database_up Whether the database answered this scrape."
        );
        let _ = writeln!(o, "# TYPE tipline_database_up gauge");
        let _ = writeln!(o, "tipline_database_up {}", u8::from(queue.is_some()));
        o
    }
}

/// Axum middleware timing every request of `server` by its route template
/// (`axum::middleware::from_fn(|r, n| metrics::track_http("review", r, n))`). Applied with
/// `Router::layer`, so the matched route is known when it runs.
pub async fn track_http(
    server: &'static str,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    METRICS.observe_http(
        server,
        route.as_deref(),
        &method,
        resp.status().as_u16(),
        started.elapsed(),
    );
    resp
}

/// The error class of a Bot API error, for [`Metrics::telegram_error`].
pub fn telegram_error_code(e: &teloxide::RequestError) -> &'static str {
    use teloxide::RequestError as R;
    match e {
        // Only the description's fixed prefix is looked at, never kept.
        R::Api(api) => {
            let d = api.to_string();
            if d.starts_with("Bad Request") {
                "400"
            } else if d.starts_with("Unauthorized") {
                "401"
            } else if d.starts_with("Forbidden") {
                "403"
            } else if d.starts_with("Conflict") {
                "409"
            } else {
                "other"
            }
        }
        R::MigrateToChatId(_) => "400",
        R::RetryAfter(_) => "429",
        R::Network(_) => "network",
        R::InvalidJson { .. } => "invalid_json",
        R::Io(_) => "io",
    }
}

/// The kind of an update, as counted.
pub fn update_kind(u: &teloxide::types::Update) -> &'static str {
    use teloxide::types::UpdateKind as K;
    match &u.kind {
        K::Message(_) => "message",
        K::EditedMessage(_) => "edited_message",
        K::CallbackQuery(_) => "callback_query",
        K::ChannelPost(_) => "channel_post",
        K::MyChatMember(_) => "my_chat_member",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_only_from_fixed_lists() {
        let m = Metrics::new();
        m.update("message");
        m.update("a user's text 0905123987");
        m.telegram_error("Forbidden: bot was blocked by 12345");
        m.observe(Duration::from_millis(30));
        let text = m.render(Some(&[(CaseStatus::New, 2)]));
        assert!(text.contains("tipline_updates_total{kind=\"message\"} 1"));
        assert!(text.contains("tipline_updates_total{kind=\"other\"} 1"));
        assert!(text.contains("tipline_telegram_api_errors_total{code=\"other\"} 1"));
        assert!(text.contains("tipline_update_duration_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("tipline_update_duration_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains("tipline_cases{status=\"new\"} 2"));
        assert!(!text.contains("0905123987") && !text.contains("12345"));
        m.observe_http(
            "review",
            Some("/api/v1/cases/{code}"),
            "GET",
            404,
            Duration::from_millis(3),
        );
        m.observe_http("webhook", None, "BREW", 200, Duration::from_millis(300));
        let text = m.render(None);
        assert!(text.contains(
            "tipline_http_request_duration_seconds_bucket{server=\"review\",route=\"/api/v1/cases/{code}\",method=\"GET\",code=\"4xx\",le=\"0.01\"} 1"
        ), "{text}");
        assert!(text.contains(
            "tipline_http_request_duration_seconds_count{server=\"webhook\",route=\"unmatched\",method=\"other\",code=\"2xx\"} 1"
        ), "{text}");
        // Every sample line is `name{fixed labels} number` or `name number`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
