//! The de-identified case summary the Inspectorate receives, and the identity sealed to
//! custodians. The reporter sees exactly [`CaseSummary::render`] before sending.

use serde::{Deserialize, Serialize};

use super::catalog;
use super::draft::{Draft, DraftAttachment, Place, TextField, When};
use super::texts::{self, Lang};
use crate::clock::Day;

/// The summary payload, sealed to reviewers as a `summary` item.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CaseSummary {
    /// Payload format version.
    pub version: u32,
    /// The reporter's language (so reviewers answer in it).
    pub language: Lang,
    /// Category code.
    pub category: String,
    /// Behaviour code.
    pub behaviour: String,
    /// Sector code.
    pub sector: String,
    /// Office as chosen or typed.
    pub office: String,
    /// The office as the reporter typed it, when they chose a listed office for it (empty
    /// otherwise): their words often name the unit ("văn phòng đăng ký đất đai") that the
    /// list only names the body of.
    #[serde(default)]
    pub office_typed: String,
    /// Commune-level unit, or `None` when the reporter preferred not to say.
    pub place: Option<String>,
    /// When, as the reporter gave it, resolved against the submission day.
    pub when: String,
    /// Officials named (empty when not given).
    pub officials: String,
    /// What happened.
    pub story: String,
    /// Verification codes.
    pub verification: Vec<String>,
    /// Verification note (empty when not given).
    pub verification_note: String,
    /// The evidence files, as separate sealed items (this lists them, with what was done to
    /// their metadata).
    #[serde(default)]
    pub attachments: Vec<AttachmentNote>,
}

/// One evidence file as the summary lists it.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttachmentNote {
    /// Neutral name, `attachment-N.ext`.
    pub name: String,
    /// Format recognised by content.
    pub format: String,
    /// True only when all identifying metadata we know of was removed (or none was found).
    /// False when the format could not be cleaned, the file could not be checked, or parts
    /// of it stay as they were (`remaining`).
    pub metadata_removed: bool,
    /// What was removed.
    pub removed: Vec<String>,
    /// What stays in the cleaned copy (parts that could not be cleaned).
    #[serde(default)]
    pub remaining: Vec<String>,
    /// The file could not be parsed, so nothing was removed; not a matter of its format.
    #[serde(default)]
    pub unchecked: bool,
}

impl AttachmentNote {
    /// How the `index`-th (0-based) file of a draft is listed.
    pub fn of(index: usize, a: &DraftAttachment) -> Self {
        AttachmentNote {
            name: attachment_name(index, &a.extension),
            format: a.format.clone(),
            metadata_removed: a.cleanable && a.remaining.is_empty() && !a.unchecked,
            removed: a.removed.clone(),
            remaining: if a.cleanable {
                a.remaining.clone()
            } else {
                Vec::new()
            },
            unchecked: !a.cleanable && a.unchecked,
        }
    }

    /// One line: name, format, and what happened to the metadata.
    pub fn render(&self, lang: Lang) -> String {
        let state = if self.unchecked {
            format!("⚠️ {}", texts::file_unchecked(lang))
        } else if !self.remaining.is_empty() {
            let left = format!(
                "{} {}",
                texts::metadata_left(lang),
                self.remaining.join(", ")
            );
            if self.removed.is_empty() {
                format!("⚠️ {left}")
            } else {
                format!(
                    "⚠️ {} {}; {left}",
                    texts::metadata_partly_removed(lang),
                    self.removed.join(", ")
                )
            }
        } else if !self.metadata_removed {
            format!("⚠️ {} {}", texts::metadata_not_removed(lang), self.format)
        } else if self.removed.is_empty() {
            texts::metadata_none_found(lang).to_owned()
        } else {
            format!(
                "{} {}",
                texts::metadata_removed(lang),
                self.removed.join(", ")
            )
        };
        format!("{} ({}) — {state}", self.name, self.format)
    }
}

/// The neutral name of the `index`-th (0-based) file.
pub fn attachment_name(index: usize, extension: &str) -> String {
    format!("attachment-{}.{extension}", index + 1)
}

crate::json_payload!(CaseSummary);

/// The reporter's identity, sealed to custodians only as an `identity` item.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Identity {
    /// Telegram user id.
    pub telegram_user_id: i64,
    /// Telegram username, if any.
    pub username: Option<String>,
    /// First name as Telegram shows it.
    pub first_name: String,
    /// Last name, if any.
    pub last_name: Option<String>,
    /// Telegram language code.
    pub language_code: Option<String>,
    /// Contact details the reporter chose to leave.
    pub contact: Option<String>,
}

crate::json_payload!(Identity);

/// A plain text message (replies in both directions, notes).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TextMessage {
    /// The text.
    pub text: String,
}

crate::json_payload!(TextMessage);

/// The month `back` months before `(y, m)`.
fn months_before(y: i32, m: u8, back: u8) -> (i32, u8) {
    let total = y * 12 + i32::from(m) - 1 - i32::from(back);
    (
        total.div_euclid(12),
        u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1),
    )
}

