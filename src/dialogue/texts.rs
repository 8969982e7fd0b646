//! Everything the bot says, in Vietnamese (default) and English. Short messages, plain words,
//! full diacritics. Functions rather than a lookup table so a missing translation is a compile
//! error.

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// The reporter's language. Vietnamese first, whatever Telegram's interface language (Telegram
/// has no official Vietnamese interface, so many Vietnamese users run it in English); the first
/// screen has an English button, and /lang switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Lang {
    /// Vietnamese (default).
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
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
    agree =>
"✅ Đồng ý, bắt đầu",
"✅ I agree, start";
    disagree => "Không đồng ý", "I do not agree";
    declined =>
"Bạn chưa đồng ý nên không có gì được lưu. Nếu đổi ý, gõ /start.",
"You did not agree, so nothing was stored. If you change your mind, send /start.";
    ask_behaviour => "Cán bộ đã làm gì? Chọn điều gần nhất.", "What did the official do? Pick the closest.";
    ask_sector =>
"Việc này thuộc lĩnh vực nào?",
"Which sector is this about?";
    ask_office =>
"Cơ quan nào? Chọn bên dưới, hoặc gõ tên cơ quan như bạn vẫn gọi (tên cũ trước năm 2025 cũng được).",
"Which office? Choose below, or type its name as you know it (names from before 2025 are fine).";
    office_province => "Sở, ban, ngành tỉnh", "Provincial departments";
    office_commune => "UBND, phòng ban xã/phường", "Commune/ward offices";
    office_other => "Công an, thuế, BHXH, trường, bệnh viện…", "Police, tax, insurance, schools, hospitals…";
    /// `{typed}`: the name as typed.
    office_matches =>
"Bạn gõ: \"{typed}\". Có phải cơ quan nào dưới đây không? Bot giữ cả tên bạn gõ bên cạnh tên cơ quan.",
"You typed: \"{typed}\". Is it one of these? The bot keeps your words beside the office's name.";
    office_use_typed =>
"Không có ở đây, giữ tên tôi gõ",
"Not here, keep what I typed";
    ask_place =>
"Việc xảy ra ở xã, phường nào? Gõ tên, tên cũ trước khi sáp nhập năm 2025 cũng được (ví dụ: Cam Lập, Vạn Giã).",
"Which commune or ward did it happen in? Type its name; names from before the 2025 merger work too (e.g. Cam Lập, Vạn Giã).";
    place_prefer_not => "Tôi không muốn nói", "I prefer not to say";
    place_matches =>
"Chọn đúng xã, phường:",
"Choose the right one:";
    place_none =>
"Không tìm thấy xã, phường nào như vậy ở Khánh Hòa. Hãy thử gõ ngắn hơn, ví dụ \"Cam Lâm\".",
"No commune or ward of Khánh Hòa matches that. Try fewer letters, for example \"Cam Lam\".";
    ask_when =>
"Việc này xảy ra khi nào? Nếu nhiều lần, chọn lần gần nhất.",
"When did it happen? If more than once, pick the latest.";
    ask_who =>
"Cán bộ đó là ai? Ghi họ tên, chức vụ nếu bạn biết.
Nếu không biết tên, hãy tả để Thanh tra tìm được người đó: bàn hoặc phòng số mấy, làm việc gì, nam hay nữ, khoảng bao nhiêu tuổi.
Ví dụ: \"cán bộ nam ở bàn số 3, bộ phận một cửa, khoảng 40 tuổi\".",
"Who was the official? Give their name and title if you know them.
If you don't know the name, describe them so the Inspectorate can find them: desk or room number, what they handle, man or woman, rough age.
For example: \"the man at desk 3 of the one-stop counter, about 40\".";
    ask_story =>
"Hãy kể lại việc đã xảy ra, càng cụ thể càng tốt: cán bộ nói gì, đòi gì, bao nhiêu tiền, hồ sơ hay giấy tờ gì, hẹn mấy lần.
Đừng ghi tên, số điện thoại, địa chỉ của bạn. Bạn có thể gửi nhiều tin nhắn.",
"Tell what happened, as exactly as you can: what the official said or asked for, how much money, which file or papers, how many times you were sent away.
Do not write your own name, phone number or address. You can send several messages.";
    /// Shown instead of [`ask_story`] when the reporter chose to rewrite what happened.
    ask_story_replace =>
