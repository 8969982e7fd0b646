//! The finite choices of the dialogue, each with a stable code (stored in drafts and summaries)
//! and labels in Vietnamese and English.

use super::texts::Lang;

/// One choice: a stable code and its labels.
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    /// Stable code.
    pub code: &'static str,
    /// Vietnamese label.
    pub vi: &'static str,
    /// English label.
    pub en: &'static str,
}

impl Choice {
    /// The label in `lang`.
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.vi,
            Lang::En => self.en,
        }
    }
}

const fn c(code: &'static str, vi: &'static str, en: &'static str) -> Choice {
    Choice { code, vi, en }
}

/// Kinds of report the bot takes. Derived from the behaviour ([`category_of`]); stored in the
/// case's clear `category` column and in the summary.
pub const CATEGORIES: &[Choice] = &[
    c(
        "harassment",
        "Nhũng nhiễu, gây phiền hà",
        "Obstruction or petty extortion",
    ),
    c("corruption", "Dấu hiệu tham nhũng", "Signs of corruption"),
    c(
        "misconduct",
        "Sai phạm khác của cán bộ",
        "Other misconduct by an official",
    ),
];

/// Requests the bot does not take as a report: it explains where they go and, for the first
/// three, offers to continue as an anonymous report.
pub const REDIRECTS: &[Choice] = &[
    c(
        "denunciation",
        "Tố cáo chính thức, có ghi tên",
        "A formal denunciation, with my name",
    ),
    c(
        "complaint",
        "Khiếu nại quyết định về tôi",
        "A complaint about a decision on me",
    ),
    c(
        "feedback",
        "Góp ý về thủ tục hành chính",
        "Feedback on a procedure",
    ),
    c(
        "emergency",
        "🚨 Việc khẩn cấp, đang nguy hiểm",
        "🚨 An emergency, danger now",
    ),
];

/// What the official did: one question, one tap. The category follows from the behaviour.
pub const BEHAVIOURS: &[Choice] = &[
    c(
        "demand_money",
        "Đòi tiền, quà, \"bồi dưỡng\"",
        "Asked for money, gifts or a \"tip\"",
    ),
    c(
        "illegal_fees",
        "Thu tiền sai quy định, không biên lai",
        "Charged unlawful fees, no receipt",
    ),
    c(
        "delay",
        "Cố tình kéo dài, hẹn lại, đùn đẩy hồ sơ",
        "Delayed the file or passed it around",
    ),
    c(
        "extra_papers",
        "Đòi giấy tờ ngoài quy định",
        "Demanded papers the rules don't require",
    ),
    c(
        "broker",
        "Chỉ đến \"cò\", dịch vụ trung gian",
        "Steered you to a broker or \"fixer\"",
    ),
    c(
        "rude",
        "Hách dịch, thiếu tôn trọng",
        "Arrogant or disrespectful",
    ),
    c(
        "abuse",
        "Lạm quyền, làm trái quy định",
        "Abused power or broke the rules",
    ),
    c(
        "embezzlement",
        "Dùng tiền, tài sản công sai mục đích",
        "Misused public money or property",
    ),
    c(
        "rigged",
        "Gian lận tuyển dụng, đấu thầu",
        "Rigged hiring or procurement",
    ),
    c(
        "retaliation",
        "Trù dập người phản ánh",
        "Retaliated against someone who reported",
    ),
    c(
        "other",
        "Cán bộ làm sai việc khác",
        "Other wrongdoing by an official",
    ),
];

/// Behaviours of drafts and summaries written before the single behaviour question: still
/// read and shown, never offered.
const LEGACY_BEHAVIOURS: &[Choice] = &[
    c(
        "bribe",
        "Đòi hoặc nhận hối lộ",
        "Demanding or taking a bribe",
    ),
    c(
        "refuse",
        "Từ chối nhận, đùn đẩy hồ sơ",
        "Refusing or passing the file around",
    ),
];

/// The category of a behaviour code.
pub fn category_of(behaviour: &str) -> &'static str {
    match behaviour {
        "demand_money" | "illegal_fees" | "embezzlement" | "rigged" | "bribe" => "corruption",
        "delay" | "extra_papers" | "broker" | "rude" | "refuse" => "harassment",
        _ => "misconduct",
    }
}

