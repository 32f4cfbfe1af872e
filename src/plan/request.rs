//! The request of a step, compiled: templates parsed once; the method, header names and
//! fixed header values checked; the body's form chosen. Each problem is reported at the
//! position of the field that has it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde_saphyr::Spanned;

use crate::expect::SchemaCache;
use crate::interp::{JsonTemplate, Template};
use crate::suite::model::{Redirects, RequestDef, Texts};
use crate::suite::Pos;

/// Why a step cannot send `CONNECT`.
pub const CONNECT: &str = "CONNECT opens a tunnel (it names only host:port, never the URL's path): it is not a request smokegate can check; to reach a server through a proxy, use --proxy";

/// The method: checked at plan time, or a template checked when rendered.
#[derive(Debug, Clone)]
pub enum MethodSpec {
    /// A method written literally, already checked.
    Fixed(Method),
    /// A method with `${…}`, checked once rendered.
    Template(Arc<Template>),
}

/// The body of a request.
#[derive(Debug, Clone)]
pub enum BodyTemplate {
    /// `json:` (sent with `content-type: application/json`), values keeping their types.
    Json(JsonTemplate),
    /// `body:` as text.
    Text(Arc<Template>),
    /// `form:` (URL-encoded); a name may repeat.
    Form(Vec<(String, Arc<Template>)>),
    /// `multipart:` (`multipart/form-data`), parts in order.
    Multipart(Vec<MultipartPart>),
    /// `body_file:`: the bytes of a file, read when the step runs.
    File(BodyFile),
}

/// A file a request sends.
#[derive(Debug, Clone)]
pub struct BodyFile {
    /// The file (joined to the suite's folder).
    pub path: PathBuf,
    /// The file as the suite names it.
    pub shown: String,
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct MultipartPart {
    /// The field name.
    pub name: String,
    /// Its value.
    pub value: PartValue,
}

/// The value of a multipart part.
#[derive(Debug, Clone)]
pub enum PartValue {
    /// A text (a template), sent without a content type.
    Text(Arc<Template>),
    /// A file's bytes, read when the step runs.
    File {
        /// The file.
        file: BodyFile,
        /// The file name sent.
        filename: String,
        /// The part's content type.
        content_type: String,
    },
}

/// A request ready to be rendered with a step's scope.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// The HTTP method (`GET` when the suite gives none).
    pub method: MethodSpec,
    /// The URL template, checked once rendered (absolute http or https, with a host).
    pub url: Arc<Template>,
    /// Query parameters (name, value) appended to the URL, URL-encoded.
    pub query: Vec<(Arc<Template>, Arc<Template>)>,
    /// Headers (name, value): the request's own, then the suite defaults for names it does not
    /// set.
    pub headers: Vec<(Arc<Template>, Arc<Template>)>,
    /// The body, if the request has one.
    pub body: Option<BodyTemplate>,
    /// The request's own timeout (else the suite default, else `--timeout`).
    pub timeout: Option<Duration>,
    /// Redirects to follow; 0 = none.
    pub max_redirects: u32,
    /// Decode the response body from its `Content-Encoding` (`decompress`, default true).
    pub decompress: bool,
}

/// A problem of a request, with its position.
pub type RequestError = (Pos, String);