"Gõ lại nội dung sự việc. Tin nhắn đầu tiên bạn gửi sẽ thay nội dung cũ. Muốn giữ nội dung cũ thì bấm \"Quay lại\".",
"Type what happened again. Your first message replaces the old text. To keep the old text, press \"Back\".";
    /// The evidence step: `{max_files}`, and `{originals}` ([`originals_kept`] or
    /// [`originals_not_kept`]).
    ask_attachments =>
"📎 Gửi ảnh, giấy tờ (PDF, Word, Excel), ghi âm hoặc video ngay tại đây. Tối đa {max_files} tệp, mỗi tệp đến 20 MB.
Cán bộ xử lý nhận bản đã làm sạch: bot xóa dữ liệu ẩn như vị trí GPS, tên máy, tên người soạn, và báo bạn biết khi không xóa được. {originals}
Xem kỹ trước khi gửi: khuôn mặt, giọng nói, giấy tờ có tên bạn đều có thể cho biết bạn là ai.",
"📎 Send photos, papers (PDF, Word, Excel), voice notes or video here. Up to {max_files} files, each up to 20 MB.
The staff handling your report get cleaned copies: the bot removes hidden data such as GPS position, device and author, and tells you when it cannot. {originals}
Look before you send: a face, a voice or a paper with your name can show who you are.";
    attachments_none =>
"Không gửi tệp ➡️",
"No files ➡️";
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
"⚠️ Nếu gửi, tệp đến cán bộ xử lý đúng như bạn gửi, cùng mọi dữ liệu ẩn trong đó, và bản tóm tắt sẽ ghi rõ điều đó. Bạn có thể gỡ tệp, hoặc gửi ảnh chụp màn hình thay thế.",
"⚠️ If you send it, the file reaches the staff handling the report exactly as you sent it, with all its hidden data, and the summary will say so. You can remove it, or send a screenshot instead.";
    /// After a file cleaned only in part.
    file_partly_cleaned =>
"⚠️ Bot đã xóa những gì xóa được, nhưng phần dữ liệu ẩn ghi ở trên vẫn còn trong tệp và sẽ đến cán bộ xử lý cùng tệp. Bạn có thể gỡ tệp, hoặc gửi ảnh chụp màn hình thay thế.",
"⚠️ The bot removed what it could, but the hidden data listed above stays in the file and reaches the staff handling the report with it. You can remove the file, or send a screenshot instead.";
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
"Chưa gửi được: bot không tải lại được tệp số {n} từ Telegram. Bấm \"Gửi phản ánh\" lại sau ít phút, hoặc gỡ tệp đó.",
"Not sent yet: the bot could not fetch file {n} from Telegram again. Press \"Send report\" again in a few minutes, or remove that file.";
    caption_added =>
"Chú thích kèm tệp đã được thêm vào phần mô tả sự việc.",
"The file's caption was added to your description.";
    story_empty => "Hãy kể ít nhất một câu về việc đã xảy ra.", "Please write at least one sentence about what happened.";
    /// After each story message: more text is still taken; one answer closes the story.
    ask_verify =>
"Đã ghi. Muốn kể thêm thì cứ gửi tiếp.
Kể xong, cho biết: có gì giúp kiểm chứng việc này không? Chọn một.",
"Noted. To add more, just keep writing.
When you have finished, tell us: is there anything that can confirm this? Pick one.";
    ask_verify_note =>
"Ghi thêm điều giúp kiểm chứng, ví dụ: ai đã chứng kiến, còn ai gặp việc tương tự, giấy tờ nào chứng minh. Đừng ghi tên bạn.
Lưu ý: số hồ sơ, số giấy hẹn giúp xác minh, nhưng cũng cho biết bạn là ai.",
"Add what would help verify it, for example: who saw it, who else had the same, which paper shows it. Do not write your name.
Note: a file number or an appointment slip number helps verify, but it also shows who you are.";
    ask_contact =>
"Thanh tra có thể cần hỏi thêm. Cách an toàn nhất: bạn tự vào xem bằng /status và mã tra cứu bí mật, không cần để lại gì.
Nếu vẫn muốn, gõ cách liên lạc (số điện thoại, email…). Thông tin này được khóa riêng cùng tài khoản Telegram của bạn; cán bộ xử lý không thấy, chỉ mở được theo cùng thủ tục.",
"The Inspectorate may have questions. The safest way: check yourself with /status and your secret lookup code; you need not leave anything.
If you still want to, type how to reach you (phone, e-mail…). It is locked away with your Telegram account; the staff handling your report do not see it, and it opens only through the same procedure.";
    review_intro =>
