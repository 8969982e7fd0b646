//! Buttons under a message, as the dialogue means them: a label and the data a press sends
//! back. An adapter draws them in its channel's terms (Telegram's inline keyboards in
//! `bot::send`).

/// One button: what it says and what pressing it sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// The label shown.
    pub label: String,
    /// The data a press returns (at most 64 bytes on Telegram; every action here is shorter).
    pub data: String,
}

impl Button {
    /// A button with `label` that sends `data` back.
    pub fn new(label: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            data: data.into(),
        }
    }
}

/// Rows of buttons under one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyboard {
    /// Top to bottom, each row left to right.
    pub rows: Vec<Vec<Button>>,
}

impl Keyboard {
    /// A keyboard of these rows.
    pub fn new(rows: Vec<Vec<Button>>) -> Self {
        Self { rows }
    }

    /// Every button, row by row.
    pub fn buttons(&self) -> impl Iterator<Item = &Button> {
        self.rows.iter().flatten()
    }
}