fn when_text(w: When, day: Day, lang: Lang) -> String {
    let (y, m) = day.year_month();
    match (w, lang) {
        (When::Today, _) => day.to_string(),
        (When::ThisWeek, Lang::Vi) => format!("trong tuần trước ngày {day}"),
        (When::ThisWeek, Lang::En) => format!("in the week up to {day}"),
        (When::ThisMonth, _) => texts::month_year(m, y, lang),
        (When::LastMonth, _) => {
            let (y, m) = months_before(y, m, 1);
            texts::month_year(m, y, lang)
        }
        (When::Months2To6, _) => {
            let (y1, m1) = months_before(y, m, 6);
            let (y2, m2) = months_before(y, m, 2);
            match lang {
                Lang::Vi => format!("từ tháng {m1}/{y1} đến tháng {m2}/{y2}"),
                Lang::En => format!("{m1}/{y1}–{m2}/{y2}"),
            }
        }
        (When::Older, _) => {
            let (y1, m1) = months_before(y, m, 6);
            match lang {
                Lang::Vi => format!("trước tháng {m1}/{y1}"),
                Lang::En => format!("before {m1}/{y1}"),
            }
        }
        (When::Month { year, month }, _) => texts::month_year(month, year, lang),
    }
}

impl CaseSummary {
    /// The draft's files as the summary will list them.
    pub fn attachment_notes(d: &Draft) -> Vec<AttachmentNote> {
        d.attachments
            .iter()
            .enumerate()
            .map(|(i, a)| AttachmentNote::of(i, a))
            .collect()
    }

    /// Builds the summary from a completed draft — with the identifying details the reporter
    /// chose to remove replaced by placeholders — or `None` if something required is missing.
    pub fn from_draft(d: &Draft) -> Option<CaseSummary> {
        let day = Day(d.review_day?);
        // A report says what happened: never one without it.
        if d.story.iter().all(|s| s.trim().is_empty()) {
            return None;
        }
        let redacted = |field: TextField| -> String {
            let text = super::flow::field_text(d, field);
            let mine: Vec<_> = d.findings.iter().filter(|f| f.field == field).collect();
            let findings: Vec<crate::deid::Finding> = mine
                .iter()
                .filter_map(|f| {
                    Some(crate::deid::Finding {
                        kind: crate::deid::FindingKind::from_code(&f.kind)?,
                        range: f.start..f.end,
                    })
                })
                .collect();
            let remove: Vec<bool> = mine.iter().map(|f| f.remove).collect();
            if findings.is_empty() {
                text
            } else {
                crate::deid::redact(&text, &findings, &remove, d.lang.deid())
            }
        };
        Some(CaseSummary {
            version: 1,
            language: d.lang,
            category: d.category.clone()?,
            behaviour: d.behaviour.clone()?,
            sector: d.sector.clone()?,
            office: {
                d.office.as_ref()?;
                redacted(TextField::Office)
            },
            office_typed: redacted(TextField::OfficeTyped),
            place: match d.place.as_ref()? {
                Place::Unit(u) => Some(u.clone()),
                Place::Undisclosed => None,
            },
            when: when_text(d.when?, day, d.lang),
            officials: redacted(TextField::Officials),
            story: redacted(TextField::Story),
            verification: d.verification.clone(),
            verification_note: redacted(TextField::VerificationNote),
            attachments: Self::attachment_notes(d),
        })
    }

    /// The summary as a person reads it, in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        let behaviour = catalog::behaviour_label(&self.behaviour, lang);
        let sector = catalog::find(catalog::SECTORS, &self.sector)
            .map(|c| c.label(lang))
            .unwrap_or("?");
        let or_not_given = |s: &str| {
            if s.trim().is_empty() {
                texts::not_given(lang).to_owned()
            } else {
                s.to_owned()
            }
        };
        let verification: Vec<&str> = self
            .verification
            .iter()
            .filter_map(|v| catalog::verification_label(v, lang))
            .collect();
        let mut verify = verification.join("; ");
        if !self.verification_note.trim().is_empty() {
            if !verify.is_empty() {
                verify.push_str(". ");
            }
            verify.push_str(self.verification_note.trim());
        }
        let office = if self.office_typed.trim().is_empty() {
            self.office.clone()
        } else {
            format!(
                "{} ({}: \"{}\")",
                self.office,
                texts::office_typed_note(lang),
                self.office_typed.trim()
            )
        };
        let files = if self.attachments.is_empty() {
            texts::no_attachments(lang).to_owned()
        } else {
            self.attachments
                .iter()
                .map(|a| format!("\n  – {}", a.render(lang)))
                .collect()
        };
        format!(
            "• {}: {}\n• {}: {}\n• {}: {}\n• {}: {}\n• {}: {}\n• {}: {}\n• {}: {}\n• {}: {}\n• {}: {}\n• {}:\n{}",
            texts::field_category(lang),
            catalog::category_label(&self.category, lang),
            texts::field_behaviour(lang),
            behaviour,
            texts::field_sector(lang),
            sector,
            texts::field_office(lang),
            office,
            texts::field_place(lang),
            self.place
                .clone()
                .unwrap_or_else(|| texts::place_undisclosed(lang).to_owned()),
            texts::field_when(lang),
            self.when,
            texts::field_who(lang),
            or_not_given(&self.officials),
            texts::field_verify(lang),
            or_not_given(&verify),
            texts::field_attachments(lang),
            files,
            texts::field_story(lang),
            self.story.trim(),
        )
    }
}
