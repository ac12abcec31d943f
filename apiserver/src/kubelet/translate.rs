//! exec/attach over a WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`) translated to the
//! SPDY streams of remote command protocol `v4.channel.k8s.io` that kubelets serve.
//!
//! On the WebSocket every binary message starts with its channel: 0 stdin, 1 stdout,
//! 2 stderr, 3 error (the final `Status`), 4 resize (terminal size JSON). v5 adds 255, a
//! close signal whose second byte names the channel the client closed — how `kubectl exec
//! -i` ends a command's stdin. On SPDY every channel is a stream the client opens with a
//! `streamtype` header; closing stdin is a FIN on its stream.

use bytes::{BufMut, Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::spdy::{self, Frame, SpdyError};

/// The remote command protocol asked of the kubelet.
pub const KUBELET_PROTOCOL: &str = "v4.channel.k8s.io";

/// Channel numbers shared by both protocols.
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
/// v5's close signal.
const CLOSE: u8 = 255;

/// The WebSocket channel protocol the client chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelProtocol {
    /// `v5.channel.k8s.io`: v4 plus the close signal.
    V5,
    /// `v4.channel.k8s.io`.
    V4,
}

impl ChannelProtocol {
    /// The protocol a `Sec-WebSocket-Protocol` entry names, if we translate it.
    pub fn from_subprotocol(p: &str) -> Option<Self> {
        match p {
            "v5.channel.k8s.io" => Some(Self::V5),
            "v4.channel.k8s.io" => Some(Self::V4),
            _ => None,
        }
    }
}

/// Which streams the command has, from the kubelet query (`stdin=1` …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl StreamOptions {
    /// Read the flags from the query the apiserver built for the kubelet.
    pub fn from_kubelet_query(query: &str) -> Self {
        let mut o = Self::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let on = v == "1";
            match k.as_ref() {
                "stdin" => o.stdin = on,
                "stdout" => o.stdout = on,
                "stderr" => o.stderr = on,
                "tty" => o.tty = on,
                _ => {}
            }
        }
        // As the kubelet does: a terminal merges stderr into stdout.
        if o.tty {
            o.stderr = false;
        }
        o
    }

    /// The SPDY streams to open, in client-go's order (error first), with their channels.
    /// Client-initiated SPDY stream ids are odd.
    fn streams(&self) -> Vec<(u32, u8, &'static str)> {
        let wanted = [
            (true, ERROR, "error"),
            (self.stdin, STDIN, "stdin"),
            (self.stdout, STDOUT, "stdout"),
            (self.stderr, STDERR, "stderr"),
            (self.tty, RESIZE, "resize"),
        ];
        wanted
            .into_iter()
            .filter(|(on, _, _)| *on)
            .enumerate()
            .map(|(i, (_, ch, name))| (2 * i as u32 + 1, ch, name))
            .collect()
    }
}

/// Why a translated session ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    #[error(transparent)]
    Spdy(#[from] SpdyError),
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
}

