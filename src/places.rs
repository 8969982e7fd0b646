//! Places and offices a reporter can name: the 65 commune-level units of Khánh Hòa after the
//! 2025 merger (with the former units each absorbed, since people still use the old names) and
//! the province's agencies (with their former names). Both lists are embedded from
//! `src/bot/data/` (copied from the project's shared data) and searched with diacritics folded,
//! so "cam lap" finds Nam Cam Ranh through the former "xã Cam Lập".

use std::sync::LazyLock;

use serde::Deserialize;

use crate::deid::fold_diacritics;

/// A commune-level unit (xã, phường, đặc khu).
#[derive(Debug, Clone, Deserialize)]
pub struct Unit {
    /// "xã", "phường" or "đặc khu".
    pub kind: String,
    /// The unit's name since 1 July 2025.
    pub name: String,
    /// Former units merged into it, with their kind ("xã Cam Lập").
    pub formerly: Vec<String>,
}

impl Unit {
    /// "xã Nam Cam Ranh".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

#[derive(Deserialize)]
struct UnitsFile {
    units: Vec<Unit>,
}

/// Where an agency sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgencyGroup {
    /// A provincial department or body.
    Province,
    /// An office of a commune or ward.
    Commune,
    /// Police, tax, social insurance, schools, hospitals, …
    Other,
}

/// An agency a reporter can choose.
#[derive(Debug, Clone, Deserialize)]
pub struct Agency {
    /// Vietnamese name (post-2025).
    pub name: String,
    /// English name.
    pub en: String,
    /// Former or colloquial names.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(skip, default = "default_group")]
    /// Where it sits.
    pub group: AgencyGroup,
}

fn default_group() -> AgencyGroup {
    AgencyGroup::Other
}

#[derive(Deserialize)]
struct AgenciesFile {
    province: Vec<Agency>,
    commune: Vec<Agency>,
    other: Vec<Agency>,
}

/// Parsed once from the embedded files. The files are part of the source tree and a test parses
/// them, so a failure here is a build defect, not a runtime condition.
#[allow(clippy::expect_used)]
static UNITS: LazyLock<Vec<Unit>> = LazyLock::new(|| {
    serde_json::from_str::<UnitsFile>(include_str!("bot/data/khanh-hoa-units-2025.json"))
        .expect("embedded units file parses")
        .units
});

#[allow(clippy::expect_used)]
static AGENCIES: LazyLock<Vec<Agency>> = LazyLock::new(|| {
    let f: AgenciesFile = serde_json::from_str(include_str!("bot/data/khanh-hoa-agencies.json"))
        .expect("embedded agencies file parses");
    let tag = |list: Vec<Agency>, group| list.into_iter().map(move |a| Agency { group, ..a });
    tag(f.province, AgencyGroup::Province)
        .chain(tag(f.commune, AgencyGroup::Commune))
        .chain(tag(f.other, AgencyGroup::Other))
        .collect()
});

/// All commune-level units.
pub fn units() -> &'static [Unit] {
    &UNITS
}

/// All agencies: provincial first, then commune offices, then other bodies.
pub fn agencies() -> &'static [Agency] {
    &AGENCIES
}

/// Lower-case, diacritics folded, administrative prefixes and punctuation removed.
fn key(s: &str) -> String {
    let folded = fold_diacritics(s).to_lowercase();
    let cleaned: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let skip = match words.as_slice() {
        ["thi", "tran", ..] | ["dac", "khu", ..] => 2,
        ["xa" | "phuong" | "p" | "x" | "tt", ..] => 1,
        _ => 0,
    };
    words[skip.min(words.len())..].join(" ")
}

/// A unit found by a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitMatch {
    /// Index into [`units`].
    pub index: usize,
    /// The former unit whose name matched, when the match came through it.
    pub via_former: Option<String>,
}

