//! Properties of the dialogue core, driven the way the adapter drives it: events in, the draft
//! kept only when the turn says so, effects answered, buttons pressed by their data.

use proptest::prelude::*;

use super::catalog;
use super::draft::{Draft, DraftAttachment, MediaKind, Step};
use super::event::{Event, IncomingFile, Input, from_callback};
use super::files::{self, FileCheck};
use super::flow;
use super::keyboard::Keyboard;
use super::machine::{self, Ctx, Decision, Effect, Memo, ReceiptCheck, Session, Submission, Turn};
use super::outbox::{Out, Outbox, Persist};
use super::summary::CaseSummary;
use super::texts::Lang;
use crate::config::{Contacts, Limits, Retention};

fn limits() -> Limits {
    Limits {
        reports_per_day: 5,
        receipt_attempts_per_hour: 10,
        updates_per_minute: 60,
        max_report_chars: 4000,
        max_attachments: 3,
        max_attachment_bytes: 50_000_000,
        keep_original_attachments: true,
    }
}

/// One person and what the adapter would hold for them: the stored draft (if any), the
/// in-memory session, the last prompt's buttons.
struct Person {
    d: Draft,
    has_draft: bool,
    session: Session,
    next_msg: i32,
    buttons: Option<Keyboard>,
    review_text: Option<String>,
    sealed: Vec<CaseSummary>,
    limits: Limits,
    retention: Retention,
    contacts: Contacts,
}

impl Person {
    fn new() -> Self {
        Self {
            d: Draft::default(),
            has_draft: false,
            session: Session::default(),
            next_msg: 1,
            buttons: None,
            review_text: None,
            sealed: Vec::new(),
            limits: limits(),
            retention: Retention {
                draft_hours: 48,
                closed_case_days: 365,
            },
            contacts: Contacts {
                denunciation: "a".into(),
                complaint: "b".into(),
                feedback: "c".into(),
            },
        }
    }

    fn msg(&mut self) -> i32 {
        self.next_msg += 1;
        self.next_msg
    }

    /// One turn, as `bot::turn` runs it.
    fn turn(&mut self, event: Event) -> Persist {
        let ctx = Ctx {
            has_draft: self.has_draft,
            session: self.session,
            limits: &self.limits,
            retention: &self.retention,
            contacts: &self.contacts,
            download_limit: 20 * 1024 * 1024,
        };
        let mut d = if self.has_draft {
            self.d.clone()
        } else {
            Draft {
                lang: Lang::Vi,
                ..Draft::default()
            }
        };
        let mut out = Outbox::new(self.limits.max_report_chars);
        let mut turn = Turn::default();
        let persist = match machine::decide(&mut d, &ctx, event, &mut out, &mut turn) {
            Decision::Done(p) => p,
            Decision::Effect(effect) => {
                let review = self.review_text.clone();
                effect_done(
                    &mut d,
                    &ctx,
                    effect,
                    &mut out,
                    &mut turn,
                    review,
                    &mut self.sealed,
                )
            }
        };
        self.apply(&turn.memos);
        let receipt_sent = out.items.iter().any(|o| matches!(o, Out::Receipt { .. }));
        match persist {
            Persist::Save | Persist::Committed(_) => {
                d.track(turn.track);
                self.d = d;
                self.has_draft = true;
            }
            Persist::Delete => {
                self.d = Draft::default();
                self.has_draft = false;
            }
            Persist::Nothing => {}
        }
        if receipt_sent && self.d.step == Some(Step::Submitted) {
            // Delivered: the adapter deletes the submitted report's draft.
            self.d = Draft::default();
            self.has_draft = false;
        }
        self.observe(out);
        persist
    }

    fn apply(&mut self, memos: &[Memo]) {
        for m in memos {
            match m {
                Memo::CloseStatus => self.session = Session::default(),
                Memo::StartReply => self.session.replying = self.session.status_open,
                Memo::ExpectReceipt => {}
            }
        }
    }

    /// Remembers the last prompt's buttons and the review screen; checks every button.
    fn observe(&mut self, out: Outbox) {
        for item in out.items {
            let (text, keyboard) = match item {
                Out::Send { text, keyboard, .. } => (text, keyboard),
                Out::Receipt { keyboard, .. } => (String::new(), Some(keyboard)),
                _ => continue,
            };
            if let Some(k) = keyboard {
                for b in k.buttons() {
                    assert!(b.data.len() <= 64, "callback data over Telegram's 64 bytes");
                    assert!(!b.label.is_empty());
                }
                if self.has_draft && self.d.step == Some(Step::Review) {
                    self.review_text = Some(text.clone());
                }
                self.buttons = Some(k);
            }
        }
    }

