//! One turn of the dialogue: an input from the citizen, the draft as stored, and what to say
//! back. Pure with respect to Telegram: it fills an [`Outbox`]; the caller sends it, so the
//! draft is saved before anything is said (a crash between the two repeats a prompt, never
//! loses an answer).
//!
//! Old prompts keep their buttons: Telegram counts message edits toward its flood limits, so
//! removing each pressed keyboard would double the calls per step. Every button carries the
//! prompt's token instead, and a press on an old prompt is answered "no longer active" with
//! the current step.

use super::catalog::{self, Choice};
use super::draft::{Draft, FindingChoice, Place, Step, TextField, When};
use super::keyboard::{Button, Keyboard};
use super::outbox::{Out, Outbox, Persist};
use super::summary::CaseSummary;
use super::texts::{self as t, Lang};
use crate::clock::Day;
use crate::places;

/// The longest answer accepted for a one-line field (office, officials, notes, contact).
pub const MAX_FIELD_CHARS: usize = 600;

fn button(d: &Draft, label: &str, action: &str) -> Button {
    Button::new(label.to_owned(), format!("{}|{}", d.token, action))
}

fn nav_row(d: &Draft) -> Vec<Button> {
    vec![
        button(d, t::back(d.lang), "back"),
        button(d, t::cancel(d.lang), "cancel"),
    ]
}

/// The review screen's "✏️ field" buttons, two to a row.
fn edit_rows(d: &Draft) -> Vec<Vec<Button>> {
    let l = d.lang;
    let fields: [(&str, &str); 10] = [
        (t::field_category(l), "ef:cat"),
        (t::field_behaviour(l), "ef:beh"),
        (t::field_sector(l), "ef:sec"),
        (t::field_office(l), "ef:off"),
        (t::field_place(l), "ef:place"),
        (t::field_when(l), "ef:when"),
        (t::field_who(l), "ef:who"),
        (t::field_story(l), "ef:story"),
        (t::field_attachments(l), "ef:files"),
        (t::field_verify(l), "ef:verify"),
    ];
    fields
        .chunks(2)
        .map(|c| {
            c.iter()
                .map(|(label, a)| button(d, &format!("{}{label}", t::edit_prefix(l)), a))
                .collect()
        })
        .collect()
}

fn choice_rows(d: &Draft, list: &[Choice], prefix: &str) -> Vec<Vec<Button>> {
    list.iter()
        .map(|c| vec![button(d, c.label(d.lang), &format!("{prefix}:{}", c.code))])
        .collect()
}

/// The step's question and buttons, with a fresh token.
pub fn prompt(d: &mut Draft, out: &mut Outbox) {
    let Some(step) = d.step else {
        return;
    };
    d.token = d.token.wrapping_add(1);
    let (text, mut rows) = match step {
        Step::Category
        | Step::Review
        | Step::EditMenu
        | Step::Submitted
        | Step::WipeOffer
        | Step::StatusShown => return screen(d, step, out),
        Step::Findings => return findings_screen(d, out),
        Step::Attachments => attachments_question(d),
        Step::Verify => verify_question(d),
        Step::Behaviour
        | Step::Sector
        | Step::Office
        | Step::OfficeGroup(_)
        | Step::OfficeConfirm
        | Step::Place
        | Step::PlacePick => choice_question(d, step),
        _ => typed_question(d, step, out.story_limit),
    };
    if !matches!(step, Step::Category) && step_has_nav(step) {
        rows.push(nav_row(d));
    }
    if rows.is_empty() {
        out.say(text);
    } else {
        out.ask(text, Keyboard::new(rows));
    }
}

/// A question with its buttons (the step's Back and Cancel row is added by [`prompt`]).
type Question = (String, Vec<Vec<Button>>);

