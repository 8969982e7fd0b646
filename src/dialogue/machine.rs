//! The dialogue as a state machine: an [`Event`], the person's draft and what the adapter holds
//! in memory for them ([`Session`]) go in; what to say ([`Outbox`]), what to do with the draft
//! ([`Persist`]) and what the adapter must do for the dialogue ([`Effect`]: seal and submit,
//! check a receipt, store a reply, fetch a file) come out. What an effect finds comes back in
//! through the functions here named for the result ([`submitted`], [`receipt_checked`],
//! [`reply_stored`], [`files::file_checked`](super::files::file_checked)), which say what
//! follows. No I/O and nothing of Telegram; the only outside input is today's date (the day
//! the review screen is first shown, and "which month" answers).

use zeroize::Zeroizing;

use super::draft::{Draft, Step};
use super::event::{AfterReport, ConsentAnswer, Event, Input, after_data, consent_data};
use super::files;
use super::flow;
use super::keyboard::{Button, Keyboard};
use super::outbox::{Out, Outbox, Persist};
use super::summary::CaseSummary;
use super::texts::{self as t, Lang};
use crate::config::{Contacts, Limits, Retention};

pub use super::draft::MAX_WIPE;

/// What the adapter holds in memory for the person (never stored): the /status conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// A case was opened with a receipt in the last minutes: a reply may follow.
    pub status_open: bool,
    /// The person pressed "Reply": their next text is the answer.
    pub replying: bool,
}

/// A change to the in-memory state the adapter keeps for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memo {
    /// End the /status conversation.
    CloseStatus,
    /// The next text is the reply to the Inspectorate.
    StartReply,
    /// The next text is a receipt (someone without a draft asked for /status).
    ExpectReceipt,
}

/// Work the dialogue needs done outside itself. The adapter does it and hands the result to
/// the function named for the result.
pub enum Effect {
    /// Seal and submit the report ([`submitted`]).
    Submit,
    /// Check a receipt and show the case ([`receipt_checked`]). `retry`: stay at the receipt
    /// prompt when it opens nothing.
    CheckReceipt {
        /// The receipt as typed.
        text: Zeroizing<String>,
        /// Stay at the prompt on failure.
        retry: bool,
    },
    /// Seal the reply to the case of the open /status conversation ([`reply_stored`]).
    StoreReply {
        /// The reply, trimmed.
        text: String,
    },
    /// Fetch and check a file ([`files::file_checked`]).
    CheckFile(super::event::IncomingFile),
}

/// What a turn decided.
pub enum Decision {
    /// Finished: the outbox is complete.
    Done(Persist),
    /// Finished once the effect's result is handed back.
    Effect(Effect),
}

/// What a turn knows besides the draft and the event.
pub struct Ctx<'a> {
    /// A draft was stored for the person (else `d` is a fresh default).
    pub has_draft: bool,
    /// The in-memory /status conversation.
    pub session: Session,
    /// Citizen limits.
    pub limits: &'a Limits,
    /// Retention periods, named in the notice.
    pub retention: &'a Retention,
    /// Where redirected requests go.
    pub contacts: &'a Contacts,
    /// The largest file the channel lets the bot download.
    pub download_limit: u64,
}

/// What a turn changes besides the draft.
#[derive(Default)]
pub struct Turn {
    /// Messages of the conversation to remember for /wipe.
    pub track: Vec<i32>,
    /// Changes to the in-memory state.
    pub memos: Vec<Memo>,
}

/// The buttons of the first screen: agree, the full notice, the other language.
pub fn welcome_keyboard(lang: Lang, asked_by: i32) -> Keyboard {
    consent_keyboard(
        lang,
        asked_by,
        t::details_button(lang),
        ConsentAnswer::Details,
        ConsentAnswer::First,
    )
}

/// The buttons under the full notice: agree, do not agree, the other language.
pub fn details_keyboard(lang: Lang, asked_by: i32) -> Keyboard {
    consent_keyboard(
        lang,
        asked_by,
        t::disagree(lang),
        ConsentAnswer::No,
        ConsentAnswer::Details,
    )
}

