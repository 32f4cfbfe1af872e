//! `smokegate serve`: a small HTTP/1.1 endpoint that runs a named gate on request, for
//! progressive-delivery controllers (a Flagger webhook, a script, a pipeline step).
//!
//! `POST /gates/NAME` runs the gate with the same planner and runner as `smokegate run` and
//! answers 200 (passed) or 412 (failed, or could not run) with the JSON report of
//! `run --report-json` as body; `GET /gates` lists the gates; `GET /healthz` says the server
//! is up. Requests need a bearer token (compared in constant time, never printed). At most
//! `--max-concurrent` gates run at once: a request over the bound is answered 429 with
//! `Retry-After` at once, never queued. Every request is bounded: header and body read
//! timeouts, a body size cap, a per-run timeout, a bound on open connections. SIGTERM or
//! SIGINT stops accepting, cuts running gates as `run` does (2 s grace; their reports are
//! still answered) and exits. See docs/progressive-delivery.md.

pub mod gates;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::redact::Redactor;
use crate::report::json::JsonReporter;
use crate::report::Reporter;
use crate::runner::RunOptions;

pub use gates::{Gate, GateError, GateSpec};

/// The largest request head (request line and headers) read, in bytes.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Client-supplied text (webhook fields, paths) is cut to this many characters in logs and
/// report metadata.
const MAX_FIELD_CHARS: usize = 128;
/// Time a run gets beyond its deadline to report (the runner's grace period, the report)
/// before the request gives up on it.
const RUN_SLACK: Duration = Duration::from_secs(10);

/// How the server behaves (the command line fills it).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The bearer token requests must carry; `None` serves without authentication
    /// (`--insecure-no-auth`, loopback only).
    pub token: Option<String>,
    /// Also accept the token as `metadata.token` of a Flagger webhook payload (Flagger
    /// cannot send headers).
    pub payload_token: bool,
    /// Gates run at once; more requests are answered 429.
    pub max_concurrent: usize,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Largest request body, in bytes.
    pub max_request_body: usize,
    /// Time a client has to send the request head.
    pub header_timeout: Duration,
    /// Time a client has to send the request body.
    pub body_timeout: Duration,
    /// A run's deadline: checks still running then are reported as errors.
    pub run_timeout: Duration,
    /// `Retry-After` of a 429, in seconds.
    pub retry_after_secs: u64,
    /// After SIGTERM, how long running requests get before the server exits anyway.
    pub shutdown_timeout: Duration,
    /// How each run runs (network settings, jobs, metadata).
    pub run: RunOptions,
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// SIGTERM / SIGINT cannot be listened for: the server could not be stopped cleanly.
    #[error("cannot listen for SIGTERM/SIGINT: {0}")]
    Signals(#[source] std::io::Error),
}

/// What every connection shares.
struct State {
    gates: BTreeMap<String, Gate>,
    cfg: ServeConfig,
    /// SHA-256 of the token (compared digest to digest: constant time, whatever the length).
    token_digest: Option<[u8; 32]>,
    runs: Arc<Semaphore>,
    /// Masks the token in everything the server prints or answers.
    log_redactor: Redactor,
}