/// The steps whose message is a screen of its own (no Back row added).
fn screen(d: &mut Draft, step: Step, out: &mut Outbox) {
    let l = d.lang;
    match step {
        Step::Category => {
            let mut rows = choice_rows(d, catalog::CATEGORIES, "cat");
            rows.extend(choice_rows(d, catalog::REDIRECTS, "redir"));
            rows.push(vec![button(d, t::cancel(l), "cancel")]);
            out.ask(t::ask_category(l), Keyboard::new(rows));
        }
        // The edit menu of older drafts is the review screen now: every field has its button.
        Step::Review | Step::EditMenu => {
            d.step = Some(Step::Review);
            if d.review_day.is_none() {
                d.review_day = Some(Day::today().0);
            }
            let summary = CaseSummary::from_draft(d)
                .map(|s| s.render(l))
                .unwrap_or_default();
            let mut rows = vec![vec![button(d, t::send(l), "send")]];
            rows.extend(edit_rows(d));
            rows.push(nav_row(d));
            out.ask(
                format!("{}\n\n{summary}", t::review_intro(l)),
                Keyboard::new(rows),
            );
        }
        Step::Submitted => {
            let rows = vec![vec![button(d, t::saved_receipt(l), "saved")]];
            out.ask(t::after_submit(l), Keyboard::new(rows));
        }
        Step::WipeOffer => {
            let rows = vec![vec![
                button(d, t::wipe_yes(l), "wipe:yes"),
                button(d, t::wipe_no(l), "wipe:no"),
            ]];
            out.ask(t::receipt_deleted(l), Keyboard::new(rows));
        }
        Step::StatusShown => {
            let rows = vec![vec![
                button(d, t::reply_button(l), "reply"),
                button(d, t::status_done(l), "close"),
            ]];
            out.ask(t::status_next(l), Keyboard::new(rows));
        }
        _ => {}
    }
}

/// The de-identification findings, each with its keep/remove button.
fn findings_screen(d: &mut Draft, out: &mut Outbox) {
    let l = d.lang;
    let mut lines = vec![t::findings_intro(l).to_owned()];
    let mut rows = Vec::new();
    for (i, f) in d.findings.iter().enumerate().take(MAX_FINDING_BUTTONS) {
        let kind = crate::deid::FindingKind::from_code(&f.kind)
            .map(|k| k.label(l.deid()))
            .unwrap_or("?");
        let text = field_text(d, f.field)
            .get(f.start..f.end)
            .unwrap_or("")
            .to_owned();
        lines.push(format!("{}. {kind}: «{}»", i + 1, short(&text, 40)));
        let state = if f.remove {
            format!("🗑 {}", t::finding_remove(l))
        } else {
            format!("✅ {}", t::finding_keep(l))
        };
        rows.push(vec![button(
            d,
            &format!("{}. {state}", i + 1),
            &format!("fk:{i}"),
        )]);
    }
    rows.push(vec![button(d, t::continue_(l), "cont")]);
    rows.push(nav_row(d));
    out.ask(lines.join("\n"), Keyboard::new(rows));
}

/// The steps answered by choosing (or typing a name to match).
fn choice_question(d: &mut Draft, step: Step) -> Question {
    let l = d.lang;
    match step {
        Step::Behaviour => {
            let cat = d.category.clone().unwrap_or_default();
            (
                t::ask_behaviour(l).into(),
                choice_rows(d, catalog::behaviours(&cat), "beh"),
            )
        }
        Step::Sector => {
            let rows = catalog::SECTORS
                .chunks(2)
                .map(|pair| {
                    pair.iter()
                        .map(|c| button(d, c.label(l), &format!("sec:{}", c.code)))
                        .collect()
                })
                .collect();
            (t::ask_sector(l).into(), rows)
        }
        Step::Office => (
            t::ask_office(l).into(),
            vec![
                vec![button(d, t::office_province(l), "og:0")],
                vec![button(d, t::office_commune(l), "og:1")],
                vec![button(d, t::office_other(l), "og:2")],
            ],
        ),
        Step::OfficeGroup(g) => {
            let group = match g {
                0 => places::AgencyGroup::Province,
                1 => places::AgencyGroup::Commune,
                _ => places::AgencyGroup::Other,
            };
            let rows = places::agencies()
                .iter()
                .enumerate()
                .filter(|(_, a)| a.group == group)
                .map(|(i, a)| {
                    vec![button(
                        d,
                        if l == Lang::En { &a.en } else { &a.name },
                        &format!("off:{i}"),
                    )]
                })
                .collect();
            (t::ask_office(l).into(), rows)
        }
        Step::OfficeConfirm => {
            let typed = d.office_typed.clone().unwrap_or_default();
            let mut rows: Vec<Vec<Button>> = places::search_agencies(&typed, 6)
                .into_iter()
                .map(|i| vec![button(d, &places::agencies()[i].name, &format!("off:{i}"))])
                .collect();
            rows.push(vec![button(
                d,
                &format!("{}: {}", t::office_use_typed(l), short(&typed, 30)),
                "offtyped",
            )]);
            (t::office_matches(l).into(), rows)
        }
        Step::Place => (
            t::ask_place(l).into(),
            vec![vec![button(d, t::place_prefer_not(l), "pnone")]],
        ),
        Step::PlacePick => {
            let mut rows: Vec<Vec<Button>> = d
                .place_options
                .iter()
                .filter_map(|&i| places::units().get(i).map(|u| (i, u)))
                .map(|(i, u)| vec![button(d, &u.full_name(), &format!("p:{i}"))])
                .collect();
            rows.push(vec![button(d, t::place_prefer_not(l), "pnone")]);
            (t::place_matches(l).into(), rows)
        }
        _ => (String::new(), Vec::new()),
    }
}

