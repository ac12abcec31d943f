//! Remote commands (`exec`, `attach`) over a WebSocket, as kubectl 1.30+ runs them: the
//! `v5.channel.k8s.io` subprotocol (or `v4.channel.k8s.io` from an older server). Every binary
//! message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 the command's final
//! `Status`, 4 terminal resize — and v5 adds 255 to close one channel (how stdin's end
//! reaches the process).

pub mod terminal;
pub mod tunnel;

use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::client::ApiClient;
use crate::error::{KubectlError, Result};

/// The subprotocols offered, preferred first.
const PROTOCOLS: &str = "v5.channel.k8s.io, v4.channel.k8s.io";

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// Where the remote process's input comes from.
pub enum Input {
    /// No stdin stream.
    None,
    /// This process's stdin, read on a thread of its own (a blocked read must not keep the
    /// runtime from ending when the remote process exits first).
    Stdin,
    /// Bytes given up front (`kubectl cp` sends a tar archive).
    Bytes(Vec<u8>),
}

/// Where the remote process's output goes.
pub enum Output<'a> {
    /// This process's stdout.
    Stdout,
    /// Collected in memory (`kubectl cp` reads a tar archive).
    Buffer(&'a mut Vec<u8>),
}

/// Where the remote process's stderr goes (without a TTY it is a stream of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// No stderr stream (with a TTY, stderr comes on stdout).
    None,
    /// This process's stderr.
    Stderr,
    /// This process's stdout (`kubectl cp` from a pod shows tar's notes there, as upstream).
    Stdout,
    /// Requested, then dropped.
    Discard,
}

/// One remote command session's streams.
pub struct Session<'a> {
    /// stdin source.
    pub input: Input,
    /// stdout sink.
    pub output: Output<'a>,
    /// stderr sink.
    pub errors: Errors,
    /// A raw local terminal whose size is sent on start and on every `SIGWINCH`.
    pub tty: bool,
    /// Send a size one larger before the real one, so that a program already running
    /// (`attach`) redraws its screen, as upstream does.
    pub redraw: bool,
}

/// Runs the session against `path` (`…/pods/<name>/exec?…` or `…/attach?…`) until the remote
/// side ends it. A non-zero exit code becomes [`RemoteError::ExitCode`] inside
/// [`KubectlError::Remote`].
pub async fn run(client: &ApiClient, path: &str, mut session: Session<'_>) -> Result<()> {
    let (upgraded, protocol) = client.upgrade(path, PROTOCOLS).await?;
    let v5 = protocol.as_deref() == Some("v5.channel.k8s.io");
    let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, None).await;
    let (mut sink, mut incoming) = ws.split();

    let mut input = spawn_input(std::mem::replace(&mut session.input, Input::None));
    let mut resizes = terminal::resize_events(session.tty);
    if session.tty {
        if let Some((width, height)) = terminal::size() {
            if session.redraw {
                let larger = (width.saturating_add(1), height.saturating_add(1));
                send(&mut sink, RESIZE, &resize_message(larger)).await?;
            }
            send(&mut sink, RESIZE, &resize_message((width, height))).await?;
        }
    }

    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    let mut status: Vec<u8> = Vec::new();
    loop {
        tokio::select! {
            chunk = recv_input(&mut input) => match chunk {
                Some(bytes) => send(&mut sink, STDIN, &bytes).await?,
                None => {
                    input = None;
                    // Only v5 can tell the process its input ended; under v4 it keeps
                    // reading until it exits by itself, as upstream.
                    if v5 {
                        send(&mut sink, CLOSE, &[STDIN]).await?;
                    }
                }
            },
            Some(size) = recv_resize(&mut resizes) => {
                send(&mut sink, RESIZE, &resize_message(size)).await?;
            }
            message = incoming.next() => {
                let message = match message {
                    None | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(m)) => m,
                    // The server may drop the connection right after the final status.
                    Some(Err(_)) if !status.is_empty() => break,
                    Some(Err(e)) => return Err(KubectlError::Connection(format!(
                        "error reading from the remote command stream: {e}"
                    ))),
                };
                let Message::Binary(data) = message else { continue };
                let Some((&channel, body)) = data.split_first() else { continue };
                match (channel, &mut session.output) {
                    (STDOUT, Output::Stdout) => write_all(&mut stdout, body).await,
                    (STDOUT, Output::Buffer(buf)) => buf.extend_from_slice(body),
                    (STDERR, _) => match session.errors {
                        Errors::Stderr => write_all(&mut stderr, body).await,
                        Errors::Stdout => write_all(&mut stdout, body).await,
                        Errors::None | Errors::Discard => {}
                    },
                    (ERROR, _) => status.extend_from_slice(body),
                    _ => {}
                }
            }
        }
    }
    let _ = sink.close().await;
    decode_status(&status).map_err(KubectlError::Remote)
}

/// How a remote command ended, when it did not succeed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RemoteError {
    /// The process exited with this code (upstream prints the text and exits with it).
    #[error("command terminated with exit code {0}")]
    ExitCode(i32),
    /// Any other failure the server reported (container not running, no such executable…).
    #[error("error: {0}")]
    Failure(String),
    /// The status channel held something that is not a Status.
    #[error("error: error stream protocol error: {0}")]
    Protocol(String),
}