"Xem lại. Đây đúng là bản Thanh tra sẽ nhận. Tài khoản Telegram của bạn (và cách liên lạc, nếu có) được khóa riêng, không nằm trong bản này.",
"Please check. This is exactly what the Inspectorate will receive. Your Telegram account (and a contact, if you leave one) is locked away separately and is not in it.";
    send => "✅ Gửi phản ánh", "✅ Send report";
    /// The review screen's per-field edit buttons: "✏️ " + the field's name.
    edit_prefix => "✏️ ", "✏️ ";
    cancel => "Hủy", "Cancel";
    back => "⬅️ Quay lại", "⬅️ Back";
    ask_edit_field => "Bạn muốn sửa phần nào?", "Which part do you want to change?";
    cancelled =>
"Đã hủy. Nội dung bản nháp đã bị xóa, không có gì được gửi. Gõ /report để bắt đầu lại.",
"Cancelled. The draft's content was deleted and nothing was sent. Send /report to start again.";
    nothing_to_cancel => "Không có việc gì đang làm dở. Gõ /report để phản ánh.", "Nothing in progress. Send /report to make a report.";
    /// Opens a fresh receipt for a report whose first receipt never arrived (or may have):
    /// `{code}` is the case number.
    receipt_again_head =>
"✅ Phản ánh của bạn (số hồ sơ {code}) đã được tiếp nhận. Tin nhắn chứa mã tra cứu lần trước chưa đến được với bạn, nên đây là mã mới. Nếu trước đó bạn đã thấy một mã cho phản ánh này, mã đó không còn dùng được.",
"✅ Your report (case number {code}) was received. The message with its lookup code did not reach you, so here is a new code. If you saw a code for this report before, it no longer works.";
    previous_report_sent =>
"Phản ánh trước của bạn đã được gửi; mã tra cứu nằm ở tin nhắn phía trên, hãy giữ lại. Bây giờ bắt đầu phản ánh mới.",
"Your previous report was sent; its lookup code is in the message above, keep it. A new report starts now.";
    already_sent =>
"Phản ánh này đã được gửi rồi; bot không gửi lại lần nữa.",
"This report has already been sent; it was not sent again.";
    /// The button under the receipt: asks first ([`confirm_delete`]).
    saved_receipt =>
"🗑 Đã chép mã, xóa tin này",
"🗑 I've copied it, delete this";
    /// The wipe offer after the receipt message was deleted.
    receipt_deleted =>
"Đã xóa tin chứa mã. Bạn có muốn xóa luôn cuộc trò chuyện này (tin của bạn và của bot) không? Nên xóa nếu người khác có thể cầm điện thoại của bạn.",
"The message with the code is deleted. Do you want to delete this whole conversation too (your messages and the bot's)? Do, if someone else may handle your phone.";
    receipt_not_deleted =>
"⚠️ Bot chưa xóa được tin chứa mã. Hãy tự xóa: nhấn giữ tin đó → Delete (Xóa), chọn xóa cả cho bot.",
"⚠️ The bot could not delete the message with your code. Please delete it yourself: press and hold it → Delete, for the bot too.";
    receipt_typed_elsewhere =>
"Tin nhắn vừa rồi trông giống mã tra cứu nên bot đã xóa nó và kiểm tra hồ sơ cho bạn.",
"Your last message looked like a lookup code, so the bot deleted it and checked the case for you.";
    wipe_yes => "🧹 Xóa cuộc trò chuyện", "🧹 Delete the conversation";
    wipe_no => "Giữ lại", "Keep it";
    wiped =>
"Đã xóa các tin nhắn của cuộc trò chuyện. Bạn cũng có thể xóa hẳn cuộc trò chuyện trong Telegram: mở hồ sơ của bot → ⋮ → Delete chat (Xóa cuộc trò chuyện).",
"The conversation's messages were deleted. You can also delete the chat itself in Telegram: open the bot's profile → ⋮ → Delete chat.";
    wipe_partial =>
"Đã xóa những tin nhắn còn xóa được. Telegram chỉ cho bot xóa tin nhắn trong 48 giờ; những tin cũ hơn bạn hãy tự xóa, hoặc xóa hẳn cuộc trò chuyện: mở hồ sơ của bot → ⋮ → Delete chat (Xóa cuộc trò chuyện).",
"Deleted the messages that could still be deleted. Telegram lets a bot delete messages only within 48 hours; please delete older ones yourself, or delete the whole chat: open the bot's profile → ⋮ → Delete chat.";
    kept =>
