//! Evidence attachments: identifying metadata removed in memory before sealing ([`clean`]),
//! and the sealed form of one file ([`EvidenceFile`]).
//!
//! Each file a reporter attaches becomes two items: the cleaned copy
//! ([`crate::crypto::ItemKind::Attachment`], sealed to reviewers) and, unless the operator
//! turned originals off, the untouched original
//! ([`crate::crypto::ItemKind::AttachmentOriginal`], sealed to custodians only). Both carry a
//! neutral name (`attachment-1.jpg`), never the name the file had on the reporter's device.

pub mod clean;

use crate::crypto::CryptoError;
use crate::crypto::envelope::Payload;

/// Magic and version at the start of an encoded [`EvidenceFile`].
const MAGIC: &[u8; 4] = b"TLA1";

/// Longest header accepted when decoding (the header is a few hundred bytes).
const MAX_HEADER: usize = 64 * 1024;

/// One evidence file as sealed: a small JSON header and the raw bytes.
///
/// Encoded as `TLA1 ‖ u32 BE header length ‖ header JSON ‖ bytes`, so a 20 MB file is not
/// inflated by a text encoding. No `Debug`: it holds what the reporter sent.
pub struct EvidenceFile {
    /// Neutral name, `attachment-N.ext`, the extension from the sniffed format.
    pub name: String,
    /// The format as recognised by content ([`clean::Format::label`]).
    pub format: String,
    /// True when identifying metadata was removed or none was found; false when the format
    /// could not be cleaned (then `note` says why, and the reporter was told before sending).
    pub metadata_removed: bool,
    /// What was removed ("GPS position", "author" …) or why nothing could be.
    pub note: String,
    /// The file.
    pub bytes: Vec<u8>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    name: String,
    format: String,
    metadata_removed: bool,
    note: String,
}

impl Payload for EvidenceFile {
    /// The encoding holds the whole file: [`crate::crypto::Sealed::seal`], the only caller,
    /// wraps it in `Zeroizing` at once, and the buffer is allocated at its final size so no
    /// stale copy is left behind by growing it.
    fn encode(&self) -> Vec<u8> {
        // Serializing a struct of strings and a bool to JSON cannot fail.
        #[allow(clippy::expect_used)]
        let header = zeroize::Zeroizing::new(
            serde_json::to_vec(&Header {
                name: self.name.clone(),
                format: self.format.clone(),
                metadata_removed: self.metadata_removed,
                note: self.note.clone(),
            })
            .expect("header serializes"),
        );
        let mut out = Vec::with_capacity(8 + header.len() + self.bytes.len());
        out.extend_from_slice(MAGIC);
        // The header is a few hundred bytes; its length always fits in 32 bits.
        out.extend_from_slice(
            &u32::try_from(header.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.bytes);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, CryptoError> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(CryptoError::InvalidEnvelope)?;
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or(CryptoError::InvalidEnvelope)?;
        let len = u32::from_be_bytes(*len) as usize;
        if len > MAX_HEADER || len > rest.len() {
            return Err(CryptoError::InvalidEnvelope);
        }
        let (header, body) = rest.split_at(len);
        let h: Header = serde_json::from_slice(header).map_err(|_| CryptoError::InvalidEnvelope)?;
        Ok(EvidenceFile {
            name: h.name,
            format: h.format,
            metadata_removed: h.metadata_removed,
            note: h.note,
            bytes: body.to_vec(),
        })
    }
}

impl Drop for EvidenceFile {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_round_trip_and_rejects_garbage() {
        let f = EvidenceFile {
            name: "attachment-1.jpg".into(),
            format: "JPEG".into(),
            metadata_removed: true,
            note: "GPS position".into(),
            bytes: vec![0xFF, 0xD8, 0xFF, 0, 1, 2],
        };
        let back = EvidenceFile::decode(&f.encode()).expect("decodes");
        assert_eq!(back.name, "attachment-1.jpg");
        assert_eq!(back.bytes, f.bytes);
        assert!(back.metadata_removed);
        assert!(EvidenceFile::decode(b"TLA1\xff\xff\xff\xff{}").is_err());
        assert!(EvidenceFile::decode(b"nope").is_err());
        assert!(
            EvidenceFile::decode(b"TLA1\0\0\0\x02{}").is_err(),
            "header lacks fields"
        );
    }
}
