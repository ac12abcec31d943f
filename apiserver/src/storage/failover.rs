//! Failing over between etcd members. The etcd client balances requests over every URL in
//! `--etcd-servers`, but it keeps sending a share of them to a member that is down, where they
//! fail at once with a connect error. Such a request never reached etcd, so it is sent again —
//! the balancer picks a member afresh each time — until a deadline, with a short growing pause.
//! Reads are retried on any `Unavailable` answer (a member without a leader, a broken
//! connection); writes only when they were never sent, so a write is never applied twice and
//! an ambiguous failure still reaches the client as an error (as upstream's etcd client does
//! for mutations).

use std::error::Error as _;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// gRPC status code `UNAVAILABLE` (fixed by the gRPC spec).
const GRPC_UNAVAILABLE: i32 = 14;
/// How long one operation keeps retrying before the error is returned.
const DEADLINE: Duration = Duration::from_secs(10);
/// Pause before the first retry; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// What may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads, which can be repeated freely.
    Read,
    /// Writes, repeated only when they never left this process.
    Write,
}

/// Whether `err` means the request was refused before it was sent to etcd.
pub fn never_sent(err: &etcd_client::Error) -> bool {
    let etcd_client::Error::GRpcStatus(status) = err else {
        return matches!(err, etcd_client::Error::TransportError(_));
    };
    if i32::from(status.code()) != GRPC_UNAVAILABLE {
        return false;
    }
    // tonic wraps the connector's failure ("tcp connect error", whose source is the
    // refused connect) as the status's source.
    let mut source = status.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        if e.to_string().starts_with("tcp connect error") {
            return true;
        }
        source = e.source();
    }
    status.message().starts_with("tcp connect error")
}

/// Whether an operation of kind `retry` that failed with `err` may be sent again.
pub fn retriable(retry: Retry, err: &etcd_client::Error) -> bool {
    if never_sent(err) {
        return true;
    }
    match (retry, err) {
        (Retry::Read, etcd_client::Error::GRpcStatus(status)) => {
            i32::from(status.code()) == GRPC_UNAVAILABLE
        }
        _ => false,
    }
}

/// Run `op` until it succeeds, fails in a way that is not [`retriable`], or [`DEADLINE`]
/// passes.
pub async fn with_failover<T, F, Fut>(retry: Retry, mut op: F) -> Result<T, etcd_client::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, etcd_client::Error>>,
{
    let deadline = Instant::now() + DEADLINE;
    let mut pause = FIRST_PAUSE;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if retriable(retry, &e) && Instant::now() + pause < deadline => {
                tracing::debug!(error = %e, "etcd request failed; trying another member");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A client whose only member is down (nothing listens on its port).
    async fn client_of_a_dead_member() -> etcd_client::Client {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        etcd_client::Client::connect([format!("http://127.0.0.1:{port}")], None)
            .await
            .expect("connecting is lazy")
    }

    #[tokio::test]
    async fn a_refused_connect_was_never_sent() {
        let client = client_of_a_dead_member().await;
        let err = client
            .kv_client()
            .get("k", None)
            .await
            .expect_err("nothing listens");
        assert!(never_sent(&err), "{err:?}");
        assert!(retriable(Retry::Write, &err));
        assert!(retriable(Retry::Read, &err));
    }

    #[test]
    fn other_errors_are_not_retried() {
        let err = etcd_client::Error::InvalidArgs("bad".into());
        assert!(!never_sent(&err));
        assert!(!retriable(Retry::Read, &err));
        assert!(!retriable(Retry::Write, &err));
    }

    #[tokio::test]
    async fn a_write_refused_by_a_dead_member_is_sent_again() {
        let client = client_of_a_dead_member().await;
        let calls = AtomicUsize::new(0);
        let out = with_failover(Retry::Write, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let mut kv = client.kv_client();
            async move {
                if n < 3 {
                    // The member that is down: refused before anything is sent.
                    kv.get("k", None).await.map(|_| n)
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(out.expect("the fourth attempt succeeds"), 3);
    }

    #[tokio::test]
    async fn a_non_retriable_error_is_returned_at_once() {
        let calls = AtomicUsize::new(0);
        let out: Result<(), _> = with_failover(Retry::Read, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(etcd_client::Error::InvalidArgs("bad".into())) }
        })
        .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
