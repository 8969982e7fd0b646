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
                emergency: "113".into(),
                controller: "d".into(),
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
        let mut out = Outbox::new(&self.limits);
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
                Out::EditText { text, keyboard, .. } => (text, Some(keyboard)),
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
    behaviour: usize,
    sector: usize,
    /// How the office is found (0: the sector's list, 1: "another office…", 2: typed), and
    /// which one.
    office: (u8, usize),
    place: Option<&'static str>,
    when: usize,
    who: Option<&'static str>,
    story: Vec<&'static str>,
    /// 0–2: a verification means; 3: none.
    verify: usize,
}

const STORIES: &[&str] = &[
    "Cán bộ một cửa đòi 500 nghìn mới nhận hồ sơ đất.",
    "Ông ấy hẹn tôi ra quán cà phê để đưa tiền, gọi tôi qua số 0905 000 123.",
    "They asked for money to stamp the form.",
    "Hồ sơ bị trả lại ba lần không có lý do.",
];

fn plan() -> impl Strategy<Value = Plan> {
    (
        (0usize..12, 0usize..12, (0u8..3, 0usize..40)),
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
            0usize..4,
        ),
    )
        .prop_map(
            |((behaviour, sector, office), (place, when, who, story, verify))| Plan {
                behaviour,
                sector,
                office,
                place,
                when,
                who,
                story,
                verify,
            },
        )
}

