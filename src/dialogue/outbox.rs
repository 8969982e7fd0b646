//! What one turn says and does in the chat, in the dialogue's own terms, and what becomes of
//! the draft. The adapter sends it after the draft is saved (a crash between the two repeats a
//! prompt, never loses an answer).

use super::keyboard::Keyboard;

/// Something to say or do in the chat.
pub enum Out {
    /// Send a message, optionally with buttons, optionally protected from forwarding/saving.
    /// A text longer than Telegram allows goes as several messages, the buttons on the last.
    Send {
        /// The text.
        text: String,
        /// Buttons.
        keyboard: Option<Keyboard>,
        /// `protect_content`.
        protect: bool,
    },
    /// Send the receipt message (the receipt marked as code, so a tap copies it; tracked as the
    /// receipt message). The text is
    /// zeroized when the outbox is dropped; if it cannot be delivered it is held in memory
    /// and sent again on the person's next update.
    Receipt {
        /// Case number and receipt (secret).
        text: zeroize::Zeroizing<String>,
        /// Where the receipt is in the text: (offset, length) in UTF-16 code units.
        code_span: Option<(usize, usize)>,
        /// The "I've copied it, delete this" button.
        keyboard: Keyboard,
    },
    /// Delete the receipt message; if Telegram refuses, tell the reporter to delete it and
    /// keep it tracked for /wipe.
    DeleteReceipt(i32),
    /// Replace the text and buttons of a message (the review after a redaction toggle). A text
    /// too long for one message is sent anew instead, the buttons under its last part.
    EditText {
        /// The message.
        msg_id: i32,
        /// The new text.
        text: String,
        /// The new buttons.
        keyboard: Keyboard,
    },
    /// Replace the buttons of a message.
    EditKeyboard {
        /// The message.
        msg_id: i32,
        /// New buttons (None removes them).
        keyboard: Option<Keyboard>,
    },
    /// Delete messages (both sides), best effort.
    Delete(Vec<i32>),
    /// Delete messages and report whether all could be deleted (wipe).
    Wipe(Vec<i32>),
}

/// What to do with the draft after the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// Save it.
    Save,
    /// Delete it (cancelled, wiped, redirected).
    Delete,
    /// Leave the store untouched.
    Nothing,
    /// A submission already wrote the draft, with the case, at this version: later changes
    /// (message ids, the receipt's delivery) are saved against it.
    Committed(i64),
}

/// The messages to send for one turn.
#[derive(Default)]
pub struct Outbox {
    /// In order.
    pub items: Vec<Out>,
    /// The configured most files a report takes (the evidence prompt states it).
    pub max_files: usize,
    /// Whether originals are kept for the custodians (the evidence prompt says so).
    pub keep_originals: bool,
}

impl Outbox {
    /// An empty outbox for a turn under the configured limits.
    pub fn new(limits: &crate::config::Limits) -> Self {
        Self {
            max_files: limits.max_attachments,
            keep_originals: limits.keep_original_attachments,
            ..Self::default()
        }
    }

    /// Queues a plain message.
    pub fn say(&mut self, text: impl Into<String>) {
        self.items.push(Out::Send {
            text: text.into(),
            keyboard: None,
            protect: false,
        });
    }

    /// Queues a message with buttons.
    pub fn ask(&mut self, text: impl Into<String>, keyboard: Keyboard) {
        self.items.push(Out::Send {
            text: text.into(),
            keyboard: Some(keyboard),
            protect: false,
        });
    }
}