"Được. Muốn xóa sau thì bấm nút 🧹 ở tin trên (trong 48 giờ), hoặc tự xóa: mở hồ sơ của bot → ⋮ → Delete chat (Xóa cuộc trò chuyện).",
"All right. To delete it later, press the 🧹 button above (within 48 hours), or delete the chat yourself: open the bot's profile → ⋮ → Delete chat.";
    nothing_to_wipe =>
"Bot không còn giữ danh sách tin nhắn để xóa (danh sách bị bỏ khi phản ánh đã gửi xong hoặc bản nháp hết hạn). Bạn tự xóa được: mở hồ sơ của bot → ⋮ → Delete chat (Xóa cuộc trò chuyện).",
"The bot no longer holds a list of messages to delete (it is dropped once a report is sent or the draft expires). You can delete the chat yourself: open the bot's profile → ⋮ → Delete chat.";
    ask_receipt =>
"Gõ mã tra cứu bí mật của bạn (16 chữ và số, ví dụ 7Q4M-2XPA-9KDE-W3HZ). Bot xóa tin chứa mã ngay sau khi đọc.",
"Type your secret lookup code (16 letters and digits, like 7Q4M-2XPA-9KDE-W3HZ). The bot deletes the message with it as soon as it is read.";
    receipt_not_found =>
"Không tìm thấy hồ sơ với mã này. Kiểm tra lại mã và thử lại.",
"No case was found with this code. Check the code and try again.";
    receipt_bad_format =>
"Mã tra cứu gồm 16 chữ và số, ví dụ 7Q4M-2XPA-9KDE-W3HZ. Số hồ sơ (KH-…) không dùng được ở đây. Hãy thử lại.",
"A lookup code has 16 letters and digits, like 7Q4M-2XPA-9KDE-W3HZ. The case number (KH-…) does not work here. Please try again.";
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
/status — xem kết quả, trả lời Thanh tra (cần mã tra cứu bí mật)
/cancel — bỏ việc đang làm
/wipe — xóa tin nhắn trong cuộc trò chuyện này (chỉ tin trong 48 giờ qua; bỏ luôn bản nháp)
/lang — English
/privacy — bảo vệ gì, không bảo vệ được gì, quyền của bạn",
"Commands:
/report — make a new report
/status — see the outcome, answer the Inspectorate (needs your secret lookup code)
/cancel — stop what you are doing
/wipe — delete this conversation's messages (only those from the last 48 hours; drops a draft too)
/lang — tiếng Việt
/privacy — what is protected, what is not, your rights";
    unknown_command => "Lệnh không rõ. Gõ /help để xem các lệnh.", "Unknown command. Send /help for the list.";
    need_consent_first => "Gõ /start để bắt đầu.", "Send /start to begin.";
    /// `{contact}`: the configured contact.
    redirect_denunciation =>
"Tố cáo chính thức theo Luật Tố cáo 2018 phải ghi họ tên, địa chỉ và có chữ ký của người tố cáo (Điều 23), nên không gửi ẩn danh qua bot được. Nơi nhận: {contact}

Nếu không muốn ghi tên, bạn vẫn có thể gửi ngay ở đây một phản ánh ẩn danh. Thanh tra sẽ xem xét, kiểm tra hoặc chuyển cơ quan có thẩm quyền khi phản ánh nêu rõ người vi phạm, có tài liệu, chứng cứ cụ thể và có cơ sở để xác minh (Luật Tố cáo 2018, Điều 25 khoản 2). Khác với tố cáo chính thức: phản ánh ẩn danh không được giải quyết theo thủ tục tố cáo; bạn xem kết quả bằng /status và mã tra cứu.",
"A formal denunciation under the 2018 Law on Denunciations needs the denouncer's name, address and signature (Art. 23), so it cannot be sent anonymously through this bot. Where to file it: {contact}

If you do not want to give your name, you can still send an anonymous report here now. The Inspectorate looks into it, or passes it to the competent body, when it names who broke the rules, has specific papers or evidence, and can be checked (Law on Denunciations 2018, Art. 25(2)). Unlike a formal denunciation, an anonymous report is not handled under the denunciation procedure; you see the outcome with /status and your lookup code.";
    /// `{contact}`: the configured contact.
    redirect_complaint =>
"Khiếu nại một quyết định hay việc làm của cơ quan nhà nước ảnh hưởng trực tiếp đến bạn được giải quyết theo Luật Khiếu nại, không qua kênh này. Nơi nhận: {contact}
Nếu cán bộ còn nhũng nhiễu, đòi tiền hay gây khó dễ, bạn vẫn có thể phản ánh ẩn danh ở đây.",
"A complaint about a decision or act of a state body that affects you directly is handled under the Law on Complaints, not through this channel. Where to file it: {contact}
If an official also obstructed you or asked for money, you can still report that anonymously here.";
    /// `{contact}`: the configured contact.
    redirect_feedback =>
