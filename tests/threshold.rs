//! Threshold sealing through the real review API: an identity (and each original) opens only
//! when k custodians cooperate; custodians re-share when the set changes, and a retired
//! custodian's share stops mattering.

use crate::common;

use common::review::{Api, token};
use tipline::attach::EvidenceFile;
use tipline::bot::summary::{CaseSummary, Identity};
use tipline::crypto::sign::SigningKey;
use tipline::crypto::{
    CryptoError, ItemKind, PublicKey, RecipientRole, Sealed, SecretKey, envelope, suite, threshold,
};
use tipline::ids::{CaseCode, CaseId};
use tipline::review::client::{self, Client};
use tipline::store::{DisclosureStatus, NewCase, NewItem, Store, TokenRole};

/// A key holder: encryption key pair and signing key.
struct Holder {
    sk: SecretKey,
    pk: PublicKey,
    sign: SigningKey,
}

async fn holder(store: &Store, role: RecipientRole, name: &str) -> Holder {
    let (sk, pk) = suite::generate_keypair();
    let sign = SigningKey::generate();
    common::register_keys(store, role, name, pk, sign.verifying_key()).await;
    Holder { sk, pk, sign }
}

fn trust() -> tipline::trust::Trust {
    tipline::trust::Trust::new(
        tipline::trust::Authorities::single(common::test_authority().verifying_key()),
        None,
    )
}

/// Submits a case as the bot does: the keyring the authority signed, the identity and one
/// original split among its custodians with its threshold.
async fn submit(store: &Store) -> (CaseId, CaseCode, u8) {
    let ring = trust().sealing_keyring(store).await.unwrap();
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
        story: "Cán bộ đòi tiền.".into(),
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
    let original = EvidenceFile {
        name: "attachment-1.jpg".into(),
        format: "JPEG".into(),
        metadata_removed: false,
        note: "original".into(),
        bytes: b"\xFF\xD8 GPS 12.2388 N 109.1967 E".to_vec(),
    };
    let k = ring.threshold;
    let s = Sealed::seal(&summary, ItemKind::Summary, &id, &ring.reviewers).unwrap();
    let i =
        Sealed::seal_threshold(&identity, ItemKind::Identity, &id, &ring.custodians, k).unwrap();
    let o = Sealed::seal_threshold(
        &original,
        ItemKind::AttachmentOriginal,
        &id,
        &ring.custodians,
        k,
    )
    .unwrap();
    let receipt = tipline::crypto::Receipt::generate();
    let keys = receipt
        .derive_blocking(tipline::crypto::keyfile::KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    let code = store
        .submit_case(&NewCase {
            id,
            category: "corruption".into(),
            epoch: ring.epoch,
            items: vec![
                NewItem::from_bot(ItemKind::Summary, s.into_bytes()),
                NewItem::from_bot(ItemKind::Identity, i.into_bytes()),
                NewItem::from_bot(ItemKind::AttachmentOriginal, o.into_bytes()),
            ],
            lookup_id: keys.lookup_id,
            mailbox_public: keys.mailbox_public,
        })
        .await
        .unwrap();
    (id, code, k)
}

async fn client_of(api: &Api, store: &Store, role: TokenRole, h: &Holder) -> Client {
    api.client(&token(store, role, Some(h.pk.key_id()), 3600).await)
}

/// The stored blob of the case's item of `kind`.
async fn blob(store: &Store, case: &CaseId, kind: ItemKind) -> Vec<u8> {
    let h = store
        .item_headers(case)
        .await
        .unwrap()
        .into_iter()
        .find(|h| h.kind == kind)
        .unwrap();
    store.item(h.id).await.unwrap().item.blob
}

async fn approve(c: &Client, h: &Holder, id: i64) -> (DisclosureStatus, Option<i64>) {
    let (view, item) = client::decide_and_disclose(c, &h.sk, &h.sign, id, true, "Đồng ý")
        .await
        .unwrap();
    (view.status, item)
}

/// Runs `story` on a fresh SQLite store and, when `TIPLINE_TEST_POSTGRES_URL` is set, on a
/// fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident, $story:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let (store, _dir, _) = common::sqlite_store().await;
            $story(&store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(db) = common::PgDatabase::create(stringify!($postgres)).await else {
                return;
            };
            let store = Store::open(&db.url).await.unwrap();
            $story(&store).await;
            store.close().await;
            db.drop_database().await;
        }
    };
}