/// "I agree, start" on its own row, then `second` and the language button, which shows the
/// `switch` screen in the other language.
fn consent_keyboard(
    lang: Lang,
    asked_by: i32,
    second: &str,
    second_answer: ConsentAnswer,
    switch: ConsentAnswer,
) -> Keyboard {
    Keyboard::new(vec![
        vec![Button::new(
            t::agree(lang),
            consent_data(ConsentAnswer::Yes, lang, asked_by),
        )],
        vec![
            Button::new(second, consent_data(second_answer, lang, asked_by)),
            Button::new(
                t::other_language(lang),
                consent_data(switch, lang.other(), asked_by),
            ),
        ],
    ])
}

/// The full notice with what is configured.
fn details_text(lang: Lang, ctx: &Ctx) -> String {
    t::details(
        lang,
        ctx.retention,
        &ctx.contacts.controller,
        ctx.limits.keep_original_attachments,
    )
}

/// The first screen, asked for by message `asked_by`.
fn welcome(lang: Lang, asked_by: i32, out: &mut Outbox) {
    out.items.push(Out::Send {
        text: t::welcome_short(lang).to_owned(),
        keyboard: Some(welcome_keyboard(lang, asked_by)),
        protect: false,
    });
}

/// The button under a receipt: "I've copied it, delete this" (asks first). It carries the
/// first message of the report's dialogue, for the wipe offer that follows: the draft is gone
/// by then.
pub fn saved_keyboard(d: &Draft) -> Keyboard {
    let first = d
        .messages
        .iter()
        .copied()
        .filter(|m| *m > 0)
        .min()
        .unwrap_or(1);
    Keyboard::new(vec![vec![Button::new(
        t::saved_receipt(d.lang),
        after_data(AfterReport::Ask, d.lang, first),
    )]])
}

fn is_after_report(step: Option<Step>) -> bool {
    matches!(
        step,
        Some(
            Step::Submitted
                | Step::WipeOffer
                | Step::StatusReceipt
                | Step::StatusReply
                | Step::StatusShown
        )
    )
}

fn is_status(step: Option<Step>) -> bool {
    matches!(
        step,
        Some(Step::StatusReceipt | Step::StatusReply | Step::StatusShown)
    )
}

/// One turn: the event against the draft.
pub fn decide(
    d: &mut Draft,
    ctx: &Ctx,
    event: Event,
    out: &mut Outbox,
    turn: &mut Turn,
) -> Decision {
    use Decision::Done;
    match event {
        Event::StatusButton { reply, msg_id } => {
            Done(status_button(d, ctx, reply, msg_id, out, turn))
        }
        Event::Input(Input::Text { text, msg_id }) if ctx.session.replying => {
            if d.consented {
                turn.track.push(msg_id);
            }
            reply(d, ctx, text, out, turn)
        }
        Event::After {
            what,
            lang,
            first,
            msg_id,
        } => Done(after_report(d, ctx, what, lang, first, msg_id, out)),
        Event::Start { .. }
        | Event::Report { .. }
        | Event::Consent { .. }
        | Event::Cancel { .. }
        | Event::Wipe { .. }
        | Event::SwitchLang { .. }
        | Event::Privacy { .. }
        | Event::Help { .. }
        | Event::UnknownCommand { .. } => Done(command(d, ctx, event, out, turn)),
        Event::Status {
            msg_id,
            receipt,
            spotted,
        } => status(d, ctx, msg_id, receipt, spotted, out, turn),
        Event::StaleButton => Done(stale_button(d, ctx, out)),
        Event::Notice {
            text,
            msg_id,
            delete,
        } => Done(notice(d, ctx, text(d.lang), msg_id, delete, out, turn)),
        Event::Pressed {
            token,
            action,
            msg_id,
        } => {
            if !ctx.has_draft || token != d.token.to_string() {
                return Done(stale_button(d, ctx, out));
            }
            decide(
                d,
                ctx,
                Event::Input(Input::Button { action, msg_id }),
                out,
                turn,
            )
        }
        Event::Input(input) => {
            if !ctx.has_draft || d.step.is_none() {
                out.say(t::need_consent_first(d.lang));
                return Done(Persist::Nothing);
            }
            on_input(d, ctx, input, out, turn)
        }
        Event::File {
            file,
            msg_id,
            forwarded,
        } => {
            if !ctx.has_draft || d.step.is_none() {
                out.say(t::need_consent_first(d.lang));
                return Done(Persist::Nothing);
            }
            turn.track.push(msg_id);
            files::received(d, ctx, file, forwarded, out)
        }
    }
}