/// Serve `gates` on `listener` until SIGTERM or SIGINT.
pub async fn serve(
    listener: TcpListener,
    gates: Vec<Gate>,
    cfg: ServeConfig,
) -> Result<(), ServeError> {
    let mut signals = Signals::new()?;
    let log_redactor = Redactor::default();
    if let Some(t) = &cfg.token {
        // A token too short to mask is refused by the command line.
        let _ = log_redactor.add(t);
    }
    let state = Arc::new(State {
        token_digest: cfg
            .token
            .as_ref()
            .map(|t| Sha256::digest(t.as_bytes()).into()),
        runs: Arc::new(Semaphore::new(cfg.max_concurrent.max(1))),
        gates: gates.into_iter().map(|g| (g.name.clone(), g)).collect(),
        log_redactor,
        cfg,
    });
    let connections = Arc::new(Semaphore::new(state.cfg.max_connections.max(1)));
    let overflow = Arc::new(Semaphore::new(state.cfg.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let signalled = loop {
        while tasks.try_join_next().is_some() {}
        let accepted = tokio::select! {
            a = listener.accept() => a,
            s = signals.recv() => break s,
        };
        match accepted {
            Ok((stream, peer)) => {
                // A slot, or else an overflow slot whose client has OVERFLOW_HEADER_TIMEOUT
                // to send its request head: clients that stall in their headers cannot hold
                // every slot (a readiness probe or a webhook still gets in), and the number
                // of open connections stays bounded (twice --max-connections).
                let regular = state.cfg.header_timeout;
                let quick = OVERFLOW_HEADER_TIMEOUT.min(regular);
                let slot = match connections.clone().try_acquire_owned() {
                    Ok(p) => Some((p, regular)),
                    Err(_) => overflow
                        .clone()
                        .try_acquire_owned()
                        .ok()
                        .map(|p| (p, quick)),
                };
                let (permit, header_timeout) = match slot {
                    Some(s) => s,
                    None => tokio::select! {
                        p = connections.clone().acquire_owned() => (p.expect("the semaphore is never closed"), regular),
                        p = overflow.clone().acquire_owned() => (p.expect("the semaphore is never closed"), quick),
                        s = signals.recv() => break s,
                    },
                };
                let state = state.clone();
                let stop = stop_rx.clone();
                tasks.spawn(async move {
                    connection(stream, peer, state, stop, header_timeout).await;
                    drop(permit);
                });
            }
            Err(e) => {
                // Out of descriptors, a connection reset before it was accepted: wait a
                // little and go on.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    drop(listener);
    while tasks.try_join_next().is_some() {}
    let running = tasks.len();
    crate::cli::print_err(&format!(
        "serve: {signalled}: no longer accepting; {running} open connection(s) to finish"
    ));
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(state.cfg.shutdown_timeout, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        crate::cli::print_err(&format!(
            "serve: {} connection(s) still open after {} s: closed",
            tasks.len(),
            state.cfg.shutdown_timeout.as_secs()
        ));
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    crate::cli::print_err("serve: stopped");
    Ok(())
}

/// SIGTERM and SIGINT (Ctrl-C elsewhere), listened for from start-up.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, ServeError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                term: signal(SignalKind::terminate()).map_err(ServeError::Signals)?,
                int: signal(SignalKind::interrupt()).map_err(ServeError::Signals)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The name of the next signal.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// How long a client let in over --max-connections has to send its request head.
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(1);

/// One connection: one request (no keep-alive), bounded in time from accept to close.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
    header_timeout: Duration,
) {
    let io = TokioIo::new(stream);
    let svc_state = state.clone();
    let svc = hyper::service::service_fn(move |req| {
        let state = svc_state.clone();
        async move { Ok::<_, Infallible>(handle(&state, peer, req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(false)
        .max_buf_size(MAX_HEAD_BYTES);
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    let limit = header_timeout + state.cfg.body_timeout + state.cfg.run_timeout + RUN_SLACK * 2;
    let cut = tokio::time::sleep(limit);
    tokio::pin!(cut);
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection from {peer}: {e}");
                }
                return;
            }
            changed = stop.changed(), if !*stop.borrow() => {
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = &mut cut => {
                tracing::warn!("connection from {peer} open for {} s: closed", limit.as_secs());
                return;
            }
        }
    }
}

/// What a request asked and what it got, for the log line.
struct Outcome {
    response: Box<Response<Full<Bytes>>>,
    note: String,
}

impl Outcome {
    fn new(response: Response<Full<Bytes>>, note: impl Into<String>) -> Self {
        Outcome {
            response: Box::new(response),
            note: note.into(),
        }
    }
}

async fn handle(state: &State, peer: SocketAddr, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let out = route(state, req).await;
    let status = out.response.status().as_u16();
    // Health probes every few seconds would drown the log: only their failures are shown.
    if path != "/healthz" || status != 200 {
        let shown = crate::text::outside(&path, MAX_FIELD_CHARS, &state.log_redactor);
        let note = state.log_redactor.redact(&out.note);
        let note = if note.is_empty() {
            String::new()
        } else {
            format!(" {note}")
        };
        crate::cli::print_err(&format!(
            "serve: {method} {shown} {status}{note} (from {peer})"
        ));
    }
    *out.response
}

async fn route(state: &State, req: Request<Incoming>) -> Outcome {
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/healthz" => match *req.method() {
            Method::GET | Method::HEAD => Outcome::new(text(StatusCode::OK, "ok\n"), ""),
            _ => not_allowed("GET, HEAD"),
        },
        "/gates" => match *req.method() {
            Method::GET => {
                if let Err(o) = authorize_header(state, req.headers()) {
                    return o;
                }
                let names: Vec<&String> = state.gates.keys().collect();
                let body = serde_json::json!({ "gates": names });
                Outcome::new(json(StatusCode::OK, &body), "")
            }
            _ => not_allowed("GET"),
        },
        p => match p.strip_prefix("/gates/") {
            Some(name) if !name.is_empty() && !name.contains('/') => {
                if req.method() == Method::POST {
                    let name = name.to_string();
                    gate_request(state, name, req).await
                } else {
                    not_allowed("POST")
                }
            }
            _ => Outcome::new(
                json(
                    StatusCode::NOT_FOUND,
                    &serde_json::json!({ "error": "not found: POST /gates/NAME, GET /gates, GET /healthz" }),
                ),
                "",
            ),
        },
    }
}

/// A Flagger webhook payload (`{name, namespace, phase, checksum, metadata}`); other callers
/// may send nothing. Logged and recorded in the report's metadata; never turned into
/// variables.
#[derive(Debug, Default, Deserialize)]
struct WebhookPayload {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, serde_json::Value>>,
}

async fn gate_request(state: &State, name: String, req: Request<Incoming>) -> Outcome {
    let header_auth = authorize_header(state, req.headers());
    // The payload's token stands in for a missing header only: a wrong header is refused.
    let header_given = req.headers().contains_key(header::AUTHORIZATION);
    // The body is read (bounded) before answering, even to refuse: a connection closed with
    // unread request bytes is reset, and the client would lose the answer.
    let body = match read_body(state, req).await {
        Ok(b) => b,
        Err(o) => return o,
    };
    let payload: Result<Option<WebhookPayload>, String> =
        if body.iter().all(u8::is_ascii_whitespace) {
            Ok(None)
        } else {
            serde_json::from_slice::<WebhookPayload>(&body)
                .map(Some)
                .map_err(|e| e.to_string())
        };
    if let Err(refused) = header_auth {
        let in_payload = state.cfg.payload_token
            && !header_given
            && matches!(&payload, Ok(Some(p)) if payload_token_matches(state, p));
        if !in_payload {
            return refused;
        }
    }
    let payload = match payload {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => {
            return Outcome::new(
                json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({ "error": format!("the body is not a webhook payload (a JSON object {{name, namespace, phase, checksum, metadata}}): {e}") }),
                ),
                "(body is not a webhook payload)",
            )
        }
    };
    let Some(gate) = state.gates.get(&name) else {
        return Outcome::new(
            json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({ "error": "no such gate", "gates_url": "/gates" }),
            ),
            "(no such gate)",
        );
    };
    let Ok(permit) = state.runs.clone().try_acquire_owned() else {
        let mut r = json(
            StatusCode::TOO_MANY_REQUESTS,
            &serde_json::json!({
                "error": format!("{} gate run(s) already running (--max-concurrent); retry later", state.cfg.max_concurrent),
            }),
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(state.cfg.retry_after_secs),
        );
        return Outcome::new(r, "(busy)");
    };
    let webhook = webhook_fields(state, &payload);
    let out = run_gate(state, gate, &webhook).await;
    drop(permit);
    out
}

/// The payload's fields as run metadata and a log note: cut, control characters escaped,
/// the token masked. Metadata values are never shown (they may carry credentials): only
/// their keys.
fn webhook_fields(state: &State, p: &WebhookPayload) -> Vec<(String, String)> {
    let clean = |s: &str| crate::text::outside(s, MAX_FIELD_CHARS, &state.log_redactor);
    let mut out = Vec::new();
    for (k, v) in [
        ("webhook_name", &p.name),
        ("webhook_namespace", &p.namespace),
        ("webhook_phase", &p.phase),
        ("webhook_checksum", &p.checksum),
    ] {
        if let Some(v) = v {
            out.push((k.to_string(), clean(v)));
        }
    }
    if let Some(m) = &p.metadata {
        let keys: Vec<String> = m.keys().take(16).map(|k| clean(k)).collect();
        if !keys.is_empty() {
            out.push(("webhook_metadata_keys".to_string(), keys.join(",")));
        }
    }
    out
}

fn payload_token_matches(state: &State, p: &WebhookPayload) -> bool {
    let given = p
        .metadata
        .as_ref()
        .and_then(|m| m.get("token"))
        .and_then(|v| v.as_str());
    match (given, &state.token_digest) {
        (Some(g), Some(d)) => digest_eq(&Sha256::digest(g.as_bytes()).into(), d),
        _ => false,
    }
}

/// Read the request body: at most `--max-request-body` bytes, within `--body-timeout`.
async fn read_body(state: &State, req: Request<Incoming>) -> Result<Bytes, Outcome> {
    let cap = state.cfg.max_request_body;
    let too_large = || {
        Outcome::new(
            json(
                StatusCode::PAYLOAD_TOO_LARGE,
                &serde_json::json!({ "error": format!("the request body is over {cap} bytes") }),
            ),
            "(body too large)",
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), cap);
    match tokio::time::timeout(state.cfg.body_timeout, body.collect()).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(Outcome::new(
            json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": format!("cannot read the request body: {e}") }),
            ),
            "(unreadable body)",
        )),
        Err(_) => Err(Outcome::new(
            json(
                StatusCode::REQUEST_TIMEOUT,
                &serde_json::json!({ "error": format!("the request body did not arrive within {} s", state.cfg.body_timeout.as_secs_f64()) }),
            ),
            "(body timeout)",
        )),
    }
}

/// Check `Authorization: Bearer TOKEN`; the refusal to answer otherwise.
fn authorize_header(state: &State, headers: &HeaderMap) -> Result<(), Outcome> {
    let Some(expected) = &state.token_digest else {
        return Ok(());
    };
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (first, second) = (values.next(), values.next());
    let given = match (first, second) {
        (None, _) => return Err(unauthorized(None)),
        (Some(v), None) => bearer(v.as_bytes()),
        (Some(_), Some(_)) => None,
    };
    match given {
        Some(t) if digest_eq(&Sha256::digest(t).into(), expected) => Ok(()),
        _ => Err(unauthorized(Some("invalid_token"))),
    }
}

/// The token of `Bearer TOKEN` (scheme case-insensitive, RFC 7235).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at(value.iter().position(|&b| b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Digests compared without an early exit.
fn digest_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn unauthorized(error: Option<&str>) -> Outcome {
    let challenge = match error {
        Some(e) => format!("Bearer realm=\"smokegate\", error=\"{e}\""),
        None => "Bearer realm=\"smokegate\"".to_string(),
    };
    let mut r = json(
        StatusCode::UNAUTHORIZED,
        &serde_json::json!({ "error": "a bearer token is required (Authorization: Bearer ...)" }),
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&challenge).expect("a fixed header value"),
    );
    Outcome::new(
        r,
        if error.is_some() {
            "(wrong token)"
        } else {
            "(no token)"
        },
    )
}