/// The label of a behaviour code, current or legacy ("?" if unknown).
pub fn behaviour_label(code: &str, lang: Lang) -> &'static str {
    find(BEHAVIOURS, code)
        .or_else(|| find(LEGACY_BEHAVIOURS, code))
        .map(|c| c.label(lang))
        .unwrap_or("?")
}

/// Sectors.
pub const SECTORS: &[Choice] = &[
    c("land", "Đất đai", "Land"),
    c(
        "construction",
        "Xây dựng, cấp phép",
        "Construction and permits",
    ),
    c("civil", "Hộ tịch, cư trú", "Civil registry and residence"),
    c(
        "traffic",
        "CSGT, đăng ký xe",
        "Traffic police, vehicle registration",
    ),
    c("health", "Y tế", "Health"),
    c("education", "Giáo dục", "Education"),
    c("hiring", "Tuyển dụng công chức", "Public hiring"),
    c(
        "tax",
        "Thuế, hải quan, đăng ký kinh doanh",
        "Tax, customs, business licences",
    ),
    c(
        "social",
        "Chính sách xã hội, BHXH",
        "Social benefits and insurance",
    ),
    c(
        "agriculture",
        "Nông nghiệp, thủy sản, môi trường",
        "Agriculture, fisheries, environment",
    ),
    c("tourism", "Du lịch", "Tourism"),
    c("other", "Khác", "Other"),
];

/// How a report can be verified: one answer, after the story.
pub const VERIFICATION: &[Choice] = &[
    c(
        "documents",
        "📄 Có giấy tờ, ảnh, ghi âm, tin nhắn",
        "📄 Papers, photos, recordings, messages",
    ),
    c("witnesses", "👥 Có người chứng kiến", "👥 Someone saw it"),
    c(
        "others_affected",
        "🔁 Người khác cũng gặp việc này",
        "🔁 Others had the same",
    ),
];

/// Verification codes of older drafts and summaries: still shown, never offered.
const LEGACY_VERIFICATION: &[Choice] = &[c(
    "media",
    "Có ảnh, ghi âm, video",
    "Photos, recordings or video",
)];

/// The label of a verification code, current or legacy, without its emoji.
pub fn verification_label(code: &str, lang: Lang) -> Option<&'static str> {
    find(VERIFICATION, code)
        .or_else(|| find(LEGACY_VERIFICATION, code))
        .map(|c| {
            let l = c.label(lang);
            l.split_once(' ')
                .filter(|(head, _)| !head.chars().any(char::is_alphanumeric))
                .map_or(l, |(_, rest)| rest)
        })
}

/// Finds a choice by code.
pub fn find(list: &'static [Choice], code: &str) -> Option<&'static Choice> {
    list.iter().find(|c| c.code == code)
}

/// The label of a category code (or the code itself if unknown).
pub fn category_label(code: &str, lang: Lang) -> &'static str {
    find(CATEGORIES, code).map(|c| c.label(lang)).unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_short_enough_for_callback_data() {
        for list in [CATEGORIES, REDIRECTS, SECTORS, VERIFICATION, BEHAVIOURS] {
            let mut codes: Vec<_> = list.iter().map(|c| c.code).collect();
            codes.sort();
            codes.dedup();
            assert_eq!(codes.len(), list.len());
            assert!(list.iter().all(|c| c.code.len() <= 20));
        }
    }

    #[test]
    fn every_behaviour_has_a_category_and_old_codes_still_read() {
        for b in BEHAVIOURS {
            assert!(find(CATEGORIES, category_of(b.code)).is_some());
        }
        assert_eq!(category_of("bribe"), "corruption");
        assert_eq!(
            behaviour_label("refuse", Lang::En),
            "Refusing or passing the file around"
        );
        assert_eq!(
            verification_label("witnesses", Lang::Vi),
            Some("Có người chứng kiến")
        );
        assert_eq!(
            verification_label("media", Lang::En),
            Some("Photos, recordings or video")
        );
    }
}