/// A command, or the answer to the notice.
fn command(d: &mut Draft, ctx: &Ctx, event: Event, out: &mut Outbox, turn: &mut Turn) -> Persist {
    match event {
        Event::Start { msg_id } | Event::Report { msg_id } => start(d, ctx, msg_id, out, turn),
        Event::Consent {
            answer,
            lang,
            msg_id,
            asked_by,
        } => consent(d, ctx, answer, lang, msg_id, asked_by, out, turn),
        Event::Cancel { msg_id } => cancel(d, ctx, msg_id, out, turn),
        Event::Wipe { msg_id } => wipe(d, ctx, msg_id, out),
        Event::SwitchLang { msg_id } => switch_lang(d, ctx, msg_id, out, turn),
        Event::Privacy { msg_id } => {
            let text = details_text(d.lang, ctx);
            if ctx.has_draft && d.consented {
                return say_and_resume(d, ctx, text, msg_id, out, turn);
            }
            // Before consent the notice comes with its buttons.
            out.items.push(Out::Send {
                text,
                keyboard: Some(details_keyboard(d.lang, msg_id)),
                protect: false,
            });
            Persist::Nothing
        }
        Event::Help { msg_id } => say_and_resume(d, ctx, t::help(d.lang), msg_id, out, turn),
        Event::UnknownCommand { msg_id } => {
            let text = t::unknown_command(d.lang);
            say_and_resume(d, ctx, text, msg_id, out, turn)
        }
        _ => Persist::Nothing,
    }
}

fn status_button(
    d: &mut Draft,
    ctx: &Ctx,
    reply: bool,
    msg_id: i32,
    out: &mut Outbox,
    turn: &mut Turn,
) -> Persist {
    let l = d.lang;
    out.items.push(Out::EditKeyboard {
        msg_id,
        keyboard: None,
    });
    if !reply {
        turn.memos.push(Memo::CloseStatus);
        if d.step.is_some() {
            flow::prompt(d, out);
        }
    } else if ctx.session.status_open {
        turn.memos.push(Memo::StartReply);
        let kb = Keyboard::new(vec![vec![Button::new(t::cancel(l), "status:cancel")]]);
        out.ask(t::ask_reply(l), kb);
    } else {
        out.say(t::status_expired(l));
        out.say(t::ask_receipt(l));
        turn.memos.push(Memo::ExpectReceipt);
    }
    Persist::Nothing
}

