//! Parsing one large suite file on several threads (one per core).
//!
//! Parsing YAML is the largest serial cost of a big run. When a file's `cases:` list is a
//! plain block sequence, it is cut at item boundaries into texts with the *same lines* as the
//! file — every line outside a part is emptied (its line break kept), so every line and column,
//! and with them every position a diagnostic or report shows, stay where they are:
//!
//! - the head: every line outside the `cases:` list, with `cases: []`;
//! - each part: only its items, parsed as a list of cases.
//!
//! The head and the parts are parsed at once and the parts' cases appended in order. A string
//! or collection that runs past the end of its part meets only empty lines and fails to parse. Emptied
//! lines cannot change a value: a block scalar drops trailing empty lines under clip and strip
//! chomping, and keep chomping (`+`) is refused.
//!
//! The line scan does not understand YAML, so its guesses are checked against what the parser
//! found: every part must parse, the head must hold no case, and each part's cases must start
//! exactly on the item lines the scan assigned to it (a `cases:` or `- ` inside a multi-line
//! string, say, fails that check).
//! Anything unusual (anchors, aliases, tags, several documents, tabs, a lone carriage return,
//! flow style, a quoted `cases` key, keep chomping) is not split at all, and any failure falls
//! back to the ordinary single-threaded parse, which reports errors exactly as before.

use serde_saphyr::Spanned;

use super::model::{CaseDef, SuiteFile};

/// Files smaller than this are parsed in one piece (a thread costs more than it saves).
pub const MIN_SPLIT_BYTES: usize = 64 * 1024;

/// A file cut into parts: the head's text then each part's, and the (1-based) line of every
/// item each part holds.
#[derive(Debug)]
pub struct Split {
    pub texts: Vec<String>,
    pub item_lines: Vec<Vec<usize>>,
}

/// Block scalar headers with keep chomping: `|+`, `>+`, `|2+`, `>+2`, ….
fn has_keep_chomping(source: &str) -> bool {
    let b = source.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        (c == b'|' || c == b'>')
            && match b.get(i + 1) {
                Some(b'+') => true,
                Some(d) if d.is_ascii_digit() => b.get(i + 2) == Some(&b'+'),
                _ => false,
            }
    })
}

/// A carriage return not followed by a line feed (YAML reads it as a line break).
fn has_lone_cr(source: &str) -> bool {
    let b = source.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'\r' && b.get(i + 1) != Some(&b'\n'))
}

/// The head and the further parts (at most `parts` texts in all) of a file whose cases can
/// be split, or `None`.
pub fn split(source: &str, parts: usize) -> Option<Split> {
    if source.contains(['&', '*', '!', '\t'])
        || source.contains("<<")
        || has_keep_chomping(source)
        || has_lone_cr(source)
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
    // Part k holds lines bounds[k]..bounds[k + 1] (the first from the line after `cases:`);
    // the head holds every line outside the list, with `cases: []`.
    let bounds: Vec<usize> = std::iter::once(start + 1)
        .chain((1..parts).map(|k| items[k * items.len() / parts]))
        .chain([end])
        .collect();
    let owner = |i: usize| {
        bounds
            .windows(2)
            .position(|w| (w[0]..w[1]).contains(&i))
            .map(|k| k + 1)
    };
    let mut item_lines = vec![Vec::new(); parts];
    for &i in &items {
        if let Some(k) = owner(i) {
            item_lines[k - 1].push(i + 1);
        }
    }
    let mut texts: Vec<String> = (0..=parts)
        .map(|k| {
            String::with_capacity(if k == 0 {
                source.len() / 4
            } else {
                source.len() / parts
            })
        })
        .collect();
    for (i, l) in lines.iter().enumerate() {
        let own = owner(i).unwrap_or(0);
        let text = l.trim_end_matches(['\n', '\r']);
        let newline = &l[text.len()..];
        for (k, t) in texts.iter_mut().enumerate() {
            if k == 0 && i == start {
                t.push_str("cases: []");
                t.push_str(newline);
            } else if k == own {
                t.push_str(l);
            } else {
                t.push_str(newline);
            }
        }
    }
    Some(Split { texts, item_lines })
}

