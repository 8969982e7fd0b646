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

/// Kinds of report the bot takes.
pub const CATEGORIES: &[Choice] = &[
    c(
        "harassment",
        "Nhũng nhiễu, gây phiền hà",
        "Harassment or obstruction by an official",
    ),
    c("corruption", "Dấu hiệu tham nhũng", "Signs of corruption"),
    c(
        "misconduct",
        "Sai phạm khác của cán bộ",
        "Other misconduct by an official",
    ),
];

/// Requests the bot does not take, only explains and redirects (nothing is stored).
pub const REDIRECTS: &[Choice] = &[
    c(
        "denunciation",
        "Tôi muốn tố cáo chính thức",
        "I want to file a formal denunciation",
    ),
    c(
        "complaint",
        "Khiếu nại một quyết định",
        "Complain about a decision",
    ),
    c(
        "feedback",
        "Góp ý, kiến nghị về thủ tục",
        "Feedback on a procedure",
    ),
];

const HARASSMENT: &[Choice] = &[
    c(
        "demand_money",
        "Đòi tiền, \"bồi dưỡng\", quà",
        "Asking for money, a \"tip\" or gifts",
    ),
    c(
        "delay",
        "Cố tình kéo dài, hẹn đi hẹn lại",
        "Deliberately delaying the file",
    ),
    c(
        "extra_papers",
        "Đòi giấy tờ ngoài quy định",
        "Demanding papers beyond the rules",
    ),
    c(
        "refuse",
        "Từ chối nhận, đùn đẩy hồ sơ",
        "Refusing or passing the file around",
    ),
    c(
        "broker",
        "Hướng đến \"cò\", dịch vụ trung gian",
        "Steering people to brokers",
    ),
    c(
        "rude",
        "Hách dịch, thiếu tôn trọng",
        "Rudeness or abuse of position",
    ),
    c("other", "Khác", "Other"),
];

const CORRUPTION: &[Choice] = &[
    c(
        "bribe",
        "Đòi hoặc nhận hối lộ",
        "Demanding or taking a bribe",
    ),
    c(
        "illegal_fees",
        "Thu tiền trái quy định, không biên lai",
        "Unlawful fees without a receipt",
    ),
    c(
        "embezzlement",
        "Tham ô, dùng tài sản công sai mục đích",
        "Embezzlement or misuse of public property",
    ),
    c(
        "rigged",
        "Gian lận tuyển dụng, đấu thầu",
        "Rigged hiring or procurement",
    ),
    c(
        "retaliation",
        "Trù dập người phản ánh",
        "Retaliation against someone who reported",
    ),
    c("other", "Khác", "Other"),
];

const MISCONDUCT: &[Choice] = &[
    c("abuse", "Lạm quyền, vượt quyền", "Abuse of power"),
    c(
        "rude",
        "Hách dịch, thiếu tôn trọng",
        "Rudeness or abuse of position",
    ),
    c(
        "delay",
        "Cố tình kéo dài, hẹn đi hẹn lại",
        "Deliberately delaying the file",
    ),
    c(
        "retaliation",
        "Trù dập người phản ánh",
        "Retaliation against someone who reported",
    ),
    c("other", "Khác", "Other"),
];

/// Behaviours, by category.
pub fn behaviours(category: &str) -> &'static [Choice] {
    match category {
        "harassment" => HARASSMENT,
        "corruption" => CORRUPTION,
        _ => MISCONDUCT,
    }
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

/// How a report can be verified.
pub const VERIFICATION: &[Choice] = &[
    c(
        "documents",
        "Có giấy tờ, biên nhận, tin nhắn",
        "Documents, receipts or messages",
    ),
    c(
        "media",
        "Có ảnh, ghi âm, video",
        "Photos, recordings or video",
    ),
    c("witnesses", "Có người chứng kiến", "There were witnesses"),
    c(
        "others_affected",
        "Người khác cũng gặp việc này",
        "Others were affected too",
    ),
];

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
        for list in [
            CATEGORIES,
            REDIRECTS,
            SECTORS,
            VERIFICATION,
            behaviours("harassment"),
            behaviours("corruption"),
            behaviours("misconduct"),
        ] {
            let mut codes: Vec<_> = list.iter().map(|c| c.code).collect();
            codes.sort();
            codes.dedup();
            assert_eq!(codes.len(), list.len());
            assert!(list.iter().all(|c| c.code.len() <= 20));
        }
    }
}