fn after_report(
    d: &mut Draft,
    ctx: &Ctx,
    what: AfterReport,
    lang: Lang,
    first: i32,
    msg_id: i32,
    out: &mut Outbox,
) -> Persist {
    // A report started since keeps its language; otherwise the button's.
    if !ctx.has_draft {
        d.lang = lang;
    }
    let l = d.lang;
    match what {
        AfterReport::Ask => {
            let rows = vec![
                vec![Button::new(
                    t::confirm_yes(l),
                    after_data(AfterReport::Saved(Some(msg_id)), l, first),
                )],
                vec![Button::new(
                    t::confirm_no(l),
                    after_data(AfterReport::NotYet, l, first),
                )],
            ];
            out.ask(t::confirm_delete(l), Keyboard::new(rows));
        }
        AfterReport::Saved(receipt) => {
            match receipt {
                Some(r) if r != msg_id => {
                    out.items.push(Out::EditKeyboard {
                        msg_id,
                        keyboard: None,
                    });
                    out.items.push(Out::DeleteReceipt(r));
                }
                _ => out.items.push(Out::DeleteReceipt(msg_id)),
            }
            let rows = vec![
                vec![
                    Button::new(t::wipe_yes(l), after_data(AfterReport::Wipe, l, first)),
                    Button::new(t::wipe_no(l), after_data(AfterReport::Keep, l, first)),
                ],
                vec![Button::new(
                    t::another_report(l),
                    after_data(AfterReport::Again, l, first),
                )],
            ];
            out.ask(t::receipt_deleted(l), Keyboard::new(rows));
        }
        AfterReport::NotYet => {
            out.items.push(Out::EditKeyboard {
                msg_id,
                keyboard: None,
            });
            out.say(t::receipt_left(l));
        }
        AfterReport::Wipe => {
            // Every message of the report's dialogue up to this offer, both sides (message
            // ids of a private chat are consecutive).
            let from = first.max(msg_id.saturating_sub(MAX_WIPE));
            out.items.push(Out::Wipe((from..=msg_id).collect()));
        }
        // The offer keeps its buttons: the wipe stays one tap away (within 48 hours).
        AfterReport::Keep => out.say(t::kept(l)),
        AfterReport::Again => {
            if ctx.has_draft && d.consented && d.step.is_some() && !is_after_report(d.step) {
                // A report is already in progress: go on with it.
                out.say(t::resume(l));
                flow::prompt(d, out);
                return Persist::Save;
            }
            // The consent given for the report just sent carries over (in the button, since
            // nothing is stored about a reporter once the receipt is delivered).
            flow::clear_report(d);
            d.consented = true;
            d.lang = lang;
            d.track([msg_id]);
            flow::goto(d, Step::Behaviour, out);
            return Persist::Save;
        }
    }
    // Nothing is stored: a report in progress since stays as it was.
    Persist::Nothing
}

fn start(d: &mut Draft, ctx: &Ctx, msg_id: i32, out: &mut Outbox, turn: &mut Turn) -> Persist {
    let l = d.lang;
    turn.track.push(msg_id);
    if !ctx.has_draft || d.step.is_none() || !d.consented {
        if ctx.has_draft && d.consented {
            d.step = Some(Step::Behaviour);
            flow::prompt(d, out);
            return Persist::Save;
        }
        welcome(l, msg_id, out);
        return Persist::Nothing;
    }
    if is_after_report(d.step) {
        if matches!(d.step, Some(Step::Submitted | Step::WipeOffer)) {
            // Never a fresh report without a word about the one just sent.
            out.say(t::previous_report_sent(l));
        }
        flow::clear_report(d);
        d.step = Some(Step::Behaviour);
    } else {
        out.say(t::resume(l));
    }
    flow::prompt(d, out);
    Persist::Save
}

#[allow(clippy::too_many_arguments)]
fn consent(
    d: &mut Draft,
    ctx: &Ctx,
    answer: ConsentAnswer,
    lang: Lang,
    msg_id: i32,
    asked_by: Option<i32>,
    out: &mut Outbox,
    turn: &mut Turn,
) -> Persist {
    let asking = asked_by.unwrap_or(msg_id);
    match answer {
        // The first screen or the notice in place: nothing is stored before consent.
        ConsentAnswer::First => {
            out.items.push(Out::EditText {
                msg_id,
                text: t::welcome_short(lang).to_owned(),
                keyboard: welcome_keyboard(lang, asking),
            });
            return Persist::Nothing;
        }
        ConsentAnswer::Details => {
            out.items.push(Out::EditText {
                msg_id,
                text: details_text(lang, ctx),
                keyboard: details_keyboard(lang, asking),
            });
            return Persist::Nothing;
        }
        ConsentAnswer::No => {
            if ctx.has_draft && d.consented {
                // An old notice's "I do not agree" must not throw away a report in progress.
                out.say(t::stale_button(d.lang));
                flow::prompt(d, out);
                return Persist::Save;
            }
            out.say(t::declined(lang));
            // "Nothing was stored": not even the message ids for /wipe.
            return if ctx.has_draft {
                Persist::Delete
            } else {
                Persist::Nothing
            };
        }
        ConsentAnswer::Yes => {}
    }
    if !ctx.has_draft {
        d.lang = lang;
    }
    turn.track.extend(asked_by);
    turn.track.push(msg_id);
    if d.step.is_none() || !d.consented {
        d.step = Some(Step::Behaviour);
    }
    d.consented = true;
    flow::prompt(d, out);
    Persist::Save
}

