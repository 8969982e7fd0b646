//! Bad input, table-driven: every kind gets a clear answer and loses nothing. After each
//! case the citizen is still at the same step with the same answers, and a complete report
//! can still be made. Also: 100 concurrent citizens, none lost, none mixed up.

use crate::common;

use std::time::Duration;

use common::bot::{Harness, Options};
use tipline::sim::{ChatKind, Citizen, Content, ForwardOrigin, Incoming, SimUser};

/// Brings a citizen to the "what happened" step with one story message written.
async fn to_story(c: &Citizen) {
    c.command("/start").await;
    c.press("✅ Đồng ý, bắt đầu").await;
    c.press("Cố tình kéo dài").await;
    c.press("Hộ tịch, cư trú").await;
    c.press("Trung tâm Phục vụ hành chính công xã/phường").await;
    c.press("Tôi không muốn nói").await;
    c.press("Tháng này").await;
    c.press("Không biết, bỏ qua").await;
    c.send("Hồ sơ khai sinh bị hẹn lại năm lần.").await;
}

/// Finishes from the story step and returns the stored story.
async fn finish(h: &Harness, c: &Citizen) -> String {
    c.press("➡️ Không có, tiếp tục").await;
    c.press("✅ Gửi phản ánh").await;
    let (code, _) = common::bot::submitted(c);
    common::bot::summary_of(h, &code).await.story
}

/// Waits until the bot has answered a stale or forged button and re-shown the current step.
async fn stale_answer(c: &Citizen) {
    let before = c
        .snapshot()
        .messages
        .iter()
        .filter(|m| {
            m.text
                .as_deref()
                .is_some_and(|t| t.contains("không còn dùng được"))
        })
        .count();
    c.wait_for(move |s| {
        s.messages
            .iter()
            .filter(|m| {
                m.text
                    .as_deref()
                    .is_some_and(|t| t.contains("không còn dùng được"))
            })
            .count()
            > before
    })
    .await;
    c.settle().await;
}

