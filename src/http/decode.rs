//! Content decoding of response bodies (`Content-Encoding`), done by smokegate itself so that
//! both sizes are known: the bytes on the wire and the decoded body the checks see.
//!
//! The decoders are chained as streams and their output is read through a bound of
//! `--max-body + 1` bytes, so a compression bomb is cut off at the limit instead of growing in
//! memory. Stacked codings (`Content-Encoding: gzip, br`) were applied in the order listed and
//! are undone in reverse. An unknown coding or a corrupt stream is an error in words.

use std::io::{self, Read};

/// The codings smokegate asks for when a request sets no `Accept-Encoding` of its own.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// `Content-Encoding` names a coding smokegate does not know.
    #[error("unknown Content-Encoding `{coding}` (smokegate decodes gzip, deflate, br and zstd); set `decompress: false` on the request to check the raw bytes")]
    Unknown {
        /// The coding as sent.
        coding: String,
    },
    /// The stream is not valid in the coding it claims (truncated, corrupt).
    #[error("the body is not valid `{coding}` data ({wire_bytes} bytes on the wire): {message}")]
    Corrupt {
        /// The coding whose decoder failed.
        coding: String,
        /// What the decoder reported.
        message: String,
        /// Size of the encoded body.
        wire_bytes: usize,
    },
    /// The decoded body is larger than the limit: decoding stopped there.
    #[error("the decoded body exceeds the {limit}-byte limit (--max-body): {wire_bytes} bytes of `{codings}` on the wire decode to more; decoding stopped at the limit")]
    TooLarge {
        /// The limit (`--max-body`).
        limit: usize,
        /// `Content-Encoding` as sent.
        codings: String,
        /// Size of the encoded body.
        wire_bytes: usize,
    },
}

/// The content codings of a response, in the order they were applied (`identity` and empty
/// entries left out), lower-cased.
pub fn codings<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        for c in String::from_utf8_lossy(v).split(',') {
            let c = c.trim().to_ascii_lowercase();
            if !c.is_empty() && c != "identity" {
                out.push(c);
            }
        }
    }
    out
}

/// Decode `wire`, encoded with `codings` (in the order applied), into at most `limit` bytes.
pub fn decode(wire: &[u8], codings: &[String], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut reader: Box<dyn Read + '_> = Box::new(wire);
    for coding in codings.iter().rev() {
        reader = decoder(coding, reader)?;
    }
    let mut out = Vec::new();
    let bound = limit as u64 + 1;
    if let Err(e) = reader.by_ref().take(bound).read_to_end(&mut out) {
        let (coding, message) = match e.get_ref().and_then(|t| t.downcast_ref::<Tagged>()) {
            Some(t) => (t.coding.clone(), t.message.clone()),
            None => (codings.join(", "), e.to_string()),
        };
        return Err(DecodeError::Corrupt {
            coding,
            message,
            wire_bytes: wire.len(),
        });
    }
    if out.len() > limit {
        return Err(DecodeError::TooLarge {
            limit,
            codings: codings.join(", "),
            wire_bytes: wire.len(),
        });
    }
    Ok(out)
}

/// The decoder of one coding over `inner`.
fn decoder<'a>(coding: &str, inner: Box<dyn Read + 'a>) -> Result<Box<dyn Read + 'a>, DecodeError> {
    let tag = |r: Box<dyn Read + 'a>| -> Box<dyn Read + 'a> {
        Box::new(Tag {
            coding: coding.to_string(),
            inner: r,
        })
    };
    Ok(match coding {
        "gzip" | "x-gzip" => tag(Box::new(Gzip::new(inner))),
        "deflate" => tag(Box::new(Deflate::new(inner))),
        "br" => tag(Box::new(brotli_decompressor::Decompressor::new(
            inner, 8192,
        ))),
        "zstd" => tag(Box::new(zstd::stream::read::Decoder::new(inner).map_err(
            |e| DecodeError::Corrupt {
                coding: coding.into(),
                message: e.to_string(),
                wire_bytes: 0,
            },
        )?)),
        other => {
            return Err(DecodeError::Unknown {
                coding: other.to_string(),
            })
        }
    })
}

/// An error of one decoder, kept as it passes through the decoders around it.
#[derive(Debug)]
struct Tagged {
    coding: String,
    message: String,
}

impl std::fmt::Display for Tagged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.coding, self.message)
    }
}

impl std::error::Error for Tagged {}

/// Names the coding of the first decoder that fails.
struct Tag<'a> {
    coding: String,
    inner: Box<dyn Read + 'a>,
}

impl Read for Tag<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.get_ref().is_some_and(|t| t.is::<Tagged>()) {
                return e;
            }
            let message = match e.kind() {
                io::ErrorKind::UnexpectedEof => "the stream ends early (truncated)".to_string(),
                _ => e.to_string(),
            };
            io::Error::new(
                e.kind(),
                Tagged {
                    coding: self.coding.clone(),
                    message,
                },
            )
        })
    }
}