fn cancel(d: &mut Draft, ctx: &Ctx, msg_id: i32, out: &mut Outbox, turn: &mut Turn) -> Persist {
    if !ctx.has_draft || d.step.is_none() {
        out.say(t::nothing_to_cancel(d.lang));
        return Persist::Nothing;
    }
    if is_status(d.step) && d.return_step.is_some() {
        d.step = d.return_step.take();
        turn.track.push(msg_id);
        flow::prompt(d, out);
        return Persist::Save;
    }
    out.say(t::cancelled(d.lang));
    let persist = flow::forget_report(d);
    if persist == Persist::Save {
        turn.track.push(msg_id);
    }
    persist
}

fn wipe(d: &mut Draft, ctx: &Ctx, msg_id: i32, out: &mut Outbox) -> Persist {
    if ctx.has_draft && !d.messages.is_empty() {
        out.items.push(Out::Wipe(d.wipe_range(msg_id)));
        d.messages.clear();
        Persist::Delete
    } else {
        out.say(t::nothing_to_wipe(d.lang));
        Persist::Nothing
    }
}

fn switch_lang(
    d: &mut Draft,
    ctx: &Ctx,
    msg_id: i32,
    out: &mut Outbox,
    turn: &mut Turn,
) -> Persist {
    d.lang = d.lang.other();
    out.say(t::lang_switched(d.lang));
    if ctx.has_draft {
        turn.track.push(msg_id);
        flow::prompt(d, out);
        return Persist::Save;
    }
    welcome(d.lang, msg_id, out);
    Persist::Nothing
}

/// Says `text`, then the current step again if there is a report in progress.
fn say_and_resume(
    d: &mut Draft,
    ctx: &Ctx,
    text: impl Into<String>,
    msg_id: i32,
    out: &mut Outbox,
    turn: &mut Turn,
) -> Persist {
    out.say(text);
    if ctx.has_draft {
        turn.track.push(msg_id);
        flow::prompt(d, out);
        Persist::Save
    } else {
        Persist::Nothing
    }
}

fn stale_button(d: &mut Draft, ctx: &Ctx, out: &mut Outbox) -> Persist {
    if ctx.has_draft && d.step.is_some() {
        out.say(t::stale_button(d.lang));
        flow::prompt(d, out);
        Persist::Save
    } else {
        out.say(t::need_consent_first(d.lang));
        Persist::Nothing
    }
}

#[allow(clippy::too_many_arguments)]
fn notice(
    d: &mut Draft,
    ctx: &Ctx,
    text: &str,
    msg_id: i32,
    delete: bool,
    out: &mut Outbox,
    turn: &mut Turn,
) -> Persist {
    out.say(text);
    if delete {
        out.items.push(Out::Delete(vec![msg_id]));
    } else {
        turn.track.push(msg_id);
    }
    if ctx.has_draft && d.step.is_some() {
        flow::prompt(d, out);
        Persist::Save
    } else {
        Persist::Nothing
    }
}