impl RemoteError {
    /// Exit status of kubectl for this outcome.
    pub fn exit_code(&self) -> i32 {
        match self {
            RemoteError::ExitCode(code) => *code,
            _ => 1,
        }
    }
}

/// Reads the error channel's `Status`: empty or `Success` is success; `NonZeroExitCode`
/// carries the exit code as its `ExitCode` cause (client-go's v4 error decoder).
pub fn decode_status(raw: &[u8]) -> std::result::Result<(), RemoteError> {
    if raw.is_empty() {
        return Ok(());
    }
    let status: Value = serde_json::from_slice(raw)
        .map_err(|e| RemoteError::Protocol(format!("{e} in {:?}", String::from_utf8_lossy(raw))))?;
    match status["status"].as_str() {
        Some("Success") => Ok(()),
        Some("Failure") if status["reason"] == "NonZeroExitCode" => {
            let cause = status["details"]["causes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["reason"] == "ExitCode")
                .ok_or_else(|| RemoteError::Protocol("no ExitCode cause given".into()))?;
            let code = cause["message"]
                .as_str()
                .and_then(|m| m.parse::<u8>().ok())
                .ok_or_else(|| {
                    RemoteError::Protocol(format!("invalid exit code value {}", cause["message"]))
                })?;
            Err(RemoteError::ExitCode(i32::from(code)))
        }
        Some("Failure") => Err(RemoteError::Failure(
            status["message"].as_str().unwrap_or("").to_string(),
        )),
        _ => Err(RemoteError::Protocol("unknown error".into())),
    }
}

/// The resize channel's body: `{"Width":…,"Height":…}` as upstream's TerminalSize.
fn resize_message((width, height): (u16, u16)) -> Vec<u8> {
    serde_json::json!({ "Width": width, "Height": height })
        .to_string()
        .into_bytes()
}

async fn send<S>(sink: &mut S, channel: u8, body: &[u8]) -> Result<()>
where
    S: futures::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let mut frame = Vec::with_capacity(body.len() + 1);
    frame.push(channel);
    frame.extend_from_slice(body);
    sink.send(Message::Binary(frame.into())).await.map_err(|e| {
        KubectlError::Connection(format!("error writing to the remote command stream: {e}"))
    })
}

async fn write_all<W: AsyncWriteExt + Unpin>(w: &mut W, body: &[u8]) {
    // A closed local pipe (`kubectl exec … | head`) must not end the session with an error.
    if w.write_all(body).await.is_ok() {
        let _ = w.flush().await;
    }
}

/// Input chunks from `input`, or `None` when there is no input stream at all.
fn spawn_input(input: Input) -> Option<mpsc::Receiver<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(16);
    match input {
        Input::None => return None,
        Input::Bytes(bytes) => {
            tokio::spawn(async move {
                for chunk in bytes.chunks(32 * 1024) {
                    if tx.send(chunk.to_vec()).await.is_err() {
                        return;
                    }
                }
            });
        }
        Input::Stdin => {
            std::thread::spawn(move || {
                use std::io::Read;
                let mut stdin = std::io::stdin();
                let mut buf = vec![0u8; 32 * 1024];
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if tx.blocking_send(buf[..n].to_vec()).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    }
    Some(rx)
}

/// The next input chunk; `None` once input ended. Pends forever when there is no input,
/// so the `select!` above only hears from the other branches.
async fn recv_input(input: &mut Option<mpsc::Receiver<Vec<u8>>>) -> Option<Vec<u8>> {
    match input {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_resize(resizes: &mut Option<terminal::ResizeEvents>) -> Option<(u16, u16)> {
    match resizes {
        Some(r) => r.next().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_and_empty_status_are_success() {
        assert_eq!(decode_status(b""), Ok(()));
        assert_eq!(
            decode_status(br#"{"metadata":{},"status":"Success"}"#),
            Ok(())
        );
    }

    #[test]
    fn non_zero_exit_code_is_read_from_its_cause() {
        let raw = br#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#;
        let err = decode_status(raw).unwrap_err();
        assert_eq!(err, RemoteError::ExitCode(3));
        assert_eq!(err.to_string(), "command terminated with exit code 3");
        assert_eq!(err.exit_code(), 3);
    }

    #[test]
    fn other_failures_and_garbage_are_errors() {
        let raw =
            br#"{"status":"Failure","message":"container not running","reason":"InternalError"}"#;
        assert_eq!(
            decode_status(raw),
            Err(RemoteError::Failure("container not running".into()))
        );
        let missing = br#"{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[]}}"#;
        assert!(matches!(
            decode_status(missing),
            Err(RemoteError::Protocol(_))
        ));
        assert!(matches!(
            decode_status(b"not json"),
            Err(RemoteError::Protocol(_))
        ));
    }

    #[test]
    fn resize_body_uses_upstream_field_names() {
        let v: Value = serde_json::from_slice(&resize_message((80, 24))).unwrap();
        assert_eq!(v, serde_json::json!({"Width": 80, "Height": 24}));
    }
}
