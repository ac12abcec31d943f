//! Splicing two upgraded connections (exec, attach, port-forward streams) into one pipe.
//!
//! `tokio::io::copy_bidirectional` stops both directions at the first error in either. For a
//! streaming session that loses data: when a command exits, the runtime sends its last output
//! and closes; the client may still be sending (stdin's end, a resize), that write fails, and
//! copy_bidirectional then drops the connection before the runtime's last bytes — the exit
//! status among them — have gone the other way. Here each direction runs on its own until its
//! source ends or its destination refuses, and only then shuts that destination's write side.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// What each direction of a splice carried, or why it stopped.
#[derive(Debug)]
pub struct Spliced {
    /// Bytes from `a` to `b`.
    pub a_to_b: std::io::Result<u64>,
    /// Bytes from `b` to `a`.
    pub b_to_a: std::io::Result<u64>,
}

/// Copy `a`→`b` and `b`→`a` until both directions have ended. A direction ends when its
/// source reaches EOF or fails (the destination's write side is then shut down, so the peer
/// sees the end) or when its destination refuses a write; neither stops the other direction.
pub async fn splice<A, B>(a: A, b: B) -> Spliced
where
    A: AsyncRead + AsyncWrite,
    B: AsyncRead + AsyncWrite,
{
    let (mut a_read, mut a_write) = tokio::io::split(a);
    let (mut b_read, mut b_write) = tokio::io::split(b);
    let (a_to_b, b_to_a) = tokio::join!(
        one_way(&mut a_read, &mut b_write),
        one_way(&mut b_read, &mut a_write)
    );
    Spliced { a_to_b, b_to_a }
}

async fn one_way<R, W>(from: &mut R, to: &mut W) -> std::io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let copied = tokio::io::copy(from, to).await;
    // Pass the end on even when the source failed: the peer then finishes cleanly with what
    // it has instead of waiting.
    let _ = to.shutdown().await;
    copied
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// The runtime side answers and closes while the client is still writing; the client
    /// must still get every byte the runtime sent.
    #[tokio::test]
    async fn a_refused_write_does_not_cut_the_other_direction() {
        // A small pipe to the client, so the proxy is still relaying when the client writes;
        // a large one from the runtime, so the runtime can finish writing and go.
        let (client, client_proxy_end) = tokio::io::duplex(64);
        let (runtime_proxy_end, runtime) = tokio::io::duplex(4096);
        let proxy = tokio::spawn(splice(client_proxy_end, runtime_proxy_end));

        // The runtime sends its last output and goes away.
        let last_output = vec![b'x'; 1000];
        let runtime_task = tokio::spawn({
            let last_output = last_output.clone();
            async move {
                let mut runtime = runtime;
                runtime
                    .write_all(&last_output)
                    .await
                    .expect("runtime write");
                drop(runtime);
            }
        });
        let (mut client_read, mut client_write) = tokio::io::split(client);
        runtime_task.await.expect("runtime task");
        // The client writes after the runtime has gone: that direction fails...
        let _ = client_write.write_all(b"stdin closed").await;
        drop(client_write);
        // ...and the client still reads all of the runtime's output, then a clean EOF.
        let mut got = Vec::new();
        client_read
            .read_to_end(&mut got)
            .await
            .expect("client read");
        assert_eq!(got, last_output);
        let spliced = proxy.await.expect("splice task");
        assert_eq!(spliced.b_to_a.expect("runtime to client"), 1000);
    }

    #[tokio::test]
    async fn both_directions_carry_their_bytes_and_ends() {
        let (client, a) = tokio::io::duplex(1024);
        let (b, runtime) = tokio::io::duplex(1024);
        let proxy = tokio::spawn(splice(a, b));
        let (mut cr, mut cw) = tokio::io::split(client);
        let (mut rr, mut rw) = tokio::io::split(runtime);
        cw.write_all(b"up").await.expect("write");
        cw.shutdown().await.expect("shutdown");
        let mut up = Vec::new();
        rr.read_to_end(&mut up).await.expect("read up");
        assert_eq!(up, b"up");
        rw.write_all(b"down").await.expect("write");
        rw.shutdown().await.expect("shutdown");
        let mut down = Vec::new();
        cr.read_to_end(&mut down).await.expect("read down");
        assert_eq!(down, b"down");
        let spliced = proxy.await.expect("splice task");
        assert_eq!(spliced.a_to_b.expect("a to b"), 2);
        assert_eq!(spliced.b_to_a.expect("b to a"), 4);
    }
}
