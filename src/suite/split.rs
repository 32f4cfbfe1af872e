//! Parsing one large suite file on several threads (one per core).
//!
//! Parsing YAML is the largest serial cost of a big run. When a file's `cases:` list is a
//! plain block sequence, it is cut at item boundaries into texts of the *same* shape as the
//! file — every line outside a part is blanked to spaces of the same length, so lines,
//! columns and byte offsets (and with them every span and diagnostic) stay exactly where they
//! are in the file:
//!
//! - the head: the whole document with every item after the first part blanked;
//! - each further part: only its items, parsed as a list of cases.
//!
//! The parts are parsed at once and their cases appended to the head's, in order. Anything unusual
//! (anchors, aliases, tags, several documents, tabs, flow style, a quoted `cases` key, block
//! scalars that keep trailing blank lines) keeps
//! the ordinary single-threaded parse, and so does any error: the caller re-parses the whole
//! file so that an error reads exactly as it would have.

use serde_saphyr::Spanned;

use super::model::{CaseDef, SuiteFile};

/// Files smaller than this are parsed in one piece (a thread costs more than it saves).
pub const MIN_SPLIT_BYTES: usize = 64 * 1024;

/// The head and the further parts (at most `parts` texts in all) of a file whose cases can
/// be split, or `None`.
pub fn split(source: &str, parts: usize) -> Option<Vec<String>> {
    if source.contains(['&', '*', '!', '\t'])
        || ["<<", "|+", ">+", "|-+", ">-+"]
            .iter()
            .any(|p| source.contains(p))
    {
        return None;
    }
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    if lines
        .iter()
        .any(|l| l.starts_with("---") || l.starts_with("..."))
    {
        return None;
    }
    let is_top_key = |l: &str| {
        let t = l.trim_end();
        !t.is_empty() && !l.starts_with([' ', '#']) && !t.starts_with('-')
    };
    // `cases:` at column 0, with nothing after it but a comment.
    let start = lines.iter().position(|l| {
        l.strip_prefix("cases:")
            .map(|rest| {
                let r = rest.trim();
                r.is_empty() || r.starts_with('#')
            })
            .unwrap_or(false)
    })?;
    let end = (start + 1..lines.len())
        .find(|&i| is_top_key(lines[i]))
        .unwrap_or(lines.len());
    // The items' indentation is that of the first `-` line.
    let first = (start + 1..end).find(|&i| {
        let t = lines[i].trim_start();
        !t.trim_end().is_empty() && !t.starts_with('#')
    })?;
    let indent = lines[first].len() - lines[first].trim_start().len();
    let is_item = |l: &str| {
        l.len() > indent
            && l[..indent].bytes().all(|b| b == b' ')
            && l[indent..].starts_with('-')
            && matches!(
                l.as_bytes().get(indent + 1),
                Some(b' ' | b'\n' | b'\r') | None
            )
    };
    if !is_item(lines[first]) {
        return None;
    }
    let items: Vec<usize> = (first..end).filter(|&i| is_item(lines[i])).collect();
    let parts = parts.min(items.len());
    if parts < 2 {
        return None;
    }
    // Line ranges of the parts after the head: cut at item starts, into equal counts of items.
    let cuts: Vec<usize> = (1..parts)
        .map(|k| items[k * items.len() / parts])
        .chain([end])
        .collect();
    let blank = |out: &mut String, l: &str| {
        let text = l.trim_end_matches(['\n', '\r']);
        out.extend(std::iter::repeat_n(' ', text.len()));
        out.push_str(&l[text.len()..]);
    };
    let mut texts = vec![String::with_capacity(source.len()); parts];
    for (i, l) in lines.iter().enumerate() {
        // The part this line belongs to: 0 (the head) outside the later ranges.
        let owner = cuts
            .windows(2)
            .position(|w| (w[0]..w[1]).contains(&i))
            .map_or(0, |k| k + 1);
        for (k, t) in texts.iter_mut().enumerate() {
            if k == owner {
                t.push_str(l);
            } else {
                blank(t, l);
            }
        }
    }
    Some(texts)
}

