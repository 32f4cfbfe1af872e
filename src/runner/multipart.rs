//! `multipart/form-data` bodies (RFC 7578), encoded here: parts in the order the suite lists
//! them, text parts without a content type (as browsers send them), file parts with a file
//! name and a content type, names quoted as the HTML standard does.

/// A rendered part.
#[derive(Debug)]
pub struct Part {
    /// The field name.
    pub name: String,
    /// `(file name, content type)` of a file part.
    pub file: Option<(String, String)>,
    /// The part's bytes.
    pub bytes: Vec<u8>,
}

/// Encode `parts`; returns the body and the `Content-Type` header value (with its boundary,
/// chosen so that it occurs in no part).
pub fn encode(parts: &[Part]) -> (Vec<u8>, String) {
    let boundary = loop {
        let b = format!("smokegate-{}", uuid::Uuid::new_v4().simple());
        let clash = parts
            .iter()
            .any(|p| p.bytes.windows(b.len()).any(|w| w == b.as_bytes()));
        if !clash {
            break b;
        }
    };
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.bytes.len() + 200).sum());
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!(
            "Content-Disposition: form-data; name=\"{}\"",
            quote(&p.name)
        );
        if let Some((filename, _)) = &p.file {
            disposition.push_str(&format!("; filename=\"{}\"", quote(filename)));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some((_, ctype)) = &p.file {
            out.extend_from_slice(format!("Content-Type: {ctype}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&p.bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (out, format!("multipart/form-data; boundary={boundary}"))
}

/// The text parts (no file name) of a multipart body with this `Content-Type`, as
/// `(name, value)`: what the credential finder reads. Empty when the body is not multipart.
pub fn text_fields(body: &[u8], content_type: &str) -> Vec<(String, String)> {
    let Some(boundary) = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .map(|b| format!("--{b}\r\n"))
    else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for part in text.split(boundary.as_str()).skip(1) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        if head.contains("; filename=\"") {
            continue;
        }
        let Some(name) = head
            .split_once("name=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(n, _)| n.to_string())
        else {
            continue;
        };
        // The value ends before the CRLF that precedes the next boundary (or the last one).
        let end = value.rfind("\r\n--").or_else(|| value.rfind("\r\n"));
        let value = end.map_or(value, |e| &value[..e]);
        out.push((name, value.to_string()));
    }
    out
}

/// A name or file name inside the quotes of `Content-Disposition`: `"`, CR and LF
/// percent-encoded (the HTML standard's multipart/form-data encoding).
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_in_order() {
        let parts = [
            Part {
                name: "a\"b".into(),
                file: None,
                bytes: b"one".to_vec(),
            },
            Part {
                name: "f".into(),
                file: Some(("x.txt".into(), "text/plain".into())),
                bytes: b"two".to_vec(),
            },
        ];
        let (body, ctype) = encode(&parts);
        assert_eq!(
            text_fields(&body, &ctype),
            [("a%22b".to_string(), "one".to_string())],
            "the file part is left out"
        );
        let boundary = ctype
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let text = String::from_utf8(body).unwrap();
        assert_eq!(
            text,
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"a%22b\"\r\n\r\none\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--{boundary}--\r\n")
        );
    }
}
