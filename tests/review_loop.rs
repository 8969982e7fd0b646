//! The whole loop: a citizen reports through the simulator and the real bot; a reviewer claims,
//! decrypts and replies through the real HTTP API and the client library; the citizen reads the
//! reply in /status and answers; the reviewer reads the answer, requests the identity; a
//! custodian approves and re-seals it; the reviewer opens it. Then the audit chain verifies, the
//! case is closed and purged (the citizen is told it was removed), and one altered audit row
//! makes verification fail at that row.

use crate::common;

use common::bot::{Harness, Options};
use common::review::{Api, token};
use tipline::crypto::{ItemKind, envelope};
use tipline::review::client;
use tipline::sim::{Citizen, SimUser};
use tipline::store::{CaseStatus, DisclosureStatus, Outcome, Store, TokenRole};

async fn english_report(c: &Citizen) {
    common::bot::english_report_to_review(c).await;
    c.press("📞 Leave a contact").await;
    c.send("signal: example-handle").await;
    c.press("✅ Send report").await;
}

fn said_since(c: &Citizen, mark: tipline::sim::Mark) -> String {
    c.bot_messages_since(mark)
        .into_iter()
        .filter_map(|m| m.text)
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_reviewer_custodian_full_loop() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("tipline.db").display());
    let store = Store::open(&url).await.unwrap();
    let h = Harness::start_on(store, Options::default(), dir.path()).await;
    let api = Api::start(&h.store, 1).await;
    let rev_key = h.reviewer.1.key_id();
    let cus_key = h.custodian.1.key_id();
    let reviewer = api.client(&token(&h.store, TokenRole::Reviewer, Some(rev_key), 3600).await);
    let custodian = api.client(&token(&h.store, TokenRole::Custodian, Some(cus_key), 3600).await);
    let admin = api.client(&token(&h.store, TokenRole::Admin, None, 3600).await);

    // 1. A citizen reports.
    let citizen = h.citizen(SimUser::new(7_000_123, "Sam").language("en"));
    english_report(&citizen).await;
    let (code, receipt) = common::bot::submitted(&citizen);

    // 2. The reviewer claims the next case and decrypts it locally.
    let claimed = reviewer.claim_next().await.unwrap().case.unwrap();
    assert_eq!(claimed.code, code);
    assert_eq!(claimed.status, CaseStatus::InReview);
    assert!(claimed.flags.identity_present && !claimed.flags.identity_disclosed_to_you);
    let opened = client::open_case(&reviewer, &h.reviewer.0, &code)
        .await
        .unwrap();
    let summary = opened.summary.as_ref().unwrap();
    assert!(summary.story.contains("500,000 dong"), "{}", summary.story);
    assert!(opened.identity.is_none() && opened.unreadable == 0);
    assert!(
        !opened
            .thread
            .iter()
            .any(|m| m.text.contains("example-handle")),
        "the contact never reaches reviewers"
    );

    // 3. The reviewer replies; the reply is readable by the mailbox (the citizen) and the team.
    client::reply(
        &reviewer,
        &h.reviewer_signing,
        &code,
        "Câu hỏi: anh/chị có nhớ biển số xe không?",
    )
    .await
    .unwrap();
    reviewer
        .set_status(&code, CaseStatus::AwaitingReporter, None)
        .await
        .unwrap();

    // 4. The citizen reads it in /status and answers.
    let mark = citizen.mark();
    citizen.command("/status").await;
    common::bot::send_receipt(&citizen, &receipt).await;
    let status = said_since(&citizen, mark);
    assert!(
        status.contains("Câu hỏi: anh/chị có nhớ biển số xe không?"),
        "{status}"
    );
    // Nothing of the report is kept, its language included: /status answers in Vietnamese.
    citizen.press("✍️ Trả lời Thanh tra").await;
    citizen.send("Biển số 79A-123.45, xe màu trắng.").await;
    assert!(said_since(&citizen, mark).contains("Đã gửi câu trả lời"));

    // 5. The reviewer sees the unread flag, reads the answer; the flag clears.
    let q = reviewer.queue("unread=true").await.unwrap();
    assert_eq!(q.cases.len(), 1);
    assert!(q.cases[0].flags.unread_from_reporter);
    let opened = client::open_case(&reviewer, &h.reviewer.0, &code)
        .await
        .unwrap();
    let texts: Vec<(&str, &str)> = opened
        .thread
        .iter()
        .map(|m| (m.kind.as_str(), m.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        vec![
            ("to_reporter", "Câu hỏi: anh/chị có nhớ biển số xe không?"),
            ("from_reporter", "Biển số 79A-123.45, xe màu trắng."),
        ]
    );
    assert_eq!(reviewer.queue("unread=true").await.unwrap().cases.len(), 0);
    reviewer
        .set_status(&code, CaseStatus::InReview, None)
        .await
        .unwrap();

    // 6. The reviewer requests the identity. Before approval, nothing the reviewer can reach
    //    opens it: the identity item is sealed to custodians only and is not even served.
    let case = h
        .store
        .case_by_code(&tipline::ids::CaseCode::parse(&code).unwrap())
        .await
        .unwrap();
    let identity_item = h
        .store
        .items(&case.id)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.kind == ItemKind::Identity)
        .unwrap();
    assert!(
        envelope::open(
            &identity_item.blob,
            ItemKind::Identity,
            &case.id,
            &h.reviewer.0
        )
        .is_err()
    );
    let served = reviewer.items(&code, None).await.unwrap();
    assert!(served.items.iter().all(|i| i.meta.kind != "identity"));
    let req = client::request_identity(
        &reviewer,
        &h.reviewer.1,
        &h.reviewer_signing,
        &code,
        "Cần liên hệ nhân chứng để xác minh",
    )
    .await
    .unwrap();
    assert_eq!(
        reviewer.disclosures(None).await.unwrap().requests[0].status,
        DisclosureStatus::Pending
    );
    // A custodian cannot upload a disclosed identity for a request that is not approved.
    let pending = custodian
        .disclosures(Some(DisclosureStatus::Pending))
        .await
        .unwrap();
    assert_eq!(pending.requests.len(), 1);
    // The reason is sealed: the server holds an envelope; the custodian opens it.
    assert!(
        pending.requests[0]
            .reason
            .starts_with(client::SEALED_REASON)
    );
    assert_eq!(
        client::reason_text(
            &pending.requests[0].reason,
            &pending.requests[0].case_id,
            &h.custodian.0
        ),
        "Cần liên hệ nhân chứng để xác minh"
    );
    // The custodian's client refuses first: the request carries no signed approval.
    let refused = client::disclose(
        &custodian,
        &h.custodian.0,
        &h.custodian_signing,
        &pending.requests[0],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, client::ClientError::Untrusted(m)
            if m.contains("0 valid custodian approval(s)")),
        "{refused}"
    );

    // 7. The custodian approves; the client re-seals the identity to the requester only.
    let (view, item) = client::decide_and_disclose(
        &custodian,
        &h.custodian.0,
        &h.custodian_signing,
        req.id,
        true,
        "Đủ căn cứ",
    )
    .await
    .unwrap();
    assert!(item.is_some());
    assert_eq!(view.status, DisclosureStatus::Fulfilled);

    // 8. The requester sees the decision and opens the identity.
    let mine = reviewer.disclosures(None).await.unwrap();
    assert_eq!(mine.requests[0].status, DisclosureStatus::Fulfilled);
    assert_eq!(
        client::reason_text(
            &mine.requests[0].decisions[0].reason,
            &mine.requests[0].case_id,
            &h.reviewer.0
        ),
        "Đủ căn cứ"
    );
    assert_eq!(mine.requests[0].decisions[0].custodian, cus_key);
    let opened = client::open_case(&reviewer, &h.reviewer.0, &code)
        .await
        .unwrap();
    let identity = opened.identity.unwrap();
    assert_eq!(identity.telegram_user_id, 7_000_123);
    assert_eq!(identity.first_name, "Sam");
    assert_eq!(identity.contact.as_deref(), Some("signal: example-handle"));
    assert!(opened.case.flags.identity_disclosed_to_you);

    // 9. The audit chain verifies, and holds the actions of every party, without content (the
    //    intake entry once the day's batch is written).
    h.store
        .audit_intake(tipline::clock::Day::today().plus(1))
        .await
        .unwrap();
    let v = admin.audit_verify().await.unwrap();
    assert!(v.ok, "{v:?}");
    let log = admin.audit(1, 10_000).await.unwrap().entries;
    for action in [
        "case.submit",
        "case.claim",
        "item.add",
        "items.fetch",
        "case.status",
        "disclosure.request",
        "disclosure.decide",
        "disclosure.fulfil",
    ] {
        assert!(
            log.iter().any(|e| e.action == action),
            "no {action} in the audit log"
        );
    }
    for e in &log {
        for secret in ["79A-123.45", "Sam", "example-handle", "biển số", &receipt] {
            assert!(
                !e.detail.contains(secret) && !e.actor.contains(secret),
                "{e:?}"
            );
        }
    }

    // 10. Closed, then purged after retention: the citizen is told it was closed and removed.
    reviewer
        .set_status(&code, CaseStatus::Closed, Some(Outcome::Substantiated))
        .await
        .unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE cases SET closed_day = closed_day - 181 WHERE code = $1")
        .bind(&code)
        .execute(&pool)
        .await
        .unwrap();
    let purged = admin.purge().await.unwrap();
    assert_eq!(purged.cases, vec![code.clone()]);
    let mark = citizen.mark();
    citizen.command("/status").await;
    common::bot::send_receipt(&citizen, &receipt).await;
    let said = said_since(&citizen, mark);
    assert!(said.contains("đã đóng và đã được xóa"), "{said}");
    assert!(admin.audit_verify().await.unwrap().ok);

    // 11. One altered audit row: verification fails at exactly that row.
    let n = admin.audit(1, 10_000).await.unwrap().entries.len() as i64;
    let target = n / 2;
    sqlx::query("UPDATE audit_log SET detail = detail || ' (altered)' WHERE seq = $1")
        .bind(target)
        .execute(&pool)
        .await
        .unwrap();
    let v = admin.audit_verify().await.unwrap();
    assert!(!v.ok);
    assert_eq!(v.broken_at, Some(target));
    pool.close().await;
    api.stop().await;
    h.stop().await;
}

