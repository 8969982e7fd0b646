//! The review API in-process on a free local port, and helpers to set up cases and tokens.

use secrecy::{ExposeSecret, SecretString};
use tipline::crypto::keyfile::KdfParams;
use tipline::crypto::{ItemKind, KeyId, PublicKey, Receipt, Sealed};
use tipline::ids::{CaseCode, CaseId};
use tipline::review::auth::FailureLimiter;
use tipline::review::client::Client;
use tipline::review::server::{self, ApiState};
use tipline::store::{NewCase, NewItem, Store, TokenRole};

/// A running API.
pub struct Api {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Api {
    /// Starts the API on `store` with a generous failure limit (so that tests of 401 answers
    /// are not turned into 429s).
    pub async fn start(store: &Store, approvals: i64) -> Api {
        Self::start_with(store, approvals, FailureLimiter::new(100_000)).await
    }

    /// Starts the API with a given limiter.
    pub async fn start_with(store: &Store, approvals: i64, limiter: FailureLimiter) -> Api {
        let authorities =
            tipline::trust::Authorities::single(super::test_authority().verifying_key());
        Self::start_pinned(store, approvals, limiter, authorities).await
    }

    /// Starts the API pinning `authorities`, as `serve` pins its configured ones.
    pub async fn start_pinned(
        store: &Store,
        approvals: i64,
        limiter: FailureLimiter,
        authorities: tipline::trust::Authorities,
    ) -> Api {
        let mut state = ApiState::with_limiter(store.clone(), approvals, 180, limiter);
        std::sync::Arc::get_mut(&mut state).unwrap().authorities = Some(authorities);
        Self::start_state(state).await
    }

    /// Starts the API with the given state.
    pub async fn start_state(state: std::sync::Arc<ApiState>) -> Api {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server::serve(listener, state, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Api {
            url,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A client with `token`, pinning the tests' keyring authority.
    pub fn client(&self, token: &SecretString) -> Client {
        Client::new(&self.url, token.clone())
            .unwrap()
            .with_pin(std::sync::Arc::new(tipline::trust::Trust::new(
                tipline::trust::Authorities::single(super::test_authority().verifying_key()),
                None,
            )))
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// Issues a token valid for `secs` seconds (negative: already expired).
pub async fn token(store: &Store, role: TokenRole, key: Option<KeyId>, secs: i64) -> SecretString {
    let t = tipline::review::auth::issue(store, role, key, secs, "test")
        .await
        .unwrap();
    SecretString::from(t.token.expose_secret().to_owned())
}

/// A submitted case: its id, code, receipt and mailbox secret.
pub struct TestCase {
    pub id: CaseId,
    pub code: CaseCode,
    pub receipt: Receipt,
    pub mailbox: tipline::crypto::SecretKey,
    pub mailbox_public: PublicKey,
}

/// Submits a case with a summary (sealed to the active reviewers) and an identity (to the
/// active custodians), as the bot would.
pub async fn submit(store: &Store, story: &str) -> TestCase {
    use tipline::bot::summary::{CaseSummary, Identity};
    let ring = store.keyring().await.unwrap();
    let id = CaseId::random();
    let summary = CaseSummary {
        version: 1,
        language: tipline::bot::texts::Lang::Vi,
        category: "corruption".into(),
        behaviour: "bribe".into(),
        sector: "land".into(),
        office: "Văn phòng đăng ký đất đai".into(),
        office_typed: String::new(),
        place: Some("xã Nam Cam Ranh".into()),
        when: "tháng 3/2026".into(),
        officials: String::new(),
        story: story.into(),
        verification: vec![],
        verification_note: String::new(),
        attachments: vec![],
    };
    let identity = Identity {
        telegram_user_id: 4242,
        username: Some("lan_tran".into()),
        first_name: "Lan".into(),
        last_name: Some("Trần".into()),
        language_code: Some("vi".into()),
        contact: None,
    };
    let s = Sealed::seal(&summary, ItemKind::Summary, &id, &ring.reviewers).unwrap();
    let i = Sealed::seal(&identity, ItemKind::Identity, &id, &ring.custodians).unwrap();
    let receipt = Receipt::generate();
    let keys = receipt
        .derive_blocking(KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    let code = store
        .submit_case(&NewCase {
            id,
            category: "corruption".into(),
            epoch: ring.epoch,
            items: vec![
                NewItem::from_bot(ItemKind::Summary, s.into_bytes()),
                NewItem::from_bot(ItemKind::Identity, i.into_bytes()),
            ],
            lookup_id: keys.lookup_id,
            mailbox_public: keys.mailbox_public,
        })
        .await
        .unwrap();
    TestCase {
        id,
        code,
        receipt,
        mailbox: keys.mailbox_secret,
        mailbox_public: keys.mailbox_public,
    }
}
