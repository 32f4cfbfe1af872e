//! Parsing one large suite file on two threads.
//!
//! Parsing YAML is the largest serial cost of a big run. When a file's `cases:` list is a
//! plain block sequence, it is cut at an item boundary into two texts of the *same* shape as
//! the file — every line outside a part is blanked to spaces of the same length, so lines,
//! columns and byte offsets (and with them every span and diagnostic) stay exactly where they
//! are in the file:
//!
//! - the head: the whole document with the second half of the items blanked;
//! - the tail: only the second half of the items, parsed as a list of cases.
//!
//! The two are parsed at once and the tail's cases appended to the head's. Anything unusual
//! (anchors, aliases, tags, several documents, tabs, flow style, a quoted `cases` key, block
//! scalars that keep trailing blank lines) keeps
//! the ordinary single-threaded parse, and so does any error: the caller re-parses the whole
//! file so that an error reads exactly as it would have.

use serde_saphyr::Spanned;

use super::model::{CaseDef, SuiteFile};

/// Files smaller than this are parsed in one piece (a thread costs more than it saves).
pub const MIN_SPLIT_BYTES: usize = 64 * 1024;

/// The head and tail texts of a file whose cases can be split, or `None`.
pub fn split(source: &str) -> Option<(String, String)> {
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
    if items.len() < 2 {
        return None;
    }
    let cut = items[items.len() / 2];
    let mut head = String::with_capacity(source.len());
    let mut tail = String::with_capacity(source.len() / 2 + lines.len());
    let blank = |out: &mut String, l: &str| {
        let text = l.trim_end_matches(['\n', '\r']);
        out.extend(std::iter::repeat_n(' ', text.len()));
        out.push_str(&l[text.len()..]);
    };
    for (i, l) in lines.iter().enumerate() {
        if (cut..end).contains(&i) {
            blank(&mut head, l);
            tail.push_str(l);
        } else {
            head.push_str(l);
            blank(&mut tail, l);
        }
    }
    Some((head, tail))
}

/// Parse the head and the tail of a split file at once, or `None` if either fails.
pub fn parse_split(
    head: &str,
    tail: &str,
    options: impl Fn() -> serde_saphyr::Options + Sync,
) -> Option<SuiteFile> {
    let (file, cases) = std::thread::scope(|s| {
        let t = s.spawn(|| {
            serde_saphyr::from_str_with_options::<Vec<Spanned<CaseDef>>>(tail, options())
        });
        let file = serde_saphyr::from_str_with_options::<SuiteFile>(head, options());
        (file, t.join())
    });
    let mut file = file.ok()?;
    file.cases.extend(cases.ok()?.ok()?);
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
        let (head, tail) = split(src).expect("this text can be split");
        assert_eq!(head.len(), src.len());
        assert_eq!(tail.len(), src.len());
        let parts = parse_split(&head, &tail, opts).expect("both halves parse");
        assert_eq!(format!("{:?}", parts), format!("{:?}", whole(src)));
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
            if let Some((head, tail)) = split(&src) {
                let parts = parse_split(&head, &tail, opts).expect("both halves parse");
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
        assert!(split(&g.replace("name: gen", "name: &a gen")).is_none());
        assert!(split(&format!("---\n{g}")).is_none());
        assert!(split("name: x\ncases: [{name: a}, {name: b}]\n").is_none());
        assert!(split("name: x\n\"cases\":\n  - name: a\n  - name: b\n").is_none());
        assert!(split("name: x\ncases:\n  - name: a\n").is_none());
        assert!(split(&g.replace("- |", "- |+")).is_none());
    }

    #[test]
    fn an_error_in_the_second_half_reads_as_in_a_whole_parse() {
        let mut src = generated(3000, "  ");
        assert!(src.len() >= MIN_SPLIT_BYTES);
        let at = src.rfind("    url:").unwrap();
        src.insert_str(at, "    bogus: 1\n");
        let (head, tail) = split(&src).unwrap();
        assert!(parse_split(&head, &tail, opts).is_none());
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
