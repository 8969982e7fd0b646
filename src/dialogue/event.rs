//! What the citizen did, in the dialogue's terms. An adapter turns its channel's updates into
//! these ([`Event`]); nothing here knows where they came from.

use super::draft::MediaKind;
use super::texts::Lang;

/// What the citizen did at a step of the report.
#[derive(Clone)]
pub enum Input {
    /// Typed text (not a command).
    Text {
        /// The text.
        text: String,
        /// Its message id.
        msg_id: i32,
    },
    /// Pressed a button of a step (callback data without the token).
    Button {
        /// The action part of the callback data.
        action: String,
        /// The message the button belongs to.
        msg_id: i32,
    },
}

/// A file the citizen sent: a reference the adapter can fetch it by, never its name.
#[derive(Clone)]
pub struct IncomingFile {
    /// The channel's id for the file (Telegram's `file_id`).
    pub file_id: String,
    /// Size as the channel reports it.
    pub size: u64,
    /// How it arrived.
    pub media: MediaKind,
    /// The caption typed with it, if any.
    pub caption: Option<String>,
}

/// A button under the receipt or the messages that follow it. These carry what they need in
/// their callback data (`after:…`), because once the receipt is delivered nothing about the
/// report is kept under the reporter's pseudonym: no draft says they reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterReport {
    /// "I've copied it, delete this" under the receipt: asks first.
    Ask,
    /// "Copied, delete it": deletes the receipt message (the given id; `None`: the message the
    /// button is under, as under receipts sent before the confirmation), then offers the wipe.
    Saved(Option<i32>),
    /// "Not yet, keep it".
    NotYet,
    /// "Delete the conversation": from `first` to the offer's message.
    Wipe,
    /// "Keep it".
    Keep,
    /// "Make another report": a new report, on the consent already given.
    Again,
}

/// Callback data of an [`AfterReport`] button: `after:WHAT:LANG:FIRST[:RECEIPT]`, where FIRST
/// is the first message of the report's dialogue and RECEIPT the receipt message to delete.
pub fn after_data(what: AfterReport, lang: Lang, first: i32) -> String {
    let (what, receipt) = match what {
        AfterReport::Ask => ("ask", None),
        AfterReport::Saved(r) => ("saved", r),
        AfterReport::NotYet => ("notyet", None),
        AfterReport::Wipe => ("wipe", None),
        AfterReport::Keep => ("keep", None),
        AfterReport::Again => ("again", None),
    };
    match receipt {
        Some(r) => format!("after:{what}:{}:{first}:{r}", lang.code()),
        None => format!("after:{what}:{}:{first}", lang.code()),
    }
}

/// Parses [`after_data`] (after its `after:` prefix); forged data yields `None` (a forged
/// FIRST or RECEIPT can only delete messages of the chat the button was pressed in).
pub fn parse_after(rest: &str) -> Option<(AfterReport, Lang, i32)> {
    let mut parts = rest.split(':');
    let what = parts.next()?;
    let lang = match parts.next()? {
        "vi" => Lang::Vi,
        "en" => Lang::En,
        _ => return None,
    };
    let first = parts.next()?.parse::<i32>().ok().filter(|f| *f > 0)?;
    let receipt = match parts.next() {
        Some(r) => Some(r.parse::<i32>().ok().filter(|r| *r > 0)?),
        None => None,
    };
    let what = match (what, receipt) {
        ("ask", None) => AfterReport::Ask,
        ("saved", r) => AfterReport::Saved(r),
        ("notyet", None) => AfterReport::NotYet,
        ("wipe", None) => AfterReport::Wipe,
        ("keep", None) => AfterReport::Keep,
        ("again", None) => AfterReport::Again,
        _ => return None,
    };
    parts.next().is_none().then_some((what, lang, first))
}

/// What a button of the first screen or of the full notice asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// "I agree, start".
    Yes,
    /// "I do not agree".
    No,
    /// Show the first screen (in the button's language).
    First,
    /// Show the full notice, "Details" (in the button's language).
    Details,
}

/// Callback data of the consent screens' buttons: `consent:yes|no|first|more:LANG:ASKED_BY`.
/// Nothing is stored before consent, so the buttons carry what the bot needs afterwards: the
/// language and the id of the command that asked (to wipe it later).
pub fn consent_data(answer: ConsentAnswer, lang: Lang, asked_by: i32) -> String {
    let answer = match answer {
        ConsentAnswer::Yes => "yes",
        ConsentAnswer::No => "no",
        ConsentAnswer::First => "first",
        ConsentAnswer::Details => "more",
    };
    format!("consent:{answer}:{}:{asked_by}", lang.code())
}

