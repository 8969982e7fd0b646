//! The dialogue's commands, limits and edges, end to end through real teloxide over HTTP:
//! the command menus, /lang, /report resume, /help, /privacy, /cancel, /wipe; the daily
//! report limit, the receipt-attempt limit and the flood answer; forged button data; the
//! twelve-tap path; a redirect that continues as an anonymous report; a story near the length
//! limit and a review screen longer than one Telegram message; Telegram failing (lost answers,
//! dropped connections, an undeliverable receipt).

use crate::common;

use std::time::Duration;

use common::bot::{Harness, Options};
use tipline::sim::{Citizen, EveryNth, Faults, SimUser};

/// /start → consent → the first two answers.
async fn to_office(c: &Citizen) {
    c.command("/start").await;
    c.press("✅ Đồng ý, bắt đầu").await;
    c.press("Cố tình kéo dài").await;
    c.press("Hộ tịch, cư trú").await;
}

/// From the office step to the review screen, with `story` as what happened.
async fn office_to_review(c: &Citizen, story: &[&str]) {
    c.press("Trung tâm Phục vụ hành chính công xã/phường").await;
    c.press("Tôi không muốn nói").await;
    c.press("Tháng này").await;
    c.press("Không biết, bỏ qua").await;
    for part in story {
        c.send(part).await;
    }
    c.press("➡️ Không có, tiếp tục").await;
}

/// Waits until a message with a receipt arrives after `mark`.
async fn wait_for_receipt_message(c: &Citizen, mark: tipline::sim::Mark) {
    c.wait_for(|_| {
        c.bot_messages_since(mark).iter().any(|m| {
            m.text
                .as_deref()
                .is_some_and(|t| common::bot::receipt_in(t).is_some())
        })
    })
    .await;
}

/// The texts of the bot's messages since `mark`.
fn said_since(c: &Citizen, mark: tipline::sim::Mark) -> Vec<String> {
    c.bot_messages_since(mark)
        .into_iter()
        .filter_map(|m| m.text)
        .collect()
}