/// Parse the head and the parts of a split file at once, or `None` if any fails, the head
/// holds cases, or a part's cases do not start on the lines the split expected.
pub fn parse_split(
    split: &Split,
    options: impl Fn() -> serde_saphyr::Options + Sync,
) -> Option<SuiteFile> {
    let (head, parts) = split.texts.split_first()?;
    let (first, rest) = parts.split_first()?;
    let options = &options;
    let parse_cases =
        |t: &str| serde_saphyr::from_str_with_options::<Vec<Spanned<Box<CaseDef>>>>(t, options());
    let (file, first, rest) = std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .iter()
            .map(|t| s.spawn(move || parse_cases(t)))
            .collect();
        let file = serde_saphyr::from_str_with_options::<SuiteFile>(head, options());
        let first = parse_cases(first);
        let rest: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        (file, first, rest)
    });
    let starts_on = |cases: &[Spanned<Box<CaseDef>>], lines: &[usize]| {
        cases.len() == lines.len()
            && cases
                .iter()
                .zip(lines)
                .all(|(c, &l)| c.referenced.line() == l as u64)
    };
    let mut file = file.ok()?;
    if !file.cases.is_empty() {
        return None;
    }
    let all: Vec<Option<Vec<Spanned<Box<CaseDef>>>>> = std::iter::once(first.ok())
        .chain(rest.into_iter().map(|r| r.ok()?.ok()))
        .collect();
    // Exactly the room needed: growing by doubling while every part is still held would
    // double the case table at its peak.
    file.cases
        .reserve_exact(all.iter().flatten().map(Vec::len).sum::<usize>());
    for (cases, lines) in all.into_iter().zip(&split.item_lines) {
        let cases = cases?;
        if !starts_on(&cases, lines) {
            return None;
        }
        file.cases.extend(cases);
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

    /// The debug form of a parse, without byte offsets (emptied lines move those; nothing
    /// reads them): values, lines and columns.
    fn shown(file: &SuiteFile) -> String {
        let re = regex::Regex::new(r"span: Span \{[^}]*\}, ").unwrap();
        re.replace_all(&format!("{file:?}"), "").into_owned()
    }

    /// Split parsing must give exactly what one parse gives, positions included.
    fn assert_same(src: &str) {
        for n in [2, 3, 5] {
            let split = split(src, n).expect("this text can be split");
            assert_eq!(split.texts.len(), n + 1);
            for t in &split.texts {
                assert_eq!(t.split('\n').count(), src.split('\n').count());
            }
            let parts = parse_split(&split, opts).expect("every part parses");
            assert_eq!(shown(&parts), shown(&whole(src)), "{n} parts");
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

    /// Cases that end in block scalars of every chomping but keep, with no comment or blank
    /// line before the next item, and top-level keys after the list.
    fn scalars_at_the_cut(n: usize) -> String {
        let styles = ["|", "|-", ">", ">-", "|2", ">1-"];
        let mut s = String::from("name: gen\ncases:\n");
        for i in 0..n {
            let style = styles[i % styles.len()];
            s.push_str(&format!(
                "  - name: c{i}\n    request: {{url: \"http://x.test/{i}\"}}\n    description: {style}\n      line one of {i}\n\n      line two, then nothing\n"
            ));
        }
        s.push_str("defaults:\n  timeout: 5s\nsecrets: []\n");
        s
    }

    #[test]
    fn split_parse_equals_whole_parse() {
        assert_same(&generated(7, "  "));
        assert_same(&generated(8, ""));
        assert_same(&scalars_at_the_cut(12));
        assert_same(&generated(6, "  ").replace('\n', "\r\n"));
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/suites")).unwrap() {
            let path = entry.unwrap().path();
            let src = std::fs::read_to_string(&path).unwrap();
            if let Some(split) = split(&src, 3) {
                let parts = parse_split(&split, opts).expect("every part parses");
                assert_eq!(shown(&parts), shown(&whole(&src)), "{}", path.display());
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
        assert!(split(&g.replace("- |", "- |2+"), 2).is_none());
        assert!(split(&g.replace("- |", "- >+1"), 2).is_none());
        assert!(split(
            &g.replacen("# a comment\n", "# a comment\rdescription: x\n", 1),
            2
        )
        .is_none());
    }

    /// A `cases:` and `- ` items inside a multi-line string fool the line scan; the parsed
    /// positions give it away and the whole file is parsed instead.
    #[test]
    fn a_list_inside_a_string_is_caught_by_the_position_check() {
        let mut src = String::from(
            "description: \"Runs\ncases:\n  - name: x\n  - name: y\n    request: {url: http://x/y}\ndone\"\nname: s\ncases:\n",
        );
        for i in 0..3000 {
            src.push_str(&format!(
                "  - name: real{i}\n    request: {{url: \"http://x/\"}}\n"
            ));
        }
        assert!(src.len() >= MIN_SPLIT_BYTES);
        let split = split(&src, 2).expect("the scan is fooled");
        assert!(parse_split(&split, opts).is_none());
        let loaded = parse_suite(Path::new("s.yaml"), src.clone()).unwrap();
        assert_eq!(shown(&loaded.file), shown(&whole(&src)));
        assert_eq!(loaded.file.cases.len(), 3000);
    }

    /// A quoted string left open at the end of a part must not run on into the keys after
    /// the list (where a `"` in a comment would close it).
    #[test]
    fn a_string_left_open_at_a_cut_is_not_closed_after_the_list() {
        let n = 1500;
        let mut src = String::from("name: s\ncases:\n");
        for i in 0..n - 1 {
            src.push_str(&format!(
                "  - name: c{i}\n    request: {{url: \"http://x.test/{i}\"}}\n"
            ));
        }
        src.push_str(
            "  - name: last0\n    request: {url: \"http://x.test/l\"}\n    description: \"start\n",
        );
        src.push_str("  - {name: fake, request: {url: 'http://x.test/fake'}} # \"\n");
        for i in 0..n - 1 {
            src.push_str(&format!(
                "  - name: d{i}\n    request: {{url: \"http://x.test/d{i}\"}}\n"
            ));
        }
        src.push_str("defaults:\n  timeout: 5s # \"\n");
        let whole = whole(&src);
        if let Some(split) = split(&src, 2) {
            assert!(
                parse_split(&split, opts).is_none(),
                "the split parse must decline"
            );
        }
        let loaded = parse_suite(Path::new("s.yaml"), src.clone()).unwrap();
        assert_eq!(shown(&loaded.file), shown(&whole));
        assert_eq!(loaded.file.cases.len(), 2 * n - 1);
        // And a file the whole parse rejects stays rejected.
        let bad = src.replace(
            "defaults:\n  timeout: 5s # \"\n",
            "defaults:\n  bogus: 1 # \"\n",
        );
        assert!(parse_suite(Path::new("s.yaml"), bad).is_err());
    }

    #[test]
    fn an_error_in_the_second_half_reads_as_in_a_whole_parse() {
        let mut src = generated(3000, "  ");
        assert!(src.len() >= MIN_SPLIT_BYTES);
        let at = src.rfind("    url:").unwrap();
        src.insert_str(at, "    bogus: 1\n");
        let split = split(&src, 2).unwrap();
        assert!(parse_split(&split, opts).is_none());
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

    /// A small deterministic generator (no dependency): the same suites on every run.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n
        }
    }

    /// One case in one of many shapes a suite author writes: quoted, multi-line and block
    /// scalars (some holding lines that look like items), flow and block collections, nested
    /// steps, comments and blank lines in between.
    fn random_case(r: &mut Lcg, i: usize) -> String {
        let name = match r.next(4) {
            0 => format!("name: case {i}"),
            1 => format!("name: \"case {i}: quoted, with # and - dashes\""),
            2 => format!("name: 'case {i} it''s single'"),
            _ => format!("name: \"case {i} spans\n      two lines\""),
        };
        // Now and then the item's content starts on the next line: its case then starts below
        // the `-`, the position check sees it, and the file is parsed whole.
        let mut c = if r.next(25) == 0 {
            format!("  -\n    {name}\n")
        } else {
            format!("  - {name}\n")
        };
        match r.next(3) {
            0 => c.push_str(&format!("    request: {{url: \"http://x.test/{i}\", method: GET}}\n")),
            1 => c.push_str(&format!(
                "    request:\n      url: http://x.test/{i}\n      headers:\n        accept: application/json\n"
            )),
            _ => {
                c.push_str("    steps:\n");
                for s in 0..1 + r.next(3) {
                    c.push_str(&format!(
                        "      - name: step {s}\n        request: {{url: \"http://x.test/{i}/{s}\"}}\n"
                    ));
                }
            }
        }
        if r.next(2) == 0 {
            c.push_str("    tags: [smoke, \"a, b\"]\n");
        }
        if r.next(3) == 0 {
            let style = ["|", "|-", ">", ">-", "|2", ">2-"][r.next(6)];
            c.push_str(&format!(
                "    description: {style}\n      - name: not an item\n\n      cases:\n"
            ));
            if r.next(2) == 0 {
                c.push_str("        deeper\n");
            }
        }
        if r.next(4) == 0 {
            c.push_str("    # an indented comment\n");
        }
        if r.next(4) == 0 {
            c.push_str("# a comment at column 0\n");
        }
        if r.next(3) == 0 {
            c.push('\n');
        }
        c
    }

    #[test]
    fn split_parse_equals_whole_parse_on_generated_suites() {
        let mut r = Lcg(7);
        let (mut compared, mut declined, mut invalid) = (0, 0, 0);
        for round in 0..150 {
            let mut src = String::from("name: gen\nvars:\n  base: http://x.test\ncases:\n");
            for i in 0..2 + r.next(12) {
                src.push_str(&random_case(&mut r, i));
            }
            if r.next(2) == 0 {
                src.push_str("defaults:\n  timeout: 5s\n");
            }
            let whole = match serde_saphyr::from_str_with_options::<SuiteFile>(&src, opts()) {
                Ok(w) => w,
                Err(e) => {
                    if invalid == 0 {
                        eprintln!("first invalid suite: {e}\n{src}");
                    }
                    invalid += 1;
                    continue;
                }
            };
            for n in 2..=4 {
                match split(&src, n).and_then(|s| parse_split(&s, opts)) {
                    Some(parts) => {
                        assert_eq!(
                            shown(&parts),
                            shown(&whole),
                            "round {round}, {n} parts:\n{src}"
                        );
                        compared += 1;
                    }
                    None => declined += 1,
                }
            }
        }
        // The generator must mostly produce splittable suites, or this proves little.
        assert!(
            compared > 300 && declined > 0 && invalid < 15,
            "compared {compared}, declined {declined}, invalid {invalid}"
        );
    }
}
