//! The database writer as adversary: test code that writes rows directly (on SQLite and on
//! PostgreSQL) and holds no project key — neither the keyring authority's, nor a reviewer's or
//! custodian's — against the real bot (teloxide over HTTP against the simulator).
//!
//! - A rogue recipient row (no statement): new reports are not sealed to it.
//! - A forged keyring statement (signed by the attacker's own key): the bot seals nothing
//!   until it is gone, and says which statement failed; the rogue key opens nothing.
//! - A keyring chain cut back (the statement retiring a key deleted, so the key would come
//!   back): refused as rolled back; nothing is sealed to the retired key.
//! - A draft rolled back (an older state written back under the current version): it no longer
//!   opens, so the bot never resumes a dialogue the writer chose.
//! - A message planted for the reporter ("send us your ID number"), sealed to the mailbox key
//!   the database holds: unsigned, signed by the attacker's key, or carrying a real reviewer's
//!   signature of another reply: `/status` never shows it, and the audit log records the
//!   refusal; the reviewer's signed reply is shown.
//!
//! - Against the reviewer's and custodian's clients (which pin the authority): a rogue
//!   recipient row makes the server ask an honest custodian's and reviewer's `rewrap` to seal
//!   identities and summaries to it: refused, the key named, nothing sealed to it; a disclosure
//!   request whose requester is swapped to the rogue key: the approval is refused before
//!   anything is approved or opened, and so is one swapped for another registered reviewer
//!   (who did not sign it); a request marked approved in the database, with an
//!   approval signed by a key that is not a custodian's: `fulfil` re-seals nothing.
//!
//! - Against the notes, disclosed identities and the audit log: a note in a reviewer's name
//!   and a "disclosed identity" naming someone else, sealed to the reviewer's public key (which
//!   anyone can do), unsigned or signed by another key: the reviewer's client does not show them
//!   and counts them as unverified. An approval appended to the audit log in a custodian's name,
//!   unsigned or with a forged signature; the real approval removed, or altered into a denial,
//!   with every hash after it recomputed; the log cut short: the reviewer's client (which keeps
//!   the head it saw) refuses each, naming the entry, and so does `admin audit verify` given
//!   that head.

use crate::common;

use common::bot::{Harness, Options};
use tipline::bot::summary::{CaseSummary, Identity};
use tipline::crypto::sign::SigningKey;
use tipline::crypto::{CryptoError, ItemKind, RecipientRole, Sealed, SecretKey, suite};
use tipline::ids::CaseCode;
use tipline::sim::{Citizen, SimUser};
use tipline::store::Store;
use tipline::trust::{Op, SignedStatement, Statement, TrustError};

/// A literal for raw bytes in `url`'s SQL dialect.
fn blob(url: &str, bytes: &[u8]) -> String {
    if url.starts_with("sqlite:") {
        format!("X'{}'", hex::encode(bytes))
    } else {
        format!("'\\x{}'::bytea", hex::encode(bytes))
    }
}

/// Runs `sql` as the database writer: its own connection, no tipline code.
async fn write(url: &str, sql: &str) {
    use sqlx::Executor;
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        pool.execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        pool.execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .unwrap();
        pool.close().await;
    }
}

/// The database writer's rogue reviewer and custodian rows (no statement), active, with the
/// epoch bumped as a registration would.
async fn plant_recipients(
    url: &str,
    reviewer: tipline::crypto::PublicKey,
    custodian: tipline::crypto::PublicKey,
) {
    for (pk, role) in [(reviewer, "reviewer"), (custodian, "custodian")] {
        write(
            url,
            &format!(
                "INSERT INTO recipients (key_id, public_key, role, name, active, added_day, added_epoch) \
                 VALUES ('{}', {}, '{role}', 'Mallory', TRUE, 20000, 99); \
                 UPDATE keyring SET epoch = epoch + 1 WHERE id = 1;",
                pk.key_id(),
                blob(url, pk.as_bytes())
            ),
        )
        .await;
    }
}

