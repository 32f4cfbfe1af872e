//! How each connection's address was chosen, kept with the connection itself.
//!
//! The resolver decides an address (override, DNS server, system, pinned fallback and why)
//! while a connection is being opened. A connector layer around reqwest's connector gives
//! each connection attempt its own slot for that decision, and once the connection is open
//! files the decision under the connection's (local, remote) socket addresses, which are
//! unique among open connections. Every new connection is filed, also one that needed no
//! lookup (an IP address), so a record left by a closed connection whose addresses are
//! reused is overwritten. A response carries its connection's addresses (hyper's `HttpInfo`),
//! so the request reads the decision of the very connection it used — a pooled one opened by
//! an earlier request included — never "the last lookup of this host", which concurrency,
//! pooling or a later lookup can change. A request whose connection could not be opened
//! reads the decision from its own slot.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::{Connection, HttpInfo};

use super::Resolution;

/// What one connection attempt learns while it runs.
#[derive(Debug, Default)]
struct AttemptSlot {
    resolution: Option<Resolution>,
    clock: Arc<Mutex<Clock>>,
}

type Slot = std::cell::RefCell<AttemptSlot>;

/// When the attempt's name lookup started and ended: `--connect-timeout` bounds the TCP
/// connect and TLS handshake, counted from the end of the lookup, which has its own budget.
#[derive(Debug, Default)]
struct Clock {
    resolving: bool,
    resolved: Option<Instant>,
}

/// How often an expired connect deadline is looked at again while a lookup still runs.
const LOOKUP_POLL: Duration = Duration::from_millis(20);

impl Clock {
    /// The instant the connect timeout ends, as far as is known now.
    fn deadline(&self, started: Instant, limit: Duration) -> Instant {
        let end = self.resolved.unwrap_or(started) + limit;
        if self.resolving && self.resolved.is_none() {
            end.max(Instant::now() + LOOKUP_POLL)
        } else {
            end
        }
    }

    fn expired(&self, started: Instant, limit: Duration) -> bool {
        !(self.resolving && self.resolved.is_none())
            && Instant::now() >= self.resolved.unwrap_or(started) + limit
    }
}

/// A connection (TCP connect and TLS handshake) not made within `--connect-timeout`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "no connection within {} ms (TCP connect or TLS handshake; --connect-timeout)",
    .0.as_millis()
)]
pub struct ConnectTimeout(pub Duration);

/// What a request learnt of the connection it opened itself, for when it has no response to
/// ask (connecting failed, or the request timed out).
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// How the address was chosen (written as soon as the resolver decides).
    pub resolution: Option<Resolution>,
    /// The address connected to, once the connection is open.
    pub remote: Option<SocketAddr>,
    /// When the request must be complete (its timeout).
    pub deadline: Option<Instant>,
}