/// Bridge one WebSocket client and one upgraded SPDY connection until either side ends;
/// the WebSocket is closed normally once the kubelet has sent everything (the error
/// channel's `Status` included).
///
/// Only a broken WebSocket ends the session with an error. The kubelet's side may go away
/// at any moment — a command that exits right after reading its stdin closes the connection
/// while the client is still sending stdin's end — so a refused write to the kubelet only
/// stops further input, and a broken read is the end of its output, as it is to client-go's
/// SPDY executor. Either way the client then gets everything the kubelet sent and a normal
/// close, never a dropped connection (1006).
pub async fn run<C, K>(
    mut ws: WebSocketStream<C>,
    kubelet: K,
    protocol: ChannelProtocol,
    options: StreamOptions,
) -> Result<(), TranslateError>
where
    C: AsyncRead + AsyncWrite + Unpin,
    K: AsyncRead + AsyncWrite,
{
    let (read_half, write_half) = tokio::io::split(kubelet);
    let mut reader = spdy::Reader::new(read_half);
    let mut input = KubeletInput::new(spdy::Writer::new(write_half));
    let streams = options.streams();
    for (id, _, name) in &streams {
        input.open_stream(*id, name).await;
    }
    let stream_of = |channel: u8| {
        streams
            .iter()
            .find(|(_, ch, _)| *ch == channel)
            .map(|(id, _, _)| *id)
    };
    let channel_of = |stream: u32| {
        streams
            .iter()
            .find(|(id, _, _)| *id == stream)
            .map(|(_, ch, _)| *ch)
    };
    let mut stdin_open = options.stdin;
    loop {
        tokio::select! {
            msg = ws.next() => {
                let msg = match msg {
                    None | Some(Err(_)) => break,
                    Some(Ok(m)) => m,
                };
                // Upstream reads text frames as bytes too: the Python client sends
                // `write_stdin("…")` as a text frame whose first character is the channel.
                let data: &[u8] = match &msg {
                    Message::Binary(data) => data,
                    Message::Text(text) => text.as_bytes(),
                    _ => &[],
                };
                match msg {
                    Message::Binary(_) | Message::Text(_) => {
                        let Some((&channel, payload)) = data.split_first() else { continue };
                        match (channel, stream_of(channel)) {
                            (STDIN, Some(id)) if stdin_open => input.data(id, payload, false).await,
                            (RESIZE, Some(id)) => input.data(id, payload, false).await,
                            (CLOSE, _)
                                if protocol == ChannelProtocol::V5
                                    && payload.first() == Some(&STDIN)
                                    && stdin_open =>
                            {
                                stdin_open = false;
                                if let Some(id) = stream_of(STDIN) {
                                    input.data(id, &[], true).await;
                                }
                            }
                            _ => {}
                        }
                    }
                    // Answer pings now, not whenever the next message goes out: the client
                    // gives up on a connection whose pongs stop.
                    Message::Ping(_) => ws.flush().await?,
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            frame = reader.next() => {
                match frame {
                    Ok(None) => break,
                    Err(e) => {
                        tracing::debug!(error = %e, "kubelet connection broke; ending the session");
                        break;
                    }
                    Ok(Some(Frame::Data { stream, data, .. })) => {
                        if let Some(channel) = channel_of(stream).filter(|_| !data.is_empty()) {
                            ws.send(Message::Binary(framed(channel, &data))).await?;
                        }
                    }
                    Ok(Some(Frame::Ping { id })) => input.ping(id).await,
                    // GOAWAY: the kubelet finishes its streams, then closes; read on.
                    Ok(Some(_)) => {}
                }
            }
        }
    }
    input.finish().await;
    ws.close(Some(normal_closure())).await?;
    Ok(())
}

/// The SPDY connection's write side, which stops taking frames once the kubelet refuses
/// one: a closed connection is the kubelet's to close, and not a reason to end the session.
struct KubeletInput<W> {
    writer: spdy::Writer<W>,
    open: bool,
}

impl<W: AsyncWrite + Unpin> KubeletInput<W> {
    fn new(writer: spdy::Writer<W>) -> Self {
        Self { writer, open: true }
    }

    async fn open_stream(&mut self, id: u32, streamtype: &str) {
        if self.open {
            let sent = self
                .writer
                .syn_stream(id, &[("streamtype", streamtype)], false)
                .await;
            self.note(sent);
        }
    }

    async fn data(&mut self, id: u32, payload: &[u8], fin: bool) {
        if self.open {
            let sent = self.writer.data(id, payload, fin).await;
            self.note(sent);
        }
    }

    async fn ping(&mut self, id: u32) {
        if self.open {
            let sent = self.writer.ping(id).await;
            self.note(sent);
        }
    }

    /// Say goodbye and close our side, if the kubelet still listens.
    async fn finish(&mut self) {
        if self.open {
            let _ = self.writer.go_away(0).await;
        }
        let _ = self.writer.shutdown().await;
    }

    fn note(&mut self, sent: Result<(), SpdyError>) {
        if let Err(e) = sent {
            tracing::debug!(error = %e, "the kubelet takes no more input");
            self.open = false;
        }
    }
}

/// A close frame with status 1000: clients (client-go) read it as the end of the streams; a
/// close without a status (1005) is an error to them.
pub fn normal_closure() -> CloseFrame {
    CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }
}

/// A WebSocket message for `channel`: the channel byte, then the data.
fn framed(channel: u8, data: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(1 + data.len());
    b.put_u8(channel);
    b.extend_from_slice(data);
    b.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::Role;

    #[test]
    fn streams_are_opened_error_first_with_odd_ids() {
        let o = StreamOptions::from_kubelet_query("command=cat&stdin=1&stdout=1&stderr=1");
        assert_eq!(
            o.streams(),
            vec![
                (1, ERROR, "error"),
                (3, STDIN, "stdin"),
                (5, STDOUT, "stdout"),
                (7, STDERR, "stderr"),
            ]
        );
        // A terminal: no stderr, a resize stream.
        let t = StreamOptions::from_kubelet_query("stderr=1&stdin=1&stdout=1&tty=1");
        assert_eq!(
            t.streams(),
            vec![
                (1, ERROR, "error"),
                (3, STDIN, "stdin"),
                (5, STDOUT, "stdout"),
                (7, RESIZE, "resize"),
            ]
        );
        let quiet = StreamOptions::from_kubelet_query("command=true&stdout=0");
        assert_eq!(quiet.streams(), vec![(1, ERROR, "error")]);
    }

    /// The command exits right after reading its stdin: the kubelet stops reading before the
    /// client's stdin (and its close signal) arrive, then sends its last output and closes.
    /// The client must still get that output and a normal close (1000), not a dropped
    /// connection (1006) — the race behind kubectl's "falling back to logs" on `run -i`.
    #[tokio::test]
    async fn a_kubelet_that_stops_reading_still_delivers_its_output_and_a_clean_close() {
        use tokio::io::AsyncWriteExt;

        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let (to_kubelet, mut kubelet_reads) = tokio::io::duplex(64 * 1024);
        let (mut kubelet_writes, from_kubelet) = tokio::io::duplex(64 * 1024);
        let kubelet = tokio::io::join(from_kubelet, to_kubelet);
        let server = WebSocketStream::from_raw_socket(server_io, Role::Server, None).await;
        let mut client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
        let options = StreamOptions::from_kubelet_query("stdin=1&stdout=1");
        let bridge = tokio::spawn(run(server, kubelet, ChannelProtocol::V5, options));

        // The kubelet takes the three stream openings (error, stdin, stdout), then reads no
        // more: its end of the connection is gone.
        let mut syns = spdy::Reader::new(&mut kubelet_reads);
        for _ in 0..3 {
            assert!(matches!(
                syns.next().await.expect("frame"),
                Some(Frame::Other { .. })
            ));
        }
        drop(kubelet_reads);

        // The client sends stdin, closes it, and pings; the pong proves the bridge has
        // handled (and failed to deliver) both before the kubelet's output comes.
        client
            .send(Message::Binary(framed(STDIN, b"hi\n")))
            .await
            .expect("stdin");
        client
            .send(Message::Binary(Bytes::from_static(&[CLOSE, STDIN])))
            .await
            .expect("close signal");
        client
            .send(Message::Ping(Bytes::from_static(b"p")))
            .await
            .expect("ping");
        let answer = client.next().await.expect("message").expect("ok");
        assert!(
            matches!(answer, Message::Pong(_)),
            "before the pong: {answer:?}"
        );

        let mut out = spdy::Writer::new(&mut kubelet_writes);
        out.data(5, b"got hi\n", true).await.expect("stdout");
        out.data(1, &[], true).await.expect("error stream end");
        drop(out);
        kubelet_writes.shutdown().await.expect("kubelet closes");
        drop(kubelet_writes);

        let mut got = Vec::new();
        let close = loop {
            match client.next().await {
                Some(Ok(Message::Binary(b))) => got.push(b),
                Some(Ok(Message::Close(frame))) => break frame,
                other => panic!("expected output then a close frame, got {other:?}"),
            }
        };
        assert_eq!(got, vec![framed(STDOUT, b"got hi\n")]);
        assert_eq!(close.map(|f| f.code), Some(CloseCode::Normal));
        bridge
            .await
            .expect("bridge task")
            .expect("bridge ends cleanly");
    }

    /// The Python client writes stdin as text frames (`"\x00hello\n"`); they reach the
    /// kubelet's stdin stream as the bytes after the channel.
    #[tokio::test]
    async fn stdin_sent_as_a_text_frame_reaches_the_kubelet() {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let (to_kubelet, mut kubelet_reads) = tokio::io::duplex(64 * 1024);
        let (_kubelet_writes, from_kubelet) = tokio::io::duplex(64 * 1024);
        let kubelet = tokio::io::join(from_kubelet, to_kubelet);
        let server = WebSocketStream::from_raw_socket(server_io, Role::Server, None).await;
        let mut client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
        let options = StreamOptions::from_kubelet_query("stdin=1&stdout=1");
        let _bridge = tokio::spawn(run(server, kubelet, ChannelProtocol::V4, options));

        client
            .send(Message::Text("\u{0}hello\n".into()))
            .await
            .expect("stdin");
        let mut frames = spdy::Reader::new(&mut kubelet_reads);
        for _ in 0..3 {
            assert!(matches!(
                frames.next().await.expect("frame"),
                Some(Frame::Other { .. })
            ));
        }
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), frames.next());
        match next.await.expect("stdin forwarded").expect("frame") {
            Some(Frame::Data { stream, data, .. }) => {
                assert_eq!((stream, &data[..]), (3, &b"hello\n"[..]));
            }
            other => panic!("expected stdin data, got {other:?}"),
        }
    }

    #[test]
    fn messages_carry_their_channel_first() {
        assert_eq!(&framed(STDERR, b"oops")[..], b"\x02oops");
    }
}