/// Finds units whose current or former name contains what the reporter typed. Exact name
/// matches come first; at most `limit` results.
pub fn search_units(query: &str, limit: usize) -> Vec<UnitMatch> {
    let q = key(query);
    if q.chars().count() < 2 {
        return Vec::new();
    }
    let mut scored: Vec<(u8, UnitMatch)> = Vec::new();
    for (index, u) in units().iter().enumerate() {
        let name = key(&u.name);
        if name == q {
            scored.push((
                0,
                UnitMatch {
                    index,
                    via_former: None,
                },
            ));
        } else if let Some(former) = u.formerly.iter().find(|f| key(f) == q) {
            scored.push((
                1,
                UnitMatch {
                    index,
                    via_former: Some(former.clone()),
                },
            ));
        } else if name.contains(&q) {
            scored.push((
                2,
                UnitMatch {
                    index,
                    via_former: None,
                },
            ));
        } else if let Some(former) = u.formerly.iter().find(|f| key(f).contains(&q)) {
            scored.push((
                3,
                UnitMatch {
                    index,
                    via_former: Some(former.clone()),
                },
            ));
        }
    }
    scored.sort_by_key(|(s, m)| (*s, m.index));
    scored.into_iter().take(limit).map(|(_, m)| m).collect()
}

/// Finds agencies whose name, English name or former names contain the query (at most `limit`).
pub fn search_agencies(query: &str, limit: usize) -> Vec<usize> {
    let q = key(query);
    if q.chars().count() < 2 {
        return Vec::new();
    }
    let mut scored: Vec<(u8, usize)> = Vec::new();
    for (i, a) in agencies().iter().enumerate() {
        let names = std::iter::once(&a.name).chain(a.aliases.iter());
        let mut best = None;
        for n in names {
            let k = key(n);
            let s = if k == q {
                0
            } else if k.contains(&q) {
                1
            } else {
                continue;
            };
            best = Some(best.map_or(s, |b: u8| b.min(s)));
        }
        if best.is_none() && key(&a.en).contains(&q) {
            best = Some(2);
        }
        if let Some(s) = best {
            scored.push((s, i));
        }
    }
    scored.sort();
    scored.into_iter().take(limit).map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_loads() {
        assert_eq!(units().len(), 65);
        assert!(agencies().len() > 20);
        assert!(agencies().iter().any(|a| a.group == AgencyGroup::Commune));
    }

    #[test]
    fn every_former_and_current_name_finds_its_unit() {
        // What the dialogue offers when a reporter types any name in the file, with or
        // without diacritics (8 buttons at most).
        for (i, u) in units().iter().enumerate() {
            for name in u.formerly.iter().chain(std::iter::once(&u.full_name())) {
                for typed in [name.clone(), fold_diacritics(name)] {
                    let found = search_units(&typed, 8);
                    assert!(
                        found.iter().any(|m| m.index == i),
                        "{typed:?} does not offer {}",
                        u.full_name()
                    );
                }
            }
        }
    }

    #[test]
    fn bundled_data_is_the_shared_data() {
        // The dialogue embeds copies of the province's data files; when the shared originals
        // are beside the repository (the development machine), they must be identical.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
        for (name, bundled) in [
            (
                "khanh-hoa-units-2025.json",
                include_str!("bot/data/khanh-hoa-units-2025.json"),
            ),
            (
                "khanh-hoa-agencies.json",
                include_str!("bot/data/khanh-hoa-agencies.json"),
            ),
        ] {
            match std::fs::read_to_string(dir.join(name)) {
                Ok(shared) => assert_eq!(shared, bundled, "{name} differs from ../shared/data"),
                Err(_) => eprintln!("note: ../shared/data/{name} is not here; bundled copy used"),
            }
        }
    }

    #[test]
    fn former_names_lead_to_the_new_unit() {
        let m = search_units("Cam Lập", 5);
        assert_eq!(units()[m[0].index].name, "Nam Cam Ranh");
        assert_eq!(m[0].via_former.as_deref(), Some("xã Cam Lập"));
        let m = search_units("xa cam lap", 5);
        assert_eq!(units()[m[0].index].name, "Nam Cam Ranh");
        let m = search_units("trường sa", 5);
        assert_eq!(units()[m[0].index].kind, "đặc khu");
        assert!(search_units("x", 5).is_empty());
        assert!(search_units("Hà Nội", 5).is_empty());
    }

    #[test]
    fn agencies_by_old_name() {
        let m = search_agencies("Sở Tài nguyên và Môi trường", 5);
        assert_eq!(agencies()[m[0]].name, "Sở Nông nghiệp và Môi trường");
        let m = search_agencies("mot cua", 5);
        assert!(agencies()[m[0]].name.contains("Phục vụ hành chính công"));
        let m = search_agencies("CSGT", 5);
        assert!(agencies()[m[0]].name.contains("Cảnh sát giao thông"));
    }
}