"Góp ý, kiến nghị về quy định hay thủ tục hành chính được tiếp nhận tại: {contact}
Nếu cán bộ nhũng nhiễu, gây phiền hà khi làm thủ tục, bạn vẫn có thể phản ánh ẩn danh ở đây.",
"Feedback on rules or administrative procedures is received at: {contact}
If an official obstructed you or made trouble during the procedure, you can still report that anonymously here.";
    field_category => "Loại phản ánh", "Kind of report";
    field_behaviour => "Hành vi", "Behaviour";
    field_sector =>
"Lĩnh vực",
"Sector";
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
"Phiên xem hồ sơ đã hết hạn. Hãy gõ lại mã tra cứu để trả lời.",
"The status session has expired. Please type your lookup code again to reply.";
    findings_intro =>
"Bot thấy trong bài có thông tin có thể cho biết một người là ai. Cái gì có vẻ là của bạn thì bot xóa, như bạn thấy ở trên; số của cán bộ hay cơ quan thì giữ lại, vì đó là bằng chứng. Bấm vào từng mục để đổi.",
"Your text contains details that could show who someone is. What seems to be yours the bot removes, as you see above; an official's or an office's number it keeps, because it is evidence. Press an item to change it.";
    after_submit =>
"Khi đã chép mã tra cứu ra giấy, bấm nút dưới đây để xóa tin nhắn chứa mã.",
"Once you have copied the lookup code onto paper, press the button below to delete the message that holds it.";
    status_next =>
"Bạn có thể trả lời Thanh tra, hoặc bấm Xong. Muốn xem, sửa, xóa dữ liệu của mình hay rút lại đồng ý, hãy bấm \"Trả lời Thanh tra\" và ghi rõ yêu cầu.",
"You can reply to the Inspectorate, or press Done. To see, correct or delete your data, or to withdraw your consent, press \"Reply to the Inspectorate\" and say what you want.";
    messages_header => "Tin nhắn từ Thanh tra:", "Messages from the Inspectorate:";
    originals_kept =>
"Bản gốc được khóa riêng; chỉ khi đủ số người giữ khóa cùng đồng ý mới mở được.",
"The originals are locked away; they open only when enough key holders agree together.";
    originals_not_kept =>
"Bản gốc không được giữ.",
"Originals are not kept.";
    attachments_done =>
"Gửi xong ➡️",
"Done ➡️";
    verify_none =>
"➡️ Không có, tiếp tục",
"➡️ Nothing, continue";
    remove_contact =>
"🗑 Xóa cách liên lạc",
"🗑 Remove contact";
    add_contact =>
"📞 Để lại cách liên lạc",
"📞 Leave a contact";
    change_contact =>
"📞 Sửa cách liên lạc",
"📞 Change the contact";
    add_note =>
"📝 Ghi thêm để kiểm chứng",
"📝 Add a note to help verify";
    add_files =>
"📎 Thêm tệp",
"📎 Add files";
    change_other =>
"✏️ Sửa phần khác",
"✏️ Change something";
    /// Under the review's summary when a contact was left, before it.
    contact_line =>
"📞 Cách liên lạc (khóa riêng, không nằm trong bản trên):",
"📞 Contact (locked away, not in the text above):";
    finding_will_remove =>
"🗑 Sẽ xóa — bấm để giữ",
"🗑 Will be removed — press to keep";
    finding_kept =>
"✅ Giữ lại — bấm để xóa",
"✅ Kept — press to remove";
    /// The receipt message: `{receipt}` on a line of its own, `{code}` the case number. A
    /// reissued receipt replaces the first line with [`receipt_again_head`].
    receipt_template =>
"✅ Đã gửi phản ánh. Cảm ơn bạn.

🔑 Mã tra cứu bí mật của bạn:
{receipt}

Hãy chép mã này ra giấy ngay và cất kỹ. Chỉ mã này giúp bạn xem kết quả và trả lời Thanh tra (gõ /status). Thanh tra không lưu mã nên không cấp lại được nếu bạn làm mất. Đừng đưa mã cho ai.
Chạm vào mã để sao chép. Không nên chụp màn hình: ảnh có thể tự lưu lên mạng.

Số hồ sơ {code} chỉ dùng nội bộ, bạn không cần ghi.",
"✅ Report sent. Thank you.

🔑 Your secret lookup code:
{receipt}

