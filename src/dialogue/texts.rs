//! Everything the bot says, in Vietnamese (default) and English. Short messages, plain words,
//! full diacritics. Functions rather than a lookup table so a missing translation is a compile
//! error.

use serde::{Deserialize, Serialize};

/// The reporter's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Lang {
    /// Vietnamese (default).
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// The language for a Telegram `language_code`: English only when the user's Telegram is
    /// in English, Vietnamese otherwise.
    pub fn from_telegram(code: Option<&str>) -> Lang {
        match code {
            Some(c) if c.starts_with("en") => Lang::En,
            _ => Lang::Vi,
        }
    }

    /// The other language (for /lang).
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// "vi" or "en".
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The de-identification module's language.
    pub fn deid(self) -> crate::deid::Lang {
        match self {
            Lang::Vi => crate::deid::Lang::Vi,
            Lang::En => crate::deid::Lang::En,
        }
    }
}

macro_rules! texts {
    ($($(#[$m:meta])* $name:ident => $vi:expr, $en:expr;)*) => {
        $(
            $(#[$m])*
            #[doc = concat!("The `", stringify!($name), "` message in `l`.")]
            pub fn $name(l: Lang) -> &'static str {
                match l {
                    Lang::Vi => $vi,
                    Lang::En => $en,
                }
            }
        )*
    };
}

texts! {
    /// The welcome, safety notice and consent request (Law 91/2025/QH15: purpose, recipient,
    /// retention, explicit consent), with `{closed_days}` and `{draft_hours}` to fill in from
    /// the configured retention: see [`welcome`].
    welcome_template =>
"Xin chào. Đây là kênh tiếp nhận phản ánh của Thanh tra tỉnh Khánh Hòa về cán bộ, công chức nhũng nhiễu, gây phiền hà hoặc có dấu hiệu tham nhũng.

🔒 Chúng tôi bảo vệ:
• Danh tính Telegram của bạn được niêm phong bằng mã hóa; cán bộ xử lý chỉ thấy bản tóm tắt đã lược bỏ thông tin cá nhân.
• Bạn không cần tài khoản: sau khi gửi, bạn nhận một mã biên nhận bí mật để theo dõi và trả lời.

⚠️ Chúng tôi không thể che giấu:
• Telegram biết tài khoản này đã nhắn cho bot (ở Việt Nam, Telegram thường phải dùng qua VPN).
• Điện thoại có thể bị người khác xem: cuối cùng bot sẽ đề nghị xóa cuộc trò chuyện.
• Đừng ghi tên, số điện thoại hay địa chỉ của chính bạn vào nội dung.

📄 Đồng ý xử lý dữ liệu (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15):
• Mục đích: tiếp nhận, xác minh và xử lý phản ánh của bạn.
• Người nhận: Thanh tra tỉnh Khánh Hòa; danh tính chỉ được mở khi có yêu cầu được ghi nhật ký và được người giữ khóa chấp thuận.
• Thời hạn lưu: đến khi xử lý xong và {closed_days} ngày sau khi đóng hồ sơ; bản nháp chưa gửi bị xóa sau {draft_hours} giờ.
• Bạn có thể dừng bất cứ lúc nào bằng /cancel.

Chưa có gì được lưu cho đến khi bạn đồng ý.",
"Hello. This is the Khánh Hòa Provincial Inspectorate's channel for reports about officials who harass, obstruct or show signs of corruption.

🔒 What we protect:
• Your Telegram identity is sealed with encryption; the staff who handle reports see only a summary with personal details removed.
• You need no account: after sending, you get a secret receipt code to follow up and reply.

⚠️ What we cannot hide:
• Telegram knows this account messaged the bot (in Vietnam Telegram is usually reached through a VPN).
• Someone may look at your phone: at the end the bot offers to delete this conversation.
• Do not write your own name, phone number or address in the report.

📄 Consent to processing (Personal Data Protection Law 91/2025/QH15):
• Purpose: receiving, verifying and handling your report.
• Recipient: the Khánh Hòa Provincial Inspectorate; your identity is opened only on a logged request approved by the key holders.
• Kept: until handled and {closed_days} days after the case is closed; unsent drafts are deleted after {draft_hours} hours.
• You can stop at any time with /cancel.

Nothing is stored until you agree.";
    agree => "✅ Đồng ý", "✅ I agree";
    disagree => "Không đồng ý", "I do not agree";
    declined =>
"Bạn chưa đồng ý nên không có gì được lưu. Nếu đổi ý, gõ /start.",
"You did not agree, so nothing was stored. If you change your mind, send /start.";
    ask_category => "Bạn muốn phản ánh điều gì?", "What would you like to report?";
    ask_behaviour => "Cán bộ đã làm gì? Chọn điều gần nhất.", "What did the official do? Pick the closest.";
    ask_sector => "Việc này thuộc lĩnh vực nào?", "Which area is this about?";
    ask_office =>
"Cơ quan, đơn vị nào? Chọn nhóm bên dưới, hoặc gõ tên cơ quan (tên cũ trước năm 2025 cũng được).",
"Which office? Choose a group below, or type the office's name (pre-2025 names are fine).";
    office_province => "Sở, ban, ngành tỉnh", "Provincial departments";
    office_commune => "UBND, phòng ban xã/phường", "Commune/ward offices";
    office_other => "Công an, thuế, BHXH, trường, bệnh viện…", "Police, tax, insurance, schools, hospitals…";
    office_matches => "Có phải một trong các cơ quan này?", "Is it one of these?";
    office_use_typed => "Dùng đúng tên tôi đã gõ", "Use the name as I typed it";
    ask_place =>
"Việc xảy ra ở xã, phường nào? Gõ một phần tên (tên xã, phường cũ trước sáp nhập cũng được).",
"Which commune or ward did it happen in? Type part of the name (old names from before the 2025 merger work too).";
    place_prefer_not => "Tôi không muốn nói", "I prefer not to say";
    place_matches => "Chọn đơn vị đúng:", "Choose the right one:";
    place_none =>
"Không tìm thấy xã, phường nào như vậy ở Khánh Hòa. Hãy thử gõ ngắn hơn, ví dụ \"Cam Lâm\".",
"No commune or ward of Khánh Hòa matches that. Try fewer letters, for example \"Cam Lam\".";
    ask_when => "Việc này xảy ra khi nào?", "When did it happen?";
    when_today => "Hôm nay", "Today";
    when_week => "Trong tuần này", "This week";
    when_month => "Trong tháng này", "This month";
    when_earlier => "Trước đó", "Earlier";
    ask_month =>
"Gõ tháng và năm, ví dụ 3/2025.",
"Type the month and year, for example 3/2025.";
    bad_month =>
"Chưa đọc được. Hãy gõ tháng/năm như 3/2025 (không phải ngày trong tương lai).",
"I could not read that. Type month/year like 3/2025 (not in the future).";
    ask_who =>
"Cán bộ liên quan là ai? Ghi họ tên, chức vụ, bộ phận nếu bạn biết, ví dụ \"ông Nguyễn Văn A, cán bộ địa chính\".
Thông tin này giúp Thanh tra xác minh được phản ánh; nếu không biết, bấm Bỏ qua.",
"Who was involved? Give the official's name, title and unit if you know them, e.g. \"Mr Nguyen Van A, land officer\".
This is what lets the Inspectorate verify the report; if you don't know, press Skip.";
    skip => "Bỏ qua", "Skip";
    ask_story =>
"Chuyện gì đã xảy ra? Kể cụ thể: cán bộ nói gì, đòi gì, bao nhiêu tiền, hồ sơ gì. Bạn có thể gửi nhiều tin nhắn (tổng cộng tối đa {n} ký tự); xong thì bấm \"Xong\".",
"What happened? Be specific: what the official said or asked for, how much money, which file. You can send several messages (at most {n} characters in all); press \"Done\" when finished.";
    /// Shown instead of [`ask_story`] when the reporter chose to rewrite what happened.
    ask_story_replace =>
"Gõ lại nội dung sự việc (tối đa {n} ký tự). Tin nhắn đầu tiên bạn gửi sẽ thay thế nội dung cũ; bấm \"Xong\" để giữ nguyên nội dung cũ.",
"Type what happened again (at most {n} characters). Your first message replaces the old text; press \"Done\" to keep the old text.";
    ask_attachments =>
"📎 Bằng chứng (không bắt buộc): gửi ảnh, tài liệu (PDF, Word, Excel, văn bản), ghi âm hoặc video, mỗi tệp tối đa 20 MB. Bot tự xóa siêu dữ liệu (vị trí GPS, tên máy, tác giả…) trước khi chuyển cho Thanh tra, và cho bạn biết khi không xóa được.

Trước khi gửi, hãy nghĩ:
• Giọng nói có thể cho biết bạn là ai.
• Ảnh, video có thể có khuôn mặt, bàn làm việc, hình phản chiếu, giấy tờ có tên bạn.
• Tài liệu có thể ghi tên bạn ngay trong nội dung.
Gửi xong thì bấm \"Xong\"; không có tệp thì bấm \"Không có tệp\".",
"📎 Evidence (optional): send photos, documents (PDF, Word, Excel, text), voice notes or video, up to 20 MB each. The bot removes metadata (GPS position, device, author…) before the Inspectorate sees them, and tells you when it cannot.

Before you send, think:
• A voice can identify you.
• A photo or video can show your face, your desk, a reflection, a paper with your name.
• A document may carry your name inside its text.
Press \"Done\" when finished, or \"No files\" if you have none.";
    attachments_none => "Không có tệp", "No files";
    attachments_list => "Tệp đã nhận:", "Files received:";
    remove_file => "🗑 Gỡ tệp", "🗑 Remove file";
    file_removed => "Đã gỡ tệp.", "File removed.";
    file_received => "📎 Đã nhận tệp", "📎 File received";
    warn_photo =>
"Xem lại ảnh: có khuôn mặt, hình phản chiếu, bàn làm việc hay giấy tờ nào cho biết bạn là ai không? Nếu có, hãy gỡ tệp.",
"Look at the photo again: does it show a face, a reflection, your desk or a paper that says who you are? If so, remove it.";
    warn_voice =>
"Giọng nói có thể nhận ra bạn, kể cả khi không nêu tên. Nếu lo ngại, hãy gỡ tệp và ghi lại nội dung bằng chữ.",
"A voice can identify you even without a name. If that worries you, remove the file and write down what it says.";
    warn_video =>
"Video có thể ghi lại khuôn mặt, giọng nói và nơi quay. Nếu có gì cho biết bạn là ai, hãy gỡ tệp.",
"A video can record faces, voices and where it was filmed. If anything in it shows who you are, remove it.";
    warn_document =>
"Siêu dữ liệu đã được xử lý, nhưng nội dung thì không: nếu tài liệu có tên, chữ ký hay số điện thoại của bạn, hãy gỡ tệp.",
"Metadata is handled, but the content is not: if the document carries your name, signature or phone number, remove it.";
    /// After a file whose hidden data cannot be removed at all (the line above says why:
    /// the format, or that the file could not be checked).
    file_not_cleanable =>
"⚠️ Nếu gửi, tệp đến Thanh tra đúng như bạn gửi, cùng mọi dữ liệu ẩn trong đó, và bản tóm tắt sẽ ghi rõ điều đó. Bạn có thể gỡ tệp, hoặc gửi ảnh chụp màn hình thay thế.",
"⚠️ If you send it, the file reaches the Inspectorate exactly as you sent it, with all its hidden data, and the summary will say so. You can remove it, or send a screenshot instead.";
    /// After a file cleaned only in part.
    file_partly_cleaned =>
"⚠️ Bot đã xóa những gì xóa được, nhưng phần dữ liệu ẩn ghi ở trên vẫn còn trong tệp và sẽ đến Thanh tra cùng tệp. Bạn có thể gỡ tệp, hoặc gửi ảnh chụp màn hình thay thế.",
"⚠️ The bot removed what it could, but the hidden data listed above stays in the file and reaches the Inspectorate with it. You can remove the file, or send a screenshot instead.";
    metadata_removed => "đã xóa siêu dữ liệu:", "metadata removed:";
    metadata_none_found => "không thấy siêu dữ liệu nhận dạng", "no identifying metadata found";
    metadata_not_removed => "CHƯA xóa được siêu dữ liệu — định dạng", "metadata NOT removed — format";
    metadata_partly_removed => "CHỈ xóa được một phần siêu dữ liệu:", "metadata only PARTLY removed:";
    metadata_left => "CÒN LẠI:", "LEFT IN:";
    /// A file that claims a format but could not be parsed (or is too large to clean).
    file_unchecked =>
"KHÔNG kiểm tra được tệp này; dữ liệu ẩn trong tệp vẫn còn nguyên",
"this file could NOT be checked; its hidden data stays";
    no_attachments => "(không có)", "(none)";
    file_too_big =>
"Tệp này lớn hơn 20 MB, mức tối đa Telegram cho phép bot tải về. Hãy nén hoặc cắt nhỏ, hoặc gửi ảnh thay vì tệp gốc.",
"This file is larger than 20 MB, the most Telegram lets a bot download. Please compress or split it, or send a photo instead of the original file.";
    too_many_files =>
"Mỗi phản ánh nhận tối đa {n} tệp. Hãy gỡ bớt một tệp nếu muốn gửi tệp này.",
"A report takes at most {n} files. Remove one if you want to send this one.";
    files_too_large_total =>
"Tổng dung lượng các tệp của một phản ánh tối đa {n} MB. Hãy gỡ bớt hoặc nén tệp.",
"The files of one report may total at most {n} MB. Remove or compress some.";
    file_fetch_failed =>
"Bot chưa tải được tệp này từ Telegram. Hãy gửi lại sau ít phút.",
"The bot could not fetch this file from Telegram. Please send it again in a few minutes.";
    file_refetch_failed =>
"Chưa gửi được: bot không tải lại được tệp số {n} từ Telegram. Bấm \"Gửi\" lại sau ít phút, hoặc gỡ tệp đó.",
"Not sent yet: the bot could not fetch file {n} from Telegram again. Press \"Send\" again in a few minutes, or remove that file.";
    caption_added =>
"Chú thích kèm tệp đã được thêm vào phần mô tả sự việc.",
"The file's caption was added to your description.";
    story_added => "Đã ghi nhận. Gửi thêm, hoặc bấm \"Xong\".", "Noted. Send more, or press \"Done\".";
    story_empty => "Hãy kể ít nhất một câu về việc đã xảy ra.", "Please write at least one sentence about what happened.";
    done => "Xong", "Done";
    ask_verify =>
"Việc này có thể được kiểm chứng thế nào? Chọn tất cả những gì đúng, rồi bấm \"Tiếp tục\".",
"How could this be verified? Select everything that applies, then press \"Continue\".";
    continue_ => "Tiếp tục ➡️", "Continue ➡️";
    ask_verify_note =>
"Bạn muốn ghi thêm gì giúp kiểm chứng không (ví dụ: giấy hẹn số mấy, ai chứng kiến — không ghi tên bạn)? Gõ ngắn gọn, hoặc bấm Bỏ qua.",
"Anything to add that would help verify it (e.g. the appointment slip number, who saw it — not your own name)? Type briefly, or press Skip.";
    ask_contact =>
"Thanh tra có thể cần hỏi thêm. Bạn có thể trả lời qua bot này bằng mã biên nhận. Bạn có muốn để lại cách liên lạc khác không? Thông tin đó chỉ được niêm phong cùng danh tính, không nằm trong bản tóm tắt.",
"The Inspectorate may have questions. You can answer through this bot with your receipt code. Do you want to leave another way to contact you? It is sealed with your identity only, never in the summary.";
    contact_no => "Không, chỉ qua bot", "No, only through the bot";
    contact_yes => "Có, tôi để lại liên lạc", "Yes, I'll leave a contact";
    ask_contact_text => "Gõ cách liên lạc (số điện thoại, email…).", "Type how to reach you (phone, email…).";
    review_intro =>
"Đây đúng là nội dung Thanh tra sẽ nhận (danh tính của bạn được niêm phong riêng):",
"This is exactly what the Inspectorate will receive (your identity is sealed separately):";
    send => "✅ Gửi phản ánh", "✅ Send report";
    edit => "✏️ Sửa", "✏️ Edit";
    /// The review screen's per-field edit buttons: "✏️ " + the field's name.
    edit_prefix => "✏️ ", "✏️ ";
    cancel => "Hủy", "Cancel";
    back => "⬅️ Quay lại", "⬅️ Back";
    ask_edit_field => "Bạn muốn sửa phần nào?", "Which part do you want to change?";
    cancelled =>
"Đã hủy. Bản nháp đã bị xóa và không có gì được gửi. Gõ /report để bắt đầu lại.",
"Cancelled. The draft was deleted and nothing was sent. Send /report to start again.";
    nothing_to_cancel => "Không có việc gì đang làm dở. Gõ /report để phản ánh.", "Nothing in progress. Send /report to make a report.";
    /// Opens the one message that carries a receipt: see [`receipt_message`].
    receipt_sent_head => "✅ Đã gửi phản ánh. Cảm ơn bạn.", "✅ Report sent. Thank you.";
    /// Opens a fresh receipt for a report whose first receipt never arrived (or may have):
    /// `{code}` is the case code.
    receipt_again_head =>
"✅ Phản ánh {code} của bạn đã được tiếp nhận. Tin nhắn chứa mã biên nhận chưa đến được với bạn, nên đây là mã biên nhận mới. Nếu trước đó bạn đã thấy một mã biên nhận cho phản ánh này, mã đó không còn dùng được.",
"✅ Your report {code} was received. The message with its receipt did not reach you, so here is a new receipt. If you saw a receipt for this report before, it no longer works.";
    case_code_label => "Mã hồ sơ", "Case code";
    receipt_label => "Mã biên nhận (bí mật)", "Receipt (secret)";
    receipt_keep =>
"Hãy ghi mã biên nhận ra giấy hoặc nơi an toàn: chỉ có mã này mới cho xem tình trạng và trả lời Thanh tra (/status). Chúng tôi không lưu mã này nên không thể cấp lại nếu bạn làm mất.",
"Write the receipt down somewhere safe: only it lets you check the status and answer the Inspectorate (/status). We do not keep it, so we cannot give it again if you lose it.";
    previous_report_sent =>
"Phản ánh trước của bạn đã được gửi; mã biên nhận nằm ở tin nhắn phía trên, hãy giữ lại. Bây giờ bắt đầu phản ánh mới.",
"Your previous report was sent; its receipt is in the message above, keep it. A new report starts now.";
    already_sent =>
"Phản ánh này đã được gửi rồi; bot không gửi lại lần nữa.",
"This report has already been sent; it was not sent again.";
    saved_receipt => "Tôi đã lưu mã", "I have saved the code";
    /// The wipe offer after the receipt message was deleted.
    receipt_deleted =>
"Bạn có muốn xóa toàn bộ cuộc trò chuyện này khỏi Telegram (cả tin của bạn và của bot) không?",
"Do you want to delete this whole conversation from Telegram (your messages and the bot's)?";
    receipt_not_deleted =>
"⚠️ Bot chưa xóa được tin nhắn chứa mã biên nhận. Hãy tự xóa: nhấn giữ tin nhắn đó → Xóa (chọn xóa cho cả bot).",
"⚠️ The bot could not delete the message with your receipt. Please delete it yourself: press and hold it → Delete (for the bot too).";
    receipt_typed_elsewhere =>
"Tin nhắn vừa rồi trông giống mã biên nhận nên bot đã xóa nó khỏi cuộc trò chuyện và kiểm tra hồ sơ cho bạn.",
"Your last message looked like a receipt, so the bot deleted it from the chat and checked the case for you.";
    wipe_yes => "🧹 Xóa cuộc trò chuyện", "🧹 Delete the conversation";
    wipe_no => "Giữ lại", "Keep it";
    wiped =>
"Đã xóa các tin nhắn của cuộc trò chuyện. Bạn cũng có thể xóa hẳn cuộc trò chuyện trong Telegram: mở hồ sơ của bot → ⋮ → Xóa cuộc trò chuyện.",
"The conversation's messages were deleted. You can also delete the chat itself in Telegram: open the bot's profile → ⋮ → Delete chat.";
    wipe_partial =>
"Đã xóa những tin nhắn còn xóa được. Telegram chỉ cho bot xóa tin nhắn trong 48 giờ; những tin cũ hơn bạn hãy tự xóa, hoặc xóa hẳn cuộc trò chuyện: mở hồ sơ của bot → ⋮ → Xóa cuộc trò chuyện.",
"Deleted the messages that could still be deleted. Telegram lets a bot delete messages only within 48 hours; please delete older ones yourself, or delete the whole chat: open the bot's profile → ⋮ → Delete chat.";
    kept => "Được. Bạn có thể xóa sau bằng /wipe.", "All right. You can delete it later with /wipe.";
    nothing_to_wipe =>
"Bot không còn giữ danh sách tin nhắn nào để xóa (danh sách bị xóa cùng bản nháp). Bạn có thể tự xóa cuộc trò chuyện: mở hồ sơ của bot → ⋮ → Xóa cuộc trò chuyện.",
"The bot no longer holds a list of messages to delete (it is removed with the draft). You can delete the chat yourself: open the bot's profile → ⋮ → Delete chat.";
    ask_receipt =>
"Gõ mã biên nhận của bạn (dạng XXXX-XXXX-XXXX-XXXX). Tin nhắn chứa mã sẽ được xóa ngay.",
"Type your receipt code (like XXXX-XXXX-XXXX-XXXX). The message with the code is deleted right away.";
    receipt_not_found =>
"Không tìm thấy hồ sơ với mã này. Kiểm tra lại mã và thử lại.",
"No case was found with this code. Check the code and try again.";
    receipt_bad_format =>
"Mã biên nhận gồm 16 ký tự chữ và số, ví dụ 7Q4M-2XPA-9KDE-W3HZ. Hãy thử lại.",
"A receipt has 16 letters and digits, like 7Q4M-2XPA-9KDE-W3HZ. Please try again.";
    too_many_attempts =>
"Bạn đã thử quá nhiều lần. Vui lòng thử lại sau một giờ.",
"Too many attempts. Please try again in an hour.";
    reply_button => "✍️ Trả lời Thanh tra", "✍️ Reply to the Inspectorate";
    /// The button that closes a shown status.
    status_done => "Xong", "Done";
    /// Text typed where only a button answers.
    use_buttons => "Hãy chọn bằng các nút bên dưới.", "Please use the buttons below.";
    ask_reply => "Gõ câu trả lời của bạn. Đừng ghi tên bạn.", "Type your answer. Do not write your name.";
    reply_stored => "Đã gửi câu trả lời của bạn, đã được niêm phong cho cán bộ xử lý.", "Your answer was sent, sealed for the staff handling the case.";
    no_messages => "Chưa có tin nhắn nào từ Thanh tra.", "No messages from the Inspectorate yet.";
    case_purged =>
"Hồ sơ này đã đóng và đã được xóa theo thời hạn lưu trữ.",
"This case was closed and has been removed under the retention period.";
    private_only =>
"Bot chỉ nhận phản ánh trong cuộc trò chuyện riêng, để bảo vệ người phản ánh. Hãy nhắn riêng cho bot. Bot sẽ rời nhóm này. / This bot takes reports only in a private chat, to protect reporters. Please message it privately. The bot will now leave this group.",
"This bot takes reports only in a private chat, to protect reporters. Please message it privately. The bot will now leave this group. / Bot chỉ nhận phản ánh trong cuộc trò chuyện riêng, để bảo vệ người phản ánh. Hãy nhắn riêng cho bot. Bot sẽ rời nhóm này.";
    stale_button =>
"Nút này không còn dùng được. Đây là bước hiện tại:",
"That button is no longer active. Here is the current step:";
    unsupported_media =>
"Bot chỉ đọc được chữ và nút bấm ở bước này. Hãy gõ nội dung bằng chữ.",
"At this step the bot can only read text and buttons. Please type it as text.";
    files_not_now =>
"Bot chỉ nhận tệp khi bạn đang soạn một phản ánh. Câu trả lời cho Thanh tra hiện chỉ nhận chữ; nếu cần gửi thêm bằng chứng, hãy nói rõ trong câu trả lời.",
"Files are only taken while you are writing a report. Answers to the Inspectorate take text only for now; if you have more evidence, say so in your answer.";
    contact_refused =>
"Vì an toàn, bot không nhận danh bạ hay số điện thoại chia sẻ: chúng cho biết bạn là ai. Tin nhắn đó không được lưu. Bạn có thể tiếp tục bước hiện tại.",
"For your safety the bot does not take shared contacts: they reveal who you are. That message was not stored. You can continue with the current step.";
    location_refused =>
"Vì an toàn, bot không nhận vị trí chia sẻ: vị trí chính xác có thể cho biết bạn ở đâu. Vị trí không được lưu. Ở bước địa bàn, hãy chọn xã, phường bằng cách gõ tên.",
"For your safety the bot does not take shared locations: an exact location can reveal where you are. It was not stored. At the place step, choose the commune by typing its name.";
    forwarded_refused =>
"Tin nhắn chuyển tiếp mang theo danh tính của người khác (người gửi gốc), nên bot không lưu nó. Nếu nội dung quan trọng, hãy gõ lại phần cần thiết bằng lời của bạn; nếu chính tin nhắn đó là bằng chứng, hãy gửi ảnh chụp màn hình của nó ở bước bằng chứng.",
"Forwarded messages carry other people's identities (the original sender), so the bot does not store them. If the content matters, type the relevant part in your own words; if the message itself is evidence, send a screenshot of it at the evidence step.";
    /// A forwarded file was taken as evidence without its origin.
    forwarded_file_taken =>
"Tệp này được chuyển tiếp: bot giữ tệp làm bằng chứng nhưng không lưu người gửi gốc và chú thích kèm theo, vì tin chuyển tiếp mang theo danh tính của người khác.",
"This file was forwarded: the bot keeps the file as evidence but not who originally sent it or its caption, because forwarded messages carry other people's identities.";
    edited_ignored =>
"Bot không theo dõi tin nhắn đã sửa. Hãy gửi phần sửa thành tin nhắn mới, hoặc sửa ở bước xem lại.",
"The bot does not pick up edited messages. Send the correction as a new message, or change it at the review step.";
    /// `{n}`: the limit in characters.
    too_long =>
"Tin nhắn này làm nội dung dài quá giới hạn {n} ký tự, nên chưa được thêm. Hãy viết gọn hơn.",
"This message would make the text longer than the limit of {n} characters, so it was not added. Please shorten it.";
    flood =>
"Bạn gửi nhanh quá. Vui lòng chờ một phút rồi tiếp tục.",
"You are sending messages very fast. Please wait a minute, then continue.";
    db_down =>
"Hệ thống đang tạm bận nên tin nhắn vừa rồi chưa được lưu. Bản nháp của bạn vẫn an toàn; vui lòng gửi lại sau một phút.",
"The system is briefly unavailable, so your last message was not saved. Your draft is safe; please send it again in a minute.";
    daily_limit =>
"Hôm nay bạn đã gửi số phản ánh tối đa. Bản nháp vẫn được giữ; hãy gửi lại vào ngày mai.",
"You have sent the maximum number of reports for today. Your draft is kept; please send it tomorrow.";
    resume =>
"Bạn đang có một phản ánh làm dở. Tiếp tục từ bước hiện tại:",
"You have a report in progress. Continuing from the current step:";
    lang_switched => "Đã chuyển sang tiếng Việt.", "Switched to English.";
    help =>
"Các lệnh:
/report — gửi phản ánh mới
/status — xem tình trạng bằng mã biên nhận, trả lời Thanh tra
/cancel — hủy việc đang làm
/wipe — xóa cuộc trò chuyện khỏi Telegram
/lang — đổi ngôn ngữ (English)
/privacy — chúng tôi bảo vệ gì và không bảo vệ được gì",
"Commands:
/report — make a new report
/status — check the status with your receipt, answer the Inspectorate
/cancel — cancel what you are doing
/wipe — delete this conversation from Telegram
/lang — switch language (tiếng Việt)
/privacy — what we protect and what we cannot";
    unknown_command => "Lệnh không rõ. Gõ /help để xem các lệnh.", "Unknown command. Send /help for the list.";
    need_consent_first => "Gõ /start để bắt đầu.", "Send /start to begin.";
    redirect_denunciation =>
"Tố cáo chính thức theo Luật Tố cáo 2018 bắt buộc người tố cáo ghi rõ họ tên, địa chỉ và ký tên (Điều 23), nên không thể gửi ẩn danh qua bot này. Nơi tiếp nhận:",
"A formal denunciation under the 2018 Law on Denunciations requires the denouncer's name, address and signature (Art. 23), so it cannot be sent anonymously through this bot. Where to file it:";
    redirect_complaint =>
"Khiếu nại một quyết định hành chính ảnh hưởng đến bạn được giải quyết theo Luật Khiếu nại, không qua kênh này. Nơi tiếp nhận:",
"A complaint about an administrative decision that affects you is handled under the Law on Complaints, not through this channel. Where to file it:";
    redirect_feedback =>
"Góp ý, kiến nghị về quy định hoặc thủ tục hành chính được tiếp nhận tại:",
"Feedback on rules or administrative procedures is received at:";
    redirect_footer =>
"Không có gì được lưu. Nếu cán bộ có hành vi nhũng nhiễu hoặc tham nhũng, bạn vẫn có thể phản ánh ẩn danh: gõ /report.",
"Nothing was stored. If an official harassed you or acted corruptly, you can still report it anonymously: send /report.";
    field_category => "Loại phản ánh", "Kind of report";
    field_behaviour => "Hành vi", "Behaviour";
    field_sector => "Lĩnh vực", "Area";
    field_office => "Cơ quan", "Office";
    field_place => "Địa bàn", "Place";
    field_when => "Thời gian", "When";
    field_who => "Cán bộ liên quan", "Officials involved";
    field_story => "Nội dung", "What happened";
    field_verify => "Kiểm chứng", "Verification";
    field_attachments => "Tệp bằng chứng", "Evidence files";
    not_given => "(không nêu)", "(not given)";
    place_undisclosed => "(người phản ánh không nêu)", "(reporter preferred not to say)";
    status_new => "Mới tiếp nhận", "Received";
    status_in_review => "Đang xem xét", "Under review";
    status_awaiting => "Thanh tra đang chờ bạn trả lời", "The Inspectorate is waiting for your answer";
    status_closed => "Đã đóng", "Closed";
    status_header => "Hồ sơ", "Case";
    outcome_header => "Kết quả:", "Outcome:";
    outcome_substantiated => "phản ánh có cơ sở, đã được xử lý", "the report was substantiated and acted on";
    outcome_unsubstantiated => "chưa đủ căn cứ xác định vi phạm", "the facts could not be established";
    outcome_referred => "đã chuyển cơ quan có thẩm quyền", "referred to the competent body";
    outcome_not_actionable =>
"chưa đủ thông tin để xác minh (cần tên cơ quan, cán bộ, sự việc cụ thể)",
"not enough to verify (the office, the official and concrete facts are needed)";
    error_generic =>
"Xin lỗi, đã có lỗi và tin nhắn vừa rồi chưa được lưu. Vui lòng gửi lại sau ít phút.",
"Sorry, something went wrong and your last message was not saved. Please send it again in a few minutes.";
    status_expired =>
"Phiên xem hồ sơ đã hết hạn. Hãy nhập lại mã biên nhận để trả lời.",
"The status session has expired. Please enter your receipt again to reply.";
    findings_intro =>
"Trong nội dung có thông tin có thể cho biết bạn là ai. Mặc định bot sẽ xóa chúng khỏi bản tóm tắt. Nếu một mục không phải của bạn (ví dụ số điện thoại cơ quan của cán bộ), bấm để giữ lại:",
"Your text contains details that could identify you. By default the bot removes them from the summary. If one is not yours (for example the official's office phone), press it to keep it:";
    finding_remove => "sẽ xóa", "will be removed";
    finding_keep => "giữ lại", "kept";
    after_submit =>
"Khi đã chép mã biên nhận ra nơi an toàn, bấm nút dưới đây để xóa tin nhắn chứa mã.",
"Once you have copied the receipt somewhere safe, press the button below to delete the message that holds it.";
    status_next => "Bạn có thể trả lời Thanh tra, hoặc bấm Xong.", "You can reply to the Inspectorate, or press Done.";
    messages_header => "Tin nhắn từ Thanh tra:", "Messages from the Inspectorate:";
}

/// The command descriptions for setMyCommands, by language.
pub fn commands(l: Lang) -> [(&'static str, &'static str); 8] {
    match l {
        Lang::Vi => [
            ("start", "Bắt đầu, xem thông báo an toàn"),
            ("report", "Gửi phản ánh mới"),
            ("status", "Xem tình trạng bằng mã biên nhận"),
            ("cancel", "Hủy việc đang làm"),
            ("wipe", "Xóa cuộc trò chuyện khỏi Telegram"),
            ("lang", "Đổi ngôn ngữ / English"),
            ("privacy", "Chúng tôi bảo vệ gì"),
            ("help", "Danh sách lệnh"),
        ],
        Lang::En => [
            ("start", "Start, read the safety notice"),
            ("report", "Make a new report"),
            ("status", "Check the status with your receipt"),
            ("cancel", "Cancel what you are doing"),
            ("wipe", "Delete this conversation from Telegram"),
            ("lang", "Switch language / tiếng Việt"),
            ("privacy", "What we protect"),
            ("help", "List of commands"),
        ],
    }
}

/// "Hồ sơ KH-… : status" line and the outcome.
pub fn status_label(status: crate::ids::CaseStatus, l: Lang) -> &'static str {
    use crate::ids::CaseStatus::*;
    match status {
        New => status_new(l),
        InReview => status_in_review(l),
        AwaitingReporter => status_awaiting(l),
        Closed => status_closed(l),
    }
}

/// A month name for summaries.
pub fn month_year(month: u8, year: i32, l: Lang) -> String {
    match l {
        Lang::Vi => format!("tháng {month}/{year}"),
        Lang::En => format!("{month}/{year}"),
    }
}

/// The welcome and consent text with the retention periods actually configured, so the
/// consent the reporter gives (Law 91/2025/QH15) names the periods that apply.
pub fn welcome(l: Lang, retention: &crate::config::Retention) -> String {
    welcome_template(l)
        .replace("{closed_days}", &retention.closed_case_days.to_string())
        .replace("{draft_hours}", &retention.draft_hours.to_string())
}

/// How a closed case ended, in the reporter's words.
pub fn outcome_label(o: crate::ids::Outcome, l: Lang) -> &'static str {
    use crate::ids::Outcome::*;
    match o {
        Substantiated => outcome_substantiated(l),
        Unsubstantiated => outcome_unsubstantiated(l),
        Referred => outcome_referred(l),
        NotActionable => outcome_not_actionable(l),
    }
}

/// The one message that carries a receipt: the confirmation (or, for a fresh receipt after a
/// crash, what happened), the case code, the receipt, and how to keep it. Zeroized on drop.
pub fn receipt_message(
    l: Lang,
    code: &str,
    receipt: &str,
    again: bool,
) -> zeroize::Zeroizing<String> {
    let head = if again {
        receipt_again_head(l).replace("{code}", code)
    } else {
        receipt_sent_head(l).to_owned()
    };
    zeroize::Zeroizing::new(format!(
        "{head}\n\n{}: {code}\n{}: {receipt}\n\n{}",
        case_code_label(l),
        receipt_label(l),
        receipt_keep(l)
    ))
}