#[allow(clippy::too_many_arguments)]
fn status(
    d: &mut Draft,
    ctx: &Ctx,
    msg_id: i32,
    receipt: Option<String>,
    spotted: bool,
    out: &mut Outbox,
    turn: &mut Turn,
) -> Decision {
    let at_prompt = d.step == Some(Step::StatusReceipt);
    if d.step.is_some() && !is_after_report(d.step) {
        d.return_step = d.step;
    }
    match receipt {
        Some(text) => {
            if spotted && !at_prompt {
                out.say(t::receipt_typed_elsewhere(d.lang));
            }
            d.step = Some(Step::StatusReceipt);
            Decision::Effect(Effect::CheckReceipt {
                text: Zeroizing::new(text),
                retry: !spotted || at_prompt,
            })
        }
        None => {
            flow::goto(d, Step::StatusReceipt, out);
            if !ctx.has_draft {
                turn.memos.push(Memo::ExpectReceipt);
                return Decision::Done(Persist::Nothing);
            }
            turn.track.push(msg_id);
            Decision::Done(Persist::Save)
        }
    }
}

fn on_input(d: &mut Draft, ctx: &Ctx, input: Input, out: &mut Outbox, turn: &mut Turn) -> Decision {
    let l = d.lang;
    match input {
        Input::Text { text, msg_id } => match d.step {
            Some(Step::StatusReceipt) => Decision::Effect(Effect::CheckReceipt {
                text: Zeroizing::new(text),
                retry: true,
            }),
            Some(Step::StatusReply) => {
                turn.track.push(msg_id);
                reply(d, ctx, text, out, turn)
            }
            _ => {
                turn.track.push(msg_id);
                if !flow::on_text(d, &text, ctx.limits.max_report_chars, out) {
                    out.say(t::use_buttons(l));
                    flow::prompt(d, out);
                }
                Decision::Done(Persist::Save)
            }
        },
        Input::Button { action, msg_id } => on_button(d, ctx, &action, msg_id, out),
    }
}

fn on_button(d: &mut Draft, ctx: &Ctx, action: &str, msg_id: i32, out: &mut Outbox) -> Decision {
    let l = d.lang;
    let persist = match (d.step, action) {
        (Some(Step::Review), "send") => {
            if CaseSummary::from_draft(d).is_some() {
                return Decision::Effect(Effect::Submit);
            }
            flow::prompt(d, out);
            Persist::Save
        }
        (Some(Step::Submitted), "saved") => {
            // Untracked only once the channel confirms the deletion.
            if let Some(r) = d.receipt_message {
                out.items.push(Out::DeleteReceipt(r));
            }
            flow::goto(d, Step::WipeOffer, out);
            Persist::Save
        }
        (Some(Step::WipeOffer), "wipe:yes") => {
            out.items.push(Out::Wipe(d.wipe_range(msg_id)));
            d.messages.clear();
            Persist::Delete
        }
        (Some(Step::WipeOffer), "wipe:no") => {
            out.say(t::kept(l));
            d.step = None;
            Persist::Save
        }
        (Some(Step::StatusShown), "reply") => {
            flow::goto(d, Step::StatusReply, out);
            Persist::Save
        }
        (Some(Step::StatusShown), "close") => {
            d.step = d.return_step.take();
            flow::prompt(d, out);
            if d.step.is_none() && d.messages.is_empty() {
                Persist::Delete
            } else {
                Persist::Save
            }
        }
        _ => match flow::on_button(d, action, msg_id, ctx.contacts, out) {
            Some(p) => p,
            None => {
                out.say(t::stale_button(l));
                flow::prompt(d, out);
                Persist::Save
            }
        },
    };
    Decision::Done(persist)
}

/// A text while the person replies to the Inspectorate.
fn reply(d: &mut Draft, ctx: &Ctx, text: String, out: &mut Outbox, turn: &mut Turn) -> Decision {
    if !ctx.session.status_open {
        return Decision::Done(reply_expired(d, out, turn));
    }
    if text.trim().is_empty() || text.chars().count() > ctx.limits.max_report_chars {
        let n = ctx.limits.max_report_chars.to_string();
        out.say(t::too_long(d.lang).replace("{n}", &n));
        return Decision::Done(Persist::Save);
    }
    Decision::Effect(Effect::StoreReply {
        text: text.trim().to_owned(),
    })
}

