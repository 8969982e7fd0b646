//! The review API over real HTTP: the authorization matrix, "not found" equal to "not yours",
//! the failed-authentication limit, key rotation with rewrap, retention, the queue's leases
//! and transitions on SQLite and PostgreSQL, and concurrent claims on PostgreSQL.

use crate::common;

use std::collections::BTreeSet;

use common::review::{Api, submit, token};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tipline::bot::summary::TextMessage;
use tipline::crypto::{ItemKind, RecipientRole, Sealed, envelope, suite};
use tipline::review::auth::FailureLimiter;
use tipline::review::client;
use tipline::store::{
    CaseStatus, DisclosureStatus, ItemHeader, Outcome, Store, StoreError, TokenRole,
};

async fn call(
    http: &reqwest::Client,
    api: &Api,
    method: Method,
    path: &str,
    token: Option<&SecretString>,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut req = http.request(method, format!("{}/api/v1{path}", api.url));
    if let Some(t) = token {
        req = req.bearer_auth(t.expose_secret());
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let (store, _dir, _) = common::sqlite_store().await;
    let (rev_sk, rev_pk) = suite::generate_keypair();
    let (_cus_sk, cus_pk) = suite::generate_keypair();
    store
        .add_recipient(&rev_pk, RecipientRole::Reviewer, "R", "test")
        .await
        .unwrap();
    store
        .add_recipient(&cus_pk, RecipientRole::Custodian, "C", "test")
        .await
        .unwrap();
    let case = submit(&store, "Cán bộ đòi tiền.").await;
    let code = case.code.as_str().to_owned();
    // Item ids are random: the summary's, for the rewrap row.
    let summary_id = store
        .item_headers(&case.id)
        .await
        .unwrap()
        .into_iter()
        .find(|h| h.kind == ItemKind::Summary)
        .unwrap()
        .id;
    let api = Api::start(&store, 1).await;
    let http = reqwest::Client::new();

    let reviewer = token(&store, TokenRole::Reviewer, Some(rev_pk.key_id()), 3600).await;
    let custodian = token(&store, TokenRole::Custodian, Some(cus_pk.key_id()), 3600).await;
    let admin = token(&store, TokenRole::Admin, None, 3600).await;
    let expired = token(&store, TokenRole::Admin, None, -10).await;
    let revoked = token(&store, TokenRole::Admin, None, 3600).await;
    let spare = tipline::review::auth::issue(&store, TokenRole::Admin, None, 3600, "test")
        .await
        .unwrap();
    let revoked_id = store
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.hash == tipline::review::auth::token_hash(revoked.expose_secret()).to_vec())
        .unwrap()
        .id;
    store.revoke_token(&revoked_id, "test").await.unwrap();
    let garbage = SecretString::from("tlt_notatoken".to_owned());

    // A note sealed to the active reviewers: valid for a reviewer to upload.
    let note = Sealed::seal(
        &TextMessage {
            text: "ghi chú".into(),
        },
        ItemKind::Note,
        &case.id,
        &[rev_pk],
    )
    .unwrap();
    // (The server requires a signature and stores it; the clients that show the note verify it.)
    let note_body = serde_json::json!({
        "kind": "note",
        "blob": hex::encode(note.as_bytes()),
        "signature": "00".repeat(64),
    });

    use StatusCode as S;
    const R: usize = 0;
    const C: usize = 1;
    const A: usize = 2;
    // (method, path, body, [reviewer, custodian, admin])
    let rows: Vec<(Method, String, Option<serde_json::Value>, [S; 3])> = vec![
        (Method::GET, "/whoami".into(), None, [S::OK, S::OK, S::OK]),
        (Method::GET, "/keyring".into(), None, [S::OK, S::OK, S::OK]),
        (
            Method::GET,
            "/cases".into(),
            None,
            [S::OK, S::OK, S::FORBIDDEN],
        ),
        (
            Method::POST,
            "/cases/claim".into(),
            None,
            [S::OK, S::FORBIDDEN, S::FORBIDDEN],
        ),
        (
            Method::GET,
            format!("/cases/{code}"),
            None,
            [S::OK, S::OK, S::FORBIDDEN],
        ),
        (
            Method::GET,
            format!("/cases/{code}/items"),
            None,
            [S::OK, S::OK, S::FORBIDDEN],
        ),
        (
            Method::POST,
            format!("/cases/{code}/items"),
            Some(note_body.clone()),
            [S::CREATED, S::FORBIDDEN, S::FORBIDDEN],
        ),
        (
            Method::POST,
            format!("/cases/{code}/claim"),
            None,
            [S::OK, S::FORBIDDEN, S::FORBIDDEN],
        ),
        (
            Method::POST,
            format!("/cases/{code}/status"),
            Some(serde_json::json!({"status": "awaiting_reporter"})),
            [S::OK, S::FORBIDDEN, S::FORBIDDEN],
        ),
        (
            Method::DELETE,
            format!("/cases/{code}/claim"),
            None,
            [S::NO_CONTENT, S::FORBIDDEN, S::FORBIDDEN],
        ),
        (
            Method::POST,
            format!("/cases/{code}/disclosure"),
            // The server only insists on a signature; custodians verify it.
            Some(serde_json::json!({"reason": "cần xác minh", "signature": "00".repeat(64)})),
            [S::CREATED, S::FORBIDDEN, S::FORBIDDEN],
        ),
        (
            Method::GET,
            "/disclosures".into(),
            None,
            [S::OK, S::OK, S::FORBIDDEN],
        ),
        (
            Method::POST,
            "/disclosures/1/decision".into(),
            Some(serde_json::json!({"approve": false, "reason": "không đủ căn cứ"})),
            [S::FORBIDDEN, S::OK, S::FORBIDDEN],
        ),
        (
            Method::GET,
            "/rewrap".into(),
            None,
            [S::OK, S::OK, S::FORBIDDEN],
        ),
        (
            Method::POST,
            format!("/items/{summary_id}/rewrap"),
            Some(serde_json::json!({"version": 0, "header": "00"})),
            [S::UNPROCESSABLE_ENTITY, S::NOT_FOUND, S::FORBIDDEN],
        ),
        (Method::GET, "/audit".into(), None, [S::OK, S::OK, S::OK]),
        (
            Method::GET,
            "/audit/verify".into(),
            None,
            [S::FORBIDDEN, S::FORBIDDEN, S::OK],
        ),
        (
            Method::GET,
            "/tokens".into(),
            None,
            [S::FORBIDDEN, S::FORBIDDEN, S::OK],
        ),
        (
            Method::DELETE,
            format!("/tokens/{}", spare.row.id),
            None,
            [S::FORBIDDEN, S::FORBIDDEN, S::NO_CONTENT],
        ),
        (
            Method::POST,
            "/purge".into(),
            None,
            [S::FORBIDDEN, S::FORBIDDEN, S::OK],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &rows {
        for (label, tok, want) in [
            ("no token", None, S::UNAUTHORIZED),
            ("garbage", Some(&garbage), S::UNAUTHORIZED),
            ("expired", Some(&expired), S::UNAUTHORIZED),
            ("revoked", Some(&revoked), S::UNAUTHORIZED),
            ("reviewer", Some(&reviewer), expected[R]),
            ("custodian", Some(&custodian), expected[C]),
            ("admin", Some(&admin), expected[A]),
        ] {
            let (got, json) = call(&http, &api, method.clone(), path, tok, body.clone()).await;
            if got != want {
                failures.push(format!(
                    "{method} {path} as {label}: {got} (want {want}) {json}"
                ));
            }
            if got == S::UNAUTHORIZED {
                assert_eq!(
                    json["error"], "unauthorized",
                    "one answer for every auth failure"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );

    // Every auth failure is audited without the token; reading the reviewer's answer shows the
    // custodian's denial.
    let audit = store.audit_entries(1, 10_000).await.unwrap();
    let fails = audit
        .iter()
        .filter(|r| r.entry.action == "auth.fail")
        .count();
    assert_eq!(fails, rows.len() * 4);
    for r in &audit {
        for t in [&reviewer, &custodian, &admin, &revoked] {
            assert!(!r.entry.detail.contains(t.expose_secret()));
        }
    }
    let mine = api.client(&reviewer).disclosures(None).await.unwrap();
    assert_eq!(mine.requests.len(), 1);
    assert_eq!(mine.requests[0].status, DisclosureStatus::Denied);
    assert_eq!(mine.requests[0].decisions[0].reason, "không đủ căn cứ");
    drop(rev_sk);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_not_yours_look_the_same_and_failures_are_limited() {
    let (store, _dir, _) = common::sqlite_store().await;
    let (_a_sk, a_pk) = suite::generate_keypair();
    let (_c_sk, c_pk) = suite::generate_keypair();
    store
        .add_recipient(&a_pk, RecipientRole::Reviewer, "A", "test")
        .await
        .unwrap();
    store
        .add_recipient(&c_pk, RecipientRole::Custodian, "C", "test")
        .await
        .unwrap();
    // Sealed to A only; then B joins (no rewrap yet): B may not see it.
    let case = submit(&store, "x").await;
    let (_b_sk, b_pk) = suite::generate_keypair();
    store
        .add_recipient(&b_pk, RecipientRole::Reviewer, "B", "test")
        .await
        .unwrap();
    let b = token(&store, TokenRole::Reviewer, Some(b_pk.key_id()), 3600).await;
    let api = Api::start_with(&store, 1, FailureLimiter::new(3)).await;
    let http = reqwest::Client::new();
    let not_yours = call(
        &http,
        &api,
        Method::GET,
        &format!("/cases/{}", case.code),
        Some(&b),
        None,
    )
    .await;
    let unknown = call(&http, &api, Method::GET, "/cases/ZZZZ-ZZZZ", Some(&b), None).await;
    let garbage = call(&http, &api, Method::GET, "/cases/../../etc", Some(&b), None).await;
    assert_eq!(not_yours.0, StatusCode::NOT_FOUND);
    assert_eq!(not_yours, unknown);
    // Nor can B claim it as "the next case": it stays free for A.
    let claimed = api.client(&b).claim_next().await.unwrap();
    assert!(claimed.case.is_none(), "{claimed:?}");
    assert_eq!(store.case(&case.id).await.unwrap().claimed_by, None);
    assert_eq!(garbage.0, StatusCode::NOT_FOUND);
    // Each refusal is audited with the caller and the route template, never the probed code.
    let audit = store.audit_entries(1, 10_000).await.unwrap();
    let refused: Vec<&str> = audit
        .iter()
        .filter(|r| r.entry.action == "refused")
        .map(|r| r.entry.detail.as_str())
        .collect();
    assert_eq!(
        refused
            .iter()
            .filter(|d| **d == "GET /api/v1/cases/{code} 404")
            .count(),
        // `../../etc` is resolved by the client to a path no route matches: nothing to audit.
        2,
        "{refused:?}"
    );
    assert!(
        audit
            .iter()
            .filter(|r| r.entry.action == "refused")
            .all(|r| r.entry.actor == b_pk.key_id().to_string()),
        "{refused:?}"
    );
    assert!(!refused.iter().any(|d| d.contains("ZZZZ")), "{refused:?}");
    let listed = api.client(&b).queue("").await.unwrap();
    assert_eq!(
        listed.total, 0,
        "B's queue does not show a case B cannot open"
    );

    // Three failures from this address, then even a valid token is refused for the window.
    for _ in 0..3 {
        let (s, _) = call(&http, &api, Method::GET, "/whoami", None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, json) = call(&http, &api, Method::GET, "/whoami", Some(&b), None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{json}");
    let audit = store.audit_entries(1, 10_000).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "auth.rate_limited"));
    api.stop().await;
}

/// Behind a trusted reverse proxy, failures count against the reviewer's machine named in
/// `X-Forwarded-For` (never against the proxy, which would lock everyone out, and never
/// against addresses a client wrote into the header itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_behind_a_trusted_proxy_count_per_client() {
    let (store, _dir, _) = common::sqlite_store().await;
    let (_a_sk, a_pk) = suite::generate_keypair();
    store
        .add_recipient(&a_pk, RecipientRole::Reviewer, "A", "test")
        .await
        .unwrap();
    let a = token(&store, TokenRole::Reviewer, Some(a_pk.key_id()), 3600).await;
    let api = Api::start_state(std::sync::Arc::new(tipline::review::server::ApiState {
        store: store.clone(),
        approvals_required: 1,
        closed_case_days: 180,
        limiter: FailureLimiter::new(3),
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        authority: Vec::new(),
        authorities: None,
    }))
    .await;
    let http = reqwest::Client::new();
    let whoami = |forwarded: &'static str, token: Option<SecretString>| {
        let http = http.clone();
        let url = format!("{}/api/v1/whoami", api.url);
        async move {
            let mut r = http.get(url).header("x-forwarded-for", forwarded);
            if let Some(t) = token {
                r = r.bearer_auth(t.expose_secret());
            }
            r.send().await.unwrap().status()
        }
    };
    for _ in 0..3 {
        assert_eq!(whoami("198.51.100.7", None).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        whoami("198.51.100.7", Some(a.clone())).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing machine is refused, even with a valid token"
    );
    // A client cannot escape by prepending addresses: the proxy's entry is the rightmost.
    assert_eq!(
        whoami("203.0.113.1, 198.51.100.7", Some(a.clone())).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other reviewers behind the same proxy are not locked out.
    assert_eq!(
        whoami("198.51.100.8", Some(a.clone())).await,
        StatusCode::OK
    );
    assert_eq!(
        whoami("2001:db8:0:1::5", Some(a.clone())).await,
        StatusCode::OK
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_retired_keys_open_nothing_after_rewrap() {
    let (store, _dir, _) = common::sqlite_store().await;
    let (a_sk, a_pk) = suite::generate_keypair();
    let (b_sk, b_pk) = suite::generate_keypair();
    let (c1_sk, c1_pk) = suite::generate_keypair();
    let (c2_sk, c2_pk) = suite::generate_keypair();
    let a_sign = tipline::crypto::sign::SigningKey::generate();
    common::register_keys(
        &store,
        RecipientRole::Reviewer,
        "A",
        a_pk,
        a_sign.verifying_key(),
    )
    .await;
    for (pk, role, name) in [
        (b_pk, RecipientRole::Reviewer, "B"),
        (c1_pk, RecipientRole::Custodian, "C1"),
        (c2_pk, RecipientRole::Custodian, "C2"),
    ] {
        common::register_key(&store, role, name, pk).await;
    }
    let api = Api::start(&store, 1).await;
    let a_tok = token(&store, TokenRole::Reviewer, Some(a_pk.key_id()), 3600).await;
    let b_tok = token(&store, TokenRole::Reviewer, Some(b_pk.key_id()), 3600).await;
    let c2_tok = token(&store, TokenRole::Custodian, Some(c2_pk.key_id()), 3600).await;
    let mut cases = Vec::new();
    for i in 0..3 {
        let c = submit(&store, &format!("case {i}")).await;
        client::reply(
            &api.client(&a_tok),
            &a_sign,
            c.code.as_str(),
            "Xin cho biết thêm?",
        )
        .await
        .unwrap();
        client::note(
            &api.client(&a_tok),
            &a_sign,
            c.code.as_str(),
            "ghi chú nội bộ",
        )
        .await
        .unwrap();
        cases.push(c);
    }
    store
        .set_status(&cases[2].id, &a_pk.key_id(), CaseStatus::InReview, None, 0)
        .await
        .unwrap();
    store
        .set_status(
            &cases[2].id,
            &a_pk.key_id(),
            CaseStatus::Closed,
            Some(Outcome::Referred),
            0,
        )
        .await
        .unwrap();

    // A holds a case; retiring A gives it back to the queue at once.
    api.client(&a_tok)
        .claim(cases[0].code.as_str())
        .await
        .unwrap();
    assert!(store.case(&cases[0].id).await.unwrap().claimed_by.is_some());
    // Retire A and C1 (statements signed by the authority); the epoch moves; A's token stops
    // working at once.
    common::retire_key(&store, RecipientRole::Reviewer, a_pk).await;
    common::retire_key(&store, RecipientRole::Custodian, c1_pk).await;
    let released = store.case(&cases[0].id).await.unwrap();
    assert_eq!(released.claimed_by, None, "a retired key holds no case");
    assert_eq!(released.lease_until, None);
    assert_eq!(
        api.client(&a_tok).whoami().await.unwrap_err().status(),
        Some(401)
    );

    // The plan comes in pages that end between cases: with limit=1, one case a page, and
    // following `next` visits every item once.
    let http = reqwest::Client::new();
    let mut after: Option<String> = None;
    let mut seen = BTreeSet::new();
    let mut pages = 0;
    loop {
        let path = match &after {
            Some(a) => format!("/rewrap?limit=1&after={a}"),
            None => "/rewrap?limit=1".to_owned(),
        };
        let (status, page) = call(&http, &api, Method::GET, &path, Some(&b_tok), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "one case's three items: {page}");
        for item in items {
            assert!(seen.insert(item["id"].as_i64().unwrap()), "an item twice");
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 9));

    let r = client::rewrap_all(&api.client(&b_tok), &b_sk)
        .await
        .unwrap();
    assert_eq!((r.rewrapped, r.failed, r.not_openable), (9, 0, 0), "{r:?}");
    let r = client::rewrap_all(&api.client(&c2_tok), &c2_sk)
        .await
        .unwrap();
    assert_eq!((r.rewrapped, r.failed, r.not_openable), (3, 0, 0), "{r:?}");
    // Nothing left to do.
    assert!(
        api.client(&b_tok)
            .rewrap_plan()
            .await
            .unwrap()
            .items
            .is_empty()
    );

    for c in &cases {
        for item in store.items(&c.id).await.unwrap() {
            let ids: BTreeSet<_> = envelope::recipients(&item.blob)
                .unwrap()
                .into_iter()
                .collect();
            assert!(!ids.contains(&a_pk.key_id()) && !ids.contains(&c1_pk.key_id()));
            for retired in [&a_sk, &c1_sk] {
                assert!(
                    envelope::open(&item.blob, item.kind, &c.id, retired).is_err(),
                    "a retired key opened a {} item",
                    item.kind.as_str()
                );
            }
            let holder = match item.kind {
                ItemKind::Identity | ItemKind::AttachmentOriginal => &c2_sk,
                _ => &b_sk,
            };
            envelope::open(&item.blob, item.kind, &c.id, holder).unwrap();
            if item.kind == ItemKind::ToReporter {
                let m: Sealed<TextMessage> = Sealed::from_bytes(item.blob.clone());
                assert_eq!(
                    m.open(ItemKind::ToReporter, &c.id, &c.mailbox)
                        .unwrap()
                        .text,
                    "Xin cho biết thêm?",
                    "the reporter's mailbox still opens replies"
                );
            }
        }
        let opened = client::open_case(&api.client(&b_tok), &b_sk, c.code.as_str())
            .await
            .unwrap();
        assert!(opened.summary.is_some() && opened.thread.len() == 2 && opened.unreadable == 0);
    }
    // A header for another item, or to a retired key, is refused.
    let items = store.items(&cases[0].id).await.unwrap();
    let summary = &items[0];
    let other = &store.items(&cases[1].id).await.unwrap()[0];
    let foreign = envelope::rewrap(&other.blob, other.kind, &cases[1].id, &b_sk, &[b_pk]).unwrap();
    let bad = api
        .client(&b_tok)
        .rewrap(
            summary.id,
            &tipline::review::wire::RewrapBody {
                version: 1,
                header: hex::encode(foreign),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(422));
    let to_retired = envelope::rewrap(
        &summary.blob,
        summary.kind,
        &cases[0].id,
        &b_sk,
        &[a_pk, b_pk],
    )
    .unwrap();
    let bad = api
        .client(&b_tok)
        .rewrap(
            summary.id,
            &tipline::review::wire::RewrapBody {
                version: 1,
                header: hex::encode(to_retired),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(422));
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_closed_cases_with_items_and_receipts() {
    let (store, _dir, url) = common::sqlite_store().await;
    let (_r_sk, r_pk) = suite::generate_keypair();
    let (_c_sk, c_pk) = suite::generate_keypair();
    store
        .add_recipient(&r_pk, RecipientRole::Reviewer, "R", "test")
        .await
        .unwrap();
    store
        .add_recipient(&c_pk, RecipientRole::Custodian, "C", "test")
        .await
        .unwrap();
    let old = submit(&store, "old").await;
    let recent = submit(&store, "recent").await;
    let open = submit(&store, "open").await;
    let k = r_pk.key_id();
    for c in [&old, &recent] {
        store
            .set_status(&c.id, &k, CaseStatus::InReview, None, 0)
            .await
            .unwrap();
        store
            .set_status(
                &c.id,
                &k,
                CaseStatus::Closed,
                Some(Outcome::NotActionable),
                0,
            )
            .await
            .unwrap();
    }
    // Pretend the old case was closed 200 days ago.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE cases SET closed_day = closed_day - 200 WHERE id = $1")
        .bind(&old.id.as_bytes()[..])
        .execute(&pool)
        .await
        .unwrap();
    let r = tipline::review::server::run_purge(&store, 180, "test")
        .await
        .unwrap();
    assert_eq!(r.cases, vec![old.code.as_str().to_owned()]);
    assert!(matches!(
        store.case(&old.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.items(&old.id).await.unwrap().is_empty());
    let keys = old
        .receipt
        .derive_blocking(tipline::crypto::keyfile::KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    assert!(
        store
            .case_by_receipt(&keys.lookup_id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.tombstone(&keys.lookup_id).await.unwrap(),
        Some(old.code.clone())
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipts WHERE lookup_id = $1")
        .bind(&keys.lookup_id.0[..])
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "the receipt and its mailbox key are gone");
    for c in [&recent, &open] {
        assert_eq!(store.items(&c.id).await.unwrap().len(), 2);
    }
    let audit = store.audit_entries(1, 10_000).await.unwrap();
    let purge = audit
        .iter()
        .find(|r| r.entry.action == "case.purge")
        .unwrap();
    assert_eq!(purge.entry.case_code.as_deref(), Some(old.code.as_str()));
    assert_eq!(purge.entry.detail, "2 items, 1 receipt");
    assert!(store.audit_verify().await.unwrap().is_ok());
    // The WAL was checkpointed and truncated.
    let wal = std::path::PathBuf::from(url.trim_start_matches("sqlite:")).with_extension("db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    // A second run finds nothing.
    assert!(
        tipline::review::server::run_purge(&store, 180, "test")
            .await
            .unwrap()
            .cases
            .is_empty()
    );
    pool.close().await;
}

/// Leases, transitions, disclosure and header swaps: the same story on both backends.
async fn store_story(store: &Store) {
    let (_r_sk, r_pk) = suite::generate_keypair();
    let (_r2_sk, r2_pk) = suite::generate_keypair();
    let (c_sk, c_pk) = suite::generate_keypair();
    let (_c2_sk, c2_pk) = suite::generate_keypair();
    for (pk, role) in [
        (r_pk, RecipientRole::Reviewer),
        (r2_pk, RecipientRole::Reviewer),
        (c_pk, RecipientRole::Custodian),
        (c2_pk, RecipientRole::Custodian),
    ] {
        store.add_recipient(&pk, role, "x", "test").await.unwrap();
    }
    let (r, r2, c, c2) = (r_pk.key_id(), r2_pk.key_id(), c_pk.key_id(), c2_pk.key_id());
    let one = submit(store, "1").await;
    let two = submit(store, "2").await;
    let now = tipline::clock::unix_now();

    // Claims: a new case goes in review, nobody takes a held case. (Both were submitted the
    // same day, so which comes first is not fixed.)
    let got = store.claim_next(&r, now + 100, now).await.unwrap().unwrap();
    assert_eq!(got.status, CaseStatus::InReview);
    let (first, second) = if got.code == one.code {
        (one, two)
    } else {
        (two, one)
    };
    assert_eq!(got.code, first.code);
    let got2 = store
        .claim_next(&r2, now + 100, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got2.code, second.code);
    // The queue's filters, applied by the database.
    let codes = |rows: Vec<tipline::store::CaseRow>| -> Vec<String> {
        rows.into_iter().map(|c| c.code.to_string()).collect()
    };
    let filter = |status, unread, claimed_by| tipline::store::QueueFilter {
        status,
        unread,
        claimed_by,
    };
    assert_eq!(
        store.queue(&filter(None, None, None)).await.unwrap().len(),
        2
    );
    assert_eq!(
        codes(store.queue(&filter(None, None, Some(r))).await.unwrap()),
        vec![first.code.to_string()]
    );
    assert_eq!(
        store
            .queue(&filter(Some(CaseStatus::InReview), Some(false), None))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .queue(&filter(Some(CaseStatus::New), None, None))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .queue(&filter(None, Some(true), None))
            .await
            .unwrap()
            .is_empty()
    );
    // The same filters over the cases a key can open (the case_keys index), in pages.
    let viewer = |key, class| tipline::store::QueueViewer { key, class };
    let page = async |v: &tipline::store::QueueViewer, f, after, limit| {
        codes(store.queue_page(v, &f, after, 0, limit).await.unwrap())
    };
    let (rv, r2v, cv) = (
        viewer(r, TokenRole::Reviewer),
        viewer(r2, TokenRole::Reviewer),
        viewer(c, TokenRole::Custodian),
    );
    let in_order = codes(store.queue(&filter(None, None, None)).await.unwrap());
    for v in [&rv, &r2v, &cv] {
        assert_eq!(page(v, filter(None, None, None), None, 50).await, in_order);
        assert_eq!(
            store
                .queue_count(v, &filter(None, None, None), 10)
                .await
                .unwrap(),
            2
        );
    }
    // A key sees nothing through a role its items were not sealed for, nor an unknown key.
    for v in [
        viewer(c, TokenRole::Reviewer),
        viewer(r, TokenRole::Custodian),
        viewer(suite::generate_keypair().1.key_id(), TokenRole::Reviewer),
    ] {
        assert!(
            page(&v, filter(None, None, None), None, 50)
                .await
                .is_empty()
        );
    }
    // Page by page: one case, then the next after its cursor, then nothing.
    let firsts = store
        .queue_page(&rv, &filter(None, None, None), None, 0, 1)
        .await
        .unwrap();
    assert_eq!(codes(firsts.clone()), in_order[..1]);
    let cursor = tipline::store::QueueCursor::after(&firsts[0]);
    assert_eq!(
        tipline::store::QueueCursor::parse(&cursor.to_string()),
        Some(cursor.clone())
    );
    assert_eq!(
        page(&rv, filter(None, None, None), Some(&cursor), 1).await,
        in_order[1..]
    );
    let last =
        tipline::store::QueueCursor::parse(&format!("{}.{}", cursor.created_day, in_order[1]))
            .unwrap();
    assert!(
        page(&rv, filter(None, None, None), Some(&last), 1)
            .await
            .is_empty()
    );
    assert_eq!(
        store
            .queue_count(&rv, &filter(None, None, None), 1)
            .await
            .unwrap(),
        1,
        "the count stops at its cap"
    );
    assert_eq!(
        page(&rv, filter(None, None, Some(r)), None, 50).await,
        vec![first.code.to_string()]
    );
    assert_eq!(
        page(&r2v, filter(None, None, Some(r)), None, 50).await,
        vec![first.code.to_string()],
        "mine is the caller's key, which the API passes"
    );
    assert_eq!(
        page(
            &rv,
            filter(Some(CaseStatus::InReview), Some(false), None),
            None,
            50
        )
        .await
        .len(),
        2
    );
    assert!(
        page(&rv, filter(Some(CaseStatus::New), None, None), None, 50)
            .await
            .is_empty()
    );
    assert!(
        page(&rv, filter(None, Some(true), None), None, 50)
            .await
            .is_empty()
    );
    assert!(
        store
            .claim_next(&r2, now + 100, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.claim_case(&first.id, &r2, now + 100, now).await,
        Err(StoreError::Conflict)
    ));
    // An expired lease can be taken over.
    let later = now + 200;
    assert_eq!(
        store
            .claim_case(&first.id, &r2, later + 100, later)
            .await
            .unwrap()
            .claimed_by,
        Some(r2)
    );
    assert!(matches!(
        store.release_case(&first.id, &r).await,
        Err(StoreError::Conflict)
    ));
    store.release_case(&first.id, &r2).await.unwrap();

    // Transitions.
    assert!(matches!(
        store
            .set_status(&first.id, &r, CaseStatus::New, None, now)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .set_status(&first.id, &r, CaseStatus::Closed, None, now)
            .await,
        Err(StoreError::Invalid(_))
    ));
    store
        .set_status(&first.id, &r, CaseStatus::AwaitingReporter, None, now)
        .await
        .unwrap();
    store
        .set_status(&first.id, &r, CaseStatus::InReview, None, now)
        .await
        .unwrap();
    assert!(matches!(
        store
            .set_status(&second.id, &r, CaseStatus::AwaitingReporter, None, now)
            .await,
        Err(StoreError::Conflict)
    ));
    let closed = store
        .set_status(
            &first.id,
            &r,
            CaseStatus::Closed,
            Some(Outcome::Substantiated),
            now,
        )
        .await
        .unwrap();
    assert_eq!(closed.outcome, Some(Outcome::Substantiated));
    assert!(closed.closed_day.is_some() && closed.claimed_by.is_none());
    // The index's copy of the status follows the case.
    assert_eq!(
        page(&rv, filter(Some(CaseStatus::Closed), None, None), None, 50).await,
        vec![first.code.to_string()]
    );
    assert_eq!(
        page(
            &cv,
            filter(Some(CaseStatus::InReview), None, None),
            None,
            50
        )
        .await,
        vec![second.code.to_string()]
    );
    assert!(matches!(
        store
            .set_status(&first.id, &r, CaseStatus::InReview, None, now)
            .await,
        Err(StoreError::Invalid(_))
    ));

    // Disclosure with two approvals required; a second custodian vote completes it.
    let id = store
        .request_disclosure(&second.id, &r2, "lý do", None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .request_disclosure(&second.id, &r2, "again", None)
            .await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(
        store
            .decide_disclosure(id, &c, true, "ok", 2, None)
            .await
            .unwrap(),
        DisclosureStatus::Pending
    );
    assert!(matches!(
        store.decide_disclosure(id, &c, true, "ok", 2, None).await,
        Err(StoreError::AlreadyExists)
    ));
    let disclosed = tipline::store::NewItem {
        kind: ItemKind::DisclosedIdentity,
        blob: vec![1, 2, 3],
        author: Some(c),
        for_key: Some(r2),
    };
    assert!(matches!(
        store
            .fulfil_disclosure(id, &second.id, &disclosed, &c, None)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store
            .decide_disclosure(id, &c2, true, "ok", 2, None)
            .await
            .unwrap(),
        DisclosureStatus::Approved
    );
    store
        .fulfil_disclosure(id, &second.id, &disclosed, &c, None)
        .await
        .unwrap();
    let req = store.disclosure_request(id).await.unwrap();
    assert_eq!(req.status, DisclosureStatus::Fulfilled);
    assert_eq!(req.decisions.len(), 2);
    assert_eq!(
        store
            .disclosure_requests(Some(&r), None)
            .await
            .unwrap()
            .len(),
        0
    );

    // Header swap with compare-and-swap on the version.
    let items = store.item_headers(&second.id).await.unwrap();
    let ident = items.iter().find(|h| h.kind == ItemKind::Identity).unwrap();
    assert_eq!(ident.recipients.len(), 2);
    let full = store.item(ident.id).await.unwrap();
    let header = envelope::rewrap(
        &full.item.blob,
        ItemKind::Identity,
        &second.id,
        &c_sk,
        &[c_pk],
    )
    .unwrap();
    let blob = envelope::splice_header(&full.item.blob, &header).unwrap();
    assert_eq!(
        store
            .swap_item_blob(ident.id, 0, &blob, "test", None)
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        store.swap_item_blob(ident.id, 0, &blob, "test", None).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.item(ident.id).await.unwrap().item.blob, blob);
    // Re-sealed to c alone, the second case's identity no longer opens for c2.
    let c2v = viewer(c2, TokenRole::Custodian);
    assert_eq!(
        page(&c2v, filter(None, None, None), None, 50).await,
        vec![first.code.to_string()]
    );
    assert_eq!(
        page(&cv, filter(None, None, None), None, 50).await,
        in_order
    );

    // Retiring r2 deletes the identity disclosed to it (only its key could open that item);
    // the reporter's identity sealed to the custodians stays.
    let disclosed_kind = |h: &Vec<ItemHeader>| {
        h.iter()
            .filter(|h| h.kind == ItemKind::DisclosedIdentity)
            .count()
    };
    assert_eq!(
        disclosed_kind(&store.item_headers(&second.id).await.unwrap()),
        1
    );
    store.retire_recipient(&r2, "test").await.unwrap();
    let after = store.item_headers(&second.id).await.unwrap();
    assert_eq!(disclosed_kind(&after), 0);
    assert!(after.iter().any(|h| h.kind == ItemKind::Identity));
    let log = store.audit_entries(1, i64::MAX).await.unwrap();
    assert!(
        log.last()
            .unwrap()
            .entry
            .detail
            .contains("1 disclosed identity deleted"),
        "{:?}",
        log.last()
    );

    // Tokens.
    let t = tipline::review::auth::issue(store, TokenRole::Reviewer, Some(r), 60, "test")
        .await
        .unwrap();
    let found = store
        .token_by_hash(&tipline::review::auth::token_hash(t.token.expose_secret()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, t.row);
    store.revoke_token(&t.row.id, "test").await.unwrap();
    assert!(store.tokens().await.unwrap()[0].revoked);
    assert!(matches!(
        store.revoke_token("nope", "test").await,
        Err(StoreError::NotFound)
    ));

    assert!(store.audit_verify().await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_review_story_sqlite() {
    let (store, _dir, _) = common::sqlite_store().await;
    store_story(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_review_story_postgres() {
    let Some(db) = common::PgDatabase::create("store_review_story_postgres").await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    store_story(&store).await;
    store.close().await;
    db.drop_database().await;
}

/// Registers `n` new keys of `role` (private halves dropped) and returns their ids.
async fn register(store: &Store, role: RecipientRole, n: usize) -> Vec<tipline::crypto::KeyId> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let (_sk, pk) = suite::generate_keypair();
        store
            .add_recipient(&pk, role, &format!("{role} {i}"), "test")
            .await
            .unwrap();
        ids.push(pk.key_id());
    }
    ids
}

async fn concurrent_claims(store: &Store, claimers: usize, cases: usize) {
    register(store, RecipientRole::Custodian, 1).await;
    let keys = register(store, RecipientRole::Reviewer, claimers).await;
    let mut all = BTreeSet::new();
    for i in 0..cases {
        all.insert(
            submit(store, &format!("{i}"))
                .await
                .code
                .as_str()
                .to_owned(),
        );
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(claimers));
    let mut tasks = Vec::new();
    for k in keys {
        let store = store.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut mine = Vec::new();
            let now = tipline::clock::unix_now();
            while let Some(c) = store.claim_next(&k, now + 3600, now).await.unwrap() {
                assert_eq!(c.claimed_by, Some(k));
                mine.push(c.code.as_str().to_owned());
            }
            mine
        }));
    }
    let mut seen = BTreeSet::new();
    let mut per = Vec::new();
    for t in tasks {
        let mine = t.await.unwrap();
        per.push(mine.len());
        for code in mine {
            assert!(seen.insert(code.clone()), "case {code} was claimed twice");
        }
    }
    assert_eq!(seen, all, "every case was claimed exactly once ({per:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_postgres_never_share_a_case() {
    let Some(db) =
        common::PgDatabase::create("concurrent_claims_postgres_never_share_a_case").await
    else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    concurrent_claims(&store, 4, 40).await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_sqlite_never_share_a_case() {
    let (store, _dir, _) = common::sqlite_store().await;
    concurrent_claims(&store, 4, 20).await;
}

/// Decisions, requests and status changes made at the same moment by different people: each
/// sees what the others committed, so approvals add up, a request is opened once and a case
/// makes one transition, and the audit log records only what happened.
async fn concurrent_decisions(store: &Store, rounds: usize) {
    let reviewers = register(store, RecipientRole::Reviewer, 4).await;
    let custodians = register(store, RecipientRole::Custodian, 2).await;
    let r = reviewers[0];
    for round in 0..rounds {
        let case = submit(store, &format!("{round}")).await;
        let audit_before = store.audit_entries(1, i64::MAX).await.unwrap().len();

        // The same reviewer asks four times at once: one request opens.
        let opened = futures_util::future::join_all(
            (0..4).map(|_| store.request_disclosure(&case.id, &r, "cần xác minh", None)),
        )
        .await;
        let ids: Vec<i64> = opened
            .iter()
            .filter_map(|o| o.as_ref().ok().copied())
            .collect();
        assert_eq!(ids.len(), 1, "round {round}: {opened:?}");
        for o in &opened {
            assert!(matches!(o, Ok(_) | Err(StoreError::AlreadyExists)), "{o:?}");
        }
        let id = ids[0];

        // Two custodians approve at once with two approvals required: both count.
        let (a, b) = tokio::join!(
            store.decide_disclosure(id, &custodians[0], true, "ok", 2, None),
            store.decide_disclosure(id, &custodians[1], true, "ok", 2, None)
        );
        let mut got = [a.unwrap(), b.unwrap()];
        got.sort_by_key(|s| s.as_str());
        assert_eq!(
            got,
            [DisclosureStatus::Approved, DisclosureStatus::Pending],
            "round {round}"
        );
        let requests = store.disclosure_requests(Some(&r), None).await.unwrap();
        let request = requests.iter().find(|q| q.id == id).unwrap();
        assert_eq!(request.status, DisclosureStatus::Approved, "round {round}");

        // Four reviewers move the same unclaimed case out of `new` at once: one succeeds, the
        // others are told it changed.
        let moved = futures_util::future::join_all(reviewers.iter().map(|k| {
            store.set_status(
                &case.id,
                k,
                CaseStatus::InReview,
                None,
                tipline::clock::unix_now(),
            )
        }))
        .await;
        let ok = moved.iter().filter(|m| m.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {moved:?}");
        for m in &moved {
            assert!(
                matches!(
                    m,
                    Ok(_) | Err(StoreError::Conflict) | Err(StoreError::Invalid(_))
                ),
                "{m:?}"
            );
        }
        let log = store.audit_entries(1, i64::MAX).await.unwrap();
        let actions: Vec<&str> = log[audit_before..]
            .iter()
            .map(|e| e.entry.action.as_str())
            .collect();
        assert_eq!(
            actions
                .iter()
                .filter(|a| **a == "disclosure.request")
                .count(),
            1,
            "{actions:?}"
        );
        assert_eq!(
            actions
                .iter()
                .filter(|a| **a == "disclosure.decide")
                .count(),
            2,
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| **a == "case.status").count(),
            1,
            "{actions:?}"
        );
    }
    assert!(store.audit_verify().await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_decisions_postgres_count_every_approval() {
    let Some(db) =
        common::PgDatabase::create("concurrent_decisions_postgres_count_every_approval").await
    else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    concurrent_decisions(&store, 15).await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_decisions_sqlite_count_every_approval() {
    let (store, _dir, _) = common::sqlite_store().await;
    concurrent_decisions(&store, 5).await;
}

/// `review login --ca-file`: the client trusts exactly the Inspectorate's CA. A TLS server
/// (openssl's own) with a certificate from that CA completes the handshake; the same server is
/// refused by a client pinned to another CA and by one trusting only the public authorities.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_ca_is_the_only_one_trusted() {
    use std::process::{Command, Stdio};
    if Command::new("openssl").arg("version").output().is_err() {
        common::skipped("a_pinned_ca_is_the_only_one_trusted", "no openssl binary");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ssl = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    for ca in ["ca", "other"] {
        ssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-subj",
            &format!("/CN=tipline test {ca}"),
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }
    ssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        d.join("ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    ssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(port.to_string())
        .args(["-cert", "server.pem", "-key", "server.key"])
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up_by = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < up_by,
            "openssl s_server did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let url = format!("https://localhost:{port}");
    let token = SecretString::from("t".to_owned());
    let ca = std::fs::read(d.join("ca.pem")).unwrap();
    let other = std::fs::read(d.join("other.pem")).unwrap();
    // The handshake succeeds: the answer is openssl's status page, not the API's JSON.
    let pinned = client::Client::with_ca(&url, token.clone(), Some(&ca))
        .unwrap()
        .whoami()
        .await;
    assert!(
        matches!(pinned, Err(client::ClientError::Malformed(_))),
        "{pinned:?}"
    );
    for (what, pem) in [("another CA", Some(&other[..])), ("the public CAs", None)] {
        let refused = client::Client::with_ca(&url, token.clone(), pem)
            .unwrap()
            .whoami()
            .await;
        assert!(
            matches!(refused, Err(client::ClientError::Unreachable(_))),
            "{what}: {refused:?}"
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// The keyring authority sets how many custodians must approve (above the server's own
/// setting), and an identity disclosed to a reviewer follows that reviewer's key rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authority_sets_the_threshold_and_a_disclosed_identity_follows_its_reviewer() {
    use tipline::crypto::sign::SigningKey;
    use tipline::trust::Op;
    let (store, _dir, url) = common::sqlite_store().await;
    let (a_sk, a_pk) = suite::generate_keypair();
    let a_sign = SigningKey::generate();
    common::register_keys(
        &store,
        RecipientRole::Reviewer,
        "An",
        a_pk,
        a_sign.verifying_key(),
    )
    .await;
    let mut custodians = Vec::new();
    for name in ["C1", "C2"] {
        let (sk, pk) = suite::generate_keypair();
        let sign = SigningKey::generate();
        common::register_keys(
            &store,
            RecipientRole::Custodian,
            name,
            pk,
            sign.verifying_key(),
        )
        .await;
        custodians.push((sk, pk, sign));
    }
    tipline::trust::register(
        &store,
        &common::test_authority(),
        Op::Approvals { required: 2 },
    )
    .await
    .unwrap();
    // The server is configured for one approval; the signed keyring's two count.
    let api = Api::start(&store, 1).await;
    let reviewer = api.client(&token(&store, TokenRole::Reviewer, Some(a_pk.key_id()), 3600).await);
    let custodian = |i: usize| {
        let key = custodians[i].1.key_id();
        let store = store.clone();
        let api = &api;
        async move { api.client(&token(&store, TokenRole::Custodian, Some(key), 3600).await) }
    };
    let (c1, c2) = (custodian(0).await, custodian(1).await);
    let case = submit(&store, "Cán bộ xã đòi tiền.").await;
    let asked = client::request_identity(&reviewer, &a_pk, &a_sign, case.code.as_str(), "Xác minh")
        .await
        .unwrap();
    async fn approve(
        c: &client::Client,
        (sk, _, sign): &(
            tipline::crypto::SecretKey,
            tipline::crypto::PublicKey,
            SigningKey,
        ),
        id: i64,
    ) -> (tipline::review::wire::DisclosureView, Option<i64>) {
        client::decide_and_disclose(c, sk, sign, id, true, "Đồng ý")
            .await
            .unwrap()
    }
    let (view, item) = approve(&c1, &custodians[0], asked.id).await;
    assert_eq!(
        (view.status, view.approvals_required, item),
        (DisclosureStatus::Pending, 2, None)
    );
    let (view, item) = approve(&c2, &custodians[1], asked.id).await;
    assert_eq!(view.status, DisclosureStatus::Fulfilled, "{view:?}");
    assert!(item.is_some());
    let opened = client::open_case(&reviewer, &a_sk, case.code.as_str())
        .await
        .unwrap();
    assert_eq!(
        opened.identity.map(|i| i.first_name).as_deref(),
        Some("Lan")
    );

    // A request the database marks approved after one approval: the custodian's client counts
    // the signed keyring's two and re-seals nothing.
    let second = submit(&store, "Một phản ánh khác.").await;
    let asked2 =
        client::request_identity(&reviewer, &a_pk, &a_sign, second.code.as_str(), "Lần hai")
            .await
            .unwrap();
    approve(&c1, &custodians[0], asked2.id).await;
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE disclosure_requests SET status = 'approved' WHERE id = ?")
        .bind(asked2.id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let request = c1.disclosure(asked2.id).await.unwrap().unwrap();
    let err = client::disclose(&c1, &custodians[0].0, &custodians[0].2, &request)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("1 valid custodian approval(s) signed for it; 2 needed"),
        "{err}"
    );

    // The reviewer's key rotates: the authority signs a new key under the same name, the old
    // key's `rewrap` moves the disclosed identity to it, and retiring the old key deletes nothing.
    let (b_sk, b_pk) = suite::generate_keypair();
    common::register_keys(
        &store,
        RecipientRole::Reviewer,
        "An",
        b_pk,
        SigningKey::generate().verifying_key(),
    )
    .await;
    let report = client::rewrap_all(&reviewer, &a_sk).await.unwrap();
    assert_eq!((report.refused, report.failed), (0, 0), "{report:?}");
    let disclosed = store
        .item_headers(&case.id)
        .await
        .unwrap()
        .into_iter()
        .find(|h| h.kind == ItemKind::DisclosedIdentity)
        .unwrap();
    assert_eq!(disclosed.for_key, Some(b_pk.key_id()));
    assert_eq!(disclosed.recipients, vec![b_pk.key_id()]);
    common::retire_key(&store, RecipientRole::Reviewer, a_pk).await;
    let next = api.client(&token(&store, TokenRole::Reviewer, Some(b_pk.key_id()), 3600).await);
    let opened = client::open_case(&next, &b_sk, case.code.as_str())
        .await
        .unwrap();
    assert_eq!(opened.unverified, 0);
    assert_eq!(
        opened.identity.map(|i| i.first_name).as_deref(),
        Some("Lan")
    );
    api.stop().await;
}

/// Client errors say what happened: nothing listening is "cannot reach", a server that takes
/// the request and does not answer in time is "slow", not unreachable (issue 19).
#[tokio::test]
async fn client_errors_tell_unreachable_from_slow() {
    use secrecy::SecretString;
    // Nothing listens on a port just freed.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let token = SecretString::from("t".to_owned());
    let c = client::Client::new(&format!("http://{addr}"), token.clone()).unwrap();
    let e = c.whoami().await.unwrap_err();
    assert!(matches!(e, client::ClientError::Unreachable(_)), "{e:?}");
    assert!(
        e.to_string().starts_with("cannot reach the review server"),
        "{e}"
    );
    // A server that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    let c = client::Client::with_ca_within(
        &format!("http://{addr}"),
        token,
        None,
        std::time::Duration::from_secs(1),
    )
    .unwrap();
    let e = c.whoami().await.unwrap_err();
    assert!(matches!(e, client::ClientError::Slow(1)), "{e:?}");
    assert!(
        e.to_string()
            .contains("was reached but did not answer within 1 s"),
        "{e}"
    );
    held.abort();
}

/// Listings page by cursor through the API: `next` leads through every case the caller can
/// open, each once, in queue order, and is absent on the last page; a case the index lists but
/// whose items do not open for the caller is not shown; disclosure requests page the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_page_by_cursor() {
    let (store, _dir, url) = common::sqlite_store().await;
    let (_, r_pk) = suite::generate_keypair();
    let (_, c_pk) = suite::generate_keypair();
    store
        .add_recipient(&r_pk, RecipientRole::Reviewer, "R", "test")
        .await
        .unwrap();
    store
        .add_recipient(&c_pk, RecipientRole::Custodian, "C", "test")
        .await
        .unwrap();
    let mut cases = Vec::new();
    for i in 0..5 {
        cases.push(submit(&store, &format!("case {i}")).await);
    }
    let api = Api::start(&store, 1).await;
    let r = token(&store, TokenRole::Reviewer, Some(r_pk.key_id()), 600).await;
    let client = api.client(&r);

    let mut seen = Vec::new();
    let mut query = "per_page=2".to_owned();
    for _ in 0..5 {
        let page = client.queue(&query).await.unwrap();
        assert_eq!((page.total, page.total_capped), (5, false));
        seen.extend(page.cases.iter().map(|c| c.code.clone()));
        match page.next {
            Some(n) => query = format!("per_page=2&after={n}"),
            None => break,
        }
    }
    let all = client.queue("per_page=200").await.unwrap();
    assert!(all.next.is_none(), "one page holds them all");
    let in_order: Vec<String> = all.cases.iter().map(|c| c.code.clone()).collect();
    assert_eq!(seen, in_order, "every case once, in queue order");
    assert_eq!(in_order.len(), 5);
    // `page=` still skips from the start.
    let third = client.queue("per_page=2&page=3").await.unwrap();
    assert_eq!(
        third
            .cases
            .iter()
            .map(|c| c.code.clone())
            .collect::<Vec<_>>(),
        in_order[4..]
    );
    let http = reqwest::Client::new();
    let (s, _) = call(
        &http,
        &api,
        Method::GET,
        "/cases?after=yesterday",
        Some(&r),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // A row written into the index behind the server's back shows nothing: the stranger's key
    // is listed by the index for every case, but no item opens for it.
    let (_, stranger) = suite::generate_keypair();
    store
        .add_recipient(&stranger, RecipientRole::Reviewer, "S", "test")
        .await
        .unwrap();
    let s_token = token(&store, TokenRole::Reviewer, Some(stranger.key_id()), 600).await;
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO case_keys (key_id, class, created_day, code, case_id, status) \
             SELECT $1, 'reviewer', created_day, code, id, status FROM cases",
        )
        .bind(stranger.key_id().to_string())
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let forged = api.client(&s_token).queue("").await.unwrap();
    assert!(forged.cases.is_empty(), "{:?}", forged.cases);

    // Disclosure requests, newest first, a page at a time.
    for c in &cases[..3] {
        store
            .request_disclosure(&c.id, &r_pk.key_id(), "cần xác minh", None)
            .await
            .unwrap();
    }
    let (s, first) = call(
        &http,
        &api,
        Method::GET,
        "/disclosures?limit=2",
        Some(&r),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(first["requests"].as_array().unwrap().len(), 2);
    let next = first["next"].as_i64().unwrap();
    let (_, second) = call(
        &http,
        &api,
        Method::GET,
        &format!("/disclosures?limit=2&before={next}"),
        Some(&r),
        None,
    )
    .await;
    assert_eq!(second["requests"].as_array().unwrap().len(), 1);
    assert!(second.get("next").is_none(), "{second}");
    let ids: Vec<i64> = first["requests"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["requests"].as_array().unwrap())
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert_eq!(client.disclosures(None).await.unwrap().requests.len(), 3);
    api.stop().await;
}
