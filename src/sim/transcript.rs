//! Renders a chat as a person would read it: who said what, buttons in
//! brackets, edits and deletions marked. Used by test failure messages and by
//! `tipline demo`.
//!
//! Invariant: rendering is a pure function of a [`ChatSnapshot`], so the same
//! conversation always renders to the same text (no dates or timing).

use std::fmt::Write as _;

use serde_json::Value;

use super::types::{ChatEvent, ChatKind, ChatMessage, ChatSnapshot, ContentKind, Sender};

const INDENT: &str = "   ";

/// Renders the whole chat.
pub fn render(chat: &ChatSnapshot) -> String {
    let mut out = String::new();
    for event in &chat.events {
        match event {
            ChatEvent::Message(id) => {
                if let Some(m) = chat.message(*id) {
                    render_message(&mut out, m, chat.chat.kind != ChatKind::Private);
                }
            }
            ChatEvent::Pressed { label, data, .. } => {
                let shown = label.clone().unwrap_or_else(|| format!("data: {data}"));
                let _ = writeln!(out, "👤 ▸ [{shown}]");
            }
            ChatEvent::CallbackAnswer { text, show_alert } => {
                let kind = if *show_alert { "alert" } else { "notice" };
                let _ = writeln!(out, "🤖 ({kind}) {}", text.as_deref().unwrap_or_default());
            }
            ChatEvent::BotLeft => out.push_str("🤖 (left the chat)\n"),
            ChatEvent::Blocked => out.push_str("👤 (blocked the bot)\n"),
        }
    }
    out
}

fn caption_suffix(m: &ChatMessage) -> String {
    m.text
        .as_deref()
        .map(|t| format!(" {t}"))
        .unwrap_or_default()
}

/// The visible body of a message (first line may be followed by more lines).
fn body(m: &ChatMessage) -> String {
    let r = &m.raw;
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match m.kind {
        ContentKind::Text => m.text.clone().unwrap_or_default(),
        ContentKind::Photo => format!("[photo]{}", caption_suffix(m)),
        ContentKind::Document => {
            let name = m.file_name.clone().unwrap_or_else(|| "file".into());
            format!("[document {name}]{}", caption_suffix(m))
        }
        ContentKind::Voice => format!("[voice {}s]", r["voice"]["duration"].as_u64().unwrap_or(0)),
        ContentKind::Audio => format!("[audio]{}", caption_suffix(m)),
        ContentKind::Video => format!("[video]{}", caption_suffix(m)),
        ContentKind::VideoNote => "[video note]".to_owned(),
        ContentKind::Sticker => format!("[sticker {}]", s(&r["sticker"]["emoji"])),
        ContentKind::Animation => format!("[GIF]{}", caption_suffix(m)),
        ContentKind::Poll => format!("[poll] {}", s(&r["poll"]["question"])),
        ContentKind::Dice => {
            format!(
                "[dice {} = {}]",
                s(&r["dice"]["emoji"]),
                r["dice"]["value"].as_u64().unwrap_or(0)
            )
        }
        ContentKind::Contact => format!("[contact {}]", s(&r["contact"]["phone_number"])),
        ContentKind::Location => format!(
            "[location {}, {}]",
            r["location"]["latitude"].as_f64().unwrap_or(0.0),
            r["location"]["longitude"].as_f64().unwrap_or(0.0)
        ),
        ContentKind::Venue => format!("[venue {}]", s(&r["venue"]["title"])),
        ContentKind::Other => "[message]".to_owned(),
    }
}

/// `name_users`: in groups several people talk, so users are named.
fn render_message(out: &mut String, m: &ChatMessage, name_users: bool) {
    let who = match m.sender {
        Sender::Bot => "🤖".to_owned(),
        Sender::User(_) if name_users => format!(
            "👤 {}:",
            m.raw["from"]["first_name"].as_str().unwrap_or("?")
        ),
        Sender::User(_) => "👤".to_owned(),
        Sender::Chat(_) => "📢".to_owned(),
    };
    let mut markers = Vec::new();
    if m.raw.get("forward_origin").is_some() {
        markers.push("forwarded");
    }
    if m.edits > 0 {
        markers.push("edited");
    }
    if m.deleted {
        markers.push("deleted");
    }
    if m.protected {
        markers.push("protected");
    }
    let markers = if markers.is_empty() {
        String::new()
    } else {
        format!("({}) ", markers.join(", "))
    };
    let text = body(m);
    let mut lines = text.lines();
    let _ = writeln!(out, "{who} {markers}{}", lines.next().unwrap_or_default());
    for line in lines {
        let _ = writeln!(out, "{INDENT}{line}");
    }
    for row in &m.inline_keyboard {
        let buttons: Vec<String> = row
            .iter()
            .map(|b| {
                if b.url.is_some() {
                    format!("[{} ↗]", b.text)
                } else {
                    format!("[{}]", b.text)
                }
            })
            .collect();
        let _ = writeln!(out, "{INDENT}{}", buttons.join(" "));
    }
    if let Some(kb) = &m.reply_keyboard {
        for row in &kb.rows {
            let buttons: Vec<String> = row.iter().map(|b| format!("[{b}]")).collect();
            let _ = writeln!(out, "{INDENT}⌨ {}", buttons.join(" "));
        }
    }
    if m.removes_keyboard {
        let _ = writeln!(out, "{INDENT}⌨ (keyboard removed)");
    }
}