/// Parses [`consent_data`] (after its `consent:` prefix) of a button on message `msg_id`.
/// Only an id just before the welcome can be the command that asked for it.
pub fn parse_consent(rest: &str, msg_id: i32) -> Event {
    let mut parts = rest.split(':');
    let answer = match parts.next() {
        Some("yes") => ConsentAnswer::Yes,
        Some("first") => ConsentAnswer::First,
        Some("more") => ConsentAnswer::Details,
        _ => ConsentAnswer::No,
    };
    let lang = if parts.next() == Some("en") {
        Lang::En
    } else {
        Lang::Vi
    };
    let asked_by = parts
        .next()
        .and_then(|p| p.parse::<i32>().ok())
        .filter(|id| *id < msg_id && *id > msg_id - 5);
    Event::Consent {
        answer,
        lang,
        msg_id,
        asked_by,
    }
}

/// One thing the citizen did, as the dialogue sees it.
pub enum Event {
    /// "Reply" or "Done" under a shown status, or "Cancel" under the reply prompt
    /// (`status:reply|close|cancel`): the session is in memory.
    StatusButton {
        /// "Reply" (else close or cancel).
        reply: bool,
        /// The message the button is under.
        msg_id: i32,
    },
    /// A button under the receipt or the wipe offer ([`AfterReport`]).
    After {
        /// Which button.
        what: AfterReport,
        /// The language the button was drawn in.
        lang: Lang,
        /// The first message of the report's dialogue.
        first: i32,
        /// The message the button is under.
        msg_id: i32,
    },
    /// A button of the first screen or of the full notice.
    Consent {
        /// Which.
        answer: ConsentAnswer,
        /// The language of the notice.
        lang: Lang,
        /// The notice's message.
        msg_id: i32,
        /// The command that asked for the notice, if it can be trusted.
        asked_by: Option<i32>,
    },
    /// /start.
    Start {
        /// The command's message.
        msg_id: i32,
    },
    /// /report.
    Report {
        /// The command's message.
        msg_id: i32,
    },
    /// /status, or a receipt typed elsewhere.
    Status {
        /// The message.
        msg_id: i32,
        /// The receipt given with it.
        receipt: Option<String>,
        /// Typed without /status and recognised by its shape.
        spotted: bool,
    },
    /// /cancel.
    Cancel {
        /// The command's message.
        msg_id: i32,
    },
    /// /wipe.
    Wipe {
        /// The command's message.
        msg_id: i32,
    },
    /// /lang.
    SwitchLang {
        /// The command's message.
        msg_id: i32,
    },
    /// /privacy.
    Privacy {
        /// The command's message.
        msg_id: i32,
    },
    /// /help.
    Help {
        /// The command's message.
        msg_id: i32,
    },
    /// A command the bot does not know.
    UnknownCommand {
        /// The command's message.
        msg_id: i32,
    },
    /// A button of a step's prompt, with the prompt's token (`TOKEN|action`): taken as
    /// [`Input::Button`] only when the token is the draft's current one.
    Pressed {
        /// The token as the button carries it.
        token: String,
        /// The action part of the callback data.
        action: String,
        /// The message the button is under.
        msg_id: i32,
    },
    /// An answer at a step.
    Input(Input),
    /// A file.
    File {
        /// The file.
        file: IncomingFile,
        /// Its message.
        msg_id: i32,
        /// Forwarded from elsewhere (origin and caption already dropped).
        forwarded: bool,
    },
    /// A button of an older prompt, or data the bot never made.
    StaleButton,
    /// Something the bot does not take (a contact, a location, an edit, …): say why.
    Notice {
        /// What to say.
        text: fn(Lang) -> &'static str,
        /// The message.
        msg_id: i32,
        /// Delete the message (it identifies the sender).
        delete: bool,
    },
}

/// The event of a button press with callback `data` on message `msg_id`. Data the bot never
/// made is a [`Event::StaleButton`].
pub fn from_callback(data: &str, msg_id: i32) -> Event {
    if let Some(rest) = data.strip_prefix("status:") {
        return match rest {
            "reply" => Event::StatusButton {
                reply: true,
                msg_id,
            },
            "close" | "cancel" => Event::StatusButton {
                reply: false,
                msg_id,
            },
            _ => Event::StaleButton,
        };
    }
    if let Some(rest) = data.strip_prefix("after:") {
        return match parse_after(rest) {
            Some((what, lang, first)) => Event::After {
                what,
                lang,
                first,
                msg_id,
            },
            None => Event::StaleButton,
        };
    }
    if let Some(rest) = data.strip_prefix("consent:") {
        return parse_consent(rest, msg_id);
    }
    match data.split_once('|') {
        Some((token, action)) => Event::Pressed {
            token: token.to_owned(),
            action: action.to_owned(),
            msg_id,
        },
        None => Event::StaleButton,
    }
}