Write this code on paper now and keep it safe. Only this code lets you see the outcome and answer the Inspectorate (send /status). The Inspectorate does not keep it, so it cannot be given again if you lose it. Do not show it to anyone.
Tap the code to copy it. A screenshot is not advised: photos may back up to the internet by themselves.

Case number {code} is for staff; you need not note it.";
    confirm_delete =>
"Bạn chắc đã chép mã? Sau khi xóa, không ai xem lại được mã này.",
"Are you sure you have copied the code? Once deleted, nobody can show it again.";
    confirm_yes =>
"Đã chép, xóa tin này",
"Copied, delete it";
    confirm_no =>
"Chưa, để lại",
"Not yet, keep it";
    receipt_left =>
"Được, tin chứa mã vẫn còn. Chép xong thì bấm lại nút dưới tin đó. Sau 48 giờ bot không xóa được tin này nữa; khi đó bạn tự xóa: nhấn giữ tin → Delete (Xóa).",
"All right, the message with the code stays. Once you have copied it, press its button again. After 48 hours the bot can no longer delete it; then delete it yourself: press and hold it → Delete.";
    another_report =>
"📝 Gửi phản ánh khác",
"📝 Make another report";
    /// `{contact}`: the configured emergency numbers.
    redirect_emergency =>
"🚨 Nếu đang có nguy hiểm hoặc tội phạm đang xảy ra, hãy gọi ngay {contact}.
Phản ánh qua bot không được xử lý ngay, nên không dùng cho việc khẩn cấp. Khi đã an toàn, bạn có thể quay lại gửi phản ánh.",
"🚨 If there is danger or a crime is happening now, call {contact} at once.
Reports through this bot are not handled immediately, so do not use it for emergencies. When you are safe, you can come back and send a report.";
    ask_redirect =>
"Bạn cần việc nào dưới đây?",
"Which of these do you need?";
    other_cases =>
"Trường hợp khác (tố cáo, khiếu nại…)",
"Other cases (denunciation, complaint…)";
    continue_anonymous =>
"➡️ Gửi phản ánh ẩn danh",
"➡️ Send an anonymous report";
    stop_here =>
"Dừng ở đây",
"Stop here";
    office_more =>
"📋 Cơ quan khác…",
"📋 Another office…";
    skip_who =>
"Không biết, bỏ qua",
"Don't know, skip";
    when_this_month =>
"Tháng này",
"This month";
    when_last_month =>
"Tháng trước",
"Last month";
    when_2to6 =>
"2–6 tháng trước",
"2–6 months ago";
    when_older =>
"Lâu hơn",
"Longer ago";
    /// Beside a matched office: the words the reporter typed (`… (ghi là: "…")`).
    office_typed_note =>
"ghi là",
"written as";
    /// The first screen: what is protected and what is not, and what a tap on "agree" means.
    welcome_short =>
"Xin chào. Đây là kênh của Thanh tra tỉnh Khánh Hòa nhận phản ánh về cán bộ nhũng nhiễu, gây phiền hà, tham nhũng. Bạn không cần cho biết tên.

🔒 Cán bộ xử lý không thấy tài khoản Telegram của bạn. Tài khoản chỉ được mở theo thủ tục có ghi lại, hoặc khi pháp luật bắt buộc.
⚠️ Telegram đọc được cuộc trò chuyện này. Điều bạn kể có thể giúp người trong cuộc đoán ra bạn.

Bấm \"Đồng ý, bắt đầu\" là bạn đồng ý xử lý dữ liệu như ghi ở \"Chi tiết\".",
"Hello. This is the Khánh Hòa Provincial Inspectorate's channel for reporting obstruction, petty extortion and corruption by officials. No name is needed.

🔒 Staff handling reports do not see your Telegram account. It is opened only by a logged procedure, or when the law compels it.
⚠️ Telegram can read this chat. What you tell may let people involved guess who you are.

\"I agree, start\" means you agree to the data processing under \"Details\".";
    details_button =>
"📄 Chi tiết",
"📄 Details";
    /// The button that shows the first screen in the other language.
    other_language =>
"English",
"Tiếng Việt";
    /// The full notice and consent details (Law 91/2025/QH15, Decree 356/2025): see [`details`].
    details_template =>
"📄 Chi tiết: bảo vệ gì, không bảo vệ được gì, và dữ liệu của bạn

Ai chịu trách nhiệm: Thanh tra tỉnh Khánh Hòa (bên kiểm soát dữ liệu). Liên hệ: {controller_contact}.