/// The /status conversation ended (expired, or another replica holds it) before the reply:
/// ask for the receipt again.
pub fn reply_expired(d: &mut Draft, out: &mut Outbox, turn: &mut Turn) -> Persist {
    out.say(t::status_expired(d.lang));
    if !d.consented {
        turn.memos.push(Memo::ExpectReceipt);
        out.say(t::ask_receipt(d.lang));
        return Persist::Nothing;
    }
    if !is_status(d.step) {
        d.return_step = d.step;
    }
    flow::goto(d, Step::StatusReceipt, out);
    Persist::Save
}

/// The reply of [`Effect::StoreReply`] is sealed and stored.
pub fn reply_stored(d: &mut Draft, out: &mut Outbox, turn: &mut Turn) -> Persist {
    out.say(t::reply_stored(d.lang));
    turn.memos.push(Memo::CloseStatus);
    if is_status(d.step) {
        // A draft from before status sessions lived in memory.
        d.step = d.return_step.take();
    }
    flow::prompt(d, out);
    // Someone without a report in progress has no draft, and gets none for replying.
    if d.consented {
        Persist::Save
    } else {
        Persist::Nothing
    }
}

/// A case as the reporter may see it: what [`Effect::CheckReceipt`] found.
pub struct CaseView {
    /// The case code.
    pub code: String,
    /// Where it stands.
    pub status: crate::ids::CaseStatus,
    /// How it ended, once closed.
    pub outcome: Option<crate::ids::Outcome>,
    /// Signed replies of the Inspectorate: (day, text).
    pub messages: Vec<(String, String)>,
}

/// What a receipt opened.
pub enum ReceiptCheck {
    /// Too many attempts this hour.
    TooManyAttempts,
    /// Not shaped like a receipt.
    BadFormat,
    /// It opens a case purged after retention (its code).
    Purged(String),
    /// It opens nothing.
    NotFound,
    /// It opens this case (the adapter opened the /status conversation in memory).
    Found(CaseView),
}

/// What [`Effect::CheckReceipt`] found, shown.
pub fn receipt_checked(
    d: &mut Draft,
    ctx: &Ctx,
    check: ReceiptCheck,
    retry: bool,
    out: &mut Outbox,
    turn: &mut Turn,
) -> Persist {
    let l = d.lang;
    let back = |d: &mut Draft, out: &mut Outbox, retry: bool| {
        if !retry {
            d.step = d.return_step.take();
        }
        flow::prompt(d, out);
    };
    match check {
        ReceiptCheck::TooManyAttempts => {
            out.say(t::too_many_attempts(l));
            back(d, out, false);
        }
        ReceiptCheck::BadFormat => {
            out.say(t::receipt_bad_format(l));
            back(d, out, retry);
        }
        ReceiptCheck::NotFound => {
            out.say(t::receipt_not_found(l));
            back(d, out, retry);
        }
        ReceiptCheck::Purged(code) => {
            out.say(format!("{code}: {}", t::case_purged(l)));
            back(d, out, false);
        }
        ReceiptCheck::Found(case) => show_case(d, case, out),
    }
    if !ctx.has_draft {
        // Nothing is stored about someone without a report in progress: neither that they
        // have shown no receipt (the bot waits for it in memory) nor that they have (the
        // session is in memory).
        if d.step == Some(Step::StatusReceipt) {
            turn.memos.push(Memo::ExpectReceipt);
        }
        return Persist::Nothing;
    }
    Persist::Save
}