on_both_backends!(
    k_of_n_on_sqlite,
    k_of_n_on_postgres,
    k_custodians_open_an_identity_together_and_one_never_does
);
on_both_backends!(
    reshare_on_sqlite,
    reshare_on_postgres,
    custodians_reshare_and_a_retired_share_stops_mattering
);
on_both_backends!(
    single_custodian_on_sqlite,
    single_custodian_on_postgres,
    a_single_custodian_install_opens_alone_and_moves_to_a_threshold
);

async fn k_custodians_open_an_identity_together_and_one_never_does(store: &Store) {
    let store = store.clone();
    let reviewer = holder(&store, RecipientRole::Reviewer, "An").await;
    let mut custodians = Vec::new();
    for name in ["C1", "C2", "C3"] {
        custodians.push(holder(&store, RecipientRole::Custodian, name).await);
    }
    // No approvals statement: with three custodians the default is k = 2.
    let api = Api::start(&store, 1).await;
    let r = client_of(&api, &store, TokenRole::Reviewer, &reviewer).await;
    let mut cs = Vec::new();
    for c in &custodians {
        cs.push(client_of(&api, &store, TokenRole::Custodian, c).await);
    }

    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        let (case_id, code, k) = submit(&store).await;
        assert_eq!(k, 2);
        let code = code.as_str();
        let asked = client::request_identity(
            &r,
            &reviewer.pk,
            &reviewer.sign,
            code,
            "Xác minh nhân chứng",
        )
        .await
        .unwrap();
        // One approval: its custodian's share goes to the reviewer, who still opens nothing.
        let (status, item) = approve(&cs[a], &custodians[a], asked.id).await;
        assert_eq!(status, DisclosureStatus::Pending);
        assert!(item.is_some());
        let opened = client::open_case(&r, &reviewer.sk, code).await.unwrap();
        assert!(opened.identity.is_none());
        assert_eq!(
            opened.threshold_sealed, 2,
            "identity and original stay sealed"
        );
        assert_eq!(opened.unverified, 0);
        // The second: the request is fulfilled and the reviewer's client opens both.
        let (status, _) = approve(&cs[b], &custodians[b], asked.id).await;
        assert_eq!(
            status,
            DisclosureStatus::Fulfilled,
            "custodians {a} and {b}"
        );
        let opened = client::open_case(&r, &reviewer.sk, code).await.unwrap();
        assert_eq!(
            opened.identity.as_ref().map(|i| i.first_name.as_str()),
            Some("Lan"),
            "custodians {a} and {b}"
        );
        assert_eq!(opened.threshold_sealed, 0);
        assert!(
            opened
                .attachments
                .iter()
                .any(|f| f.name == "original-attachment-1.jpg")
        );
        let dir = tempfile::tempdir().unwrap();
        let written =
            client::save_attachments(&r, &reviewer.sk, RecipientRole::Reviewer, code, dir.path())
                .await
                .unwrap();
        assert_eq!(written.len(), 1);
        assert!(
            std::fs::read(&written[0])
                .unwrap()
                .windows(3)
                .any(|w| w == b"GPS")
        );

        // Each custodian alone, with its key file and the database: nothing opens.
        for (c, client) in custodians.iter().zip(&cs) {
            for kind in [ItemKind::Identity, ItemKind::AttachmentOriginal] {
                let stored = blob(&store, &case_id, kind).await;
                assert_eq!(
                    envelope::open(&stored, kind, &case_id, &c.sk).unwrap_err(),
                    CryptoError::NeedsShares
                );
                let own = threshold::share_of(&stored, kind, &case_id, &c.sk).unwrap();
                assert!(threshold::open_with_shares(&stored, kind, &case_id, &[own]).is_err());
            }
            let seen = client::open_case(client, &c.sk, code).await.unwrap();
            assert!(seen.identity.is_none());
            assert_eq!(seen.threshold_sealed, 2);
        }
    }

    // A custodian who has not approved gives no share; a second share from the same one is
    // refused.
    let (_, code, _) = submit(&store).await;
    let asked =
        client::request_identity(&r, &reviewer.pk, &reviewer.sign, code.as_str(), "Lần hai")
            .await
            .unwrap();
    let request = cs[0].disclosure(asked.id).await.unwrap().unwrap();
    let err = client::disclose(&cs[0], &custodians[0].sk, &custodians[0].sign, &request)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("approve it first"), "{err}");
    approve(&cs[0], &custodians[0], asked.id).await;
    let err = client::disclose(&cs[0], &custodians[0].sk, &custodians[0].sign, &request)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("in already"), "{err}");
    // Every share's audit entry carries its signature, and the log verifies for a client.
    client::check_audit(&r, None).await.unwrap();
    api.stop().await;
}