Mục đích: tiếp nhận, xác minh, xử lý phản ánh và trả lời bạn. Nếu việc thuộc cơ quan khác, Thanh tra có thể chuyển phản ánh đến cơ quan nhà nước có thẩm quyền.

Dữ liệu được giữ khi bạn bấm Gửi:
• Điều bạn kể, các lựa chọn của bạn, câu trả lời sau này qua /status.
• Tệp bạn gửi: {files_kept}.
• Số ID, tên người dùng (@…), tên hiển thị và ngôn ngữ của tài khoản Telegram.
• Cách liên lạc, chỉ khi bạn tự để lại.
Bot không hỏi họ tên, số CCCD hay địa chỉ của bạn.

Ai xem được:
• Cán bộ xử lý: bản tóm tắt bạn duyệt trước khi gửi và bản tệp đã làm sạch.
• Tài khoản Telegram, cách liên lạc{originals_listed}: khóa riêng, chia cho những người giữ khóa. Chỉ mở được khi đủ số người giữ khóa cùng đồng ý theo thủ tục có ghi nhật ký, hoặc khi cơ quan nhà nước có thẩm quyền yêu cầu theo quy định của pháp luật.
• Telegram, một công ty nước ngoài, chuyển cuộc trò chuyện này. Telegram đọc được tin nhắn với bot (không có mã hóa đầu cuối), lưu theo chính sách của họ và có thể phải cung cấp khi có yêu cầu pháp lý.

Điều bot không che được:
• Điều bạn kể có thể giúp người trong cuộc đoán ra bạn.
• Ai cầm điện thoại của bạn có thể đọc cuộc trò chuyện. Cuối cùng bot sẽ đề nghị xóa.

Thời gian lưu:
• Bản nháp chưa gửi: tự xóa vào nửa đêm đầu tiên sau {draft_hours} giờ kể từ lần trả lời cuối.
• Phản ánh đã gửi: giữ trong khi xử lý và {closed_days} ngày sau khi đóng hồ sơ, rồi xóa hẳn.

Quyền của bạn: được biết; đồng ý hoặc không, rút lại đồng ý; xem, sửa; yêu cầu cung cấp, xóa, hạn chế xử lý; phản đối việc xử lý; khiếu nại, tố cáo, khởi kiện, đòi bồi thường.
Cách dùng quyền mà vẫn ẩn danh:
• Trước khi gửi: sửa ở màn hình xem lại; /cancel bỏ bản nháp.
• Sau khi gửi: gõ /status và mã tra cứu bí mật, bấm \"Trả lời Thanh tra\" và ghi rõ yêu cầu. Không có mã, Thanh tra không biết phản ánh nào là của bạn.
• /wipe xóa tin nhắn trong cuộc trò chuyện này (Telegram chỉ cho xóa tin trong 48 giờ).

Nếu dữ liệu bị lộ, Thanh tra báo cơ quan bảo vệ dữ liệu cá nhân của Bộ Công an trong 72 giờ và đăng thông báo ở /privacy.

Căn cứ: Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15, Nghị định 356/2025/NĐ-CP.
Chưa có gì được lưu cho đến khi bạn bấm \"Đồng ý, bắt đầu\".",
"📄 Details: what is protected, what is not, and your data

Who is responsible: the Khánh Hòa Provincial Inspectorate (Thanh tra tỉnh Khánh Hòa), the data controller. Contact: {controller_contact}.

Purpose: receiving, verifying and handling your report, and answering you. If the matter belongs to another body, the Inspectorate may pass the report to the competent state body.

Data kept when you press Send:
• What you wrote, your choices, and your later replies through /status.
• Files you send: {files_kept}.
• Your Telegram account's ID number, username (@…), display name and language.
• A way to contact you, only if you leave one.
The bot does not ask for your name, ID card number or address.

Who can see what:
• Staff handling reports: the summary you check before sending, and the cleaned files.
• Your Telegram account, your contact{originals_listed}: locked away and split among key holders. They open only when enough key holders agree together, through a logged procedure, or when a competent state body demands it under the law.
• Telegram, a foreign company, carries this conversation. Telegram can read messages with a bot (they are not end-to-end encrypted), keeps them under its own policy, and may have to hand them over on legal demand.

What the bot cannot hide:
• What you tell may let people involved guess who you are.
• Anyone holding your phone can read this chat. At the end the bot offers to delete it.

How long:
• An unsent draft: deleted at the first midnight after {draft_hours} hours from your last answer.
• A sent report: kept while it is handled and {closed_days} days after the case is closed, then deleted.