fn has_button(p: &Person, prefix: &str) -> bool {
    p.buttons.as_ref().is_some_and(|k| {
        k.buttons().any(|b| {
            b.data
                .split_once('|')
                .is_some_and(|(_, a)| a.starts_with(prefix))
        })
    })
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
        Step::Behaviour => {
            let b = catalog::BEHAVIOURS[plan.behaviour % catalog::BEHAVIOURS.len()].code;
            p.press(&format!("beh:{b}"));
        }
        Step::Redirect => {
            p.press("back");
        }
        Step::Redirected(_) => {
            p.press("anon");
        }
        Step::Sector => {
            let s = catalog::SECTORS[plan.sector % catalog::SECTORS.len()].code;
            p.press(&format!("sec:{s}"));
        }
        Step::Office => match plan.office.0 {
            0 if has_button(p, "off:") => {
                p.press_nth("off", plan.office.1);
            }
            2 => p.type_text("văn phòng đăng ký đất đai"),
            _ if has_button(p, "og:") => {
                p.press_nth("og", plan.office.1);
            }
            _ => {
                p.press("more");
            }
        },
        Step::OfficeGroups => {
            p.press_nth("og", plan.office.1);
        }
        Step::OfficeGroup(_) | Step::OfficeConfirm => {
            if !p.press_nth("off", plan.office.1) {
                p.press("offtyped");
            }
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
            let w = ["this_month", "last_month", "2to6", "older"][plan.when];
            p.press(&format!("w:{w}"));
        }
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
        Step::Story | Step::Verify => {
            if d.story.len() < plan.story.len() && !d.story.iter().any(|s| s == plan.story[0]) {
                let next = plan.story[d.story.len()];
                p.type_text(next);
            } else if step == Step::Story {
                p.press("done");
            } else {
                let v = catalog::VERIFICATION
                    .get(plan.verify)
                    .map_or("none", |c| c.code);
                p.press(&format!("v:{v}"));
            }
        }
        Step::Attachments => {
            p.press("cont");
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
                "văn phòng đăng ký đất đai".to_owned(),
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

/// The last prompt's button labels.
fn labels(p: &Person) -> Vec<String> {
    p.buttons
        .as_ref()
        .map(|k| k.buttons().map(|b| b.label.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn a_complete_report_takes_twelve_taps_or_messages() {
    let mut p = Person::new();
    let mut taps = 0;
    let msg_id = p.msg();
    p.turn(Event::Start { msg_id });
    taps += 1;
    assert!(p.press_consent());
    taps += 1;
    for act in ["beh:delay", "sec:land"] {
        assert!(p.press(act), "{act}");
        taps += 1;
    }
    assert!(p.press_nth("off", 0));
    taps += 1;
    p.type_text("Cam Lập");
    taps += 1;
    assert!(p.press_nth("p:", 0));
    taps += 1;
    assert!(p.press("w:last_month"));
    taps += 1;
    p.type_text("cán bộ nam ở bàn số 3");
    taps += 1;
    p.type_text("Hẹn bốn lần, lần cuối đòi 5 triệu.");
    taps += 1;
    assert_eq!(p.d.step, Some(Step::Verify));
    assert!(p.press("v:none"));
    taps += 1;
    assert_eq!(p.d.step, Some(Step::Review));
    assert!(p.press("send"));
    taps += 1;
    assert_eq!(p.sealed.len(), 1);
    assert_eq!(taps, 12);
    let s = &p.sealed[0];
    assert_eq!(s.category, "harassment", "derived from the behaviour");
    assert!(
        s.place
            .as_deref()
            .is_some_and(|u| u.contains("Nam Cam Ranh"))
    );
}

#[test]
fn a_redirect_continues_as_an_anonymous_report_without_a_second_consent() {
    let mut p = Person::new();
    p.start();
    assert!(p.press("redir"));
    assert_eq!(p.d.step, Some(Step::Redirect));
    assert!(p.press("redir:denunciation"));
    assert!(matches!(p.d.step, Some(Step::Redirected(_))));
    assert!(p.has_draft, "the consent given stands");
    assert!(
        labels(&p)
            .iter()
            .any(|l| l.contains("Gửi phản ánh ẩn danh"))
    );
    assert!(p.press("anon"));
    assert_eq!(p.d.step, Some(Step::Behaviour));
    assert!(p.d.consented);
    // An emergency goes back to the list, or stops.
    assert!(p.press("redir"));
    assert!(p.press("redir:emergency"));
    assert!(!labels(&p).iter().any(|l| l.contains("ẩn danh")));
    assert!(p.press("stop"));
    assert!(!p.has_draft || p.d.step.is_none(), "stopped like /cancel");
}

/// One turn of someone with no stored draft (before consent, or pressing a button under a
/// receipt, which carries what it needs), under `p`'s configuration, its outbox kept to look at.
fn turn_without_draft(p: &Person, d: &mut Draft, event: Event) -> (Persist, Outbox) {
    let ctx = Ctx {
        has_draft: false,
        session: Session::default(),
        limits: &p.limits,
        retention: &p.retention,
        contacts: &p.contacts,
        download_limit: 1,
    };
    let mut out = Outbox::new(&p.limits);
    let mut turn = Turn::default();
    let persist = match machine::decide(d, &ctx, event, &mut out, &mut turn) {
        Decision::Done(persist) => persist,
        Decision::Effect(_) => panic!("no effect expected"),
    };
    (persist, out)
}

#[test]
fn the_first_screen_is_short_and_details_and_language_edit_it_in_place() {
    let mut p = Person::new();
    let msg_id = p.msg();
    let mut d = Draft::default();
    let (_, out) = turn_without_draft(&p, &mut d, Event::Start { msg_id });
    let Some(Out::Send { text, .. }) = out.items.first() else {
        panic!("the first screen");
    };
    assert!(text.encode_utf16().count() < 450, "{}", text.len());
    assert!(text.starts_with("Xin chào"));
    p.turn(Event::Start { msg_id });
    let details = p
        .buttons
        .as_ref()
        .and_then(|k| k.buttons().find(|b| b.data.starts_with("consent:more")))
        .map(|b| b.data.clone())
        .expect("a details button");
    let (_, out) = turn_without_draft(&p, &mut d, from_callback(&details, msg_id + 1));
    let Some(Out::EditText { text, keyboard, .. }) = out.items.first() else {
        panic!("the notice, in place");
    };
    for point in [
        "91/2025",
        "72 giờ",
        "Telegram, một công ty nước ngoài",
        "365 ngày",
        "rút lại đồng ý",
    ] {
        assert!(text.contains(point), "{point}");
    }
    assert!(text.chars().count() < 4096);
    assert!(
        keyboard
            .buttons()
            .any(|b| b.data.starts_with("consent:yes:vi"))
    );
    assert!(
        keyboard
            .buttons()
            .any(|b| b.data.starts_with("consent:more:en"))
    );
    assert!(!p.has_draft, "nothing stored before consent");
}

#[test]
fn the_receipt_asks_before_it_is_deleted() {
    let mut p = Person::new();
    p.start();
    let plan = Plan {
        behaviour: 0,
        sector: 0,
        office: (0, 0),
        place: None,
        when: 0,
        who: None,
        story: vec![STORIES[0]],
        verify: 3,
    };
    to_review(&mut p, &plan);
    assert!(p.press("send"));
    // The receipt's only button asks first.
    let ask = labels(&p);
    assert_eq!(ask, vec!["🗑 Đã chép mã, xóa tin này".to_owned()]);
    let data = p
        .buttons
        .as_ref()
        .and_then(|k| k.buttons().next())
        .map(|b| b.data.clone());
    let receipt_msg = 40;
    let mut d = Draft::default();
    let (_, out) = turn_without_draft(
        &p,
        &mut d,
        from_callback(&data.expect("a button"), receipt_msg),
    );
    assert!(
        !out.items.iter().any(|o| matches!(o, Out::DeleteReceipt(_))),
        "nothing deleted on the first tap"
    );
    let Some(Out::Send {
        keyboard: Some(k), ..
    }) = out.items.last()
    else {
        panic!("a question");
    };
    let yes = k.buttons().next().map(|b| b.data.clone()).expect("yes");
    let (_, out) = turn_without_draft(&p, &mut d, from_callback(&yes, receipt_msg + 1));
    assert!(
        out.items
            .iter()
            .any(|o| matches!(o, Out::DeleteReceipt(r) if *r == receipt_msg)),
        "the receipt message goes, not the question"
    );
    let Some(Out::Send {
        keyboard: Some(k), ..
    }) = out.items.last()
    else {
        panic!("the wipe offer");
    };
    let again = k
        .buttons()
        .find(|b| b.data.starts_with("after:again"))
        .map(|b| b.data.clone())
        .expect("another report");
    let (persist, _) = turn_without_draft(&p, &mut d, from_callback(&again, receipt_msg + 2));
    assert_eq!(persist, Persist::Save);
    assert!(d.consented, "no second consent");
    assert_eq!(d.step, Some(Step::Behaviour));
}

#[test]
fn a_typed_office_is_kept_beside_the_office_it_was_matched_to() {
    let mut p = Person::new();
    p.start();
    assert!(p.press("beh:delay"));
    assert!(p.press("sec:land"));
    p.type_text("sở tài nguyên và môi trường");
    assert_eq!(p.d.step, Some(Step::OfficeConfirm));
    assert!(p.press_nth("off:", 0));
    assert_eq!(p.d.office.as_deref(), Some("Sở Nông nghiệp và Môi trường"));
    assert!(p.press("pnone"));
    assert!(p.press("w:older"));
    assert!(p.press("skip"));
    p.type_text("Hẹn lại nhiều lần.");
    assert!(p.press("v:witnesses"));
    let text = p.review_text.clone().expect("a review");
    assert!(
        text.contains("Sở Nông nghiệp và Môi trường (ghi là: \"sở tài nguyên và môi trường\")"),
        "{text}"
    );
    assert!(text.contains("• Kiểm chứng: Có người chứng kiến"), "{text}");
}