    /// Presses the button of the last prompt whose action (after the token) is `action`.
    fn press(&mut self, action: &str) -> bool {
        let Some(data) = self.buttons.as_ref().and_then(|k| {
            k.buttons()
                .map(|b| b.data.clone())
                .find(|d| d.split_once('|').map(|(_, a)| a) == Some(action) || d == action)
        }) else {
            return false;
        };
        let msg = self.msg();
        self.turn(from_callback(&data, msg));
        true
    }

    /// Presses the `n`th button of the last prompt whose action starts with `prefix`.
    fn press_nth(&mut self, prefix: &str, n: usize) -> bool {
        let found: Vec<String> = self
            .buttons
            .as_ref()
            .map(|k| {
                k.buttons()
                    .map(|b| b.data.clone())
                    .filter(|d| {
                        d.split_once('|')
                            .is_some_and(|(_, a)| a.starts_with(prefix))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if found.is_empty() {
            return false;
        }
        let data = found[n % found.len()].clone();
        let msg = self.msg();
        self.turn(from_callback(&data, msg));
        true
    }

    fn type_text(&mut self, text: &str) {
        let msg_id = self.msg();
        self.turn(Event::Input(Input::Text {
            text: text.to_owned(),
            msg_id,
        }));
    }

    fn start(&mut self) {
        let msg_id = self.msg();
        self.turn(Event::Start { msg_id });
        assert!(self.press_consent());
    }

    fn press_consent(&mut self) -> bool {
        let Some(data) = self.buttons.as_ref().and_then(|k| {
            k.buttons()
                .map(|b| b.data.clone())
                .find(|d| d.starts_with("consent:yes"))
        }) else {
            return false;
        };
        let msg = self.msg();
        self.turn(from_callback(&data, msg));
        true
    }

    /// The draft is one the adapter can store and read back, and its prompt can be answered.
    fn check_valid(&self) {
        if !self.has_draft {
            return;
        }
        let d = &self.d;
        let json = serde_json::to_string(d).expect("serialises");
        let back: Draft = serde_json::from_str(&json).expect("parses");
        assert_eq!(serde_json::to_string(&back).expect("serialises"), json);
        if d.step.is_some() {
            assert!(d.consented, "a step without consent");
        }
        if d.step == Some(Step::Review) {
            assert!(
                CaseSummary::from_draft(d).is_some(),
                "review without a summary"
            );
        }
        for f in &d.findings {
            assert!(
                flow::field_text(d, f.field).get(f.start..f.end).is_some(),
                "a finding outside its field"
            );
        }
        assert!(d.attachments.len() <= self.limits.max_attachments);
        assert!(
            d.return_step
                .is_none_or(|s| !matches!(s, Step::StatusReceipt | Step::StatusReply))
        );
    }
}

/// Answers an effect as the services would, with the summary sealed recorded (and checked
/// against the review screen the reporter saw).
fn effect_done(
    d: &mut Draft,
    ctx: &Ctx,
    effect: Effect,
    out: &mut Outbox,
    turn: &mut Turn,
    review: Option<String>,
    sealed: &mut Vec<CaseSummary>,
) -> Persist {
    match effect {
        Effect::Submit => {
            let summary = CaseSummary::from_draft(d).expect("submit only with a summary");
            let shown = review.expect("submit only after a review screen");
            assert!(
                shown.contains(&summary.render(d.lang)),
                "the summary sealed is not the one shown"
            );
            sealed.push(summary);
            let after = machine::submitted_draft(d, "00".repeat(16), 1);
            let result = Submission::Done {
                code: "KH-TEST".into(),
                receipt: zeroize::Zeroizing::new("AAAA-BBBB-CCCC-DDDD".into()),
                after: Box::new(after),
                version: 1,
            };
            machine::submitted(d, result, out)
        }
        Effect::CheckReceipt { retry, .. } => {
            machine::receipt_checked(d, ctx, ReceiptCheck::NotFound, retry, out, turn)
        }
        Effect::StoreReply { .. } => machine::reply_stored(d, out, turn),
        Effect::CheckFile(file) => {
            let a = DraftAttachment {
                file_id: file.file_id.clone(),
                media: file.media,
                size: file.size,
                sha256: "00".repeat(32),
                format: "JPEG".into(),
                extension: "jpg".into(),
                cleanable: true,
                removed: vec!["EXIF".into()],
                remaining: Vec::new(),
                unchecked: false,
            };
            files::file_checked(d, ctx, file.caption.as_deref(), FileCheck::Checked(a), out)
        }
    }
}

/// The answers of one complete report.
#[derive(Debug, Clone)]
struct Plan {
    category: usize,
    behaviour: usize,
    sector: usize,
    office: (u8, usize),
    place: Option<&'static str>,
    when: usize,
    who: Option<&'static str>,
    story: Vec<&'static str>,
    verify: Vec<usize>,
    note: Option<&'static str>,
}

const STORIES: &[&str] = &[
    "Cán bộ một cửa đòi 500 nghìn mới nhận hồ sơ đất.",
    "Ông ấy hẹn tôi ra quán cà phê để đưa tiền, gọi tôi qua số 0905 000 123.",
    "They asked for money to stamp the form.",
    "Hồ sơ bị trả lại ba lần không có lý do.",
];

fn plan() -> impl Strategy<Value = Plan> {
    (
        (0usize..8, 0usize..12, 0usize..12, (0u8..3, 0usize..40)),
        (
            prop::option::of(prop::sample::select(vec![
                "Cam Ranh",
                "Nha Trang",
                "Ninh Hải",
            ])),
            0usize..4,
            prop::option::of(prop::sample::select(vec![
                "Ông Trần Văn B, cán bộ địa chính",
                "Phòng tiếp nhận",
            ])),
            prop::collection::vec(prop::sample::select(STORIES.to_vec()), 1..3),
            prop::collection::vec(0usize..6, 0..3),
            prop::option::of(prop::sample::select(vec!["Có biên lai viết tay"])),
        ),
    )
        .prop_map(
            |((category, behaviour, sector, office), (place, when, who, story, verify, note))| {
                Plan {
                    category,
                    behaviour,
                    sector,
                    office,
                    place,
                    when,
                    who,
                    story,
                    verify,
                    note,
                }
            },
        )
}

/// One step towards the review screen, by the plan, whatever step the person is at (so the
/// same function goes forward again after Back). False once at the review screen.
fn forward(p: &mut Person, plan: &Plan) -> bool {
    let Some(step) = p.d.step else {
        return false;
    };
    let d = &p.d;
    match step {
        Step::Review => return false,
        Step::Category => {
            let c = catalog::CATEGORIES[plan.category % catalog::CATEGORIES.len()].code;
            p.press(&format!("cat:{c}"));
        }
        Step::Behaviour => {
            let list = catalog::behaviours(d.category.as_deref().unwrap_or_default());
            let b = list[plan.behaviour % list.len()].code;
            p.press(&format!("beh:{b}"));
        }
        Step::Sector => {
            let s = catalog::SECTORS[plan.sector % catalog::SECTORS.len()].code;
            p.press(&format!("sec:{s}"));
        }
        Step::Office => {
            p.press(&format!("og:{}", plan.office.0));
        }
        Step::OfficeGroup(_) | Step::OfficeConfirm => {
            p.press_nth("off", plan.office.1);
        }
        Step::Place => match plan.place {
            Some(name) => p.type_text(name),
            None => {
                p.press("pnone");
            }
        },
        Step::PlacePick => {
            if !p.press_nth("p:", 0) {
                p.press("pnone");
            }
        }
        Step::When => {
            let w = ["today", "week", "month", "earlier"][plan.when];
            p.press(&format!("w:{w}"));
        }
        Step::Month => p.type_text("3/2025"),
        Step::Who => match plan.who {
            Some(who) if d.officials.is_none() => p.type_text(who),
            Some(_) => {
                let again = d.officials.clone().unwrap_or_default();
                if again.is_empty() {
                    p.press("skip");
                } else {
                    p.type_text(&again);
                }
            }
            None => {
                p.press("skip");
            }
        },
        Step::Story => {
            if d.story.len() < plan.story.len() && !d.story.iter().any(|s| s == plan.story[0]) {
                let next = plan.story[d.story.len()];
                p.type_text(next);
            } else {
                p.press("done");
            }
        }
        Step::Attachments | Step::Findings => {
            p.press("cont");
        }
        Step::Verify => {
            let missing = plan
                .verify
                .iter()
                .map(|i| catalog::VERIFICATION[i % catalog::VERIFICATION.len()].code)
                .find(|c| !d.verification.iter().any(|v| v == c));
            match missing {
                Some(code) => p.press(&format!("v:{code}")),
                None => p.press("cont"),
            };
        }
        Step::VerifyNote => match (plan.note, d.verification_note.clone()) {
            (_, Some(kept)) if !kept.is_empty() => p.type_text(&kept),
            (Some(note), None) => p.type_text(note),
            _ => {
                p.press("skip");
            }
        },
        Step::Contact => {
            p.press("ct:no");
        }
        other => panic!("unexpected step on the way to review: {other:?}"),
    }
    true
}

fn to_review(p: &mut Person, plan: &Plan) {
    for _ in 0..60 {
        p.check_valid();
        if !forward(p, plan) {
            break;
        }
    }
    assert_eq!(
        p.d.step,
        Some(Step::Review),
        "did not reach the review screen"
    );
}

/// Something a person might do at any moment.
#[derive(Debug, Clone)]
enum Act {
    Press(usize),
    PressOld,
    Forged(String),
    Text(String),
    File { forwarded: bool },
    Start,
    Cancel,
    Lang,
    Status,
    Wipe,
    Help,
    Notice,
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        6 => (0usize..30).prop_map(Act::Press),
        1 => Just(Act::PressOld),
        1 => "[a-z0-9:|]{0,70}".prop_map(Act::Forged),
        3 => prop_oneof![
            prop::sample::select(vec![
                "Nha Trang".to_owned(),
                "3/2025".to_owned(),
                "Sở Xây dựng".to_owned(),
                "gọi 0905 000 123".to_owned(),
                "".to_owned(),
                "x".repeat(5000),
            ]),
            "\\PC{0,40}",
        ]
        .prop_map(Act::Text),
        1 => any::<bool>().prop_map(|forwarded| Act::File { forwarded }),
        1 => Just(Act::Start),
        1 => Just(Act::Cancel),
        1 => Just(Act::Lang),
        1 => Just(Act::Status),
        1 => Just(Act::Wipe),
        1 => Just(Act::Help),
        1 => Just(Act::Notice),
    ]
}

fn perform(p: &mut Person, a: &Act, old: &mut Option<String>) {
    let msg_id = p.msg();
    match a {
        Act::Press(n) => {
            let all: Vec<String> = p
                .buttons
                .as_ref()
                .map(|k| k.buttons().map(|b| b.data.clone()).collect())
                .unwrap_or_default();
            if all.is_empty() {
                return;
            }
            let data = all[n % all.len()].clone();
            *old = Some(data.clone());
            p.turn(from_callback(&data, msg_id));
        }
        Act::PressOld => {
            if let Some(data) = old.clone() {
                p.turn(from_callback(&data, msg_id));
            }
        }
        Act::Forged(data) => {
            p.turn(from_callback(data, msg_id));
        }
        Act::Text(text) => {
            p.turn(Event::Input(Input::Text {
                text: text.clone(),
                msg_id,
            }));
        }
        Act::File { forwarded } => {
            p.turn(Event::File {
                file: IncomingFile {
                    file_id: "f".into(),
                    size: 1000,
                    media: MediaKind::Photo,
                    caption: Some("ảnh biên lai".into()),
                },
                msg_id,
                forwarded: *forwarded,
            });
        }
        Act::Start => {
            p.turn(Event::Start { msg_id });
        }
        Act::Cancel => {
            p.turn(Event::Cancel { msg_id });
        }
        Act::Lang => {
            p.turn(Event::SwitchLang { msg_id });
        }
        Act::Status => {
            p.turn(Event::Status {
                msg_id,
                receipt: None,
                spotted: false,
            });
        }
        Act::Wipe => {
            p.turn(Event::Wipe { msg_id });
        }
        Act::Help => {
            p.turn(Event::Help { msg_id });
        }
        Act::Notice => {
            p.turn(Event::Notice {
                text: super::texts::contact_refused,
                msg_id,
                delete: true,
            });
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever a person does, in any order, the draft stays one the adapter can store, read
    /// back and answer, and a submission seals exactly the summary last shown.
    #[test]
    fn any_sequence_of_events_keeps_the_draft_valid(
        consent_first in any::<bool>(),
        acts in prop::collection::vec(act(), 1..80),
    ) {
        let mut p = Person::new();
        if consent_first {
            p.start();
        }
        let mut old = None;
        for a in &acts {
            perform(&mut p, a, &mut old);
            p.check_valid();
        }
    }

    /// Back from any step of a complete report, then forward again with the same answers,
    /// reaches the same summary.
    #[test]
    fn back_then_forward_gives_the_same_summary(plan in plan(), backs in 1usize..14) {
        let mut p = Person::new();
        p.start();
        to_review(&mut p, &plan);
        let before = CaseSummary::from_draft(&p.d).expect("a summary").render(Lang::Vi);
        for _ in 0..backs {
            if !p.press("back") {
                break;
            }
            p.check_valid();
        }
        to_review(&mut p, &plan);
        let after = CaseSummary::from_draft(&p.d).expect("a summary").render(Lang::Vi);
        prop_assert_eq!(before, after);
    }

    /// The summary sealed is exactly the one on the review screen the reporter last saw.
    #[test]
    fn the_summary_shown_is_the_summary_sealed(plan in plan()) {
        let mut p = Person::new();
        p.start();
        to_review(&mut p, &plan);
        prop_assert!(p.press("send"));
        prop_assert_eq!(p.sealed.len(), 1);
        // The receipt is out and the draft gone: nothing under the pseudonym says they reported.
        prop_assert!(!p.has_draft);
    }
}
