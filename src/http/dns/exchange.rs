//! One DNS question to one server, the way `dig` asks it: over a *connected* UDP socket (so a
//! closed port is "connection refused" at once, not a timeout), then over TCP when the answer
//! is truncated, all within one deadline. Datagrams that are not the answer to this question
//! (another id, garbage) are ignored until the deadline.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout_at, Instant};

use super::DnsFailure;

/// Largest UDP answer read (the protocol's maximum).
const MAX_UDP: usize = 65_535;

/// Ask `server` for `rtype` records of `name`; the answer message (whatever its response
/// code) or why there is none.
pub(super) async fn ask(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    deadline: Instant,
    budget: Duration,
) -> Result<Message, DnsFailure> {
    let id = question_id();
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(name.clone(), rtype));
    let bytes = msg
        .to_vec()
        .map_err(|e| DnsFailure::Other(format!("cannot encode the DNS question: {e}")))?;
    let timed_out = || DnsFailure::Timeout(budget.as_millis() as u64);
    let q = Asked { id, name, rtype };
    let answer = timeout_at(deadline, udp(server, &bytes, &q))
        .await
        .map_err(|_| timed_out())??;
    if !answer.metadata.truncation {
        return Ok(answer);
    }
    timeout_at(deadline, tcp(server, &bytes, &q))
        .await
        .map_err(|_| timed_out())?
}

/// A question id that is hard to guess (answers are matched on it).
fn question_id() -> u16 {
    (uuid::Uuid::new_v4().as_u128() & 0xffff) as u16
}

fn io_failure(e: std::io::Error, proto: &str, server: SocketAddr) -> DnsFailure {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            DnsFailure::PortClosed(format!("{proto} {server}"))
        }
        _ => DnsFailure::Other(format!("{proto} {server}: {e}")),
    }
}

/// The answer to question `q` (id, name and type) when `buf` holds it.
fn answer_to(q: &Asked<'_>, buf: &[u8]) -> Option<Message> {
    Message::from_vec(buf).ok().filter(|m| {
        m.metadata.id == q.id
            && m.metadata.message_type == MessageType::Response
            && m.queries.iter().any(|x| {
                x.query_type() == q.rtype
                    && x.name().to_ascii().eq_ignore_ascii_case(&q.name.to_ascii())
            })
    })
}

/// The question an answer must echo.
struct Asked<'a> {
    id: u16,
    name: &'a Name,
    rtype: RecordType,
}

async fn udp(server: SocketAddr, question: &[u8], q: &Asked<'_>) -> Result<Message, DnsFailure> {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let fail = |e| io_failure(e, "UDP", server);
    let sock = UdpSocket::bind(local).await.map_err(fail)?;
    sock.connect(server).await.map_err(fail)?;
    sock.send(question).await.map_err(fail)?;
    let mut buf = vec![0u8; MAX_UDP];
    loop {
        let n = sock.recv(&mut buf).await.map_err(fail)?;
        if let Some(m) = answer_to(q, &buf[..n]) {
            return Ok(m);
        }
    }
}

async fn tcp(server: SocketAddr, question: &[u8], q: &Asked<'_>) -> Result<Message, DnsFailure> {
    let fail = |e| io_failure(e, "TCP", server);
    let mut stream = TcpStream::connect(server).await.map_err(fail)?;
    let len = u16::try_from(question.len())
        .map_err(|_| DnsFailure::Other("DNS question too long".into()))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(question);
    stream.write_all(&framed).await.map_err(fail)?;
    let len = stream.read_u16().await.map_err(fail)?;
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).await.map_err(fail)?;
    answer_to(q, &buf)
        .ok_or_else(|| DnsFailure::Other(format!("TCP {server}: the answer is not valid DNS")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_is_refused_at_once_and_a_silent_one_times_out() {
        // A port nobody listens on: find one by binding and releasing it.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let name = Name::from_ascii("api.example.test.").unwrap();
        let budget = Duration::from_secs(3);
        let started = std::time::Instant::now();
        let r = ask(
            closed,
            &name,
            RecordType::A,
            Instant::now() + budget,
            budget,
        )
        .await;
        assert!(matches!(r, Err(DnsFailure::PortClosed(_))), "{r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused is immediate"
        );

        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let budget = Duration::from_millis(300);
        let r = ask(
            silent.local_addr().unwrap(),
            &name,
            RecordType::A,
            Instant::now() + budget,
            budget,
        )
        .await;
        assert_eq!(r.unwrap_err(), DnsFailure::Timeout(300));
    }
}