async fn custodians_reshare_and_a_retired_share_stops_mattering(store: &Store) {
    let store = store.clone();
    let reviewer = holder(&store, RecipientRole::Reviewer, "An").await;
    let mut custodians = Vec::new();
    for name in ["C1", "C2", "C3"] {
        custodians.push(holder(&store, RecipientRole::Custodian, name).await);
    }
    let api = Api::start(&store, 1).await;
    let (case_id, code, _) = submit(&store).await;
    let kinds = [ItemKind::Identity, ItemKind::AttachmentOriginal];
    let before = blob(&store, &case_id, ItemKind::Identity).await;
    let c3_old =
        threshold::share_of(&before, ItemKind::Identity, &case_id, &custodians[2].sk).unwrap();

    // A fourth custodian joins; C1 and C2 re-share (k = 2 of the old set must take part).
    custodians.push(holder(&store, RecipientRole::Custodian, "C4").await);
    let mut cs = Vec::new();
    for c in &custodians {
        cs.push(client_of(&api, &store, TokenRole::Custodian, c).await);
    }
    let report = client::rewrap_all(&cs[0], &custodians[0].sk).await.unwrap();
    assert_eq!(
        (report.contributed, report.rewrapped, report.failed),
        (2, 0, 0),
        "{report:?}"
    );
    // Until the re-share is done the old header, and so every old share, still holds.
    assert_eq!(blob(&store, &case_id, ItemKind::Identity).await, before);
    let again = client::rewrap_all(&cs[0], &custodians[0].sk).await.unwrap();
    assert_eq!((again.waiting, again.contributed), (2, 0), "{again:?}");
    let report = client::rewrap_all(&cs[1], &custodians[1].sk).await.unwrap();
    assert_eq!((report.rewrapped, report.failed), (2, 0), "{report:?}");
    let after = blob(&store, &case_id, ItemKind::Identity).await;
    assert_eq!(envelope::recipients(&after).unwrap().len(), 4);
    assert_eq!(
        envelope::content_digest(&after),
        envelope::content_digest(&before)
    );

    // C3 retires; two of the remaining re-share again, to C1, C2 and C4.
    common::retire_key(&store, RecipientRole::Custodian, custodians[2].pk).await;
    let c3_mid =
        threshold::share_of(&after, ItemKind::Identity, &case_id, &custodians[2].sk).unwrap();
    client::rewrap_all(&cs[3], &custodians[3].sk).await.unwrap();
    let report = client::rewrap_all(&cs[1], &custodians[1].sk).await.unwrap();
    assert_eq!((report.rewrapped, report.failed), (2, 0), "{report:?}");
    let plan = cs[0].rewrap_plan().await.unwrap();
    assert!(plan.items.is_empty(), "nothing left to re-share: {plan:?}");

    let current = [0usize, 1, 3];
    for kind in kinds {
        let stored = blob(&store, &case_id, kind).await;
        let holders = envelope::recipients(&stored).unwrap();
        assert_eq!(holders.len(), 3);
        assert!(!holders.contains(&custodians[2].pk.key_id()));
        // Any two current custodians open it.
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            let shares: Vec<_> = [current[a], current[b]]
                .iter()
                .map(|&i| threshold::share_of(&stored, kind, &case_id, &custodians[i].sk).unwrap())
                .collect();
            assert!(
                threshold::open_with_shares(&stored, kind, &case_id, &shares).is_ok(),
                "{kind:?} with {a} and {b}"
            );
        }
        // The retired key opens no share, and its earlier shares fit no current one.
        assert_eq!(
            threshold::share_of(&stored, kind, &case_id, &custodians[2].sk).unwrap_err(),
            CryptoError::NotARecipient
        );
        if kind == ItemKind::Identity {
            for &i in &current {
                let own = threshold::share_of(&stored, kind, &case_id, &custodians[i].sk).unwrap();
                for old in [&c3_old, &c3_mid] {
                    let forged = threshold::Share::new(old.x, old.k, *old.expose_value());
                    let shares = [
                        threshold::Share::new(own.x, own.k, *own.expose_value()),
                        forged,
                    ];
                    assert!(threshold::open_with_shares(&stored, kind, &case_id, &shares).is_err());
                }
            }
        }
    }

    // And a disclosure after the re-share works with the new custodian.
    let r = client_of(&api, &store, TokenRole::Reviewer, &reviewer).await;
    let asked =
        client::request_identity(&r, &reviewer.pk, &reviewer.sign, code.as_str(), "Xác minh")
            .await
            .unwrap();
    approve(&cs[3], &custodians[3], asked.id).await;
    let (status, _) = approve(&cs[0], &custodians[0], asked.id).await;
    assert_eq!(status, DisclosureStatus::Fulfilled);
    let opened = client::open_case(&r, &reviewer.sk, code.as_str())
        .await
        .unwrap();
    assert_eq!(
        opened.identity.map(|i| i.first_name).as_deref(),
        Some("Lan")
    );
    client::check_audit(&r, None).await.unwrap();
    api.stop().await;
}

