//! Finished cases set aside on disk until a report is written: what a report will write of
//! each case goes to an anonymous temporary file as the case finishes, and memory keeps only
//! where it is and where it sorts (a few dozen bytes per case). A run of 100,000 checks then
//! holds no report text at all.
//!
//! The file has no name (it disappears with the process, however it ends) and is readable by
//! its owner only; it holds what reporters are given — results already sanitized with every
//! secret known when the case finished. Redaction with the secrets learnt later happens, as
//! before, when the report is written.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};

use crate::events::CaseResult;

/// One case set aside: its place in the report order and its record in the file (the
/// name's length, 4 bytes little-endian, the name, then the payload). 24 bytes.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Where the record starts in the file.
    offset: u64,
    /// The case's line.
    line: u64,
    /// Length of the whole record.
    len: u32,
    /// The (suite file, suite) pair, an index into [`Spill::groups`].
    group: u32,
}

/// Records of finished cases, in the order reports list them when read back: suite file,
/// suite, line, name (then the order they finished, for cases equal in all four).
#[derive(Default)]
pub(crate) struct Spill {
    file: Option<BufWriter<File>>,
    written: u64,
    /// Every (suite file, suite) seen, in the order first seen.
    groups: Vec<(Box<str>, Box<str>)>,
    index: HashMap<(Box<str>, Box<str>), u32>,
    slots: Vec<Slot>,
    error: Option<String>,
}

impl Spill {
    /// Room for `n` cases (the run says how many it will report), so the index is never
    /// grown by doubling.
    pub fn reserve(&mut self, n: usize) {
        self.slots.reserve_exact(n);
    }

    /// Set aside `payload` for case `c`. A failure to write is remembered: the report is
    /// then not written at all (never one missing a case).
    pub fn push(&mut self, c: &CaseResult, payload: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.try_push(c, payload) {
            self.error = Some(format!("cannot set aside a finished case: {e}"));
        }
    }

    fn try_push(&mut self, c: &CaseResult, payload: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() {
            self.file = Some(BufWriter::with_capacity(64 * 1024, tempfile::tempfile()?));
        }
        let group = self.group(&c.suite_file, &c.suite);
        let name_len = u32::try_from(c.name.len()).map_err(std::io::Error::other)?;
        let len = u32::try_from(4 + c.name.len() + payload.len()).map_err(std::io::Error::other)?;
        let f = self.file.as_mut().expect("just created");
        f.write_all(&name_len.to_le_bytes())?;
        f.write_all(c.name.as_bytes())?;
        f.write_all(payload)?;
        self.slots.push(Slot {
            offset: self.written,
            line: c.line,
            len,
            group,
        });
        self.written += u64::from(len);
        Ok(())
    }

    fn group(&mut self, file: &str, suite: &str) -> u32 {
        if let Some((f, s)) = self.groups.last() {
            if **f == *file && **s == *suite {
                return (self.groups.len() - 1) as u32;
            }
        }
        let key: (Box<str>, Box<str>) = (file.into(), suite.into());
        if let Some(&g) = self.index.get(&key) {
            return g;
        }
        let g = self.groups.len() as u32;
        self.groups.push(key.clone());
        self.index.insert(key, g);
        g
    }

    /// Why a case could not be set aside, if one could not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The cases in report order, to read back one by one.
    pub fn finish(mut self) -> std::io::Result<Reader> {
        let file = match self.file.take() {
            Some(f) => Some(f.into_inner().map_err(|e| e.into_error())?),
            None => None,
        };
        // Rank of each group in (suite file, suite) order.
        let mut by_name: Vec<u32> = (0..self.groups.len() as u32).collect();
        by_name.sort_by(|&a, &b| self.groups[a as usize].cmp(&self.groups[b as usize]));
        let mut rank = vec![0u32; self.groups.len()];
        for (r, g) in by_name.into_iter().enumerate() {
            rank[g as usize] = r as u32;
        }
        let mut slots = std::mem::take(&mut self.slots);
        // Cases equal in group and line keep the order they finished in (their order in the
        // file), until their names order them below; sorting in place needs no buffer.
        slots.sort_unstable_by_key(|s| (rank[s.group as usize], s.line, s.offset));
        let mut reader = Reader {
            file,
            groups: self.groups,
            slots,
        };
        reader.order_ties()?;
        Ok(reader)
    }
}