fn show_case(d: &mut Draft, case: CaseView, out: &mut Outbox) {
    let l = d.lang;
    let mut lines = vec![format!(
        "{} {}: {}",
        t::status_header(l),
        case.code,
        t::status_label(case.status, l)
    )];
    if let Some(outcome) = case.outcome {
        lines.push(format!(
            "{} {}",
            t::outcome_header(l),
            t::outcome_label(outcome, l)
        ));
    }
    if case.messages.is_empty() {
        lines.push(t::no_messages(l).to_owned());
    } else {
        lines.push(t::messages_header(l).to_owned());
        lines.extend(
            case.messages
                .iter()
                .map(|(day, text)| format!("— {day}: {text}")),
        );
    }
    // Back to where the person was (a report in progress, or nothing): the status
    // conversation is held in memory only.
    d.step = d.return_step.take();
    d.token = d.token.wrapping_add(1);
    let kb = Keyboard::new(vec![vec![
        Button::new(t::reply_button(l), "status:reply"),
        Button::new(t::status_done(l), "status:close"),
    ]]);
    out.ask(lines.join("\n"), kb);
}

/// What [`Effect::Submit`] did.
pub enum Submission {
    /// The draft has no complete summary (it changed since the review screen).
    NotReady,
    /// The person's daily limit is reached.
    DailyLimit,
    /// File `n` (0-based) could not be fetched or cleaned again: nothing was submitted.
    FileFailed(usize),
    /// Another turn changed the draft first (a second Send): nothing was written.
    AlreadySent,
    /// Committed with the draft `after` at `version`; the receipt to show once.
    Done {
        /// The case code.
        code: String,
        /// The receipt (secret).
        receipt: Zeroizing<String>,
        /// The draft as committed with the case ([`submitted_draft`]).
        after: Box<Draft>,
        /// Its stored version.
        version: i64,
    },
}

/// The draft as it stands once the case is in: the report gone, the receipt owed (case `case_id`,
/// to chat `chat`) until the channel confirms its message. Committed with the case.
pub fn submitted_draft(d: &Draft, case_id: String, chat: i64) -> Draft {
    let mut after = d.clone();
    flow::clear_report(&mut after);
    after.step = Some(Step::Submitted);
    after.token = after.token.wrapping_add(1);
    after.owed = Some(super::draft::OwedReceipt { case_id, chat });
    after
}

/// What [`Effect::Submit`] did, told.
pub fn submitted(d: &mut Draft, result: Submission, out: &mut Outbox) -> Persist {
    let l = d.lang;
    match result {
        Submission::NotReady => {
            flow::prompt(d, out);
            Persist::Save
        }
        Submission::DailyLimit => {
            out.say(t::daily_limit(l));
            Persist::Save
        }
        Submission::FileFailed(i) => {
            out.say(t::file_refetch_failed(l).replace("{n}", &(i + 1).to_string()));
            flow::prompt(d, out);
            Persist::Save
        }
        Submission::AlreadySent => {
            out.say(t::already_sent(l));
            Persist::Nothing
        }
        Submission::Done {
            code,
            receipt,
            after,
            version,
        } => {
            *d = *after;
            // Confirmation and receipt in one message: one delivery to confirm, not two.
            let text = t::receipt_message(l, &code, &receipt, false);
            out.items.push(Out::Receipt {
                code_span: t::receipt_span(&text, &receipt),
                text,
                keyboard: saved_keyboard(d),
            });
            Persist::Committed(version)
        }
    }
}

/// The draft of a case whose first receipt was never confirmed delivered (a crash, or the
/// channel failed), as committed with the fresh receipt: back at "submitted", with a new token
/// (the receipt's button must be valid once the message is in the chat).
pub fn reissuing(d: &mut Draft) {
    d.step = Some(Step::Submitted);
    d.token = d.token.wrapping_add(1);
}

/// The fresh receipt of [`reissuing`], to send.
pub fn receipt_reissued(d: &Draft, code: &str, receipt: &str, out: &mut Outbox) {
    let text = t::receipt_message(d.lang, code, receipt, true);
    out.items.push(Out::Receipt {
        code_span: t::receipt_span(&text, receipt),
        text,
        keyboard: saved_keyboard(d),
    });
}
