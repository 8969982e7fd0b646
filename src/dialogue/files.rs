//! Evidence files in the dialogue: whether a file is taken at this step and within the limits,
//! and what the reporter hears once the adapter has fetched and checked it.

use super::draft::{Draft, DraftAttachment, MediaKind, Step};
use super::event::IncomingFile;
use super::flow;
use super::machine::{Ctx, Decision, Effect};
use super::outbox::{Outbox, Persist};
use super::summary;
use super::texts::{self as t, Lang};

/// A file arrived: refused here (wrong step, over a limit) or handed to the adapter to fetch
/// and check ([`Effect::CheckFile`]).
pub fn received(
    d: &mut Draft,
    ctx: &Ctx,
    file: IncomingFile,
    forwarded: bool,
    out: &mut Outbox,
) -> Decision {
    let l = d.lang;
    if !d.step.is_some_and(flow::takes_files) {
        out.say(t::files_not_now(l));
        flow::prompt(d, out);
        return Decision::Done(Persist::Save);
    }
    if forwarded {
        out.say(t::forwarded_file_taken(l));
    }
    let limits = ctx.limits;
    let used: u64 = d.attachments.iter().map(|a| a.size).sum();
    let refusal = if d.attachments.len() >= limits.max_attachments {
        Some(t::too_many_files(l).replace("{n}", &limits.max_attachments.to_string()))
    } else if file.size > ctx.download_limit {
        Some(t::file_too_big(l).to_owned())
    } else if used + file.size > limits.max_attachment_bytes {
        Some(t::files_too_large_total(l).replace(
            "{n}",
            &(limits.max_attachment_bytes / 1_000_000).to_string(),
        ))
    } else {
        None
    };
    match refusal {
        Some(text) => {
            out.say(text);
            flow::prompt(d, out);
            Decision::Done(Persist::Save)
        }
        None => Decision::Effect(Effect::CheckFile(file)),
    }
}

/// What fetching and checking a file found.
pub enum FileCheck {
    /// Checked: what it is and what cleaning does.
    Checked(DraftAttachment),
    /// Larger than the channel or the report allows.
    TooBig,
    /// Could not be fetched or read.
    Failed,
}

/// What [`Effect::CheckFile`] found, told; the file joins the draft. A caption joins the story.
pub fn file_checked(
    d: &mut Draft,
    ctx: &Ctx,
    caption: Option<&str>,
    check: FileCheck,
    out: &mut Outbox,
) -> Persist {
    let l = d.lang;
    let a = match check {
        FileCheck::Checked(a) => a,
        FileCheck::TooBig => {
            out.say(t::file_too_big(l));
            flow::prompt(d, out);
            return Persist::Save;
        }
        FileCheck::Failed => {
            out.say(t::file_fetch_failed(l));
            flow::prompt(d, out);
            return Persist::Save;
        }
    };
    let index = d.attachments.len();
    let note = summary::AttachmentNote::of(index, &a);
    let mut text = format!(
        "{} {}: {}\n\n{}",
        t::file_received(l),
        index + 1,
        note.render(l),
        warning(&a, l)
    );
    if !a.cleanable {
        text.push_str("\n\n");
        text.push_str(t::file_not_cleanable(l));
    }
    d.attachments.push(a);
    if let Some(caption) = caption.map(str::trim).filter(|c| !c.is_empty()) {
        text.push_str("\n\n");
        text.push_str(&add_caption(d, ctx, caption));
    }
    out.say(text);
    flow::prompt(d, out);
    Persist::Save
}

/// A caption joins the story, within the story's limit.
fn add_caption(d: &mut Draft, ctx: &Ctx, caption: &str) -> String {
    let total: usize =
        d.story.iter().map(|s| s.chars().count()).sum::<usize>() + caption.chars().count();
    if total > ctx.limits.max_report_chars {
        return t::too_long(d.lang).replace("{n}", &ctx.limits.max_report_chars.to_string());
    }
    d.story.push(caption.to_owned());
    if d.step.map(Step::current) == Some(Step::Review) {
        // The review shows the findings of the text as it now stands.
        flow::compute_findings(d);
    }
    t::caption_added(d.lang).to_owned()
}

/// What the reporter should know about a file of this kind, and of what cleaning leaves.
pub fn warning(a: &DraftAttachment, l: Lang) -> String {
    let content = content_warning(a, l);
    if a.cleanable && !a.remaining.is_empty() {
        format!("{content}\n\n{}", t::file_partly_cleaned(l))
    } else {
        content.to_owned()
    }
}

fn content_warning(a: &DraftAttachment, l: Lang) -> &'static str {
    match a.extension.as_str() {
        "jpg" | "png" | "webp" | "gif" | "heif" => t::warn_photo(l),
        "ogg" | "mp3" => t::warn_voice(l),
        "mp4" => t::warn_video(l),
        _ => match a.media {
            MediaKind::Photo => t::warn_photo(l),
            MediaKind::Voice | MediaKind::Audio => t::warn_voice(l),
            MediaKind::Video | MediaKind::VideoNote => t::warn_video(l),
            MediaKind::Document => t::warn_document(l),
        },
    }
}