Your rights: to be informed; to consent or not, and to withdraw consent; to see and correct your data; to ask for it to be provided, deleted or its processing restricted; to object to processing; to complain, denounce, sue and claim damages.
How to use them and stay anonymous:
• Before sending: change anything on the review screen; /cancel drops the draft.
• After sending: send /status with your secret lookup code, press \"Reply to the Inspectorate\" and say what you ask. Without the code, the Inspectorate cannot tell which report is yours.
• /wipe deletes this conversation's messages (Telegram allows it only within 48 hours).

If data leaks, the Inspectorate notifies the personal-data-protection authority of the Ministry of Public Security within 72 hours and posts a notice under /privacy.

Legal basis: Personal Data Protection Law No. 91/2025/QH15, Decree 356/2025/NĐ-CP.
Nothing is stored until you press \"I agree, start\".";
    files_kept_both =>
"bản đã làm sạch và bản gốc",
"the cleaned copy and the original";
    files_kept_cleaned =>
"chỉ bản đã làm sạch",
"only the cleaned copy";
    originals_listed =>
", bản gốc của tệp",
", the original files";
    /// At the story step when there is already a story (after Back): go on without adding.
    story_continue =>
"Giữ nội dung đã kể ➡️",
"Keep what I wrote ➡️";
    /// Beside a finding that seems to be the official's (kept by default).
    owner_official =>
"có vẻ là của cán bộ",
"seems to be the official's";
    /// Beside a finding that seems to be an office's (kept by default).
    owner_agency =>
"có vẻ là của cơ quan",
"seems to be the office's";
}

/// The command descriptions for setMyCommands, by language.
pub fn commands(l: Lang) -> [(&'static str, &'static str); 8] {
    match l {
        Lang::Vi => [
            ("start", "Bắt đầu, xem thông báo an toàn"),
            ("report", "Gửi phản ánh mới"),
            ("status", "Xem kết quả, trả lời Thanh tra (cần mã tra cứu)"),
            ("cancel", "Bỏ việc đang làm"),
            ("wipe", "Xóa tin nhắn trong 48 giờ qua"),
            ("lang", "English"),
            ("privacy", "Bảo vệ gì, không bảo vệ được gì, quyền của bạn"),
            ("help", "Danh sách lệnh"),
        ],
        Lang::En => [
            ("start", "Start, read the safety notice"),
            ("report", "Make a new report"),
            (
                "status",
                "See the outcome, answer the Inspectorate (lookup code)",
            ),
            ("cancel", "Stop what you are doing"),
            ("wipe", "Delete the messages of the last 48 hours"),
            ("lang", "Tiếng Việt"),
            ("privacy", "What is protected, what is not, your rights"),
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

/// The full notice and consent details ("Chi tiết", /privacy) with what is actually
/// configured: the retention periods, the controller's contact and whether originals are kept,
/// so the consent the reporter gives (Law 91/2025/QH15) names what applies.
pub fn details(
    l: Lang,
    retention: &crate::config::Retention,
    controller_contact: &str,
    keep_originals: bool,
) -> String {
    let (files, originals) = if keep_originals {
        (files_kept_both(l), originals_listed(l))
    } else {
        (files_kept_cleaned(l), "")
    };
    details_template(l)
        .replace(
            "{controller_contact}",
            controller_contact.trim_end_matches('.'),
        )
        .replace("{files_kept}", files)
        .replace("{originals_listed}", originals)
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
/// crash, what happened), the receipt on a line of its own, how to keep it, and the case number
/// marked as not needed. Zeroized on drop. The receipt's place in the text is
/// [`receipt_span`].
pub fn receipt_message(
    l: Lang,
    code: &str,
    receipt: &str,
    again: bool,
) -> zeroize::Zeroizing<String> {
    let mut text = receipt_template(l)
        .replace("{code}", code)
        .replace("{receipt}", receipt);
    if again {
        let head = receipt_again_head(l).replace("{code}", code);
        let rest = text
            .split_once('\n')
            .map_or("", |(_, rest)| rest)
            .to_owned();
        text.zeroize();
        text = format!("{head}\n{rest}");
    }
    zeroize::Zeroizing::new(text)
}

/// Where the receipt sits in a [`receipt_message`], in UTF-16 code units (Telegram's measure
/// for message entities): the offset and length of its line.
pub fn receipt_span(text: &str, receipt: &str) -> Option<(usize, usize)> {
    let start = text.find(receipt)?;
    let offset = text[..start].encode_utf16().count();
    Some((offset, receipt.encode_utf16().count()))
}