/// The callback data of the latest keyboard's first button, and its message id.
fn current_button(c: &Citizen) -> (i32, String) {
    let m = c
        .bot_messages()
        .into_iter()
        .rev()
        .find(|m| !m.deleted && !m.inline_keyboard.is_empty())
        .expect("a message with buttons");
    let data = m.inline_keyboard[0][0].callback_data.clone().unwrap();
    (m.message_id, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_language_resume_cancel_and_wipe() {
    let h = Harness::start().await;
    let c = h.citizen(SimUser::new(7_100_001, "Hoa").language("vi"));
    c.command("/start").await;
    // The command menus are registered in Vietnamese (default and vi) and English.
    for (code, lang) in [
        ("", tipline::bot::texts::Lang::Vi),
        ("vi", tipline::bot::texts::Lang::Vi),
        ("en", tipline::bot::texts::Lang::En),
    ] {
        let expected: Vec<(String, String)> = tipline::bot::texts::commands(lang)
            .iter()
            .map(|(c, d)| ((*c).to_owned(), (*d).to_owned()))
            .collect();
        assert_eq!(h.sim.commands(code), expected, "menu for {code:?}");
    }
    c.press("✅ Đồng ý, bắt đầu").await;
    // /lang switches the language and repeats the current step in it.
    let mark = c.mark();
    c.command("/lang").await;
    let said = said_since(&c, mark);
    assert!(said.iter().any(|t| t == "Switched to English."), "{said:?}");
    assert_eq!(
        said.last().unwrap(),
        "What did the official do? Pick the closest."
    );
    c.press("Delayed the file").await;
    // /report in the middle of a report resumes it.
    let mark = c.mark();
    c.command("/report").await;
    let said = said_since(&c, mark);
    assert!(
        said[0].contains("You have a report in progress")
            && said[1] == "Which sector is this about?",
        "{said:?}"
    );
    // /help and /privacy answer, then the current step again.
    let mark = c.mark();
    c.command("/help").await;
    let said = said_since(&c, mark);
    assert!(
        said[0].contains("/status")
            && said[0].contains("48 hours")
            && said[1] == "Which sector is this about?",
        "{said:?}"
    );
    let mark = c.mark();
    c.command("/privacy").await;
    let said = said_since(&c, mark);
    assert!(
        said[0].contains("What the bot cannot hide") && said[0].contains("Your rights"),
        "{said:?}"
    );
    c.command("/lang").await;
    assert_eq!(c.last_text().unwrap(), "Việc này thuộc lĩnh vực nào?");
    // /cancel deletes the report; a second /cancel finds nothing; /wipe clears the chat.
    let mark = c.mark();
    c.command("/cancel").await;
    assert!(said_since(&c, mark)[0].starts_with("Đã hủy"));
    c.command("/cancel").await;
    assert!(
        c.last_text()
            .unwrap()
            .contains("Không có việc gì đang làm dở")
    );
    c.command("/wipe").await;
    let snap = c.snapshot();
    let alive: Vec<_> = snap.messages.iter().filter(|m| !m.deleted).collect();
    // What is left: the second /cancel, its answer (never tracked: nothing was in progress)
    // and the wipe's confirmation.
    assert!(
        alive
            .iter()
            .any(|m| m.text.as_deref().is_some_and(|t| t.starts_with("Đã xóa"))),
        "{:#?}",
        alive.iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    assert!(
        !alive
            .iter()
            .any(|m| m.text.as_deref().is_some_and(|t| t.contains("lĩnh vực"))),
        "the dialogue's prompts are gone"
    );
    // With nothing recorded, /wipe explains how to delete the chat by hand.
    c.command("/wipe").await;
    assert!(
        c.last_text()
            .unwrap()
            .contains("Delete chat (Xóa cuộc trò chuyện)")
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_limit_receipt_attempts_and_flood_answer() {
    let h = Harness::start_with(Options {
        env: vec![
            ("TIPLINE_REPORTS_PER_DAY", "1"),
            ("TIPLINE_RECEIPT_ATTEMPTS_PER_HOUR", "2"),
            // Faster than any person: the flood limit is the next test's.
            ("TIPLINE_UPDATES_PER_MINUTE", "1000"),
        ],
        ..Options::default()
    })
    .await;
    let c = h.citizen(SimUser::new(7_100_002, "Minh").language("vi"));
    to_office(&c).await;
    office_to_review(&c, &["Hồ sơ bị giữ ba tháng."]).await;
    c.press("✅ Gửi phản ánh").await;
    let (code, _) = common::bot::submitted(&c);
    c.press("🗑 Đã chép mã").await;
    c.press("Đã chép, xóa tin này").await;
    c.press("Giữ lại").await;
    // A second report the same day is refused, and its draft kept for tomorrow. Nothing was
    // kept of the first report; "Make another report" carries the consent in its button.
    c.press("📝 Gửi phản ánh khác").await;
    assert_eq!(
        c.last_text().unwrap(),
        "Cán bộ đã làm gì? Chọn điều gần nhất."
    );
    c.press("Cố tình kéo dài").await;
    c.press("Hộ tịch, cư trú").await;
    office_to_review(&c, &["Lần thứ hai."]).await;
    c.press("✅ Gửi phản ánh").await;
    assert!(c.last_text().unwrap().contains("số phản ánh tối đa"));
    assert_eq!(
        h.store
            .case_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>(),
        1
    );
    assert!(!code.is_empty());
    // Receipt attempts: two wrong ones get "not found", the third is refused.
    for expected in [
        "Không tìm thấy hồ sơ",
        "Không tìm thấy hồ sơ",
        "quá nhiều lần",
    ] {
        c.command("/status").await;
        let mark = c.mark();
        common::bot::send_receipt(&c, &tipline::crypto::Receipt::generate().expose_text()).await;
        let said = said_since(&c, mark);
        assert!(
            said.iter().any(|t| t.contains(expected)),
            "{expected}: {said:?}"
        );
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_buttons_are_refused() {
    let h = Harness::start().await;
    let c = h.citizen(SimUser::new(7_100_004, "Tú").language("vi"));
    to_office(&c).await;
    // Forged data carrying the current token: not a choice of this step (an office of
    // another sector, an unknown place, a group that does not exist, a step not reached).
    for forged in [
        "sec:bogus",
        "p:9999",
        "og:7",
        "off:0",
        "off:9999",
        "zzz",
        "send",
        "ef:story",
    ] {
        let (msg, data) = current_button(&c);
        let token = data.split('|').next().unwrap().to_owned();
        let mark = c.mark();
        h.sim
            .press_button(c.user(), c.chat_id(), msg, &format!("{token}|{forged}"))
            .unwrap();
        c.wait_for(|_| !c.bot_messages_since(mark).is_empty()).await;
        c.settle().await;
        let said = said_since(&c, mark);
        assert!(
            said.iter().any(|t| t.contains("không còn dùng được"))
                && said.last().unwrap().starts_with("Cơ quan nào?"),
            "{forged}: {said:?}"
        );
    }
    // A forged consent button after consent changes nothing.
    let (msg, _) = current_button(&c);
    let mark = c.mark();
    h.sim
        .press_button(c.user(), c.chat_id(), msg, "consent:no:en:1")
        .unwrap();
    c.wait_for(|_| !c.bot_messages_since(mark).is_empty()).await;
    c.settle().await;
    assert!(
        said_since(&c, mark)
            .last()
            .unwrap()
            .starts_with("Cơ quan nào?")
    );
    h.stop().await;
}

/// A complete report with no optional field takes twelve taps or messages from /start to the
/// receipt (docs/DIALOGUE.md, section 2), counted as updates the bot receives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_report_takes_twelve_taps_or_messages() {
    let h = Harness::start().await;
    // Telegram in English: Vietnamese all the same (Telegram has no Vietnamese interface).
    let c = h.citizen(SimUser::new(7_100_009, "Ba").language("en"));
    let mark = c.mark();
    c.command("/start").await;
    assert!(c.last_text().unwrap().starts_with("Xin chào"));
    assert!(
        c.last_text().unwrap().encode_utf16().count() <= 450,
        "the first screen fits about one phone screen"
    );
    c.press("✅ Đồng ý, bắt đầu").await;
    c.press("Cố tình kéo dài").await;
    c.press("Đất đai").await;
    c.press("Cán bộ địa chính").await;
    c.send("Cam Lập").await;
    c.press("xã Nam Cam Ranh").await;
    c.press("Tháng trước").await;
    c.send("cán bộ nam ở bàn số 3, bộ phận một cửa").await;
    c.send("Tôi nộp hồ sơ cấp sổ từ tháng 6, bị hẹn lại bốn lần.")
        .await;
    c.press("➡️ Không có, tiếp tục").await;
    c.press("✅ Gửi phản ánh").await;
    let (code, _) = common::bot::submitted(&c);
    // Updates the bot received from this person: messages typed, and buttons pressed (each
    // press a distinct callback query, answered once or more).
    let typed = c
        .snapshot()
        .messages
        .iter()
        .filter(|m| {
            m.message_id > mark.message_id && matches!(m.sender, tipline::sim::Sender::User(_))
        })
        .count();
    let presses: std::collections::HashSet<String> = h
        .sim
        .calls()
        .iter()
        .filter(|call| call.method == "answerCallbackQuery")
        .filter_map(|call| call.params["callback_query_id"].as_str().map(str::to_owned))
        .collect();
    let presses = presses.len();
    assert_eq!(typed + presses, 12, "{typed} messages, {presses} taps");
    let s = common::bot::summary_of(&h, &code).await;
    assert_eq!(s.category, "harassment");
    assert_eq!(s.office, "Cán bộ địa chính");
    assert_eq!(s.language, tipline::bot::texts::Lang::Vi);
    h.stop().await;
}

/// "Other cases" → a formal denunciation: the bot explains the procedure, and one tap goes on
/// as an anonymous report on the consent already given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_continues_as_an_anonymous_report() {
    let h = Harness::start().await;
    let c = h.citizen(SimUser::new(7_100_010, "Tâm").language("vi"));
    c.command("/start").await;
    c.press("✅ Đồng ý, bắt đầu").await;
    c.press("Trường hợp khác").await;
    c.press("Tố cáo chính thức").await;
    let said = c.last_text().unwrap();
    assert!(
        said.contains("Điều 23") && said.contains("Điều 25 khoản 2"),
        "{said}"
    );
    c.press("➡️ Gửi phản ánh ẩn danh").await;
    assert_eq!(
        c.last_text().unwrap(),
        "Cán bộ đã làm gì? Chọn điều gần nhất."
    );
    assert!(h.has_draft(7_100_010).await, "the report goes on");
    c.press("Cố tình kéo dài").await;
    c.press("Hộ tịch, cư trú").await;
    office_to_review(&c, &["Cán bộ giữ hồ sơ khai sinh hai tuần."]).await;
    c.press("✅ Gửi phản ánh").await;
    let (code, _) = common::bot::submitted(&c);
    assert!(!code.is_empty());
    // The emergency redirect names the numbers and goes back, or stops.
    c.command("/report").await;
    c.press("✅ Đồng ý, bắt đầu").await;
    c.press("Trường hợp khác").await;
    c.press("🚨 Việc khẩn cấp").await;
    assert!(c.last_text().unwrap().contains("113"));
    c.press("Dừng ở đây").await;
    assert!(c.last_text().unwrap().starts_with("Đã hủy"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_story_within_the_limit_and_a_review_longer_than_one_message() {
    let h = Harness::start().await;
    assert_eq!(h.config.limits.max_report_chars, 6000);
    let c = h.citizen(SimUser::new(7_100_005, "Dài").language("vi"));
    to_office(&c).await;
    let part = |n: usize| format!("Đoạn {n}: {}", "cán bộ hẹn lại nhiều lần. ".repeat(110));
    let (one, two, three) = (part(1), part(2), part(3));
    assert!(one.chars().count() < 4096 && one.chars().count() * 2 < 6000);
    c.press("Trung tâm Phục vụ hành chính công xã/phường").await;
    c.press("Tôi không muốn nói").await;
    c.press("Tháng này").await;
    c.press("Không biết, bỏ qua").await;
    assert!(
        !c.last_text().unwrap().contains("6000"),
        "the limit is said only when a message would pass it"
    );
    c.send(&one).await;
    c.send(&two).await;
    // The third part would pass the limit: refused with the number, nothing lost.
    let mark = c.mark();
    c.send(&three).await;
    assert!(said_since(&c, mark)[0].contains("giới hạn 6000 ký tự"));
    let mark = c.mark();
    c.press("➡️ Không có, tiếp tục").await;
    // The review screen does not fit one message: it comes in parts, buttons on the last.
    let parts: Vec<_> = c.bot_messages_since(mark);
    assert!(parts.len() >= 2, "{}", parts.len());
    assert!(
        parts
            .iter()
            .all(|m| m.text.as_deref().unwrap().encode_utf16().count() <= 4096)
    );
    assert!(
        parts[..parts.len() - 1]
            .iter()
            .all(|m| m.inline_keyboard.is_empty())
    );
    assert!(parts.last().unwrap().inline_keyboard.len() > 1);
    let joined: String = parts.iter().filter_map(|m| m.text.clone()).collect();
    assert!(joined.contains("Đoạn 1") && joined.contains("Đoạn 2") && !joined.contains("Đoạn 3"));
    c.press("✅ Gửi phản ánh").await;
    let (code, _) = common::bot::submitted(&c);
    let story = common::bot::summary_of(&h, &code).await.story;
    assert_eq!(story, format!("{}\n{}", one.trim(), two.trim()));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_failing_loses_no_prompt_and_no_receipt() {
    let h = Harness::start().await;
    let c = h
        .citizen(SimUser::new(7_100_006, "Bền").language("vi"))
        .with_timeout(Duration::from_secs(30))
        // A retried call lands within the quiet period, so each step sees its whole answer.
        .with_quiet_period(Duration::from_millis(1000));
    // Every third call's answer is lost after it took effect, every fifth connection drops.
    h.sim.set_faults(Faults {
        lose_response: Some(EveryNth::new(3).except_get_updates()),
        drop_connection: Some(EveryNth::new(5).except_get_updates()),
        ..Faults::default()
    });
    to_office(&c).await;
    office_to_review(&c, &["Cán bộ đòi tiền mới nhận hồ sơ."]).await;
    assert!(
        c.last_text()
            .unwrap()
            .contains("Đây đúng là bản Thanh tra sẽ nhận")
    );
    // Now Telegram refuses every message at the moment of sending: the case is committed,
    // the receipt cannot be delivered, and the draft (committed with the case) still owes one.
    h.sim.set_faults(Faults {
        drop_connection: Some(EveryNth::new(1).only(&["sendMessage"])),
        ..Faults::default()
    });
    let mark = c.mark();
    let _ = c.try_press("✅ Gửi phản ánh").await;
    c.settle().await;
    assert!(
        !said_since(&c, mark)
            .iter()
            .any(|t| common::bot::receipt_in(t).is_some()),
        "nothing could be sent"
    );
    assert_eq!(
        h.store
            .case_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>(),
        1,
        "the case was committed"
    );
    // Telegram is back: the reporter's next message brings a fresh receipt for the same case.
    h.sim.clear_faults();
    let mark = c.mark();
    c.send("?").await;
    wait_for_receipt_message(&c, mark).await;
    c.settle().await;
    let said = said_since(&c, mark);
    assert!(
        said.iter().any(|t| t.contains("chưa đến được với bạn")),
        "{said:?}"
    );
    let (_, receipt) = common::bot::submitted(&c);
    let receipt_msg = c
        .bot_messages()
        .into_iter()
        .rev()
        .find(|m| {
            m.text
                .as_deref()
                .is_some_and(|t| common::bot::receipt_in(t).is_some())
        })
        .unwrap();
    assert!(!receipt_msg.protected);
    let keys = tipline::crypto::Receipt::parse(&receipt)
        .unwrap()
        .derive_blocking(tipline::crypto::keyfile::KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    let found = h.store.case_by_receipt(&keys.lookup_id).await.unwrap();
    assert!(found.is_some(), "the re-sent receipt opens the case");
    let code = common::bot::case_number_in(receipt_msg.text.as_deref().unwrap()).unwrap();
    assert_eq!(found.unwrap().case.code.to_string(), code);
    // "I've copied it" still deletes it, once confirmed.
    c.press("🗑 Đã chép mã").await;
    c.press("Đã chép, xóa tin này").await;
    let snap = c.snapshot();
    assert!(
        snap.messages
            .iter()
            .find(|m| m.message_id == receipt_msg.message_id)
            .unwrap()
            .deleted
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_pressed_twice_submits_once_and_answers_both() {
    let h = Harness::start().await;
    let c = h.citizen(SimUser::new(7_100_001, "Tú").language("vi"));
    to_office(&c).await;
    office_to_review(&c, &["Cán bộ giữ hồ sơ ba tuần không lý do."]).await;
    // Two presses of the same Send button reach the bot before it answers either.
    let (msg, data) = h
        .sim
        .find_button(c.chat_id(), "✅ Gửi phản ánh")
        .expect("the Send button");
    let mark = c.mark();
    for _ in 0..2 {
        h.sim
            .press_button(c.user(), c.chat_id(), msg, &data)
            .unwrap();
    }
    wait_for_receipt_message(&c, mark).await;
    c.settle().await;
    let said = said_since(&c, mark);
    let receipts = said
        .iter()
        .filter(|t| common::bot::receipt_in(t).is_some())
        .count();
    assert_eq!(receipts, 1, "{said:?}");
    assert!(
        said.len() >= 2,
        "the second press is answered too: {said:?}"
    );
    assert_eq!(
        h.store
            .case_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>(),
        1,
        "one report, one case"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_to_a_group_says_once_and_leaves() {
    let h = Harness::start().await;
    let user = SimUser::new(7_100_007, "Quản trị").language("en");
    let group = h
        .sim
        .create_chat(tipline::sim::ChatKind::Supergroup, "Tổ dân phố");
    h.sim.add_bot_to_chat(&user, &group);
    assert!(
        h.sim
            .wait_until(Duration::from_secs(10), |s| s.bot_left(group.id))
            .await
    );
    let said: Vec<String> = h
        .sim
        .bot_messages(group.id)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].starts_with("This bot takes reports only in a private chat"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_gets_one_answer() {
    let h = Harness::start().await;
    assert_eq!(h.config.limits.updates_per_minute, 40);
    // Flooding: past 40 updates a minute, one polite answer and silence.
    let f = h
        .citizen(SimUser::new(7_100_003, "Nhanh").language("vi"))
        .with_timeout(Duration::from_secs(60));
    let mark = f.mark();
    for i in 0..50 {
        f.inject(tipline::sim::Content::text(format!("/help {i}")))
            .unwrap();
    }
    f.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    f.settle().await;
    let said = said_since(&f, mark);
    assert_eq!(
        said.iter().filter(|t| t.contains("gửi nhanh quá")).count(),
        1,
        "one flood answer: {said:?}"
    );
    assert!(
        said.len() <= 41,
        "at most 40 answers and the warning: {}",
        said.len()
    );

    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_before_any_consent_stores_nothing() {
    let h = Harness::start().await;
    let c = h.citizen(SimUser::new(7_100_008, "Lạ").language("vi"));
    c.command("/status").await;
    assert!(c.last_text().unwrap().contains("Gõ mã tra cứu bí mật"));
    assert!(
        !h.has_draft(7_100_008).await,
        "nothing stored before a receipt is shown"
    );
    // A wrong receipt (typed without dashes or digits is still read: it was asked for).
    let mark = c.mark();
    common::bot::send_receipt(&c, "send them more gold").await;
    assert!(
        said_since(&c, mark)
            .iter()
            .any(|t| t.contains("Không tìm thấy hồ sơ"))
    );
    assert!(!h.has_draft(7_100_008).await);
    h.stop().await;
}

/// A turn stuck on Telegram (its message taken, the answer never coming) holds up only its own
/// chat: everyone else is answered meanwhile, and the stuck chat's next update waits its turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_turn_holds_up_only_its_own_chat() {
    let h = Harness::start().await;
    let stuck = h.citizen(SimUser::new(7_100_020, "Kẹt").language("vi"));
    h.sim.set_faults(Faults {
        hold_response: Some(tipline::sim::Stall {
            delay: Duration::from_secs(600),
            every: EveryNth::new(1).only(&["sendMessage"]),
        }),
        ..Faults::default()
    });
    stuck.inject(tipline::sim::Content::text("/start")).unwrap();
    // The welcome is in the chat; its answer never comes back to the bot.
    assert!(
        h.sim
            .wait_until(Duration::from_secs(20), |s| !s
                .bot_messages(stuck.chat_id())
                .is_empty())
            .await
    );
    h.sim.clear_faults();
    // The stuck chat's next update queues behind the stuck turn; others go on.
    stuck.inject(tipline::sim::Content::text("/help")).unwrap();
    let others: Vec<_> = (0..12u64)
        .map(|i| h.citizen(SimUser::new(7_100_100 + i, "Dân").language("vi")))
        .collect();
    futures_util::future::join_all(others.iter().map(|c| async move {
        c.command("/start").await;
        assert!(c.last_text().unwrap().starts_with("Xin chào"));
        c.press("✅ Đồng ý, bắt đầu").await;
        assert_eq!(
            c.last_text().unwrap(),
            "Cán bộ đã làm gì? Chọn điều gần nhất."
        );
    }))
    .await;
    assert_eq!(
        h.sim.bot_messages(stuck.chat_id()).len(),
        1,
        "the stuck chat's /help waits behind its stuck turn"
    );
    h.stop().await;
}