async fn a_single_custodian_install_opens_alone_and_moves_to_a_threshold(store: &Store) {
    let store = store.clone();
    let c1 = holder(&store, RecipientRole::Custodian, "C1").await;
    holder(&store, RecipientRole::Reviewer, "An").await;
    let api = Api::start(&store, 1).await;
    let (case_id, _, k) = submit(&store).await;
    assert_eq!(k, 1, "one custodian: k = 1");
    let stored = blob(&store, &case_id, ItemKind::Identity).await;
    assert!(envelope::open(&stored, ItemKind::Identity, &case_id, &c1.sk).is_ok());
    // A second custodian joins: k becomes 2 and C1 (who could open them alone) splits its
    // items for both.
    let c2 = holder(&store, RecipientRole::Custodian, "C2").await;
    let client1 = client_of(&api, &store, TokenRole::Custodian, &c1).await;
    let report = client::rewrap_all(&client1, &c1.sk).await.unwrap();
    assert_eq!((report.rewrapped, report.failed), (2, 0), "{report:?}");
    let stored = blob(&store, &case_id, ItemKind::Identity).await;
    assert_eq!(threshold::threshold_of(&stored), Some(2));
    assert_eq!(
        envelope::open(&stored, ItemKind::Identity, &case_id, &c1.sk).unwrap_err(),
        CryptoError::NeedsShares
    );
    let shares = [&c1, &c2]
        .map(|c| threshold::share_of(&stored, ItemKind::Identity, &case_id, &c.sk).unwrap());
    assert!(threshold::open_with_shares(&stored, ItemKind::Identity, &case_id, &shares).is_ok());
    api.stop().await;
}