/// The string templates of a request, each with its position and what it is (for the
/// plan's check of the variables they use).
pub type Located = Vec<(Pos, &'static str, Arc<Template>)>;

impl RequestTemplate {
    /// Compile `def` (at `pos`); `default_headers` are the suite's `defaults.headers`, added
    /// where the request does not set a header of the same name. The request is `None` after
    /// an error (in `errors`); the templates that did parse are returned either way, so their
    /// variables and the URL are still checked.
    pub fn compile(
        def: &RequestDef,
        pos: Pos,
        default_headers: &BTreeMap<String, Spanned<String>>,
        default_timeout: Option<Duration>,
        suite_dir: &Path,
        cache: &mut SchemaCache,
        errors: &mut Vec<RequestError>,
    ) -> (Option<RequestTemplate>, Located) {
        let before = errors.len();
        let mut located = Vec::new();
        // Identical templates are parsed once and shared (thousands of requests often have
        // the same URL template).
        let mut tpl = |cache: &mut SchemaCache,
                       what: &'static str,
                       s: &Spanned<String>,
                       errors: &mut Vec<RequestError>| {
            let p = Pos::from_loc(&s.referenced);
            match cache.template(&s.value) {
                Ok(t) => {
                    located.push((p, what, t.clone()));
                    Some(t)
                }
                Err(e) => {
                    errors.push((p, format!("in {what}: {e}")));
                    None
                }
            }
        };
        let method = match &def.method {
            None => Some(MethodSpec::Fixed(Method::GET)),
            Some(m) => tpl(cache, "method", m, errors).and_then(|t| match t.as_literal() {
                Some(text) => match text.to_ascii_uppercase().parse::<Method>() {
                    Ok(method) if method == Method::CONNECT => {
                        errors.push((Pos::from_loc(&m.referenced), CONNECT.into()));
                        None
                    }
                    Ok(method) if !text.is_empty() => Some(MethodSpec::Fixed(method)),
                    _ => {
                        let p = Pos::from_loc(&m.referenced);
                        errors.push((p, format!("invalid HTTP method `{}`", m.value)));
                        None
                    }
                },
                None => Some(MethodSpec::Template(t)),
            }),
        };
        let url = tpl(cache, "url", &def.url, errors);
        let mut query = Vec::new();
        for (k, values) in &def.query {
            let key = cache
                .template(k)
                .map_err(|e| (Pos::from_loc(&values.referenced), e));
            let key = match key {
                Ok(k) => k,
                Err((p, e)) => {
                    errors.push((p, format!("in query name: {e}")));
                    continue;
                }
            };
            for v in each(values) {
                if let Some(v) = tpl(cache, "query", &v, errors) {
                    query.push((key.clone(), v));
                }
            }
        }
        let mut headers = Vec::new();
        let defaults = default_headers
            .iter()
            .filter(|(k, _)| !def.headers.keys().any(|h| h.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k, v.clone()));
        let own = def
            .headers
            .iter()
            .flat_map(|(k, values)| each(values).map(move |v| (k, v)));
        for (k, v) in own.chain(defaults) {
            let v = &v;
            let p = Pos::from_loc(&v.referenced);
            let name = match cache.template(k) {
                Ok(t) => t,
                Err(e) => {
                    errors.push((p, format!("in header name: {e}")));
                    continue;
                }
            };
            if let Some(n) = name.as_literal() {
                if HeaderName::from_bytes(n.as_bytes()).is_err() {
                    errors.push((p, format!("invalid header name `{n}`")));
                    continue;
                }
            }
            let Some(value) = tpl(cache, "header", v, errors) else {
                continue;
            };
            if let Some(text) = value.as_literal() {
                if HeaderValue::from_str(&text).is_err() {
                    errors.push((
                        p,
                        format!("header `{k}`: the value has a character a header cannot carry"),
                    ));
                    continue;
                }
            }
            headers.push((name, value));
        }
        let body = compile_body(def, pos, suite_dir, cache, errors, &mut tpl);
        let max_redirects = match def.follow_redirects {
            None | Some(Redirects::Enabled(false)) => 0,
            Some(Redirects::Enabled(true)) => 10,
            Some(Redirects::Max(n)) => n,
        };
        let request = match (method, url) {
            (Some(method), Some(url)) if errors.len() == before => Some(RequestTemplate {
                method,
                url,
                query,
                headers,
                body,
                timeout: def.timeout.map(|d| d.0).or(default_timeout),
                max_redirects,
                decompress: def.decompress.unwrap_or(true),
            }),
            _ => None,
        };
        (request, located)
    }
}

/// A template of a request field, parsed (or shared), its use recorded; `None` after an error.
type FieldTemplate<'a> = dyn FnMut(
        &mut SchemaCache,
        &'static str,
        &Spanned<String>,
        &mut Vec<RequestError>,
    ) -> Option<Arc<Template>>
    + 'a;

fn compile_body(
    def: &RequestDef,
    pos: Pos,
    suite_dir: &Path,
    cache: &mut SchemaCache,
    errors: &mut Vec<RequestError>,
    tpl: &mut FieldTemplate<'_>,
) -> Option<BodyTemplate> {
    let given = [
        def.json.is_some(),
        def.body.is_some(),
        def.form.is_some(),
        def.multipart.is_some(),
        def.body_file.is_some(),
    ];
    if given.iter().filter(|b| **b).count() > 1 {
        errors.push((
            pos,
            "a request takes one of `json`, `body`, `form`, `multipart` or `body_file`".into(),
        ));
        return None;
    }
    if let Some(j) = &def.json {
        return match JsonTemplate::compile(&j.value) {
            Ok(t) => Some(BodyTemplate::Json(t)),
            Err(e) => {
                errors.push((Pos::from_loc(&j.referenced), format!("in json body: {e}")));
                None
            }
        };
    }
    if let Some(b) = &def.body {
        return tpl(cache, "body", b, errors).map(BodyTemplate::Text);
    }
    if let Some(f) = &def.body_file {
        let at = Pos::from_loc(&f.referenced);
        return body_file(suite_dir, &f.value, "body_file")
            .map_err(|e| errors.push((at, e)))
            .ok()
            .map(BodyTemplate::File);
    }
    if let Some(m) = &def.multipart {
        let mut parts = Vec::new();
        for (name, values) in &m.value {
            let at = Pos::from_loc(&values.referenced);
            for part in values.value.parts() {
                let value = match part {
                    crate::suite::model::Part::Text(text) => {
                        let s = Spanned::new(text.0.clone(), values.referenced, values.defined);
                        match tpl(cache, "multipart field", &s, errors) {
                            Some(t) => PartValue::Text(t),
                            None => continue,
                        }
                    }
                    crate::suite::model::Part::File(f) => {
                        if let Some(ct) = &f.content_type {
                            if HeaderValue::from_str(ct).is_err() || ct.contains(['\r', '\n']) {
                                errors.push((at, format!("multipart field `{name}`: content_type `{ct}` is not a valid header value")));
                                continue;
                            }
                        }
                        match body_file(suite_dir, &f.file, "multipart file") {
                            Ok(file) => {
                                let filename = f.filename.clone().unwrap_or_else(|| {
                                    Path::new(&f.file)
                                        .file_name()
                                        .map(|n| n.to_string_lossy().into_owned())
                                        .unwrap_or_else(|| f.file.clone())
                                });
                                let content_type = f
                                    .content_type
                                    .clone()
                                    .unwrap_or_else(|| guess_content_type(&f.file).to_string());
                                PartValue::File {
                                    file,
                                    filename,
                                    content_type,
                                }
                            }
                            Err(e) => {
                                errors.push((at, format!("multipart field `{name}`: {e}")));
                                continue;
                            }
                        }
                    }
                };
                parts.push(MultipartPart {
                    name: name.clone(),
                    value,
                });
            }
        }
        return Some(BodyTemplate::Multipart(parts));
    }
    let form = def.form.as_ref()?;
    let mut fields = Vec::new();
    for (k, values) in form {
        for v in each(values) {
            if let Some(t) = tpl(cache, "form body", &v, errors) {
                fields.push((k.clone(), t));
            }
        }
    }
    Some(BodyTemplate::Form(fields))
}

