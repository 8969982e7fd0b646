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

/// The offices offered for a sector, in order, by their names in the agencies file
/// (docs/DIALOGUE.md, step 4). Empty: the sector offers the groups of all offices directly.
pub fn sector_offices(sector: &str) -> &'static [&'static str] {
    match sector {
        "land" => &[
            "Cán bộ địa chính",
            "UBND xã/phường",
            "Trung tâm Phục vụ hành chính công xã/phường",
            "Sở Nông nghiệp và Môi trường",
            "Trung tâm Phục vụ hành chính công tỉnh",
        ],
        "construction" => &[
            "Phòng Kinh tế, Hạ tầng và Đô thị",
            "Phòng Kinh tế",
            "UBND xã/phường",
            "Sở Xây dựng",
            "Ban Quản lý Khu kinh tế Vân Phong",
        ],
        "civil" => &[
            "UBND xã/phường",
            "Trung tâm Phục vụ hành chính công xã/phường",
            "Công an xã/phường",
            "Sở Tư pháp",
        ],
        "traffic" => &[
            "Cảnh sát giao thông (CSGT)",
            "Công an xã/phường",
            "Công an tỉnh",
            "Sở Xây dựng",
        ],
        "health" => &[
            "Bệnh viện / Trạm y tế",
            "Sở Y tế",
            "Bảo hiểm xã hội tỉnh",
            "Phòng Văn hóa - Xã hội",
        ],
        "education" => &[
            "Trường học",
            "Sở Giáo dục và Đào tạo",
            "Phòng Văn hóa - Xã hội",
            "UBND xã/phường",
        ],
        "hiring" => &[
            "Sở Nội vụ",
            "UBND xã/phường",
            "Trường học",
            "Bệnh viện / Trạm y tế",
        ],
        "tax" => &[
            "Thuế tỉnh Khánh Hòa",
            "Hải quan",
            "Sở Tài chính",
            "Phòng Kinh tế",
            "Trung tâm Phục vụ hành chính công tỉnh",
        ],
        "social" => &[
            "Bảo hiểm xã hội tỉnh",
            "Phòng Văn hóa - Xã hội",
            "UBND xã/phường",
            "Sở Nội vụ",
            "Sở Y tế",
        ],
        "agriculture" => &[
            "Sở Nông nghiệp và Môi trường",
            "Phòng Kinh tế",
            "UBND xã/phường",
        ],
        "tourism" => &[
            "Sở Văn hóa, Thể thao và Du lịch",
            "Phòng Văn hóa - Xã hội",
            "Công an xã/phường",
            "UBND xã/phường",
        ],
        _ => &[],
    }
}

/// The index in [`places::agencies`] of the agency called `name`.
fn agency_index(name: &str) -> Option<usize> {
    places::agencies().iter().position(|a| a.name == name)
}

fn agency_button(d: &Draft, i: usize) -> Option<Vec<Button>> {
    let a = places::agencies().get(i)?;
    let label = if d.lang == Lang::En { &a.en } else { &a.name };
    Some(vec![button(d, label, &format!("off:{i}"))])
}

/// The groups of all offices.
fn group_rows(d: &Draft) -> Vec<Vec<Button>> {
    vec![
        vec![button(d, t::office_province(d.lang), "og:0")],
        vec![button(d, t::office_commune(d.lang), "og:1")],
        vec![button(d, t::office_other(d.lang), "og:2")],
    ]
}