/// The steps answered by typing (or one button: skip, done, cancel).
fn typed_question(d: &mut Draft, step: Step, story_limit: usize) -> Question {
    let l = d.lang;
    match step {
        Step::When => (
            t::ask_when(l).into(),
            vec![
                vec![
                    button(d, t::when_today(l), "w:today"),
                    button(d, t::when_week(l), "w:week"),
                ],
                vec![
                    button(d, t::when_month(l), "w:month"),
                    button(d, t::when_earlier(l), "w:earlier"),
                ],
            ],
        ),
        Step::Month => (t::ask_month(l).into(), vec![]),
        Step::Who => (
            t::ask_who(l).into(),
            vec![vec![button(d, t::skip(l), "skip")]],
        ),
        Step::Story => {
            let rows = if d.story.is_empty() {
                vec![]
            } else {
                vec![vec![button(d, t::done(l), "done")]]
            };
            let ask = if d.replacing_story {
                t::ask_story_replace(l)
            } else {
                t::ask_story(l)
            };
            (ask.replace("{n}", &story_limit.to_string()), rows)
        }
        Step::VerifyNote => (
            t::ask_verify_note(l).into(),
            vec![vec![button(d, t::skip(l), "skip")]],
        ),
        Step::Contact => (
            t::ask_contact(l).into(),
            vec![
                vec![button(d, t::contact_no(l), "ct:no")],
                vec![button(d, t::contact_yes(l), "ct:yes")],
            ],
        ),
        Step::ContactText => (t::ask_contact_text(l).into(), vec![]),
        Step::StatusReceipt => (
            t::ask_receipt(l).into(),
            vec![vec![button(d, t::cancel(l), "cancel")]],
        ),
        Step::StatusReply => (
            t::ask_reply(l).into(),
            vec![vec![button(d, t::cancel(l), "cancel")]],
        ),
        _ => (String::new(), Vec::new()),
    }
}

/// The evidence step: files so far, each with a remove button.
fn attachments_question(d: &mut Draft) -> Question {
    let l = d.lang;
    let mut text = t::ask_attachments(l).to_owned();
    let mut rows = Vec::new();
    if !d.attachments.is_empty() {
        text.push_str("\n\n");
        text.push_str(t::attachments_list(l));
        let notes = CaseSummary::attachment_notes(d);
        for (i, note) in notes.iter().enumerate() {
            text.push_str(&format!("\n{}. {}", i + 1, note.render(l)));
            rows.push(vec![button(
                d,
                &format!("{} {}", t::remove_file(l), i + 1),
                &format!("rm:{i}"),
            )]);
        }
    }
    let cont = if d.attachments.is_empty() {
        t::attachments_none(l)
    } else {
        t::done(l)
    };
    rows.push(vec![button(d, cont, "cont")]);
    (text, rows)
}

/// The verification step: each means with its mark.
fn verify_question(d: &mut Draft) -> Question {
    let l = d.lang;
    let mut rows: Vec<Vec<Button>> = catalog::VERIFICATION
        .iter()
        .map(|c| {
            let mark = if d.verification.iter().any(|v| v == c.code) {
                "☑️ "
            } else {
                "⬜ "
            };
            vec![button(
                d,
                &format!("{mark}{}", c.label(l)),
                &format!("v:{}", c.code),
            )]
        })
        .collect();
    rows.push(vec![button(d, t::continue_(l), "cont")]);
    (t::ask_verify(l).into(), rows)
}

/// At most this many findings get their own button; any further ones are removed.
const MAX_FINDING_BUTTONS: usize = 20;

