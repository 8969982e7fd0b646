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
    /// Send the receipt message (protected, tracked as the receipt message). The text is
    /// zeroized when the outbox is dropped; if it cannot be delivered it is held in memory
    /// and sent again on the person's next update.
    Receipt {
        /// Case code and receipt (secret).
        text: zeroize::Zeroizing<String>,
        /// The "I have saved the code" button.
        keyboard: Keyboard,
    },
    /// Delete the receipt message; if Telegram refuses, tell the reporter to delete it and
    /// keep it tracked for /wipe.
    DeleteReceipt(i32),
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
    /// The configured limit on "what happened", in characters (prompts state it).
    pub story_limit: usize,
}

impl Outbox {
    /// An empty outbox for a turn under the given limit on "what happened".
    pub fn new(story_limit: usize) -> Self {
        Self {
            story_limit,
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