/// The "✏️ Change something" menu: one button per part, two to a row.
fn edit_rows(d: &Draft) -> Vec<Vec<Button>> {
    let l = d.lang;
    let fields: [(&str, &str); 9] = [
        (t::field_behaviour(l), "ef:beh"),
        (t::field_sector(l), "ef:sec"),
        (t::field_office(l), "ef:off"),
        (t::field_place(l), "ef:place"),
        (t::field_when(l), "ef:when"),
        (t::field_who(l), "ef:who"),
        (t::field_story(l), "ef:story"),
        (t::field_verify(l), "ef:verify"),
        (t::field_attachments(l), "ef:files"),
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

/// The step's question and buttons, with a fresh token. A draft saved at a step no longer on
/// the path continues at the nearest one ([`Step::current`]).
pub fn prompt(d: &mut Draft, out: &mut Outbox) {
    let Some(step) = d.step.map(Step::current) else {
        return;
    };
    // A redirect explained is asked again as the list (its text needs the configuration).
    let step = if let Step::Redirected(_) = step {
        Step::Redirect
    } else {
        step
    };
    d.step = Some(step);
    d.token = d.token.wrapping_add(1);
    let (text, mut rows) = match step {
        Step::Review | Step::Submitted | Step::WipeOffer | Step::StatusShown => {
            return screen(d, step, out);
        }
        Step::Attachments => attachments_question(d, out),
        Step::Verify => verify_question(d),
        Step::Behaviour
        | Step::Redirect
        | Step::Sector
        | Step::Office
        | Step::OfficeGroups
        | Step::OfficeGroup(_)
        | Step::OfficeConfirm
        | Step::Place
        | Step::PlacePick
        | Step::When
        | Step::EditMenu => choice_question(d, step),
        _ => typed_question(d, step),
    };
    match step {
        Step::Behaviour if !d.editing => rows.push(vec![button(d, t::cancel(d.lang), "cancel")]),
        Step::Redirect | Step::EditMenu | Step::ReviewContact | Step::ReviewNote => {
            rows.push(vec![button(d, t::back(d.lang), "back")]);
        }
        s if step_has_nav(s) => rows.push(nav_row(d)),
        _ => {}
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
        Step::Review => review_screen(d, out),
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

/// The review: exactly what will be sent, the identifying details found in it (each a toggle
/// that reads as its state), the contact left (outside the summary), and the optional fields.
fn review_screen(d: &mut Draft, out: &mut Outbox) {
    let l = d.lang;
    d.editing = false;
    if d.review_day.is_none() {
        d.review_day = Some(Day::today().0);
    }
    let summary = CaseSummary::from_draft(d)
        .map(|s| s.render(l))
        .unwrap_or_default();
    let mut text = format!("{}\n\n{summary}", t::review_intro(l));
    let mut rows = vec![vec![button(d, t::send(l), "send")]];
    if !d.findings.is_empty() {
        text.push_str("\n\n");
        text.push_str(t::findings_intro(l));
    }
    for (i, f) in d.findings.iter().enumerate().take(MAX_FINDING_BUTTONS) {
        let kind = crate::deid::FindingKind::from_code(&f.kind)
            .map(|k| k.label(l.deid()))
            .unwrap_or("?");
        let found = field_text(d, f.field)
            .get(f.start..f.end)
            .unwrap_or("")
            .to_owned();
        let whose = match f.owner.as_deref().map(crate::deid::Owner::from_code) {
            Some(crate::deid::Owner::Official) => format!(" — {}", t::owner_official(l)),
            Some(crate::deid::Owner::Agency) => format!(" — {}", t::owner_agency(l)),
            _ => String::new(),
        };
        text.push_str(&format!(
            "\n{}. {kind}: «{}»{whose}",
            i + 1,
            short(&found, 40)
        ));
        let state = if f.remove {
            t::finding_will_remove(l)
        } else {
            t::finding_kept(l)
        };
        rows.push(vec![button(
            d,
            &format!("{}. {state}", i + 1),
            &format!("fk:{i}"),
        )]);
    }
    if let Some(contact) = d.contact.as_deref().filter(|c| !c.trim().is_empty()) {
        text.push_str(&format!("\n\n{} {contact}", t::contact_line(l)));
    }
    let contact_label = if d.contact.is_some() {
        t::change_contact(l)
    } else {
        t::add_contact(l)
    };
    rows.push(vec![button(d, contact_label, "contact")]);
    rows.push(vec![button(d, t::add_note(l), "note")]);
    rows.push(vec![button(d, t::add_files(l), "files")]);
    rows.push(vec![button(d, t::change_other(l), "edit")]);
    rows.push(nav_row(d));
    out.ask(text, Keyboard::new(rows));
}

/// The steps answered by choosing (or typing a name to match).
fn choice_question(d: &mut Draft, step: Step) -> Question {
    let l = d.lang;
    match step {
        Step::Behaviour => {
            let mut rows = choice_rows(d, catalog::BEHAVIOURS, "beh");
            rows.push(vec![button(d, t::other_cases(l), "redir")]);
            (t::ask_behaviour(l).into(), rows)
        }
        Step::Redirect => (
            t::ask_redirect(l).into(),
            choice_rows(d, catalog::REDIRECTS, "redir"),
        ),
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
        Step::Office => {
            let listed = sector_offices(d.sector.as_deref().unwrap_or_default());
            let rows = if listed.is_empty() {
                group_rows(d)
            } else {
                let mut rows: Vec<Vec<Button>> = listed
                    .iter()
                    .filter_map(|name| agency_index(name))
                    .filter_map(|i| agency_button(d, i))
                    .collect();
                rows.push(vec![button(d, t::office_more(l), "more")]);
                rows
            };
            (t::ask_office(l).into(), rows)
        }
        Step::OfficeGroups => (t::ask_office(l).into(), group_rows(d)),
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
                .filter_map(|(i, _)| agency_button(d, i))
                .collect();
            (t::ask_office(l).into(), rows)
        }
        Step::OfficeConfirm => {
            let typed = d.office_typed.clone().unwrap_or_default();
            let mut rows: Vec<Vec<Button>> = places::search_agencies(&typed, 6)
                .into_iter()
                .filter_map(|i| agency_button(d, i))
                .collect();
            rows.push(vec![button(d, t::office_use_typed(l), "offtyped")]);
            (
                t::office_matches(l).replace("{typed}", &short(&typed, 60)),
                rows,
            )
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
        Step::When => (
            t::ask_when(l).into(),
            vec![
                vec![
                    button(d, t::when_this_month(l), "w:this_month"),
                    button(d, t::when_last_month(l), "w:last_month"),
                ],
                vec![
                    button(d, t::when_2to6(l), "w:2to6"),
                    button(d, t::when_older(l), "w:older"),
                ],
            ],
        ),
        Step::EditMenu => (t::ask_edit_field(l).into(), edit_rows(d)),
        _ => (String::new(), Vec::new()),
    }
}

/// The steps answered by typing (or one button: skip, remove, cancel).
fn typed_question(d: &mut Draft, step: Step) -> Question {
    let l = d.lang;
    match step {
        Step::Who => (
            t::ask_who(l).into(),
            vec![vec![button(d, t::skip_who(l), "skip")]],
        ),
        Step::Story => {
            let ask = if d.replacing_story {
                t::ask_story_replace(l)
            } else {
                t::ask_story(l)
            };
            // Back at the story with one written: a way on that adds nothing.
            let rows = if d.story.is_empty() || d.replacing_story {
                vec![]
            } else {
                vec![vec![button(d, t::story_continue(l), "done")]]
            };
            (ask.into(), rows)
        }
        Step::ReviewContact => {
            let rows = if d.contact.is_some() {
                vec![vec![button(d, t::remove_contact(l), "rmcontact")]]
            } else {
                vec![]
            };
            (t::ask_contact(l).into(), rows)
        }
        Step::ReviewNote => (t::ask_verify_note(l).into(), vec![]),
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
fn attachments_question(d: &mut Draft, out: &Outbox) -> Question {
    let l = d.lang;
    let originals = if out.keep_originals {
        t::originals_kept(l)
    } else {
        t::originals_not_kept(l)
    };
    let mut text = t::ask_attachments(l)
        .replace("{max_files}", &out.max_files.to_string())
        .replace("{originals}", originals);
    let mut rows = Vec::new();
    let cont = if d.attachments.is_empty() {
        t::attachments_none(l)
    } else {
        t::attachments_done(l)
    };
    rows.push(vec![button(d, cont, "cont")]);
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
    (text, rows)
}

/// The story's closing question: can it be verified (one answer); more text is still taken.
fn verify_question(d: &mut Draft) -> Question {
    let l = d.lang;
    let mut rows = choice_rows(d, catalog::VERIFICATION, "v");
    rows.push(vec![button(d, t::verify_none(l), "v:none")]);
    (t::ask_verify(l).into(), rows)
}

/// At most this many findings get their own button; any further ones are removed.
const MAX_FINDING_BUTTONS: usize = 20;

/// The text of a free-text field as the summary will hold it.
pub fn field_text(d: &Draft, field: TextField) -> String {
    match field {
        TextField::Office => d.office.clone().unwrap_or_default(),
        TextField::OfficeTyped => d.office_as_typed.clone().unwrap_or_default(),
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
        TextField::OfficeTyped,
        TextField::Officials,
        TextField::Story,
        TextField::VerificationNote,
    ] {
        let text = field_text(d, field);
        let found = crate::deid::detect(&text);
        let hint = match field {
            TextField::Officials => crate::deid::FieldHint::Officials,
            TextField::Office | TextField::OfficeTyped => crate::deid::FieldHint::Office,
            TextField::Story | TextField::VerificationNote => crate::deid::FieldHint::None,
        };
        let owners = crate::deid::owners(&text, &found, hint);
        for (f, owner) in found.into_iter().zip(owners) {
            let kind = f.kind.code().to_owned();
            // The reporter's earlier decision stands; otherwise the owner decides.
            let remove = previous
                .iter()
                .find(|p| {
                    p.field == field
                        && p.start == f.range.start
                        && p.end == f.range.end
                        && p.kind == kind
                })
                .map_or(owner.removed_by_default(), |p| p.remove);
            fresh.push(FindingChoice {
                field,
                start: f.range.start,
                end: f.range.end,
                kind,
                remove,
                owner: Some(owner.code().to_owned()),
            });
        }
    }
    d.findings = fresh;
}

/// The review, with the identifying details found in the text as it now stands.
pub fn towards_review(d: &mut Draft) -> Step {
    compute_findings(d);
    Step::Review
}

/// Whether a file sent now belongs to the report being written (any step before sending).
pub fn takes_files(step: Step) -> bool {
    ORDER.contains(&main_step(step.current()))
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
        Step::OfficeGroups | Step::OfficeGroup(_) | Step::OfficeConfirm => Step::Office,
        Step::PlacePick => Step::Place,
        Step::Redirect | Step::Redirected(_) => Step::Behaviour,
        Step::EditMenu | Step::ReviewContact | Step::ReviewNote => Step::Review,
        other => other,
    }
}

const ORDER: [Step; 10] = [
    Step::Behaviour,
    Step::Sector,
    Step::Office,
    Step::Place,
    Step::When,
    Step::Who,
    Step::Story,
    Step::Verify,
    Step::Attachments,
    Step::Review,
];

/// The step before `s` (Back).
pub fn previous(d: &Draft, s: Step) -> Step {
    match s {
        Step::OfficeGroup(_)
            if !sector_offices(d.sector.as_deref().unwrap_or_default()).is_empty() =>
        {
            return Step::OfficeGroups;
        }
        Step::Redirected(_) => return Step::Redirect,
        // Files were asked for only when the reporter said they had some.
        Step::Review
            if d.attachments.is_empty() && !d.verification.iter().any(|v| v == "documents") =>
        {
            return Step::Verify;
        }
        _ => {}
    }
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
    if next == Step::Review {
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

/// Back to the review (recomputing the findings) and asks it.
pub fn to_review(d: &mut Draft, out: &mut Outbox) {
    d.editing = false;
    let to = towards_review(d);
    goto(d, to, out);
}

/// Handles typed text at the current step. Returns false when the step takes no text.
pub fn on_text(d: &mut Draft, text: &str, max_story: usize, out: &mut Outbox) -> bool {
    let Some(step) = d.step.map(Step::current) else {
        return false;
    };
    d.step = Some(step);
    let l = d.lang;
    let text = text.trim();
    let one_line_ok = text.chars().count() <= MAX_FIELD_CHARS;
    let too_long = |n: usize| t::too_long(l).replace("{n}", &n.to_string());
    match step {
        Step::Office | Step::OfficeGroups | Step::OfficeGroup(_) | Step::OfficeConfirm => {
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
        Step::Who => {
            if !one_line_ok {
                out.say(too_long(MAX_FIELD_CHARS));
                return true;
            }
            d.officials = Some(text.to_owned());
            advance(d, Step::Who, out);
        }
        Step::Story | Step::Verify => {
            if !story_text(d, text, max_story) {
                out.say(too_long(max_story));
                return true;
            }
            goto(d, Step::Verify, out);
        }
        Step::ReviewNote => {
            if !one_line_ok {
                out.say(too_long(MAX_FIELD_CHARS));
                return true;
            }
            d.verification_note = Some(text.to_owned());
            to_review(d, out);
        }
        Step::ReviewContact => {
            if !one_line_ok {
                out.say(too_long(MAX_FIELD_CHARS));
                return true;
            }
            d.contact = Some(text.to_owned()).filter(|c| !c.is_empty());
            to_review(d, out);
        }
        _ => return false,
    }
    true
}

/// A story message: added (or replacing the old text when the reporter chose to rewrite it).
/// False when it would exceed the limit (nothing changes).
fn story_text(d: &mut Draft, text: &str, max_story: usize) -> bool {
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
    let step = d.step?.current();
    d.step = Some(step);
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
        (Step::Redirected(_), "stop") => {
            out.say(t::cancelled(l));
            return Some(forget_report(d));
        }
        (_, "back")
            if step_has_nav(step)
                && (d.editing || main_step(step) == Step::Review)
                && step != Step::Review
                && CaseSummary::from_draft(d).is_some() =>
        {
            // Back from a part opened on the review screen returns there, unchanged.
            d.replacing_story = false;
            d.office_typed = None;
            to_review(d, out);
        }
        (_, "back") if step_has_nav(step) => {
            d.replacing_story = false;
            let to = previous(d, step);
            if to == Step::Review {
                to_review(d, out);
            } else {
                goto(d, to, out);
            }
        }
        (
            Step::Behaviour
            | Step::Redirect
            | Step::Redirected(_)
            | Step::Sector
            | Step::Office
            | Step::OfficeGroups
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

/// A redirect explained, with the way on: continue as an anonymous report (or, for an
/// emergency, back to the list), or stop here.
fn redirected(
    d: &mut Draft,
    i: usize,
    contacts: &crate::config::Contacts,
    out: &mut Outbox,
) -> Option<()> {
    let l = d.lang;
    let code = catalog::REDIRECTS.get(i)?.code;
    let (text, contact) = match code {
        "denunciation" => (t::redirect_denunciation(l), &contacts.denunciation),
        "complaint" => (t::redirect_complaint(l), &contacts.complaint),
        "feedback" => (t::redirect_feedback(l), &contacts.feedback),
        "emergency" => (t::redirect_emergency(l), &contacts.emergency),
        _ => return None,
    };
    d.step = Some(Step::Redirected(u8::try_from(i).ok()?));
    d.token = d.token.wrapping_add(1);
    let first = if code == "emergency" {
        button(d, t::back(l), "back")
    } else {
        button(d, t::continue_anonymous(l), "anon")
    };
    let rows = vec![vec![first], vec![button(d, t::stop_here(l), "stop")]];
    let contact = contact.trim().trim_end_matches('.');
    out.ask(text.replace("{contact}", contact), Keyboard::new(rows));
    Some(())
}

/// A button of the steps that say what happened where: behaviour, redirects, sector, office,
/// place, time. `None`: not a button of this step (stale or forged).
fn pick(
    d: &mut Draft,
    step: Step,
    verb: &str,
    arg: &str,
    contacts: &crate::config::Contacts,
    out: &mut Outbox,
) -> Option<Persist> {
    match (step, verb) {
        (Step::Behaviour, "beh") => {
            let b = catalog::find(catalog::BEHAVIOURS, arg)?;
            d.behaviour = Some(b.code.to_owned());
            d.category = Some(catalog::category_of(b.code).to_owned());
            advance(d, Step::Behaviour, out);
        }
        (Step::Behaviour, "redir") => goto(d, Step::Redirect, out),
        (Step::Redirect, "redir") => {
            let i = catalog::REDIRECTS.iter().position(|c| c.code == arg)?;
            redirected(d, i, contacts, out)?;
        }
        (Step::Redirected(_), "anon") => {
            // The consent given stands: one tap on to the report.
            goto(d, Step::Behaviour, out);
        }
        (Step::Sector, "sec") => {
            catalog::find(catalog::SECTORS, arg)?;
            d.sector = Some(arg.to_owned());
            advance(d, Step::Sector, out);
        }
        (Step::Office, "more") => goto(d, Step::OfficeGroups, out),
        (Step::Office | Step::OfficeGroups, "og") => {
            let g: u8 = arg.parse().ok().filter(|g| *g <= 2)?;
            goto(d, Step::OfficeGroup(g), out);
        }
        (Step::Office | Step::OfficeGroup(_) | Step::OfficeConfirm, "off") => {
            let i: usize = arg.parse().ok()?;
            let listed = match step {
                Step::Office => sector_offices(d.sector.as_deref().unwrap_or_default())
                    .iter()
                    .any(|name| agency_index(name) == Some(i)),
                Step::OfficeGroup(_) => true,
                _ => places::search_agencies(d.office_typed.as_deref().unwrap_or_default(), 6)
                    .contains(&i),
            };
            if !listed {
                return None;
            }
            let a = places::agencies().get(i)?;
            d.office = Some(a.name.clone());
            // The words typed stay beside the office they were matched to.
            d.office_as_typed = match step {
                Step::OfficeConfirm => d.office_typed.take(),
                _ => None,
            };
            d.office_typed = None;
            advance(d, Step::Office, out);
        }
        (Step::OfficeConfirm, "offtyped") => {
            d.office = d.office_typed.take();
            d.office.as_ref()?;
            d.office_as_typed = None;
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
            d.when = Some(match arg {
                "this_month" => When::ThisMonth,
                "last_month" => When::LastMonth,
                "2to6" => When::Months2To6,
                "older" => When::Older,
                _ => return None,
            });
            advance(d, Step::When, out);
        }
        _ => return None,
    }
    Some(Persist::Save)
}

/// A button of the later steps: who, story, verification, files, review and its parts.
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
        (Step::Story, "done") if !d.story.is_empty() => goto(d, Step::Verify, out),
        (Step::Verify, "v") => {
            d.replacing_story = false;
            if d.story.iter().all(|s| s.trim().is_empty()) {
                out.say(t::story_empty(l));
                goto(d, Step::Story, out);
                return Some(Persist::Save);
            }
            if arg == "none" {
                d.verification.clear();
            } else {
                catalog::find(catalog::VERIFICATION, arg)?;
                d.verification = vec![arg.to_owned()];
            }
            if arg == "documents" {
                goto(d, Step::Attachments, out);
            } else {
                to_review(d, out);
            }
        }
        (Step::Attachments, "cont") => to_review(d, out),
        (Step::Attachments, "rm") => {
            let i: usize = arg.parse().ok()?;
            if i >= d.attachments.len() {
                return None;
            }
            d.attachments.remove(i);
            out.say(t::file_removed(l));
            prompt(d, out);
        }
        (Step::Review, "fk") => {
            let i: usize = arg.parse().ok()?;
            let f = d.findings.get_mut(i)?;
            f.remove = !f.remove;
            // Re-draw the same message with the new state, same token.
            d.token = d.token.wrapping_sub(1);
            let mut tmp = Outbox::default();
            prompt(d, &mut tmp);
            if let Some(Out::Send {
                text,
                keyboard: Some(keyboard),
                ..
            }) = tmp.items.pop()
            {
                out.items.push(Out::EditText {
                    msg_id,
                    text,
                    keyboard,
                });
            }
        }
        (Step::Review, "contact") => goto(d, Step::ReviewContact, out),
        (Step::Review, "note") => goto(d, Step::ReviewNote, out),
        (Step::Review, "files") => {
            d.editing = true;
            goto(d, Step::Attachments, out);
        }
        (Step::Review, "edit") => goto(d, Step::EditMenu, out),
        (Step::ReviewContact, "rmcontact") => {
            d.contact = None;
            to_review(d, out);
        }
        (Step::EditMenu, "ef") => {
            let to = match arg {
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
    fn every_sector_office_is_in_the_agencies_file() {
        for s in catalog::SECTORS {
            for name in sector_offices(s.code) {
                assert!(agency_index(name).is_some(), "{name}");
            }
        }
        assert!(sector_offices("other").is_empty());
    }

    #[test]
    fn back_goes_to_the_previous_main_step() {
        let d = Draft {
            sector: Some("land".into()),
            ..Draft::default()
        };
        assert_eq!(previous(&d, Step::Sector), Step::Behaviour);
        assert_eq!(previous(&d, Step::Behaviour), Step::Behaviour);
        assert_eq!(previous(&d, Step::Verify), Step::Story);
        assert_eq!(previous(&d, Step::Attachments), Step::Verify);
        assert_eq!(previous(&d, Step::PlacePick), Step::Place);
        assert_eq!(previous(&d, Step::OfficeGroup(1)), Step::OfficeGroups);
        assert_eq!(previous(&d, Step::OfficeGroups), Step::Office);
        assert_eq!(
            previous(&d, Step::Review),
            Step::Verify,
            "no files were asked for"
        );
        assert_eq!(previous(&d, Step::Redirected(0)), Step::Redirect);
        let with_files = Draft {
            verification: vec!["documents".into()],
            ..d
        };
        assert_eq!(previous(&with_files, Step::Review), Step::Attachments);
    }
}