/// A complete report up to Send; returns the case code when a receipt arrived.
async fn report(c: &Citizen) -> Option<String> {
    c.command("/start").await;
    if c.last_buttons().iter().any(|b| b.starts_with("✅ Đồng ý")) {
        c.press("✅ Đồng ý, bắt đầu").await;
    }
    for b in [
        "Cố tình kéo dài",
        "Hộ tịch, cư trú",
        "Trung tâm Phục vụ hành chính công xã/phường",
        "Tôi không muốn nói",
        "Tháng này",
        "Không biết, bỏ qua",
    ] {
        c.press(b).await;
    }
    c.send("Cán bộ hộ tịch hẹn lần thứ tư mới nhận hồ sơ.")
        .await;
    c.press("➡️ Không có, tiếp tục").await;
    let mark = c.mark();
    c.press("✅ Gửi phản ánh").await;
    c.bot_messages_since(mark)
        .iter()
        .filter_map(|m| m.text.as_deref())
        .find(|t| common::bot::receipt_in(t).is_some())
        .and_then(common::bot::case_number_in)
}

async fn cases(store: &Store) -> i64 {
    store
        .case_counts()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum()
}

/// Whether `sk` opens the summary (reviewers) or the identity (custodians) of a case.
async fn opens(store: &Store, code: &str, kind: ItemKind, sk: &SecretKey) -> bool {
    let case = store
        .case_by_code(&CaseCode::parse(code).unwrap())
        .await
        .unwrap();
    let items = store.items(&case.id).await.unwrap();
    let item = items.iter().find(|i| i.kind == kind).unwrap();
    let opened = if kind == ItemKind::Summary {
        Sealed::<CaseSummary>::from_bytes(item.blob.clone())
            .open(kind, &case.id, sk)
            .map(|_| ())
    } else {
        Sealed::<Identity>::from_bytes(item.blob.clone())
            .open(kind, &case.id, sk)
            .map(|_| ())
    };
    match opened {
        Ok(()) => true,
        Err(CryptoError::NotARecipient) => false,
        Err(e) => panic!("unexpected error opening an item: {e:?}"),
    }
}