/// The text of a free-text field as the summary will hold it.
pub fn field_text(d: &Draft, field: TextField) -> String {
    match field {
        TextField::Office => d.office.clone().unwrap_or_default(),
        TextField::Officials => d.officials.clone().unwrap_or_default(),
        TextField::Story => d.story.join("\n"),
        TextField::VerificationNote => d.verification_note.clone().unwrap_or_default(),
    }
}

/// Runs the de-identification check over every free-text field, keeping the reporter's
/// earlier decisions for findings that are still there.
pub fn compute_findings(d: &mut Draft) {
    let previous = std::mem::take(&mut d.findings);
    let mut fresh = Vec::new();
    for field in [
        TextField::Office,
        TextField::Officials,
        TextField::Story,
        TextField::VerificationNote,
    ] {
        let text = field_text(d, field);
        for f in crate::deid::detect(&text) {
            let kind = f.kind.code().to_owned();
            let remove = previous
                .iter()
                .find(|p| {
                    p.field == field
                        && p.start == f.range.start
                        && p.end == f.range.end
                        && p.kind == kind
                })
                .is_none_or(|p| p.remove);
            fresh.push(FindingChoice {
                field,
                start: f.range.start,
                end: f.range.end,
                kind,
                remove,
            });
        }
    }
    d.findings = fresh;
}

/// The step that leads to the review: the findings check when there is something to decide.
pub fn towards_review(d: &mut Draft) -> Step {
    compute_findings(d);
    if d.findings.is_empty() {
        Step::Review
    } else {
        Step::Findings
    }
}

/// Whether a file sent now belongs to the report being written (any step before sending).
pub fn takes_files(step: Step) -> bool {
    ORDER.contains(&main_step(step))
}