struct Case {
    name: &'static str,
    act: fn(&Citizen) -> futures_util::future::BoxFuture<'_, ()>,
    expect: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "very long text",
            act: |c| {
                Box::pin(async move {
                    c.send(&"rất dài ".repeat(900)).await;
                })
            },
            expect: "dài quá giới hạn",
        },
        Case {
            name: "sticker",
            act: |c| {
                Box::pin(async move {
                    c.send_sticker("😀").await;
                })
            },
            expect: "chỉ đọc được chữ",
        },
        Case {
            name: "GIF",
            act: |c| {
                Box::pin(async move {
                    c.send_animation(vec![1u8, 2, 3]).await;
                })
            },
            expect: "chỉ đọc được chữ",
        },
        Case {
            name: "poll",
            act: |c| {
                Box::pin(async move {
                    c.act(Content::Poll {
                        question: "?".into(),
                        options: vec!["a".into(), "b".into()],
                    })
                    .await;
                })
            },
            expect: "chỉ đọc được chữ",
        },
        Case {
            name: "dice",
            act: |c| {
                Box::pin(async move {
                    c.act(Content::Dice {
                        emoji: "🎲".into(),
                        value: 3,
                    })
                    .await;
                })
            },
            expect: "chỉ đọc được chữ",
        },
        Case {
            name: "shared contact",
            act: |c| {
                Box::pin(async move {
                    c.send_contact("+84905111222", "Lan").await;
                })
            },
            expect: "không nhận danh bạ",
        },
        Case {
            name: "shared location",
            act: |c| {
                Box::pin(async move {
                    c.send_location(12.24, 109.19).await;
                })
            },
            expect: "không nhận vị trí",
        },
        Case {
            name: "forwarded message",
            act: |c| {
                Box::pin(async move {
                    c.act(Incoming::new(Content::text("chuyển tiếp")).forwarded(
                        ForwardOrigin::HiddenUser {
                            name: "Ai đó".into(),
                        },
                    ))
                    .await;
                })
            },
            expect: "chuyển tiếp mang theo danh tính",
        },
        Case {
            name: "a receipt typed in the story",
            act: |c| {
                Box::pin(async move {
                    let typed = c
                        .send(&tipline::crypto::Receipt::generate().expose_text())
                        .await;
                    c.wait_for(|s| {
                        s.messages
                            .iter()
                            .any(|m| m.message_id == typed.message_id.unwrap() && m.deleted)
                    })
                    .await;
                    c.wait_for(|s| {
                        s.messages.last().is_some_and(|m| {
                            m.text
                                .as_deref()
                                .is_some_and(|t| t.starts_with("Đã ghi. Muốn kể thêm"))
                        })
                    })
                    .await;
                })
            },
            expect: "trông giống mã tra cứu",
        },
        Case {
            name: "forwarded photo",
            act: |c| {
                Box::pin(async move {
                    let file = c.simulator().add_file(
                        std::fs::read(concat!(
                            env!("CARGO_MANIFEST_DIR"),
                            "/tests/data/attach/photo.jpg"
                        ))
                        .unwrap(),
                    );
                    c.act(
                        Incoming::new(Content::Photo {
                            file,
                            caption: None,
                        })
                        .forwarded(ForwardOrigin::HiddenUser {
                            name: "Ai đó".into(),
                        }),
                    )
                    .await;
                })
            },
            expect: "không lưu người gửi gốc",
        },
        Case {
            name: "file over Telegram's 20 MB download limit",
            act: |c| {
                Box::pin(async move {
                    c.send_document(vec![b'a'; 21 * 1024 * 1024], "big.txt", "text/plain")
                        .await;
                })
            },
            expect: "lớn hơn 20 MB",
        },
        Case {
            name: "edited message",
            act: |c| {
                Box::pin(async move {
                    let id = c
                        .snapshot()
                        .messages
                        .iter()
                        .rev()
                        .find(|m| m.text.as_deref() == Some("Hồ sơ khai sinh bị hẹn lại năm lần."))
                        .unwrap()
                        .message_id;
                    c.edit(id, "sửa").await;
                })
            },
            expect: "không theo dõi tin nhắn đã sửa",
        },
        Case {
            name: "unknown command",
            act: |c| {
                Box::pin(async move {
                    c.command("/xyz").await;
                })
            },
            expect: "Lệnh không rõ",
        },
        Case {
            name: "forged callback data",
            act: |c| {
                Box::pin(async move {
                    let id = c.snapshot().messages.last().unwrap().message_id;
                    c.simulator()
                        .press_button(c.user(), c.chat_id(), id, "999999|send")
                        .unwrap();
                    stale_answer(c).await;
                })
            },
            expect: "không còn dùng được",
        },
        Case {
            name: "stale button from an earlier step",
            act: |c| {
                Box::pin(async move {
                    // Pressed keyboards are removed, but a client can still send an old callback: take the
                    // current token and press the "today" button of three prompts ago.
                    let last = c
                        .snapshot()
                        .messages
                        .iter()
                        .rev()
                        .find(|m| !m.inline_keyboard.is_empty())
                        .unwrap()
                        .clone();
                    let data = last.inline_keyboard[0][0].callback_data.clone().unwrap();
                    let token: u32 = data.split('|').next().unwrap().parse().unwrap();
                    c.simulator()
                        .press_button(
                            c.user(),
                            c.chat_id(),
                            last.message_id,
                            &format!("{}|w:this_month", token - 3),
                        )
                        .unwrap();
                    stale_answer(c).await;
                })
            },
            expect: "không còn dùng được",
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_bad_input_gets_an_answer_and_loses_nothing() {
    let h = Harness::start().await;
    // Every case is its own citizen, all at once (the cases are independent; one after the
    // other they took most of the suite's time).
    let runs = cases().into_iter().enumerate().map(|(i, case)| {
        let h = &h;
        async move {
            let c = h
                .citizen(SimUser::new(8_000_000 + i as u64, "An").language("vi"))
                .with_timeout(Duration::from_secs(60))
                .with_quiet_period(Duration::from_millis(800));
            to_story(&c).await;
            let mark = c.mark();
            (case.act)(&c).await;
            let said: Vec<String> = c
                .bot_messages_since(mark)
                .into_iter()
                .filter_map(|m| m.text)
                .collect();
            assert!(
                said.iter().any(|t| t.contains(case.expect)),
                "{}: expected {:?} in {said:#?}",
                case.name,
                case.expect
            );
            // Still at the story step with the story intact: finishing gives the whole report.
            let story = finish(h, &c).await;
            assert_eq!(
                story, "Hồ sơ khai sinh bị hẹn lại năm lần.",
                "{}",
                case.name
            );
        }
    });
    futures_util::future::join_all(runs).await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_channels_and_bots_are_refused() {
    let h = Harness::start().await;
    let user = SimUser::new(8_100_000, "An").language("vi");
    let group = h.sim.create_chat(ChatKind::Supergroup, "Nhóm dân phố");
    h.sim
        .send_message(&user, &group, Content::text("/start"))
        .unwrap();
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
    assert_eq!(said.len(), 1, "says it once: {said:?}");
    assert!(said[0].contains("chỉ nhận phản ánh trong cuộc trò chuyện riêng"));
    let channel = h.sim.create_chat(ChatKind::Channel, "Kênh");
    h.sim.channel_post(&channel, Content::text("tin")).unwrap();
    assert!(
        h.sim
            .wait_until(Duration::from_secs(10), |s| s.bot_left(channel.id))
            .await
    );
    // Another bot writing privately gets no answer (no loops) and nothing is stored.
    let bot = h.citizen(SimUser::new(8_100_001, "OtherBot").bot());
    bot.inject(Content::text("/start")).unwrap();
    bot.expect_silence(Duration::from_millis(800)).await;
    assert!(bot.bot_messages().is_empty());
    h.stop().await;
}

/// The database goes away under the bot, at the story step: the reporter hears that the
/// draft is safe and the message was not saved, and the message stays in the chat to send
/// again. `back` brings the database back; then the message is sent again and the report
/// completes with the whole story.
async fn outage_then_recovery(h: &mut Harness, c: &Citizen, back: impl AsyncFnOnce(&mut Harness)) {
    let mark = c.mark();
    let typed = c.send("Thêm một chi tiết.").await;
    let said: Vec<String> = c
        .bot_messages_since(mark)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert!(
        said.iter()
            .any(|t| t.contains("Bản nháp của bạn vẫn an toàn") && t.contains("chưa được lưu")),
        "{said:?}"
    );
    let snap = c.snapshot();
    let kept = snap
        .messages
        .iter()
        .find(|m| m.message_id == typed.message_id.unwrap())
        .unwrap();
    assert!(
        !kept.deleted,
        "the reporter's text stays in the chat to send again"
    );
    back(h).await;
    c.send("Thêm một chi tiết.").await;
    assert!(c.last_text().unwrap().contains("Đã ghi."));
    let story = finish(h, c).await;
    assert_eq!(
        story,
        "Hồ sơ khai sinh bị hẹn lại năm lần.\nThêm một chi tiết."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_briefly_down_on_sqlite_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("tipline.db").display());
    let store = tipline::store::Store::open(&url).await.unwrap();
    let mut h = Harness::start_on(store, Options::default(), dir.path()).await;
    let c = h.citizen(SimUser::new(8_200_000, "An").language("vi"));
    to_story(&c).await;
    // The pool is closed under the bot; "back" is the database opened again.
    h.store.close().await;
    outage_then_recovery(&mut h, &c, async |h: &mut Harness| {
        let store = tipline::store::Store::open(&url).await.unwrap();
        h.restart_on(store).await;
    })
    .await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_briefly_unreachable_on_postgres_loses_nothing() {
    let Some(db) =
        common::PgDatabase::create("database_briefly_unreachable_on_postgres_loses_nothing").await
    else {
        return;
    };
    // The bot reaches PostgreSQL through a proxy the test cuts and restores: the same pool,
    // broken connections, sqlx reconnecting once the server is reachable again.
    let proxy = common::CuttableProxy::start(common::pg_addr(&db.url)).await;
    let store = tipline::store::Store::open(&common::via(&db.url, proxy.addr))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::start_on(store, Options::default(), dir.path()).await;
    let c = h
        .citizen(SimUser::new(8_200_001, "An").language("vi"))
        .with_timeout(Duration::from_secs(30));
    to_story(&c).await;
    proxy.cut();
    outage_then_recovery(&mut h, &c, async |_: &mut Harness| proxy.restore()).await;
    h.store.close().await;
    h.stop().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_citizens_at_once_none_lost_none_mixed_up() {
    let h = Harness::start().await;
    let mut tasks = Vec::new();
    for i in 0..100u64 {
        let c = h
            .citizen(SimUser::new(9_000_000 + i, "Dân").language("vi"))
            .with_timeout(Duration::from_secs(60))
            // A hundred conversations at once on two cores: allow for slow turns.
            .with_quiet_period(Duration::from_millis(1000));
        tasks.push(tokio::spawn(async move {
            c.command("/start").await;
            c.press("✅ Đồng ý, bắt đầu").await;
            c.press("Thu tiền sai quy định").await;
            c.press("Giáo dục").await;
            c.press("Trường học").await;
            c.press("Tôi không muốn nói").await;
            c.press("Tháng này").await;
            c.press("Không biết, bỏ qua").await;
            c.send(&format!("Báo cáo số {i}: thu tiền học thêm trái phép."))
                .await;
            c.press("➡️ Không có, tiếp tục").await;
            c.press("✅ Gửi phản ánh").await;
            (i, common::bot::submitted(&c).0)
        }));
    }
    let mut codes = std::collections::HashSet::new();
    for t in tasks {
        let (i, code) = t.await.unwrap();
        let story = common::bot::summary_of(&h, &code).await.story;
        assert_eq!(
            story,
            format!("Báo cáo số {i}: thu tiền học thêm trái phép."),
            "case {code} belongs to citizen {i}"
        );
        assert!(codes.insert(code));
    }
    assert_eq!(codes.len(), 100);
    h.stop().await;
}