/// The same loop with three custodians: the real bot splits the identity among them (k = 2 by
/// default); one approval opens nothing for the reviewer, the second does, and no custodian
/// opens the stored identity alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_through_the_bot_opens_only_with_two_custodians() {
    use tipline::crypto::sign::SigningKey;
    use tipline::crypto::{RecipientRole, suite, threshold};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("tipline.db").display());
    let store = Store::open(&url).await.unwrap();
    let h = Harness::start_on(store, Options::default(), dir.path()).await;
    let mut more = Vec::new();
    for name in ["Custodian B", "Custodian C"] {
        let (sk, pk) = suite::generate_keypair();
        let sign = SigningKey::generate();
        common::register_keys(
            &h.store,
            RecipientRole::Custodian,
            name,
            pk,
            sign.verifying_key(),
        )
        .await;
        more.push((sk, pk, sign));
    }
    let api = Api::start(&h.store, 1).await;
    let reviewer = api.client(
        &token(
            &h.store,
            TokenRole::Reviewer,
            Some(h.reviewer.1.key_id()),
            3600,
        )
        .await,
    );
    let first = api.client(
        &token(
            &h.store,
            TokenRole::Custodian,
            Some(h.custodian.1.key_id()),
            3600,
        )
        .await,
    );
    let second = api.client(
        &token(
            &h.store,
            TokenRole::Custodian,
            Some(more[1].1.key_id()),
            3600,
        )
        .await,
    );

    let citizen = h.citizen(SimUser::new(7_000_456, "Mai").language("en"));
    english_report(&citizen).await;
    let (code, _) = common::bot::submitted(&citizen);
    let case = h
        .store
        .case_by_code(&tipline::ids::CaseCode::parse(&code).unwrap())
        .await
        .unwrap();
    let identity = h
        .store
        .items(&case.id)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.kind == ItemKind::Identity)
        .unwrap();
    assert_eq!(threshold::threshold_of(&identity.blob), Some(2));
    for sk in [&h.custodian.0, &more[0].0, &more[1].0] {
        assert!(envelope::open(&identity.blob, ItemKind::Identity, &case.id, sk).is_err());
    }

    let asked = client::request_identity(
        &reviewer,
        &h.reviewer.1,
        &h.reviewer_signing,
        &code,
        "Cần xác minh",
    )
    .await
    .unwrap();
    let (view, _) = client::decide_and_disclose(
        &first,
        &h.custodian.0,
        &h.custodian_signing,
        asked.id,
        true,
        "Đồng ý",
    )
    .await
    .unwrap();
    assert_eq!(view.status, DisclosureStatus::Pending);
    let opened = client::open_case(&reviewer, &h.reviewer.0, &code)
        .await
        .unwrap();
    assert!(opened.identity.is_none());
    let (view, _) =
        client::decide_and_disclose(&second, &more[1].0, &more[1].2, asked.id, true, "Đồng ý")
            .await
            .unwrap();
    assert_eq!(view.status, DisclosureStatus::Fulfilled);
    let opened = client::open_case(&reviewer, &h.reviewer.0, &code)
        .await
        .unwrap();
    let identity = opened.identity.unwrap();
    assert_eq!(identity.telegram_user_id, 7_000_456);
    assert_eq!(identity.contact.as_deref(), Some("signal: example-handle"));
    client::check_audit(&reviewer, None).await.unwrap();
    api.stop().await;
    h.stop().await;
}