/// Parse the parts of a split file at once (the head on this thread), or `None` if any
/// fails.
pub fn parse_split(
    texts: &[String],
    options: impl Fn() -> serde_saphyr::Options + Sync,
) -> Option<SuiteFile> {
    let (head, rest) = texts.split_first()?;
    let options = &options;
    let (file, parts) = std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .iter()
            .map(|t| {
                s.spawn(move || {
                    serde_saphyr::from_str_with_options::<Vec<Spanned<CaseDef>>>(t, options())
                })
            })
            .collect();
        let file = serde_saphyr::from_str_with_options::<SuiteFile>(head, options());
        let parts: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        (file, parts)
    });
    let mut file = file.ok()?;
    for part in parts {
        file.cases.extend(part.ok()?.ok()?);
    }
    Some(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::load::parse_suite;
    use std::path::Path;

    fn opts() -> serde_saphyr::Options {
        serde_saphyr::Options::default()
    }

    fn whole(src: &str) -> SuiteFile {
        serde_saphyr::from_str_with_options::<SuiteFile>(src, opts()).expect("parses whole")
    }

    /// Split parsing must give exactly what one parse gives, spans included.
    fn assert_same(src: &str) {
        for n in [2, 3, 5] {
            let texts = split(src, n).expect("this text can be split");
            assert_eq!(texts.len(), n);
            assert!(texts.iter().all(|t| t.len() == src.len()));
            let parts = parse_split(&texts, opts).expect("every part parses");
            assert_eq!(format!("{:?}", parts), format!("{:?}", whole(src)), "{n} parts");
        }
    }

    fn generated(n: usize, indent: &str) -> String {
        let mut s = String::from("name: gen\n# a comment\nvars:\n  base: http://x.test\ncases:\n");
        for i in 0..n {
            s.push_str(&format!(
                "{indent}- name: \"case {i}\"\n{indent}  request:\n{indent}    url: \"${{base}}/h\"\n{indent}  expect:\n{indent}    status: 200\n{indent}    jsonpath:\n{indent}      - {{ path: \"$.ok\", equals: true }}\n{indent}    body:\n{indent}      contains:\n{indent}        - |\n{indent}          - not an item\n\n# between cases\n"
            ));
        }
        s.push_str("defaults:\n  timeout: 5s\n");
        s
    }

    #[test]
    fn split_parse_equals_whole_parse() {
        assert_same(&generated(7, "  "));
        assert_same(&generated(8, ""));
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/suites")).unwrap() {
            let path = entry.unwrap().path();
            let src = std::fs::read_to_string(&path).unwrap();
            if let Some(texts) = split(&src, 3) {
                let parts = parse_split(&texts, opts).expect("every part parses");
                assert_eq!(
                    format!("{parts:?}"),
                    format!("{:?}", whole(&src)),
                    "{}",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn unusual_shapes_are_not_split() {
        let g = generated(4, "  ");
        assert!(split(&g.replace("name: gen", "name: &a gen"), 2).is_none());
        assert!(split(&format!("---\n{g}"), 2).is_none());
        assert!(split("name: x\ncases: [{name: a}, {name: b}]\n", 2).is_none());
        assert!(split("name: x\n\"cases\":\n  - name: a\n  - name: b\n", 2).is_none());
        assert!(split("name: x\ncases:\n  - name: a\n", 2).is_none());
        assert!(split(&g.replace("- |", "- |+"), 2).is_none());
    }

    #[test]
    fn an_error_in_the_second_half_reads_as_in_a_whole_parse() {
        let mut src = generated(3000, "  ");
        assert!(src.len() >= MIN_SPLIT_BYTES);
        let at = src.rfind("    url:").unwrap();
        src.insert_str(at, "    bogus: 1\n");
        let texts = split(&src, 2).unwrap();
        assert!(parse_split(&texts, opts).is_none());
        let err = parse_suite(Path::new("big.yaml"), src.clone()).unwrap_err();
        let whole = serde_saphyr::from_str_with_options::<SuiteFile>(&src, opts()).unwrap_err();
        let loc = whole.location().expect("a located error");
        assert_eq!(
            err.pos.map(|p| (p.line, p.column)),
            Some((loc.line(), loc.column()))
        );
        assert!(err.pos.unwrap().line > 30_000, "in the second half");
        assert!(err.message.contains("bogus"), "{}", err.message);
        let ok = parse_suite(Path::new("big.yaml"), generated(3000, "  ")).unwrap();
        assert_eq!(ok.file.cases.len(), 3000);
    }
}