async fn the_database_writer(store: Store, url: &str, dir: &std::path::Path) {
    let h = Harness::start_on(store, Options::default(), dir).await;
    let store = h.store.clone();

    // 1. A rogue recipient row, no statement: ignored when sealing.
    let (rogue_rev_sk, rogue_rev) = suite::generate_keypair();
    let (rogue_cus_sk, rogue_cus) = suite::generate_keypair();
    plant_recipients(url, rogue_rev, rogue_cus).await;
    let c = h.citizen(SimUser::new(5_550_001, "Lan").language("vi"));
    let code = report(&c).await.expect("a receipt");
    assert!(opens(&store, &code, ItemKind::Summary, &h.reviewer.0).await);
    assert!(opens(&store, &code, ItemKind::Identity, &h.custodian.0).await);
    assert!(!opens(&store, &code, ItemKind::Summary, &rogue_rev_sk).await);
    assert!(!opens(&store, &code, ItemKind::Identity, &rogue_cus_sk).await);

    // 1b. Messages planted for the reporter of that case, as a database writer can: sealed to
    // the mailbox key in the receipts table, with no signature, with the attacker's own, or
    // with a reviewer's real signature lifted from another reply.
    let case = store
        .case_by_code(&CaseCode::parse(&code).unwrap())
        .await
        .unwrap();
    let mailbox: tipline::crypto::PublicKey = {
        let receipt_text = c
            .bot_messages()
            .iter()
            .filter_map(|m| m.text.as_deref())
            .find_map(common::bot::receipt_in)
            .unwrap();
        tipline::crypto::Receipt::parse(&receipt_text)
            .unwrap()
            .derive_blocking(tipline::crypto::keyfile::KdfParams::INSECURE_FOR_TESTS)
            .unwrap()
            .mailbox_public
    };
    let seal = |text: &str| {
        Sealed::seal(
            &tipline::bot::summary::TextMessage { text: text.into() },
            ItemKind::ToReporter,
            &case.id,
            &[mailbox, h.reviewer.1],
        )
        .unwrap()
        .into_bytes()
    };
    let genuine = seal("Thanh tra: ông/bà có giữ giấy hẹn không?");
    h.add_reply(&case.id, &mailbox, genuine).await;
    let rogue_signer = SigningKey::generate();
    for (n, text) in [
        "Gửi số CCCD của bạn để xác minh",
        "Gửi ảnh CCCD qua Zalo 0905 000 999",
    ]
    .iter()
    .enumerate()
    {
        let blob = seal(text);
        let seq = 2 + n as i64;
        let message = tipline::trust::reply_message(&case.id, seq, &mailbox, &blob);
        let sig = rogue_signer.sign(tipline::trust::REPLY_CONTEXT, &message);
        let proof = tipline::store::AuditProof::by_key(
            tipline::trust::REPLY_CONTEXT,
            message,
            *h.reviewer.1.as_bytes(),
            *sig.as_bytes(),
        );
        let item = tipline::store::NewItem {
            kind: ItemKind::ToReporter,
            blob,
            author: Some(h.reviewer.1.key_id()),
            for_key: None,
        };
        let signature = (n == 1).then_some((seq, &proof));
        store
            .add_item_signed(&case.id, &item, "reviewer", signature)
            .await
            .unwrap();
    }
    common::bot::send_receipt_after_status(&c).await;
    let shown = c.last_text().unwrap();
    assert!(shown.contains("giữ giấy hẹn"), "{shown}");
    assert!(
        !shown.contains("CCCD"),
        "a planted message was shown: {shown}"
    );
    let log = store.audit_entries(1, i64::MAX).await.unwrap();
    assert!(
        log.iter()
            .any(|r| r.entry.action == "reply.refused" && r.entry.detail.starts_with("2 ")),
        "the refusal is audited"
    );

    // 2. A forged statement appended to the chain, signed by the attacker's own key.
    let rogue_authority = SigningKey::generate();
    let ring = h
        .authority_ring()
        .verify_chain(&tipline::trust::stored_chain(&store).await.unwrap())
        .unwrap();
    let forged = SignedStatement::sign(
        &ring.next(Op::Add {
            role: RecipientRole::Custodian,
            name: "Mallory".into(),
            key: rogue_cus,
            verify: rogue_authority.verifying_key(),
        }),
        &rogue_authority,
    )
    .to_stored(ring.epoch + 1);
    write(
        url,
        &format!(
            "INSERT INTO keyring_statements (seq, body, signatures) VALUES ({}, {}, '{}')",
            forged.seq,
            blob(url, &forged.body),
            forged.signatures
        ),
    )
    .await;
    let before = cases(&store).await;
    let c = h.citizen(SimUser::new(5_550_002, "Minh").language("vi"));
    assert_eq!(
        report(&c).await,
        None,
        "nothing is sealed to a forged keyring"
    );
    assert_eq!(cases(&store).await, before);
    assert!(
        c.last_text().unwrap().contains("lỗi"),
        "the reporter is told: {:?}",
        c.last_text()
    );
    // The refusal names what failed, and /readyz says the keyring does not verify.
    let trust = tipline::trust::Trust::new(h.authority_ring(), None);
    assert_eq!(
        tipline::ops::readiness(&store, Some(&trust)).await,
        Err("the signed keyring does not verify against the pinned authority")
    );
    let err = trust.keyring(&store).await.unwrap_err();
    assert!(matches!(err, TrustError::Unsigned { seq: 3, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("not signed by the keyring authority")
    );
    // The writer removes it again: service resumes, sealed to the proven keys only.
    write(
        url,
        &format!("DELETE FROM keyring_statements WHERE seq = {}", forged.seq),
    )
    .await;
    c.command("/start").await;
    let mark = c.mark();
    c.press("✅ Gửi phản ánh").await;
    let code = c
        .bot_messages_since(mark)
        .iter()
        .filter_map(|m| m.text.as_deref())
        .find(|t| common::bot::receipt_in(t).is_some())
        .and_then(common::bot::case_number_in)
        .expect("submitted once the forged statement is gone");
    assert!(!opens(&store, &code, ItemKind::Identity, &rogue_cus_sk).await);

    // 3. The chain cut back: the authority adds a second custodian and retires the first;
    // the bot seals under that chain; the writer deletes the retirement so the retired key
    // would come back.
    let (second_sk, second) = suite::generate_keypair();
    tipline::trust::register(
        &store,
        &h.authority,
        Op::Add {
            role: RecipientRole::Custodian,
            name: "Second".into(),
            key: second,
            verify: SigningKey::generate().verifying_key(),
        },
    )
    .await
    .unwrap();
    let after = tipline::trust::register(
        &store,
        &h.authority,
        Op::Retire {
            role: RecipientRole::Custodian,
            key: h.custodian.1,
        },
    )
    .await
    .unwrap();
    let c = h.citizen(SimUser::new(5_550_003, "Hùng").language("vi"));
    let code = report(&c).await.expect("a receipt under the new chain");
    assert!(opens(&store, &code, ItemKind::Identity, &second_sk).await);
    assert!(!opens(&store, &code, ItemKind::Identity, &h.custodian.0).await);
    write(
        url,
        &format!("DELETE FROM keyring_statements WHERE seq = {}", after.epoch),
    )
    .await;
    let before = cases(&store).await;
    let c = h.citizen(SimUser::new(5_550_004, "Vy").language("vi"));
    assert_eq!(
        report(&c).await,
        None,
        "nothing is sealed to a rolled-back keyring"
    );
    assert_eq!(cases(&store).await, before);
    let decoded = Statement::decode(
        &tipline::trust::stored_chain(&store).await.unwrap()[0].body,
        1,
    )
    .unwrap();
    assert_eq!(decoded.seq, 1);
    h.stop().await;
}

/// A custodian approves request `id` (expected to be refused): the error.
async fn try_to_approve(
    custodian: &tipline::review::client::Client,
    sk: &SecretKey,
    id: i64,
) -> tipline::review::client::ClientError {
    tipline::review::client::decide_and_disclose(
        custodian,
        sk,
        &SigningKey::generate(),
        id,
        true,
        "Đồng ý",
    )
    .await
    .unwrap_err()
}

/// The database writer rolls a draft back: the state of an earlier step, under the current
/// version.
async fn rolled_back_draft(store: Store, url: &str, dir: &std::path::Path) {
    use sqlx::Row;
    let h = Harness::start_on(store, Options::default(), dir).await;
    let id = 5_560_001;
    let c = h.citizen(SimUser::new(id, "Lê").language("vi"));
    c.command("/start").await;
    c.press("✅ Đồng ý, bắt đầu").await;
    let read = || async {
        let (state, version): (Vec<u8>, i64) = if url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let r = sqlx::query("SELECT state, version FROM drafts")
                .fetch_one(&pool)
                .await
                .unwrap();
            let v = (r.get(0), r.get(1));
            pool.close().await;
            v
        } else {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let r = sqlx::query("SELECT state, version FROM drafts")
                .fetch_one(&pool)
                .await
                .unwrap();
            let v = (r.get(0), r.get(1));
            pool.close().await;
            v
        };
        (state, version)
    };
    let (early_state, early_version) = read().await;
    c.press("Cố tình kéo dài").await;
    c.press("Hộ tịch, cư trú").await;
    let (_, version) = read().await;
    assert!(version > early_version);
    assert!(h.draft_opens(id).await);
    write(
        url,
        &format!("UPDATE drafts SET state = {}", blob(url, &early_state)),
    )
    .await;
    assert!(
        !h.draft_opens(id).await,
        "an older state under the current version does not open"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolled_back_draft_on_sqlite() {
    let (store, dir, url) = common::sqlite_store().await;
    rolled_back_draft(store, &url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolled_back_draft_on_postgres() {
    let Some(db) = common::PgDatabase::create("rolled_back_draft_on_postgres").await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    rolled_back_draft(store.clone(), &db.url, dir.path()).await;
    store.close().await;
    db.drop_database().await;
}

/// The database writer against the clients, through the real review API.
async fn the_database_writer_against_the_clients(store: Store, url: &str) {
    use common::review::{Api, submit, token};
    use tipline::review::client::{self, ClientError};
    use tipline::store::TokenRole;
    let (rev_sk, rev) = suite::generate_keypair();
    let (cus_sk, cus) = suite::generate_keypair();
    let rev_sign = SigningKey::generate();
    common::register_keys(
        &store,
        RecipientRole::Reviewer,
        "R",
        rev,
        rev_sign.verifying_key(),
    )
    .await;
    // Another registered reviewer, whom the writer will name as a requester.
    let (_, rev2) = suite::generate_keypair();
    common::register_key(&store, RecipientRole::Reviewer, "R2", rev2).await;
    common::register_key(&store, RecipientRole::Custodian, "C", cus).await;
    let case = submit(&store, "Cán bộ đòi tiền.").await;
    let api = Api::start(&store, 1).await;
    let rev_tok = token(&store, TokenRole::Reviewer, Some(rev.key_id()), 3600).await;
    let cus_tok = token(&store, TokenRole::Custodian, Some(cus.key_id()), 3600).await;

    // Rogue reviewer and custodian rows: the server's rewrap plans now target them.
    let (rogue_rev_sk, rogue_rev) = suite::generate_keypair();
    let (rogue_cus_sk, rogue_cus) = suite::generate_keypair();
    plant_recipients(url, rogue_rev, rogue_cus).await;
    for (tok, sk, rogue) in [
        (&cus_tok, &cus_sk, rogue_cus),
        (&rev_tok, &rev_sk, rogue_rev),
    ] {
        let c = api.client(tok);
        assert!(
            !c.rewrap_plan().await.unwrap().items.is_empty(),
            "the server asks"
        );
        let r = client::rewrap_all(&c, sk).await.unwrap();
        assert_eq!(r.rewrapped, 0, "{r:?}");
        assert!(r.refused > 0, "{r:?}");
        assert_eq!(r.unproven_keys, vec![rogue.key_id().to_string()], "{r:?}");
    }
    let code = case.code.as_str();
    assert!(!opens(&store, code, ItemKind::Identity, &rogue_cus_sk).await);
    assert!(!opens(&store, code, ItemKind::Summary, &rogue_rev_sk).await);
    assert!(opens(&store, code, ItemKind::Identity, &cus_sk).await);

    // A disclosure request whose requester the writer swaps for the rogue reviewer key.
    let reviewer = api.client(&rev_tok);
    let asked = client::request_identity(&reviewer, &rev, &rev_sign, code, "Cần xác minh")
        .await
        .unwrap();
    write(
        url,
        &format!(
            "UPDATE disclosure_requests SET requester = '{}' WHERE id = {}",
            rogue_rev.key_id(),
            asked.id
        ),
    )
    .await;
    let custodian = api.client(&cus_tok);
    let err = try_to_approve(&custodian, &cus_sk, asked.id).await;
    assert!(
        matches!(&err, ClientError::Untrusted(m) if m.contains(&rogue_rev.key_id().to_string())
            && m.contains("not an active reviewer key in the signed keyring")),
        "{err}"
    );
    let request = custodian.disclosure(asked.id).await.unwrap().unwrap();
    assert_eq!(
        request.status,
        tipline::store::DisclosureStatus::Pending,
        "nothing was approved"
    );
    // Swapped for another *registered* reviewer: that reviewer did not sign the request.
    write(
        url,
        &format!(
            "UPDATE disclosure_requests SET requester = '{}' WHERE id = {}",
            rev2.key_id(),
            asked.id
        ),
    )
    .await;
    let err = try_to_approve(&custodian, &cus_sk, asked.id).await;
    assert!(
        matches!(&err, ClientError::Untrusted(m) if m.contains("not signed by the reviewer it names")),
        "{err}"
    );

    // The writer puts the real requester back, marks the request approved and writes an
    // approval row with a signature of its own: a custodian's fulfil re-seals nothing.
    let rogue_custodian_signer = SigningKey::generate();
    let forged = rogue_custodian_signer.sign(
        tipline::trust::APPROVAL_CONTEXT,
        &tipline::trust::approval_message(asked.id, &case.id, &rev, "Cần xác minh"),
    );
    write(
        url,
        &format!(
            "UPDATE disclosure_requests SET requester = '{}', status = 'approved' WHERE id = {id}; \
             INSERT INTO disclosure_decisions (request_id, custodian, approve, reason, day, signature) \
             VALUES ({id}, '{}', TRUE, 'ok', 20000, {});",
            rev.key_id(),
            cus.key_id(),
            blob(url, forged.as_bytes()),
            id = asked.id,
        ),
    )
    .await;
    let request = custodian.disclosure(asked.id).await.unwrap().unwrap();
    assert_eq!(request.status, tipline::store::DisclosureStatus::Approved);
    let err = client::disclose(&custodian, &cus_sk, &SigningKey::generate(), &request)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Untrusted(m) if m.contains("0 valid custodian approval(s)")),
        "{err}"
    );
    let headers = store.item_headers(&case.id).await.unwrap();
    assert!(
        !headers
            .iter()
            .any(|h| h.kind == ItemKind::DisclosedIdentity),
        "no identity was re-sealed"
    );
    api.stop().await;
}

/// The writer's copy of the audit log, edited by `edit`, renumbered, with every hash
/// recomputed (the algorithm is public: no key is needed) and written back in place of the
/// log.
async fn rewrite_log(
    records: &[tipline::store::AuditRecord],
    url: &str,
    edit: impl FnOnce(&mut Vec<tipline::store::AuditRecord>),
) {
    let mut recs = records.to_vec();
    edit(&mut recs);
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut sql = String::from("DELETE FROM audit_log;");
    let mut prev = [0u8; 32];
    for (i, r) in recs.iter_mut().enumerate() {
        r.seq = i as i64 + 1;
        let hash = r.entry.chain_hash(r.seq, &prev);
        sql.push_str(&format!(
            "INSERT INTO audit_log (seq, day, actor, action, case_code, detail, prev_hash, hash, proof) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {});",
            r.seq,
            r.entry.day.0,
            quote(&r.entry.actor),
            quote(&r.entry.action),
            r.entry.case_code.as_deref().map_or("NULL".into(), quote),
            quote(&r.entry.detail),
            blob(url, &prev),
            blob(url, &hash),
            r.entry.proof.as_deref().map_or("NULL".into(), |p| blob(url, p)),
        ));
        prev = hash;
    }
    write(url, &sql).await;
}

/// The database writer against signed notes and identities and against the audit log.
async fn the_database_writer_against_the_audit_log(store: Store, url: &str) {
    use common::review::{Api, submit, token};
    use tipline::review::client::{self, ClientError};
    use tipline::store::{AuditEntry, AuditProof, TokenRole};
    use tipline::trust::audit::{AuditError, Keys, verify_log};
    let (rev_sk, rev) = suite::generate_keypair();
    let (cus_sk, cus) = suite::generate_keypair();
    let (rev_sign, cus_sign) = (SigningKey::generate(), SigningKey::generate());
    let reviewer_key = (RecipientRole::Reviewer, "R", rev, rev_sign.verifying_key());
    let custodian_key = (RecipientRole::Custodian, "C", cus, cus_sign.verifying_key());
    for (role, name, key, verify) in [reviewer_key, custodian_key] {
        common::register_keys(&store, role, name, key, verify).await;
    }
    let case = submit(&store, "Cán bộ đòi tiền.").await;
    let code = case.code.as_str();
    let api = Api::start(&store, 1).await;
    let reviewer = api.client(&token(&store, TokenRole::Reviewer, Some(rev.key_id()), 3600).await);
    let custodian =
        api.client(&token(&store, TokenRole::Custodian, Some(cus.key_id()), 3600).await);

    // The reviewer's client takes the head at login; then every signed act happens for real.
    let head = client::check_audit(&reviewer, None).await.unwrap();
    client::note(&reviewer, &rev_sign, code, "Ghi chú thật")
        .await
        .unwrap();
    client::reply(&reviewer, &rev_sign, code, "Xin bổ sung giấy hẹn")
        .await
        .unwrap();
    let asked = client::request_identity(&reviewer, &rev, &rev_sign, code, "Cần xác minh")
        .await
        .unwrap();
    let (_, item) =
        client::decide_and_disclose(&custodian, &cus_sk, &cus_sign, asked.id, true, "Đồng ý")
            .await
            .unwrap();
    assert!(item.is_some(), "the identity was disclosed");
    let head = client::check_audit(&reviewer, Some(head)).await.unwrap();
    let authorities = tipline::trust::Authorities::single(common::test_authority().verifying_key());
    let ring = authorities
        .verify_chain(&tipline::trust::stored_chain(&store).await.unwrap())
        .unwrap();
    let keys = Keys {
        authorities: &authorities,
        ring: &ring,
    };
    let report = verify_log(&store, &keys, &[head]).await.unwrap().unwrap();
    // Two statements, the note, the reply, the request, the approval, the disclosed identity.
    assert_eq!(report.signed, 7, "{report:?}");
    let opened = client::open_case(&reviewer, &rev_sk, code).await.unwrap();
    assert_eq!((opened.unverified, opened.thread.len()), (0, 2));

    // Planted items, sealed to the reviewer's public key, in the reviewer's and the
    // custodian's names: unsigned, or signed by a key of the writer's.
    let epoch = store.keyring_epoch().await.unwrap();
    let rogue = SigningKey::generate();
    let note = Sealed::seal(
        &tipline::bot::summary::TextMessage {
            text: "Ghi chú giả: đóng vụ này".into(),
        },
        ItemKind::Note,
        &case.id,
        &[rev],
    )
    .unwrap()
    .into_bytes();
    let fake = Identity {
        telegram_user_id: 777,
        username: Some("nguoi_khac".into()),
        first_name: "Người".into(),
        last_name: Some("Khác".into()),
        language_code: None,
        contact: None,
    };
    let identity = Sealed::seal(&fake, ItemKind::DisclosedIdentity, &case.id, &[rev])
        .unwrap()
        .into_bytes();
    let forged = rogue.sign(
        tipline::trust::ITEM_CONTEXT,
        &tipline::trust::item_message(ItemKind::DisclosedIdentity, &case.id, asked.id, &identity),
    );
    let insert = |kind: &str, bytes: &[u8], author: String, for_key: String| {
        format!(
            "INSERT INTO items (case_id, kind, blob, created_day, author, for_key, epoch) \
             VALUES ({}, '{kind}', {}, 20000, '{author}', {for_key}, {epoch});",
            blob(url, case.id.as_bytes()),
            blob(url, bytes),
        )
    };
    write(
        url,
        &insert("note", &note, rev.key_id().to_string(), "NULL".into()),
    )
    .await;
    let for_rev = format!("'{}'", rev.key_id());
    write(
        url,
        &insert(
            "disclosed_identity",
            &identity,
            cus.key_id().to_string(),
            for_rev,
        ),
    )
    .await;
    write(
        url,
        &format!(
            "INSERT INTO item_signatures (item_id, seq, signature) \
             SELECT id, {}, {} FROM items WHERE kind = 'disclosed_identity' AND case_id = {} \
             AND id NOT IN (SELECT item_id FROM item_signatures);",
            asked.id,
            blob(url, forged.as_bytes()),
            blob(url, case.id.as_bytes())
        ),
    )
    .await;
    let opened = client::open_case(&reviewer, &rev_sk, code).await.unwrap();
    assert_eq!(opened.unverified, 2, "both planted items are set aside");
    assert!(opened.thread.iter().all(|t| !t.text.contains("giả")));
    assert_eq!(
        opened.identity.map(|i| i.first_name).as_deref(),
        Some("Lan")
    );

    // The audit log, tampered with in turn, each time from the same copy.
    let original = store.audit_entries(1, i64::MAX).await.unwrap();
    let approval = original
        .iter()
        .position(|r| r.entry.action == "disclosure.decide")
        .unwrap();
    let refusal = |e: ClientError| match e {
        ClientError::Untrusted(m) => m,
        other => panic!("not a refusal: {other}"),
    };
    // 1. An approval appended in the custodian's name: unsigned, then with a forged signature.
    let decide = AuditEntry::new(cus.key_id().to_string(), "disclosure.decide")
        .case(code)
        .detail(format!("request {} approve -> approved", asked.id));
    let message = tipline::trust::approval_message(asked.id, &case.id, &rev, "sealed:00");
    let forged = rogue.sign(tipline::trust::APPROVAL_CONTEXT, &message);
    let forged_proof = AuditProof::by_key(
        tipline::trust::APPROVAL_CONTEXT,
        message,
        *cus.as_bytes(),
        *forged.as_bytes(),
    );
    for (proof, says) in [
        (None, "is a signed act but carries no signature"),
        (Some(forged_proof.encode()), "invalid signature"),
    ] {
        let entry = decide.clone().proof(proof);
        rewrite_log(&original, url, |recs| {
            recs.push(tipline::store::AuditRecord {
                seq: 0,
                entry,
                prev_hash: vec![],
                hash: vec![],
            })
        })
        .await;
        let m = refusal(
            client::check_audit(&reviewer, Some(head))
                .await
                .unwrap_err(),
        );
        assert!(m.contains(says), "{m}");
        let admin = verify_log(&store, &keys, &[head])
            .await
            .unwrap()
            .unwrap_err();
        assert!(admin.to_string().contains(says), "{admin}");
    }
    // 2. The real approval removed, and 3. altered into a denial without its signature, every
    // hash after it recomputed: the head the client kept no longer matches.
    type Edit<'a> = Box<dyn FnOnce(&mut Vec<tipline::store::AuditRecord>) + 'a>;
    let edits: [Edit; 2] = [
        Box::new(move |recs| {
            recs.remove(approval);
        }),
        Box::new(move |recs| {
            let e = &mut recs[approval].entry;
            e.detail = e.detail.replace("approve -> approved", "deny -> denied");
            e.proof = None;
        }),
    ];
    for edit in edits {
        rewrite_log(&original, url, edit).await;
        let m = refusal(
            client::check_audit(&reviewer, Some(head))
                .await
                .unwrap_err(),
        );
        assert!(m.contains("is not the one recorded before"), "{m}");
        assert_eq!(
            verify_log(&store, &keys, &[head])
                .await
                .unwrap()
                .unwrap_err(),
            AuditError::Rewritten(head.count)
        );
    }
    // 4. The log cut short, back to before the approval.
    rewrite_log(&original, url, |recs| recs.truncate(approval)).await;
    let m = refusal(
        client::check_audit(&reviewer, Some(head))
            .await
            .unwrap_err(),
    );
    assert!(m.contains("entries were removed"), "{m}");
    assert!(matches!(
        verify_log(&store, &keys, &[head])
            .await
            .unwrap()
            .unwrap_err(),
        AuditError::Truncated { .. }
    ));
    // Put back as it was, the log extends the head again.
    rewrite_log(&original, url, |_| {}).await;
    client::check_audit(&reviewer, Some(head)).await.unwrap();
    verify_log(&store, &keys, &[head]).await.unwrap().unwrap();
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_writer_against_the_audit_log_on_sqlite() {
    let (store, _dir, url) = common::sqlite_store().await;
    the_database_writer_against_the_audit_log(store, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_writer_against_the_audit_log_on_postgres() {
    let Some(db) =
        common::PgDatabase::create("database_writer_against_the_audit_log_on_postgres").await
    else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    the_database_writer_against_the_audit_log(store.clone(), &db.url).await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_writer_against_the_clients_on_sqlite() {
    let (store, _dir, url) = common::sqlite_store().await;
    the_database_writer_against_the_clients(store, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_writer_against_the_clients_on_postgres() {
    let Some(db) =
        common::PgDatabase::create("database_writer_against_the_clients_on_postgres").await
    else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    the_database_writer_against_the_clients(store.clone(), &db.url).await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_writer_on_sqlite() {
    let (store, dir, url) = common::sqlite_store().await;
    the_database_writer(store, &url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_writer_on_postgres() {
    let Some(db) = common::PgDatabase::create("database_writer_on_postgres").await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    the_database_writer(store.clone(), &db.url, dir.path()).await;
    store.close().await;
    db.drop_database().await;
}
