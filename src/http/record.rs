//! How each connection's address was chosen, kept with the connection itself.
//!
//! The resolver decides an address (override, DNS server, system, pinned fallback and why)
//! while a connection is being opened. A connector layer around reqwest's connector gives
//! each connection attempt its own slot for that decision, and once the connection is open
//! files the decision under the connection's local socket address, which is unique among
//! open connections. A response carries its connection's local address (hyper's
//! `HttpInfo`), so the request reads the decision of the very connection it used — a pooled
//! one opened by an earlier request included — never "the last lookup of this host", which
//! concurrency, pooling or a later lookup can change. A request whose connection could not
//! be opened reads the decision from its own slot.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connection, HttpInfo};

use super::Resolution;

type Slot = Arc<Mutex<Option<Resolution>>>;

tokio::task_local! {
    /// Set around one connection attempt: the resolver writes its decision here.
    static ATTEMPT: Slot;
    /// Set around one request: the decision of a connection attempt the request made
    /// itself (read when connecting failed, so there is no connection to ask).
    static REQUEST: Slot;
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Called by the resolver: the decision of the connection attempt in progress.
pub fn note(res: &Resolution) {
    let _ = ATTEMPT.try_with(|s| *lock(s) = Some(res.clone()));
}

/// Run one request's future with a slot of its own; returns its output and the decision of
/// the connection attempt it made, if it made one.
pub async fn with_request_slot<F: Future>(fut: F) -> (F::Output, Option<Resolution>) {
    let slot = Slot::default();
    let out = REQUEST.scope(slot.clone(), fut).await;
    let decided = lock(&slot).take();
    (out, decided)
}

/// Most connections remembered (the oldest records go first; a run holds far fewer open
/// connections than this).
const MAX_RECORDS: usize = 8192;

/// Decisions of open connections, by local socket address.
#[derive(Debug, Clone, Default)]
pub struct ConnectionLog {
    inner: Arc<Mutex<Records>>,
}

#[derive(Debug, Default)]
struct Records {
    by_local: HashMap<SocketAddr, Resolution>,
    order: VecDeque<SocketAddr>,
}

impl ConnectionLog {
    fn insert(&self, local: SocketAddr, res: Resolution) {
        let mut r = lock(&self.inner);
        if r.by_local.insert(local, res).is_none() {
            r.order.push_back(local);
        }
        while r.order.len() > MAX_RECORDS {
            if let Some(old) = r.order.pop_front() {
                r.by_local.remove(&old);
            }
        }
    }

    /// The decision of the connection whose local address is `local`.
    pub fn get(&self, local: SocketAddr) -> Option<Resolution> {
        lock(&self.inner).by_local.get(&local).cloned()
    }

    /// The decision of the connection a response came over.
    pub fn for_response(&self, resp: &reqwest::Response) -> Option<Resolution> {
        let info = resp.extensions().get::<HttpInfo>()?;
        self.get(info.local_addr())
    }
}

/// The connector layer that files each new connection's decision in a [`ConnectionLog`].
#[derive(Debug, Clone)]
pub struct RecordLayer {
    log: ConnectionLog,
}

impl RecordLayer {
    /// A layer filing into `log`.
    pub fn new(log: ConnectionLog) -> Self {
        RecordLayer { log }
    }
}

impl<S> tower_layer::Layer<S> for RecordLayer {
    type Service = Record<S>;
    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            log: self.log.clone(),
        }
    }
}

/// See [`RecordLayer`].
#[derive(Debug, Clone)]
pub struct Record<S> {
    inner: S,
    log: ConnectionLog,
}

impl<S, R> tower_service::Service<R> for Record<S>
where
    S: tower_service::Service<R>,
    S::Response: Connection + Send + 'static,
    S::Error: Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let slot = Slot::default();
        let connecting = ATTEMPT.scope(slot.clone(), self.inner.call(req));
        let log = self.log.clone();
        Box::pin(async move {
            let result = connecting.await;
            let decided = lock(&slot).take();
            if let Some(res) = &decided {
                let _ = REQUEST.try_with(|r| *lock(r) = Some(res.clone()));
            }
            let conn = result?;
            if let Some(res) = decided {
                let mut extras = http::Extensions::new();
                conn.connected().get_extras(&mut extras);
                if let Some(info) = extras.get::<HttpInfo>() {
                    log.insert(info.local_addr(), res);
                }
            }
            Ok(conn)
        })
    }
}