fn not_allowed(allow: &'static str) -> Outcome {
    let mut r = json(
        StatusCode::METHOD_NOT_ALLOWED,
        &serde_json::json!({ "error": format!("method not allowed; allowed: {allow}") }),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    Outcome::new(r, "")
}

/// Run a gate once and answer its JSON report: 200 when it passed, 412 otherwise.
async fn run_gate(state: &State, gate: &Gate, webhook: &[(String, String)]) -> Outcome {
    let started = Instant::now();
    let failed = |error: String| {
        let body = serde_json::json!({ "gate": gate.name, "verdict": "failed", "error": error });
        let mut r = json(StatusCode::PRECONDITION_FAILED, &body);
        r.headers_mut()
            .insert("x-smokegate-verdict", HeaderValue::from_static("failed"));
        Outcome::new(r, format!("gate {}: could not run: {error}", gate.name))
    };
    let plan = match gate.plan() {
        Ok(p) => p,
        Err(d) => return failed(d.to_string()),
    };
    if let Some(t) = &state.cfg.token {
        let _ = plan.redactor.add(t);
    }
    let run_id = plan.run_id.to_string();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return failed(format!("cannot create a folder for the report: {e}")),
    };
    let path = dir.path().join("report.json");
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(JsonReporter::new(
        path.clone(),
        plan.redactor.clone(),
    ))];
    let mut opts = state.cfg.run.clone();
    opts.deadline = Some(
        opts.deadline
            .map_or(state.cfg.run_timeout, |d| d.min(state.cfg.run_timeout)),
    );
    opts.metadata.push(("gate".to_string(), gate.name.clone()));
    opts.metadata.extend(webhook.iter().cloned());
    let limit = state.cfg.run_timeout + RUN_SLACK;
    let outcome =
        match tokio::time::timeout(limit, crate::runner::run(plan, opts, &mut reporters)).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return failed(e.to_string()),
            Err(_) => {
                return failed(format!(
                    "the run did not finish within {} s",
                    limit.as_secs()
                ))
            }
        };
    let errors: Vec<String> = reporters.iter_mut().flat_map(|r| r.take_errors()).collect();
    let report = match std::fs::read(&path) {
        Ok(b) if errors.is_empty() => b,
        Ok(_) => return failed(errors.join("; ")),
        Err(e) => {
            return failed(format!(
                "the JSON report was not written: {e}; {}",
                errors.join("; ")
            ))
        }
    };
    let s = &outcome.summary;
    let (status, verdict) = if s.passed {
        (StatusCode::OK, "passed")
    } else {
        (StatusCode::PRECONDITION_FAILED, "failed")
    };
    let mut r = Response::new(Full::new(Bytes::from(report)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-smokegate-verdict", HeaderValue::from_static(verdict));
    if let Ok(v) = HeaderValue::from_str(&run_id) {
        h.insert("x-smokegate-run-id", v);
    }
    let mut note = format!(
        "gate {}: {verdict}, {} in {} ms, run {run_id}",
        gate.name,
        crate::report::counts_line(&s.counts),
        started.elapsed().as_millis()
    );
    if let Some(c) = s.cancelled {
        note.push_str(&format!(" (stopped: {c})"));
    }
    let fields: Vec<String> = webhook
        .iter()
        .filter(|(k, _)| k != "webhook_metadata_keys")
        .map(|(k, v)| format!("{}={v}", k.trim_start_matches("webhook_")))
        .collect();
    if !fields.is_empty() {
        note.push_str(&format!("; webhook {}", fields.join(" ")));
    }
    Outcome::new(r, note)
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut text = serde_json::to_vec(body).unwrap_or_default();
    text.push(b'\n');
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively_and_trimmed() {
        assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"bearer   abc "), Some(&b"abc"[..]));
        assert_eq!(bearer(b"Basic abc"), None);
        assert_eq!(bearer(b"Bearer"), None);
        assert_eq!(bearer(b"Bearer  "), None);
    }

    #[test]
    fn digests_compare_equal_only_when_equal() {
        let a: [u8; 32] = Sha256::digest(b"token-one").into();
        let b: [u8; 32] = Sha256::digest(b"token-two").into();
        assert!(digest_eq(&a, &a));
        assert!(!digest_eq(&a, &b));
    }
}