tokio::task_local! {
    /// Set around one connection attempt: the resolver writes its decision here.
    static ATTEMPT: Slot;
    /// Set around one request (its redirects and timeout included).
    static REQUEST: std::cell::RefCell<Attempt>;
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Called by the resolver when it starts looking a name up for the attempt in progress.
pub fn resolving() {
    let _ = ATTEMPT.try_with(|s| lock(&s.borrow().clock).resolving = true);
}

/// Called by the resolver: the decision of the connection attempt in progress.
pub fn note(res: &Resolution) {
    let _ = ATTEMPT.try_with(|s| {
        let mut s = s.borrow_mut();
        s.resolution = Some(res.clone());
        lock(&s.clock).resolved = Some(Instant::now());
    });
    let _ = REQUEST.try_with(|r| r.borrow_mut().resolution = Some(res.clone()));
}

/// Forget what the request in progress learnt (a redirect starts a new hop); its deadline
/// stays.
pub fn reset() {
    let _ = REQUEST.try_with(|r| {
        let mut r = r.borrow_mut();
        let deadline = r.deadline;
        *r = Attempt {
            deadline,
            ..Attempt::default()
        };
    });
}

/// The time a name lookup may take now: `budget`, but no more than half of what is left of
/// the request in progress (so a pinned fallback still leaves time to connect and answer).
pub fn lookup_budget(budget: Duration) -> Duration {
    REQUEST
        .try_with(|r| r.borrow().deadline)
        .ok()
        .flatten()
        .map_or(budget, |d| {
            budget.min(d.saturating_duration_since(Instant::now()) / 2)
        })
}

/// What the request in progress has learnt so far (empty outside [`with_request_slot`]).
pub fn current() -> Attempt {
    REQUEST.try_with(|r| r.borrow().clone()).unwrap_or_default()
}

/// Run one request's future with a slot of its own; returns its output and the decision of
/// the connection attempt it made, if it made one.
pub async fn with_request_slot<F: Future>(
    fut: F,
    deadline: Option<Instant>,
) -> (F::Output, Attempt) {
    let with_slot = async {
        let out = fut.await;
        (out, REQUEST.with(|s| std::mem::take(&mut *s.borrow_mut())))
    };
    let slot = Attempt {
        deadline,
        ..Attempt::default()
    };
    REQUEST
        .scope(std::cell::RefCell::new(slot), with_slot)
        .await
}

/// Most connections remembered (the oldest records go first; a run holds far fewer open
/// connections than this).
const MAX_RECORDS: usize = 8192;

/// A connection's (local, remote) socket addresses.
type ConnKey = (SocketAddr, SocketAddr);

/// Decisions of open connections, by their addresses. `None`: the connection needed no
/// lookup (its host is an IP address).
#[derive(Debug, Clone, Default)]
pub struct ConnectionLog {
    inner: Arc<Mutex<Records>>,
}

#[derive(Debug, Default)]
struct Records {
    by_conn: HashMap<ConnKey, Option<Resolution>>,
    order: VecDeque<ConnKey>,
}

impl ConnectionLog {
    fn insert(&self, key: ConnKey, res: Option<Resolution>) {
        let mut r = lock(&self.inner);
        if r.by_conn.insert(key, res).is_none() {
            r.order.push_back(key);
        }
        while r.order.len() > MAX_RECORDS {
            if let Some(old) = r.order.pop_front() {
                r.by_conn.remove(&old);
            }
        }
    }

    /// The decision of the connection from `local` to `remote` (`None` when it needed no
    /// lookup or is not known).
    pub fn get(&self, local: SocketAddr, remote: SocketAddr) -> Option<Resolution> {
        lock(&self.inner)
            .by_conn
            .get(&(local, remote))
            .cloned()
            .flatten()
    }

    /// The decision of the connection a response came over.
    pub fn for_response(&self, resp: &reqwest::Response) -> Option<Resolution> {
        let info = resp.extensions().get::<HttpInfo>()?;
        self.get(info.local_addr(), info.remote_addr())
    }
}

/// The connector layer that files each new connection's decision in a [`ConnectionLog`],
/// and bounds the connection by `--connect-timeout` counted from the end of the name lookup.
#[derive(Debug, Clone)]
pub struct RecordLayer {
    log: ConnectionLog,
    connect_timeout: Duration,
}

impl RecordLayer {
    /// A layer filing into `log`, giving up on a connection after `connect_timeout`.
    pub fn new(log: ConnectionLog, connect_timeout: Duration) -> Self {
        RecordLayer {
            log,
            connect_timeout,
        }
    }
}

impl<S> tower_layer::Layer<S> for RecordLayer {
    type Service = Record<S>;
    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            log: self.log.clone(),
            connect_timeout: self.connect_timeout,
        }
    }
}

/// See [`RecordLayer`].
#[derive(Debug, Clone)]
pub struct Record<S> {
    inner: S,
    log: ConnectionLog,
    connect_timeout: Duration,
}

/// `fut`, unless the connect timeout (restarted when the lookup ends) expires first.
async fn within_connect_timeout<F: Future>(
    fut: F,
    clock: &Mutex<Clock>,
    limit: Duration,
) -> Option<F::Output> {
    let started = Instant::now();
    let mut fut = std::pin::pin!(fut);
    loop {
        let deadline = lock(clock).deadline(started, limit);
        tokio::select! {
            out = &mut fut => return Some(out),
            () = tokio::time::sleep_until(deadline.into()) => {
                if lock(clock).expired(started, limit) {
                    return None;
                }
            }
        }
    }
}