/// The cases set aside, in report order.
pub(crate) struct Reader {
    file: Option<File>,
    groups: Vec<(Box<str>, Box<str>)>,
    slots: Vec<Slot>,
}

impl Reader {
    /// Order the cases of the same group and line (matrix cases) by name, keeping the order
    /// they finished in for equal names — as a stable sort by the whole key would.
    fn order_ties(&mut self) -> std::io::Result<()> {
        let mut i = 0;
        while i < self.slots.len() {
            let (g, l) = (self.slots[i].group, self.slots[i].line);
            let mut j = i + 1;
            while j < self.slots.len() && self.slots[j].group == g && self.slots[j].line == l {
                j += 1;
            }
            if j - i > 1 {
                let mut named = Vec::with_capacity(j - i);
                for s in &self.slots[i..j] {
                    let record = self.read(s)?;
                    let (name, _) = split(&record)?;
                    named.push((name.to_vec(), *s));
                }
                named.sort_by(|a, b| a.0.cmp(&b.0));
                for (k, (_, s)) in named.into_iter().enumerate() {
                    self.slots[i + k] = s;
                }
            }
            i = j;
        }
        Ok(())
    }

    fn read(&self, s: &Slot) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; s.len as usize];
        let f = self
            .file
            .as_ref()
            .ok_or_else(|| std::io::Error::other("no spill file"))?;
        read_exact_at(f, &mut buf, s.offset)?;
        Ok(buf)
    }

    /// Number of cases.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The suite names in the order their first case is listed, each once.
    pub fn suites_in_order(&self) -> Vec<&str> {
        let mut seen = vec![false; self.groups.len()];
        let mut order: Vec<&str> = Vec::new();
        for s in &self.slots {
            if !std::mem::replace(&mut seen[s.group as usize], true) {
                let name = &*self.groups[s.group as usize].1;
                if !order.contains(&name) {
                    order.push(name);
                }
            }
        }
        order
    }

    /// What was set aside for the `i`-th case in report order.
    pub fn get(&self, i: usize) -> std::io::Result<Vec<u8>> {
        let mut record = self.read(&self.slots[i])?;
        let at = record.len() - split(&record)?.1.len();
        record.drain(..at);
        Ok(record)
    }

    /// The suite of the `i`-th case in report order.
    pub fn suite_of(&self, i: usize) -> &str {
        &self.groups[self.slots[i].group as usize].1
    }
}

/// A record's name and payload.
fn split(record: &[u8]) -> std::io::Result<(&[u8], &[u8])> {
    let bad = || std::io::Error::other("a record set aside came back damaged");
    let (len, rest) = record.split_first_chunk::<4>().ok_or_else(bad)?;
    let n = u32::from_le_bytes(*len) as usize;
    if n > rest.len() {
        return Err(bad());
    }
    Ok(rest.split_at(n))
}

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    f.read_exact_at(buf, offset)
}

#[cfg(windows)]
fn read_exact_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::test_support::case;

    #[test]
    fn cases_come_back_in_report_order_with_their_payloads() {
        let mut spill = Spill::default();
        // (file, line, name): finished out of order; two matrix cases share a line, and two
        // cases are equal in all four (they keep the order they finished in).
        let finished = [
            ("b.yaml", 2, "later"),
            ("a.yaml", 9, "m [x=2]"),
            ("a.yaml", 1, "first"),
            ("a.yaml", 9, "m [x=1]"),
            ("a.yaml", 9, "m [x=1]"),
        ];
        for (k, (file, line, name)) in finished.iter().enumerate() {
            spill.push(
                &case(file, *line, name, "m"),
                format!("payload {k}").as_bytes(),
            );
        }
        assert!(spill.error().is_none());
        let r = spill.finish().unwrap();
        let got: Vec<String> = (0..r.len())
            .map(|i| String::from_utf8(r.get(i).unwrap()).unwrap())
            .collect();
        assert_eq!(
            got,
            [
                "payload 2",
                "payload 3",
                "payload 4",
                "payload 1",
                "payload 0"
            ]
        );
        assert_eq!(r.suites_in_order(), ["s"]);

        // Nothing set aside: nothing to read, and no file was made.
        let r = Spill::default().finish().unwrap();
        assert_eq!(r.len(), 0);
        assert!(r.file.is_none());
    }
}