/// `gzip`: one member or several in a row (RFC 1952), and nothing else after them. Bytes
/// after the last member that do not start another one are refused in those words (a
/// multi-member reader would call them a truncated stream or a bad header).
enum Gzip<'a> {
    /// Inside a member.
    Member(Box<flate2::bufread::GzDecoder<io::BufReader<Box<dyn Read + 'a>>>>),
    /// After a member: another one, the end, or trailing data.
    Between(io::BufReader<Box<dyn Read + 'a>>),
    /// Read to the end (or failed).
    Done,
}

impl<'a> Gzip<'a> {
    fn new(inner: Box<dyn Read + 'a>) -> Self {
        Gzip::Member(Box::new(flate2::bufread::GzDecoder::new(
            io::BufReader::new(inner),
        )))
    }
}

impl Read for Gzip<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use io::BufRead;
        loop {
            match std::mem::replace(self, Gzip::Done) {
                Gzip::Member(mut d) => {
                    let n = d.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        *self = Gzip::Member(d);
                        return Ok(n);
                    }
                    *self = Gzip::Between(d.into_inner());
                }
                Gzip::Between(mut r) => {
                    let rest = r.fill_buf()?;
                    if rest.is_empty() {
                        return Ok(0);
                    }
                    if rest[0] == 0x1f && rest.get(1).is_none_or(|b| *b == 0x8b) {
                        *self = Gzip::Member(Box::new(flate2::bufread::GzDecoder::new(r)));
                        continue;
                    }
                    let extra = io::copy(&mut r, &mut io::sink())?;
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{extra} byte{} of data after the end of the compressed stream",
                            if extra == 1 { "" } else { "s" }
                        ),
                    ));
                }
                Gzip::Done => return Ok(0),
            }
        }
    }
}

/// `deflate` as servers send it: zlib-wrapped (RFC 9110), or raw deflate (what some servers
/// send instead), told apart by the zlib header like curl does.
enum Deflate<'a> {
    /// Not read yet.
    Start(Option<Box<dyn Read + 'a>>),
    /// Decoding.
    Body(Box<dyn Read + 'a>),
}

impl<'a> Deflate<'a> {
    fn new(inner: Box<dyn Read + 'a>) -> Self {
        Deflate::Start(Some(inner))
    }
}

impl Read for Deflate<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Deflate::Start(inner) = self {
            let mut inner = inner.take().expect("a deflate stream starts once");
            let mut head = Vec::with_capacity(2);
            (&mut inner).take(2).read_to_end(&mut head)?;
            let zlib = head.len() == 2
                && head[0] & 0x0f == 8
                && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0;
            let stream = io::Cursor::new(head).chain(inner);
            *self = Deflate::Body(if zlib {
                Box::new(flate2::read::ZlibDecoder::new(stream))
            } else {
                Box::new(flate2::read::DeflateDecoder::new(stream))
            });
        }
        match self {
            Deflate::Body(r) => r.read(buf),
            Deflate::Start(_) => unreachable!("started above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn list(s: &str) -> Vec<String> {
        codings([s.as_bytes()])
    }

    #[test]
    fn codings_are_split_trimmed_and_identity_dropped() {
        assert_eq!(
            codings([b"gzip, BR".as_slice(), b"identity".as_slice()]),
            ["gzip", "br"]
        );
        assert!(codings([b"".as_slice()]).is_empty());
    }

    #[test]
    fn stacked_codings_are_undone_in_reverse() {
        let inner = gzip(b"hello");
        let mut outer = flate2::write::ZlibEncoder::new(Vec::new(), Default::default());
        outer.write_all(&inner).unwrap();
        let wire = outer.finish().unwrap();
        assert_eq!(
            decode(&wire, &list("gzip, deflate"), 100).unwrap(),
            b"hello"
        );
    }

    #[test]
    fn raw_deflate_is_accepted_too() {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
        e.write_all(b"raw deflate").unwrap();
        let wire = e.finish().unwrap();
        assert_eq!(
            decode(&wire, &list("deflate"), 100).unwrap(),
            b"raw deflate"
        );
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let wire = gzip(&vec![0u8; 1 << 20]);
        let err = decode(&wire, &list("gzip"), 1000).unwrap_err();
        assert!(
            matches!(err, DecodeError::TooLarge { limit: 1000, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("1000-byte limit"), "{err}");
    }

    #[test]
    fn data_after_a_gzip_stream_is_called_that_not_truncation() {
        let mut two = gzip(b"one ");
        two.extend(gzip(b"two"));
        assert_eq!(decode(&two, &list("gzip"), 100).unwrap(), b"one two");
        for (junk, says) in [
            (b"GARBAGE!!!!!!!!".as_slice(), "15 bytes of data"),
            (b"x".as_slice(), "1 byte of data"),
        ] {
            let mut wire = gzip(b"hello");
            wire.extend_from_slice(junk);
            let err = decode(&wire, &list("gzip"), 100).unwrap_err().to_string();
            assert!(
                err.contains(&format!("{says} after the end of the compressed stream")),
                "{err}"
            );
            assert!(!err.contains("truncated"), "{err}");
        }
        let mut cut = gzip(b"hello world, hello world");
        cut.truncate(cut.len() - 6);
        let err = decode(&cut, &list("gzip"), 100).unwrap_err().to_string();
        assert!(err.contains("the stream ends early (truncated)"), "{err}");
    }

    #[test]
    fn corrupt_and_unknown_codings_are_named() {
        let mut wire = gzip(b"hello world, hello world");
        wire.truncate(wire.len() - 6);
        let err = decode(&wire, &list("gzip"), 100).unwrap_err().to_string();
        assert!(err.contains("not valid `gzip` data"), "{err}");
        let err = decode(b"x", &list("compress"), 100)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown Content-Encoding `compress`"), "{err}");
        let err = decode(b"not zstd at all", &list("zstd"), 100)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`zstd`"), "{err}");
    }
}