impl<S, R> tower_service::Service<R> for Record<S>
where
    S: tower_service::Service<R>,
    S::Response: Connection + Send + 'static,
    S::Error: From<ConnectTimeout> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let connecting = self.inner.call(req);
        let clock = Arc::new(Mutex::new(Clock::default()));
        let slot = AttemptSlot {
            resolution: None,
            clock: clock.clone(),
        };
        let connecting = ATTEMPT.scope(Slot::new(slot), async move {
            let result = connecting.await;
            (result, ATTEMPT.with(|s| s.borrow_mut().resolution.take()))
        });
        let log = self.log.clone();
        let limit = self.connect_timeout;
        Box::pin(async move {
            let Some((result, decided)) = within_connect_timeout(connecting, &clock, limit).await
            else {
                return Err(ConnectTimeout(limit).into());
            };
            let conn = result?;
            let mut extras = http::Extensions::new();
            conn.connected().get_extras(&mut extras);
            if let Some(info) = extras.get::<HttpInfo>() {
                let _ = REQUEST.try_with(|r| r.borrow_mut().remote = Some(info.remote_addr()));
                log.insert((info.local_addr(), info.remote_addr()), decided);
            }
            Ok(conn)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ResolvedBy;

    fn res(cause: &str) -> Resolution {
        Resolution {
            by: ResolvedBy::Fallback,
            addrs: vec![std::net::Ipv4Addr::LOCALHOST.into()],
            fallback_cause: Some(cause.into()),
            connect_to: None,
        }
    }

    fn sa(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn records_are_per_connection_and_a_reused_address_pair_is_overwritten() {
        let log = ConnectionLog::default();
        log.insert((sa(40000), sa(80)), Some(res("one")));
        log.insert((sa(40000), sa(81)), Some(res("two")));
        let cause = |l, r| log.get(sa(l), sa(r)).and_then(|x| x.fallback_cause);
        assert_eq!(cause(40000, 80).as_deref(), Some("one"));
        assert_eq!(
            cause(40000, 81).as_deref(),
            Some("two"),
            "same local port, other peer"
        );
        // A later connection with the same addresses that needed no lookup.
        log.insert((sa(40000), sa(80)), None);
        assert!(log.get(sa(40000), sa(80)).is_none());
    }

    #[test]
    fn the_log_is_bounded() {
        let log = ConnectionLog::default();
        for p in 0..(MAX_RECORDS as u16 + 10) {
            log.insert((sa(p), sa(80)), Some(res("x")));
        }
        assert!(log.get(sa(0), sa(80)).is_none(), "the oldest went first");
        assert!(log.get(sa(MAX_RECORDS as u16 + 9), sa(80)).is_some());
        assert_eq!(lock(&log.inner).by_conn.len(), MAX_RECORDS);
    }

    #[tokio::test]
    async fn the_decision_noted_while_connecting_is_filed_under_the_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        // A resolver that notes which lookup it was.
        #[derive(Clone, Default)]
        struct Counting(Arc<std::sync::atomic::AtomicUsize>);
        impl reqwest::dns::Resolve for Counting {
            fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
                let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Box::pin(async move {
                    note(&res(&format!("lookup {n}")));
                    let addrs: reqwest::dns::Addrs =
                        Box::new(vec![SocketAddr::from(([127, 0, 0, 1], 0))].into_iter());
                    Ok(addrs)
                })
            }
        }
        let log = ConnectionLog::default();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(Counting::default()))
            .connector_layer(RecordLayer::new(log.clone(), Duration::from_secs(5)))
            .build()
            .unwrap();
        let url = format!("http://record.test:{}/", addr.port());
        let cause = |r: &reqwest::Response| log.for_response(r).and_then(|x| x.fallback_cause);
        let (first, attempted) = with_request_slot(client.get(&url).send(), None).await;
        let first = first.unwrap();
        assert_eq!(cause(&first).as_deref(), Some("lookup 0"));
        assert_eq!(
            attempted
                .resolution
                .and_then(|a| a.fallback_cause)
                .as_deref(),
            Some("lookup 0")
        );
        drop(first.text().await);
        // The pooled connection is reused: no lookup, and the record is still lookup 0.
        let (second, attempted) = with_request_slot(client.get(&url).send(), None).await;
        assert!(attempted.resolution.is_none(), "no connection was opened");
        assert!(attempted.remote.is_none());
        assert_eq!(cause(&second.unwrap()).as_deref(), Some("lookup 0"));
    }
}