fn step_has_nav(step: Step) -> bool {
    !matches!(
        step,
        Step::StatusReceipt
            | Step::StatusReply
            | Step::Submitted
            | Step::WipeOffer
            | Step::StatusShown
    )
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// The main step a sub-step belongs to.
fn main_step(s: Step) -> Step {
    match s {
        Step::OfficeGroup(_) | Step::OfficeConfirm => Step::Office,
        Step::PlacePick => Step::Place,
        Step::Month => Step::When,
        Step::ContactText => Step::Contact,
        Step::EditMenu => Step::Review,
        other => other,
    }
}

const ORDER: [Step; 14] = [
    Step::Category,
    Step::Behaviour,
    Step::Sector,
    Step::Office,
    Step::Place,
    Step::When,
    Step::Who,
    Step::Story,
    Step::Attachments,
    Step::Verify,
    Step::VerifyNote,
    Step::Contact,
    Step::Findings,
    Step::Review,
];

/// The step before `s` (Back).
pub fn previous(s: Step) -> Step {
    let m = main_step(s);
    if m != s {
        return m;
    }
    let i = ORDER.iter().position(|x| *x == m).unwrap_or(0);
    ORDER[i.saturating_sub(1)]
}

fn next_after(d: &mut Draft, s: Step) -> Step {
    if d.editing {
        d.editing = false;
        return towards_review(d);
    }
    let i = ORDER.iter().position(|x| *x == main_step(s)).unwrap_or(0);
    let next = ORDER[(i + 1).min(ORDER.len() - 1)];
    if next == Step::Findings {
        towards_review(d)
    } else {
        next
    }
}

/// Moves to the step after `from` and asks its question.
pub fn advance(d: &mut Draft, from: Step, out: &mut Outbox) {
    d.step = Some(next_after(d, from));
    prompt(d, out);
}

/// Moves to `to` and asks its question.
pub fn goto(d: &mut Draft, to: Step, out: &mut Outbox) {
    d.step = Some(to);
    prompt(d, out);
}

/// Parses "3/2025", "03-2025", "tháng 3 năm 2025", "3 2025".
pub fn parse_month(text: &str, today: Day) -> Option<(i32, u8)> {
    let nums: Vec<i64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let [m, y] = nums[..] else {
        return None;
    };
    let (m, y) = (u8::try_from(m).ok()?, i32::try_from(y).ok()?);
    if !(1..=12).contains(&m) || !(2000..=9999).contains(&y) {
        return None;
    }
    let (ty, tm) = today.year_month();
    if (y, m) > (ty, tm) {
        return None;
    }
    Some((y, m))
}

/// Handles typed text at the current step. Returns false when the step takes no text.
pub fn on_text(d: &mut Draft, text: &str, max_story: usize, out: &mut Outbox) -> bool {
    let Some(step) = d.step else {
        return false;
    };
    let l = d.lang;
    let text = text.trim();
    let one_line_ok = text.chars().count() <= MAX_FIELD_CHARS;
    let too_long = |n: usize| t::too_long(l).replace("{n}", &n.to_string());
    match step {
        Step::Office | Step::OfficeGroup(_) | Step::OfficeConfirm => {
            if !one_line_ok {
                out.say(too_long(MAX_FIELD_CHARS));
                return true;
            }
            d.office_typed = Some(text.to_owned());
            goto(d, Step::OfficeConfirm, out);
        }
        Step::Place | Step::PlacePick => {
            let matches = places::search_units(text, 8);
            if matches.is_empty() {
                out.say(t::place_none(l));
                goto(d, Step::Place, out);
            } else {
                d.place_options = matches.into_iter().map(|m| m.index).collect();
                goto(d, Step::PlacePick, out);
            }
        }
        Step::Month => match parse_month(text, Day::today()) {
            Some((year, month)) => {
                d.when = Some(When::Month { year, month });
                advance(d, Step::When, out);
            }
            None => {
                out.say(t::bad_month(l));
                prompt(d, out);
            }
        },
        Step::Who => {
            if !one_line_ok {
                out.say(too_long(MAX_FIELD_CHARS));
                return true;
            }
            d.officials = Some(text.to_owned());
            advance(d, Step::Who, out);
        }
        Step::Story => {
            if !story_text(d, text, max_story, out) {
                out.say(too_long(max_story));
            }
        }
        Step::VerifyNote => {
            if !one_line_ok {
                out.say(too_long(MAX_FIELD_CHARS));
                return true;
            }
            d.verification_note = Some(text.to_owned());
            advance(d, Step::VerifyNote, out);
        }
        Step::ContactText => {
            if !one_line_ok {
                out.say(too_long(MAX_FIELD_CHARS));
                return true;
            }
            d.contact = Some(text.to_owned());
            d.contact_answered = true;
            advance(d, Step::Contact, out);
        }
        _ => return false,
    }
    true
}

/// A story message: added (or replacing the old text when the reporter chose to rewrite
/// it), with "Done" to go on. False when it would exceed the limit (nothing changes).
fn story_text(d: &mut Draft, text: &str, max_story: usize, out: &mut Outbox) -> bool {
    let l = d.lang;
    let kept: usize = if d.replacing_story {
        0
    } else {
        d.story.iter().map(|s| s.chars().count()).sum()
    };
    if kept + text.chars().count() > max_story {
        return false;
    }
    if !text.is_empty() {
        if std::mem::take(&mut d.replacing_story) {
            d.story.clear();
        }
        d.story.push(text.to_owned());
    }
    d.token = d.token.wrapping_add(1);
    let kb = Keyboard::new(vec![vec![button(d, t::done(l), "done")], nav_row(d)]);
    out.ask(t::story_added(l), kb);
    true
}

/// Handles a button of the current step (token already checked). Returns the persistence
/// decision; `None` means "not a button of this step" (treated as stale).
pub fn on_button(
    d: &mut Draft,
    action: &str,
    msg_id: i32,
    contacts: &crate::config::Contacts,
    out: &mut Outbox,
) -> Option<Persist> {
    let step = d.step?;
    let l = d.lang;
    let (verb, arg) = action.split_once(':').unwrap_or((action, ""));
    match (step, verb) {
        (_, "cancel") => {
            if matches!(
                step,
                Step::StatusReceipt | Step::StatusReply | Step::StatusShown
            ) {
                d.step = d.return_step.take();
                if d.step.is_none() {
                    return Some(Persist::Delete);
                }
                prompt(d, out);
                return Some(Persist::Save);
            }
            out.say(t::cancelled(l));
            return Some(forget_report(d));
        }
        (_, "back") if step_has_nav(step) && d.editing && CaseSummary::from_draft(d).is_some() => {
            // Back from a field opened on the review screen returns there, unchanged.
            d.editing = false;
            d.replacing_story = false;
            let to = towards_review(d);
            goto(d, to, out);
        }
        (_, "back") if step_has_nav(step) => {
            d.replacing_story = false;
            let mut to = previous(step);
            if to == Step::Findings {
                compute_findings(d);
                if d.findings.is_empty() {
                    to = Step::Contact;
                }
            }
            goto(d, to, out);
        }
        (
            Step::Category
            | Step::Behaviour
            | Step::Sector
            | Step::Office
            | Step::OfficeGroup(_)
            | Step::OfficeConfirm
            | Step::Place
            | Step::PlacePick
            | Step::When,
            _,
        ) => return pick(d, step, verb, arg, contacts, out),
        _ => return later_step(d, step, verb, arg, msg_id, out),
    }
    Some(Persist::Save)
}

/// A button of the steps that say what happened where: kind, behaviour, sector, office, place,
/// time. `None`: not a button of this step (stale or forged).
fn pick(
    d: &mut Draft,
    step: Step,
    verb: &str,
    arg: &str,
    contacts: &crate::config::Contacts,
    out: &mut Outbox,
) -> Option<Persist> {
    let l = d.lang;
    match (step, verb) {
        (Step::Category, "cat") => {
            catalog::find(catalog::CATEGORIES, arg)?;
            let changed = d.category.as_deref() != Some(arg);
            d.category = Some(arg.to_owned());
            if changed && d.behaviour.is_some() {
                // The old behaviour belongs to another category: ask again even when editing.
                d.behaviour = None;
                d.step = Some(Step::Behaviour);
                prompt(d, out);
            } else {
                advance(d, Step::Category, out);
            }
        }
        (Step::Category, "redir") => {
            let (intro, contact) = match arg {
                "denunciation" => (t::redirect_denunciation(l), &contacts.denunciation),
                "complaint" => (t::redirect_complaint(l), &contacts.complaint),
                "feedback" => (t::redirect_feedback(l), &contacts.feedback),
                _ => return None,
            };
            out.say(format!("{intro}\n{contact}\n\n{}", t::redirect_footer(l)));
            // "Nothing was stored": not even the message ids for /wipe.
            return Some(Persist::Delete);
        }
        (Step::Behaviour, "beh") => {
            let cat = d.category.clone().unwrap_or_default();
            catalog::find(catalog::behaviours(&cat), arg)?;
            d.behaviour = Some(arg.to_owned());
            advance(d, Step::Behaviour, out);
        }
        (Step::Sector, "sec") => {
            catalog::find(catalog::SECTORS, arg)?;
            d.sector = Some(arg.to_owned());
            advance(d, Step::Sector, out);
        }
        (Step::Office, "og") => {
            let g: u8 = arg.parse().ok().filter(|g| *g <= 2)?;
            goto(d, Step::OfficeGroup(g), out);
        }
        (Step::OfficeGroup(_) | Step::OfficeConfirm, "off") => {
            let a = places::agencies().get(arg.parse::<usize>().ok()?)?;
            d.office = Some(a.name.clone());
            d.office_typed = None;
            advance(d, Step::Office, out);
        }
        (Step::OfficeConfirm, "offtyped") => {
            d.office = d.office_typed.take();
            d.office.as_ref()?;
            advance(d, Step::Office, out);
        }
        (Step::Place | Step::PlacePick, "pnone") => {
            d.place = Some(Place::Undisclosed);
            advance(d, Step::Place, out);
        }
        (Step::PlacePick, "p") => {
            let i: usize = arg.parse().ok()?;
            if !d.place_options.contains(&i) {
                return None;
            }
            d.place = Some(Place::Unit(places::units().get(i)?.full_name()));
            d.place_options.clear();
            advance(d, Step::Place, out);
        }
        (Step::When, "w") => {
            let w = match arg {
                "today" => When::Today,
                "week" => When::ThisWeek,
                "month" => When::ThisMonth,
                "earlier" => {
                    goto(d, Step::Month, out);
                    return Some(Persist::Save);
                }
                _ => return None,
            };
            d.when = Some(w);
            advance(d, Step::When, out);
        }
        _ => return None,
    }
    Some(Persist::Save)
}

/// A button of the later steps: story, files, verification, contact, findings, review.
/// `None`: not a button of this step (stale or forged).
fn later_step(
    d: &mut Draft,
    step: Step,
    verb: &str,
    arg: &str,
    msg_id: i32,
    out: &mut Outbox,
) -> Option<Persist> {
    let l = d.lang;
    match (step, verb) {
        (Step::Who, "skip") => {
            d.officials = Some(String::new());
            advance(d, Step::Who, out);
        }
        (Step::Story, "done") => {
            d.replacing_story = false;
            if d.story.is_empty() {
                out.say(t::story_empty(l));
                return Some(Persist::Nothing);
            }
            advance(d, Step::Story, out);
        }
        (Step::Attachments, "cont") => advance(d, Step::Attachments, out),
        (Step::Attachments, "rm") => {
            let i: usize = arg.parse().ok()?;
            if i >= d.attachments.len() {
                return None;
            }
            d.attachments.remove(i);
            out.say(t::file_removed(l));
            prompt(d, out);
        }
        (Step::Verify, "v") => {
            catalog::find(catalog::VERIFICATION, arg)?;
            if let Some(i) = d.verification.iter().position(|v| v == arg) {
                d.verification.remove(i);
            } else {
                d.verification.push(arg.to_owned());
            }
            // Re-draw the same message's buttons with the new ticks, same token.
            d.token = d.token.wrapping_sub(1);
            let mut tmp = Outbox::default();
            prompt(d, &mut tmp);
            if let Some(Out::Send { keyboard, .. }) = tmp.items.pop() {
                out.items.push(Out::EditKeyboard { msg_id, keyboard });
            }
        }
        (Step::Verify, "cont") => advance(d, Step::Verify, out),
        (Step::VerifyNote, "skip") => {
            d.verification_note = Some(String::new());
            advance(d, Step::VerifyNote, out);
        }
        (Step::Contact, "ct") => match arg {
            "no" => {
                d.contact = None;
                d.contact_answered = true;
                advance(d, Step::Contact, out);
            }
            "yes" => goto(d, Step::ContactText, out),
            _ => return None,
        },
        (Step::Findings, "fk") => {
            let i: usize = arg.parse().ok()?;
            let f = d.findings.get_mut(i)?;
            f.remove = !f.remove;
            // Re-draw the same message with the new states, same token.
            d.token = d.token.wrapping_sub(1);
            let mut tmp = Outbox::default();
            prompt(d, &mut tmp);
            if let Some(Out::Send { keyboard, .. }) = tmp.items.pop() {
                out.items.push(Out::EditKeyboard { msg_id, keyboard });
            }
            return Some(Persist::Save);
        }
        (Step::Findings, "cont") => goto(d, Step::Review, out),
        (Step::Review | Step::EditMenu, "ef") => {
            let to = match arg {
                "cat" => Step::Category,
                "beh" => Step::Behaviour,
                "sec" => Step::Sector,
                "off" => Step::Office,
                "place" => Step::Place,
                "when" => Step::When,
                "who" => Step::Who,
                "story" => {
                    d.replacing_story = true;
                    Step::Story
                }
                "verify" => Step::Verify,
                "files" => Step::Attachments,
                _ => return None,
            };
            d.editing = true;
            goto(d, to, out);
        }
        _ => return None,
    }
    Some(Persist::Save)
}

/// Clears everything a report collected, keeping language and the message ids to wipe.
pub fn clear_report(d: &mut Draft) {
    let keep = Draft {
        lang: d.lang,
        token: d.token,
        consented: d.consented,
        messages: std::mem::take(&mut d.messages),
        receipt_message: d.receipt_message,
        ..Draft::default()
    };
    *d = keep;
}

/// Ends a report without sending it (cancelled): the draft goes, but
/// if the chat holds messages of the dialogue their ids stay, so /wipe can still clean it.
pub fn forget_report(d: &mut Draft) -> Persist {
    if d.messages.is_empty() {
        return Persist::Delete;
    }
    clear_report(d);
    Persist::Save
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        let today = Day::from_unix(1_795_625_999); // 2026-11-25
        assert_eq!(parse_month("3/2025", today), Some((2025, 3)));
        assert_eq!(parse_month("tháng 11 năm 2026", today), Some((2026, 11)));
        assert_eq!(parse_month("12/2026", today), None, "future");
        assert_eq!(parse_month("13/2025", today), None);
        assert_eq!(parse_month("hôm qua", today), None);
    }

    #[test]
    fn back_goes_to_the_previous_main_step() {
        assert_eq!(previous(Step::Behaviour), Step::Category);
        assert_eq!(previous(Step::Attachments), Step::Story);
        assert_eq!(previous(Step::Verify), Step::Attachments);
        assert_eq!(previous(Step::PlacePick), Step::Place);
        assert_eq!(previous(Step::Review), Step::Findings);
        assert_eq!(previous(Step::Findings), Step::Contact);
        assert_eq!(previous(Step::Category), Step::Category);
    }
}
