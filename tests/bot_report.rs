//! End-to-end through real teloxide over HTTP against the Bot API simulator: complete reports
//! in Vietnamese and English, the receipt in /status, replies both ways, the wipe.

use crate::common;

use common::bot::{Harness, send_receipt};
use tipline::bot::summary::{CaseSummary, Identity, TextMessage};
use tipline::crypto::{ItemKind, Receipt, Sealed};
use tipline::sim::{Citizen, SimUser};

/// Walks a citizen from /start to the review screen in Vietnamese.
async fn vietnamese_report_until_review(c: &Citizen) {
    c.command("/start").await;
    assert!(
        c.last_text()
            .unwrap()
            .contains("Telegram đọc được cuộc trò chuyện này")
    );
    c.press("✅ Đồng ý, bắt đầu").await;
    assert_eq!(
        c.last_text().unwrap(),
        "Cán bộ đã làm gì? Chọn điều gần nhất."
    );
    c.press("Đòi tiền").await;
    c.press("Đất đai").await;
    c.send("văn phòng đăng ký đất đai").await;
    c.press("Sở Nông nghiệp và Môi trường").await;
    c.send("Cam Lập").await;
    c.press("xã Nam Cam Ranh").await;
    c.press("Tháng này").await;
    c.send("ông Nguyễn Văn Tư, cán bộ địa chính, điện thoại cơ quan 0258 3822 111")
        .await;
    c.send("Tôi là Trần Thị Lan, số của tôi 0905 000 123. Cán bộ đòi 2 triệu đồng \"bồi dưỡng\" mới nhận hồ sơ cấp sổ đỏ.")
        .await;
    // Each story message is answered by the question that closes the story.
    assert!(c.last_text().unwrap().contains("có gì giúp kiểm chứng"));
    c.send("Hẹn ba lần không giải quyết.").await;
    c.press("📄 Có giấy tờ").await;
    assert!(c.last_text().unwrap().contains("Bản gốc được khóa riêng"));
    c.press("Không gửi tệp").await;
    // The review lists what could identify someone, with whose it seems to be: the office
    // phone of the official is kept by default (it is evidence), the reporter's own details are
    // removed by default.
    let review = c.last_text().unwrap();
    let line = |n: &str| {
        review
            .lines()
            .find(|l| l.starts_with(n))
            .unwrap_or_else(|| panic!("no finding {n}: {review}"))
            .to_owned()
    };
    assert!(
        line("1. ").contains("«0258 3822 111» — có vẻ là của cơ quan"),
        "{review}"
    );
    assert!(
        review.contains("«0905 000 123»") && !line("2. ").contains("có vẻ"),
        "{review}"
    );
    let buttons = c.last_buttons();
    assert!(
        buttons.iter().any(|b| b.starts_with("1. ✅ Giữ lại"))
            && buttons.iter().any(|b| b.starts_with("2. 🗑 Sẽ xóa")),
        "{buttons:?}"
    );
    // A toggle redraws the review in place, and again.
    c.press("1. ✅ Giữ lại").await;
    assert!(
        c.last_buttons()
            .iter()
            .any(|b| b.starts_with("1. 🗑 Sẽ xóa"))
    );
    assert!(
        c.last_text()
            .unwrap()
            .contains("[đã xóa: số điện thoại bàn]")
    );
    c.press("1. 🗑 Sẽ xóa").await;
    assert!(
        c.last_buttons()
            .iter()
            .any(|b| b.starts_with("1. ✅ Giữ lại"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_vietnamese_report_then_status_and_replies() {
    let h = Harness::start_with(common::bot::Options {
        kdf: tipline::crypto::receipt::RECEIPT_KDF,
        env: vec![],
    })
    .await;
    let c = h.citizen(
        SimUser::new(7_000_001, "Lan")
            .last_name("Trần")
            .username("lan_tran")
            .language("vi"),
    );
    vietnamese_report_until_review(&c).await;

    // The review screen shows exactly what will be sent.
    let review = c.last_text().unwrap();
    for expected in [
        "Đây đúng là bản Thanh tra sẽ nhận",
        "Dấu hiệu tham nhũng",
        "Sở Nông nghiệp và Môi trường (ghi là: \"văn phòng đăng ký đất đai\")",
        "xã Nam Cam Ranh",
        "ông Nguyễn Văn Tư, cán bộ địa chính, điện thoại cơ quan 0258 3822 111",
        "Cán bộ đòi 2 triệu đồng",
        "[đã xóa: số điện thoại]",
        "Hẹn ba lần không giải quyết.",
        "• Kiểm chứng: Có giấy tờ, ảnh, ghi âm, tin nhắn",
    ] {
        assert!(
            review.contains(expected),
            "review lacks {expected:?}:\n{review}"
        );
    }
    let sent_part = review.split("\n\nBot thấy").next().unwrap();
    assert!(
        !sent_part.contains("Lan")
            && !sent_part.contains("lan_tran")
            && !sent_part.contains("0905 000 123"),
        "{review}"
    );
    c.press("✅ Gửi phản ánh").await;

    // The receipt arrives unprotected (it must be copied), the code marked as code so a tap
    // copies it; the case number is marked as not needed.
    let snap = c.snapshot();
    let receipt_msg = snap
        .messages
        .iter()
        .rev()
        .find(|m| {
            m.text
                .as_deref()
                .is_some_and(|t| t.contains("Mã tra cứu bí mật"))
        })
        .unwrap()
        .clone();
    assert!(!receipt_msg.protected, "the receipt can be copied");
    let text = receipt_msg.text.clone().unwrap();
    let code = common::bot::case_number_in(&text).unwrap();
    let receipt = common::bot::receipt_in(&text).unwrap();
    assert!(Receipt::parse(&receipt).is_ok());
    assert!(
        text.contains(&format!("Số hồ sơ {code} chỉ dùng nội bộ")),
        "{text}"
    );
    let entity = &receipt_msg.raw["entities"][0];
    assert_eq!(entity["type"], "code");
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let at = entity["offset"].as_u64().unwrap() as usize;
    let len = entity["length"].as_u64().unwrap() as usize;
    assert_eq!(String::from_utf16(&utf16[at..at + len]).unwrap(), receipt);

    // The Inspectorate's side: one case, the summary opens for the reviewer, the identity only for the custodian.
    let case = h
        .store
        .case_by_code(&tipline::ids::CaseCode::parse(&code).unwrap())
        .await
        .unwrap();
    let items = h.store.items(&case.id).await.unwrap();
    assert_eq!(items.len(), 2);
    let summary: Sealed<CaseSummary> = Sealed::from_bytes(items[0].blob.clone());
    let summary = summary
        .open(ItemKind::Summary, &case.id, &h.reviewer.0)
        .unwrap();
    assert_eq!(summary.category, "corruption");
    assert_eq!(summary.behaviour, "demand_money");
    assert_eq!(summary.office_typed, "văn phòng đăng ký đất đai");
    assert_eq!(summary.place.as_deref(), Some("xã Nam Cam Ranh"));
    assert_eq!(summary.verification, vec!["documents"]);
    // The official's office number was kept, the reporter's own removed.
    assert!(summary.officials.contains("0258 3822 111"));
    assert!(!summary.story.contains("0905 000 123") && !summary.story.contains("Lan"));
    let identity: Sealed<Identity> = Sealed::from_bytes(items[1].blob.clone());
    assert!(
        identity
            .open(ItemKind::Identity, &case.id, &h.reviewer.0)
            .is_err(),
        "reviewers cannot open identities"
    );
    let identity = identity
        .open(ItemKind::Identity, &case.id, &h.custodian.0)
        .unwrap();
    assert_eq!(
        (
            identity.telegram_user_id,
            identity.username.as_deref(),
            identity.first_name.as_str()
        ),
        (7_000_001, Some("lan_tran"), "Lan")
    );

    // "I've copied it" asks first; "Not yet" keeps it; then "Copied" deletes the receipt
    // message, and the wipe offer follows.
    c.press("🗑 Đã chép mã").await;
    assert!(c.last_text().unwrap().contains("Bạn chắc đã chép mã?"));
    c.press("Chưa, để lại").await;
    assert!(c.last_text().unwrap().contains("tin chứa mã vẫn còn"));
    assert!(
        !c.snapshot()
            .messages
            .iter()
            .find(|m| m.message_id == receipt_msg.message_id)
            .unwrap()
            .deleted
    );
    c.press("🗑 Đã chép mã").await;
    c.press("Đã chép, xóa tin này").await;
    assert!(
        c.snapshot()
            .messages
            .iter()
            .find(|m| m.message_id == receipt_msg.message_id)
            .unwrap()
            .deleted
    );
    assert!(
        c.last_text()
            .unwrap()
            .contains("xóa luôn cuộc trò chuyện này")
    );
    c.press("🧹 Xóa cuộc trò chuyện").await;
    let snap = c.snapshot();
    let alive: Vec<_> = snap.messages.iter().filter(|m| !m.deleted).collect();
    assert_eq!(
        alive.len(),
        1,
        "only the confirmation remains: {:#?}",
        alive.iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    assert!(alive[0].text.as_deref().unwrap().contains("Đã xóa"));

    // /status with the receipt typed sloppily: the message holding it is deleted at once.
    c.command("/status").await;
    let typed = send_receipt(&c, &receipt.to_lowercase().replace('-', " ")).await;
    assert!(
        c.snapshot()
            .messages
            .iter()
            .find(|m| m.message_id == typed.message_id.unwrap())
            .unwrap()
            .deleted
    );
    let status = c.last_text().unwrap();
    assert!(
        status.contains(&code)
            && status.contains("Mới tiếp nhận")
            && status.contains("Chưa có tin nhắn"),
        "{status}"
    );
    c.press("Xong").await;

    // A reviewer's question, sealed to the mailbox key and the reviewers, reaches the reporter.
    let found = h.store.case_by_code(&case.code).await.unwrap();
    let mailbox = h
        .store
        .case_by_receipt(
            &Receipt::parse(&receipt)
                .unwrap()
                .derive_blocking(tipline::crypto::receipt::RECEIPT_KDF)
                .unwrap()
                .lookup_id,
        )
        .await
        .unwrap()
        .unwrap()
        .mailbox_public;
    let question = Sealed::seal(
        &TextMessage {
            text: "Ông/bà có giữ giấy hẹn không?".into(),
        },
        ItemKind::ToReporter,
        &found.id,
        &[mailbox, h.reviewer.1],
    )
    .unwrap();
    // As the reviewer's client uploads it: signed with the reviewer's key.
    h.add_reply(&found.id, &mailbox, question.into_bytes())
        .await;
    c.command("/status").await;
    send_receipt(&c, &receipt).await;
    assert!(
        c.last_text()
            .unwrap()
            .contains("Ông/bà có giữ giấy hẹn không?")
    );
    c.press("✍️ Trả lời Thanh tra").await;
    c.send("Có, giấy hẹn ngày 5 và ngày 12.").await;
    assert!(
        c.last_text().unwrap().contains("Đã gửi câu trả lời")
            || c.snapshot().messages.iter().any(|m| m
                .text
                .as_deref()
                .is_some_and(|t| t.contains("Đã gửi câu trả lời")))
    );
    let items = h.store.items(&found.id).await.unwrap();
    let answer = items
        .iter()
        .find(|i| i.kind == ItemKind::FromReporter)
        .unwrap();
    let answer: Sealed<TextMessage> = Sealed::from_bytes(answer.blob.clone());
    assert_eq!(
        answer
            .open(ItemKind::FromReporter, &found.id, &h.reviewer.0)
            .unwrap()
            .text,
        "Có, giấy hẹn ngày 5 và ngày 12."
    );
    assert!(h.store.case(&found.id).await.unwrap().unread_from_reporter);

    // A wrong receipt gets the same answer as any unknown one.
    c.command("/status").await;
    let mark = c.mark();
    send_receipt(&c, &Receipt::generate().expose_text()).await;
    let said: Vec<String> = c
        .bot_messages_since(mark)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert!(
        said.iter().any(|t| t.contains("Không tìm thấy hồ sơ")),
        "{said:?}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_english_report_with_edit_and_back() {
    let h = Harness::start().await;
    // Telegram in English: the bot still starts in Vietnamese, with an English button.
    let c = h.citizen(SimUser::new(7_000_002, "Sam").language("en"));
    c.command("/start").await;
    assert!(c.last_text().unwrap().starts_with("Xin chào"));
    c.press("English").await;
    assert!(
        c.last_text()
            .unwrap()
            .contains("Telegram can read this chat")
    );
    c.press("📄 Details").await;
    let notice = c.last_text().unwrap();
    assert!(
        notice.contains("Personal Data Protection Law No. 91/2025/QH15")
            && notice.contains("within 72 hours"),
        "{notice}"
    );
    c.press("✅ I agree, start").await;
    c.press("Charged unlawful fees").await;
    c.press("⬅️ Back").await;
    c.press("Charged unlawful fees").await;
    c.press("Traffic police").await;
    assert!(c.last_buttons().iter().any(|b| b == "Traffic Police"));
    c.press("📋 Another office…").await;
    c.press("Police, tax").await;
    c.press("Traffic Police").await;
    let mark = c.mark();
    c.send("zzzz").await;
    let said: Vec<String> = c
        .bot_messages_since(mark)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert!(
        said.iter()
            .any(|t| t.contains("No commune or ward of Khánh Hòa matches"))
            && said.last().unwrap().contains("Type its name"),
        "{said:?}"
    );
    c.press("I prefer not to say").await;
    c.press("2–6 months ago").await;
    c.press("Don't know, skip").await;
    c.send("Officers at the checkpoint took 500,000 dong without a receipt.")
        .await;
    c.press("➡️ Nothing, continue").await;
    c.press("📞 Leave a contact").await;
    assert!(c.last_text().unwrap().contains("The safest way"));
    c.send("signal: example-handle").await;
    let review = c.last_text().unwrap();
    assert!(
        review.contains("(reporter preferred not to say)") && review.contains("• Sector:"),
        "{review}"
    );
    let (summary_part, contact_part) = review.split_once("📞 Contact").unwrap();
    assert!(
        !summary_part.contains("example-handle") && contact_part.contains("example-handle"),
        "contact details never go into the summary: {review}"
    );
    // "Change something" lists every part; Back leaves it.
    c.press("✏️ Change something").await;
    let buttons = c.last_buttons();
    for field in [
        "✏️ Behaviour",
        "✏️ What happened",
        "✏️ Evidence files",
        "⬅️ Back",
    ] {
        assert!(buttons.iter().any(|b| b == field), "{field} in {buttons:?}");
    }
    // Starting to edit the story and going back loses nothing.
    c.press("✏️ What happened").await;
    assert!(c.last_text().unwrap().contains("replaces the old text"));
    c.press("⬅️ Back").await;
    assert!(
        c.last_text().unwrap().contains("checkpoint"),
        "the old story stays"
    );
    // Edit the story from the review screen.
    c.press("✏️ Change something").await;
    c.press("✏️ What happened").await;
    c.send("Officers took 500,000 dong without a receipt, twice.")
        .await;
    c.press("➡️ Nothing, continue").await;
    let review = c.last_text().unwrap();
    assert!(
        review.contains("twice") && !review.contains("checkpoint"),
        "{review}"
    );
    c.press("✅ Send report").await;
    let (code, _) = common::bot::submitted(&c);
    let case = h
        .store
        .case_by_code(&tipline::ids::CaseCode::parse(&code).unwrap())
        .await
        .unwrap();
    let items = h.store.items(&case.id).await.unwrap();
    let identity: Sealed<Identity> = Sealed::from_bytes(items[1].blob.clone());
    assert_eq!(
        identity
            .open(ItemKind::Identity, &case.id, &h.custodian.0)
            .unwrap()
            .contact
            .as_deref(),
        Some("signal: example-handle")
    );
    let summary = common::bot::summary_of(&h, &code).await;
    assert_eq!(summary.place, None);
    assert_eq!(summary.category, "corruption");
    assert_eq!(summary.language, tipline::bot::texts::Lang::En);
    h.stop().await;
}