/// Each text of a field, at the field's position.
fn each(values: &Spanned<Texts>) -> impl Iterator<Item = Spanned<String>> + '_ {
    values
        .value
        .0
        .iter()
        .map(|t| Spanned::new(t.clone(), values.referenced, values.defined))
}

/// Largest file sent as a body or a multipart part.
pub const MAX_BODY_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A file a request sends (read when the step runs, so a build step may write it): it must
/// exist now, be a regular file, and be at most [`MAX_BODY_FILE_BYTES`].
fn body_file(suite_dir: &Path, name: &str, what: &str) -> Result<BodyFile, String> {
    let path = suite_dir.join(name);
    let meta = std::fs::metadata(&path)
        .map_err(|e| format!("{what} `{}` cannot be read: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{what} `{}` is not a file", path.display()));
    }
    if meta.len() > MAX_BODY_FILE_BYTES {
        return Err(format!(
            "{what} `{}` is {} bytes, more than the {MAX_BODY_FILE_BYTES}-byte limit",
            path.display(),
            meta.len()
        ));
    }
    Ok(BodyFile {
        path,
        shown: name.to_string(),
    })
}

/// The content type of a file part from its extension.
fn guess_content_type(name: &str) -> &'static str {
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

/// Why a rendered URL cannot be requested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The text has no scheme: a relative URL, or not a URL at all.
    #[error("invalid URL `{url}`: expected an absolute http:// or https:// URL")]
    Relative {
        /// The rendered URL.
        url: String,
    },
    /// The text does not parse as a URL (e.g. a bad host or port).
    #[error("invalid URL `{url}`: {source}")]
    Parse {
        /// The rendered URL.
        url: String,
        /// What the URL parser rejected.
        source: url::ParseError,
    },
    /// The scheme is neither http nor https.
    #[error("unsupported URL scheme `{scheme}` in `{url}`: expected http or https")]
    Scheme {
        /// The scheme found.
        scheme: String,
        /// The rendered URL.
        url: String,
    },
    /// The URL names no host (holds the URL).
    #[error("URL `{0}` has no host")]
    NoHost(String),
}

/// Parse a rendered URL: absolute, http or https, with a host.
pub fn parse_url(text: &str) -> Result<reqwest::Url, UrlError> {
    let url = reqwest::Url::parse(text).map_err(|source| match source {
        url::ParseError::RelativeUrlWithoutBase => UrlError::Relative {
            url: text.to_string(),
        },
        source => UrlError::Parse {
            url: text.to_string(),
            source,
        },
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme {
            scheme: url.scheme().to_string(),
            url: text.to_string(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost(text.to_string()));
    }
    Ok(url)
}

/// The scheme a URL template's literal start fixes, if any (`https://${host}/` → https).
pub fn literal_scheme(url: &Template) -> Option<&str> {
    let prefix = url.literal_prefix().trim_start();
    let (scheme, _) = prefix.split_once(':')?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_http_with_a_host() {
        assert!(parse_url("https://api.test/x").is_ok());
        assert_eq!(
            parse_url("not a url at all").unwrap_err().to_string(),
            "invalid URL `not a url at all`: expected an absolute http:// or https:// URL"
        );
        assert_eq!(
            parse_url("ftp://x.test/").unwrap_err().to_string(),
            "unsupported URL scheme `ftp` in `ftp://x.test/`: expected http or https"
        );
        assert!(parse_url("http://[::1").is_err());
        assert_eq!(
            literal_scheme(&Template::parse("FTP://${h}/").unwrap()),
            Some("FTP")
        );
        assert_eq!(literal_scheme(&Template::parse("${base}/x").unwrap()), None);
    }
}
