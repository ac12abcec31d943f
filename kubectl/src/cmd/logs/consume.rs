//! Reading the log streams and writing them to stdout, line by line (upstream's
//! `DefaultConsumeRequest`): one after the other, or, when following several, all at once
//! with whole lines interleaved. `--prefix` puts `[pod/NAME/CONTAINER] ` before each line;
//! `--ignore-errors` turns a failed stream into an `error: …` line instead of the end.

use std::io::Write;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::containers::LogSource;
use super::options::LogOptions;
use crate::client::ApiClient;
use crate::error::{KubectlError, Result};

/// How the streams are written.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Put `[pod/NAME/CONTAINER] ` before each line.
    pub prefix: bool,
    /// Report a failed stream on stdout and go on with the others.
    pub ignore_errors: bool,
}

/// Reads each source to its end, in order, into `sink`.
pub async fn in_turn(
    client: &ApiClient,
    sources: &[LogSource],
    options: &LogOptions,
    output: Output,
    sink: &mut impl Sink,
) -> Result<()> {
    for source in sources {
        let prefix = line_prefix(source, output);
        let result = read_lines(client, source, options, |line| {
            sink.write_line(&prefix, line)
        })
        .await;
        match result {
            Ok(Flow::Continue) => {}
            Ok(Flow::Closed) => return Ok(()),
            Err(e) if output.ignore_errors => {
                if sink.write_line("", error_line(&e).as_bytes()) == Flow::Closed {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads all sources at once, writing whole lines into `sink` as they come. The first
/// failure ends the command unless errors are ignored.
pub async fn together(
    client: &ApiClient,
    sources: &[LogSource],
    options: &LogOptions,
    output: Output,
    sink: &mut impl Sink,
) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<Vec<u8>>>();
    // Dropping the set (on return) stops the streams still running.
    let mut readers = JoinSet::new();
    for source in sources {
        let (client, source, options, tx) =
            (client.clone(), source.clone(), options.clone(), tx.clone());
        readers.spawn(async move {
            let prefix = line_prefix(&source, output).into_bytes();
            let result = read_lines(&client, &source, &options, |line| {
                let mut whole = prefix.clone();
                whole.extend_from_slice(line);
                if tx.send(Ok(whole)).is_err() {
                    return Flow::Closed;
                }
                Flow::Continue
            })
            .await;
            if let Err(e) = result {
                let message = if output.ignore_errors {
                    Ok(error_line(&e).into_bytes())
                } else {
                    Err(e)
                };
                let _ = tx.send(message);
            }
        });
    }
    drop(tx);
    while let Some(message) = rx.recv().await {
        if sink.write_line("", &message?) == Flow::Closed {
            break;
        }
    }
    Ok(())
}

/// Whether to go on writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Nobody reads any more (a closed pipe): stop quietly.
    Closed,
}

/// Streams one container's log, handing `emit` each line (with its newline; the last one
/// may have none).
async fn read_lines(
    client: &ApiClient,
    source: &LogSource,
    options: &LogOptions,
    mut emit: impl FnMut(&[u8]) -> Flow,
) -> Result<Flow> {
    let path = format!(
        "/api/v1/namespaces/{}/pods/{}/log?{}",
        source.namespace,
        source.pod,
        options.query(&source.container)
    );
    let mut chunks = Box::pin(client.stream(&path, "*/*").await?);
    let mut lines = Lines::default();
    while let Some(chunk) = chunks.next().await {
        for line in lines.push(&chunk?) {
            if emit(&line) == Flow::Closed {
                return Ok(Flow::Closed);
            }
        }
    }
    Ok(match lines.rest() {
        Some(last) => emit(&last),
        None => Flow::Continue,
    })
}

/// The prefix of each line of `source`, empty without `--prefix`.
fn line_prefix(source: &LogSource, output: Output) -> String {
    if output.prefix {
        source.prefix()
    } else {
        String::new()
    }
}

/// The line `--ignore-errors` writes for a failed stream: Go's `err.Error()`, which for an
/// API error is its message alone.
fn error_line(e: &KubectlError) -> String {
    let text = match e {
        KubectlError::Server { message, .. } => message.clone(),
        KubectlError::Usage(m) | KubectlError::Connection(m) => m.clone(),
        other => other.to_string(),
    };
    format!("error: {text}\n")
}

/// Bytes cut into lines; a line split over two chunks is joined first, so that lines of
/// different streams never interleave mid-line.
#[derive(Default)]
struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// The lines `chunk` completes.
    fn push(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        self.pending.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            lines.push(self.pending.drain(..=end).collect());
        }
        lines
    }

    /// What is left after the last newline, if anything.
    fn rest(self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then_some(self.pending)
    }
}

/// Where the lines go.
pub trait Sink {
    /// Writes `prefix` and `line` together.
    fn write_line(&mut self, prefix: &str, line: &[u8]) -> Flow;
}

/// The process's stdout, flushed after every line (a follower sees each line at once).
pub struct Stdout;

impl Sink for Stdout {
    fn write_line(&mut self, prefix: &str, line: &[u8]) -> Flow {
        let mut out = std::io::stdout().lock();
        let written = out
            .write_all(prefix.as_bytes())
            .and_then(|_| out.write_all(line))
            .and_then(|_| out.flush());
        match written {
            Ok(()) => Flow::Continue,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => die_of_broken_pipe(),
            Err(_) => Flow::Closed,
        }
    }
}

/// Ends the process as a Go program ends when its stdout pipe closes (`kubectl logs -f |
/// head`): killed by SIGPIPE, which Rust's runtime ignores by default.
fn die_of_broken_pipe() -> Flow {
    // SAFETY: restoring the default action of a signal and raising it in this process
    // touches no memory.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // Not reached; should the signal be blocked, stop writing instead.
    Flow::Closed
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// [`crate::test_server::fake_server`] answering by URI alone.
    pub async fn fake_server(
        answer: fn(&str) -> (u16, String),
    ) -> (ApiClient, crate::test_server::Asked) {
        crate::test_server::fake_server(move |_, uri| answer(uri)).await
    }

    /// Lines written, as text.
    #[derive(Default)]
    struct Captured(Vec<u8>);

    impl Sink for Captured {
        fn write_line(&mut self, prefix: &str, line: &[u8]) -> Flow {
            self.0.extend_from_slice(prefix.as_bytes());
            self.0.extend_from_slice(line);
            Flow::Continue
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0).into_owned()
        }
    }

    /// Logs of pod `p`: container `a` prints two lines, the last without a newline; `b` is
    /// not started.
    fn logs(uri: &str) -> (u16, String) {
        if uri.contains("container=a") {
            return (200, "one\ntwo".into());
        }
        let status = serde_json::json!({
            "kind": "Status", "code": 400, "reason": "BadRequest",
            "message": "container \"b\" in pod \"p\" is waiting to start: PodInitializing"
        });
        (400, status.to_string())
    }

    fn sources(containers: &[&str]) -> Vec<LogSource> {
        containers
            .iter()
            .map(|c| LogSource {
                namespace: "ns".into(),
                pod: "p".into(),
                container: c.to_string(),
            })
            .collect()
    }

    const PREFIXED: Output = Output {
        prefix: true,
        ignore_errors: false,
    };

    #[tokio::test]
    async fn streams_in_turn_with_prefixes_on_every_line() {
        let (client, asked) = fake_server(logs).await;
        let mut out = Captured::default();
        let options = LogOptions {
            tail_lines: Some(10),
            ..Default::default()
        };
        in_turn(&client, &sources(&["a", "a"]), &options, PREFIXED, &mut out)
            .await
            .unwrap();
        assert_eq!(
            out.text(),
            "[pod/p/a] one\n[pod/p/a] two[pod/p/a] one\n[pod/p/a] two"
        );
        assert_eq!(
            asked.lock().unwrap()[0],
            "/api/v1/namespaces/ns/pods/p/log?container=a&tailLines=10"
        );
    }

    #[tokio::test]
    async fn a_failed_stream_ends_the_command_unless_errors_are_ignored() {
        let (client, _) = fake_server(logs).await;
        let options = LogOptions::default();
        let mut out = Captured::default();
        let err = in_turn(&client, &sources(&["b", "a"]), &options, PREFIXED, &mut out)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Error from server (BadRequest): container \"b\" in pod \"p\" is waiting to start: PodInitializing"
        );
        assert_eq!(out.text(), "");
        let ignoring = Output {
            prefix: false,
            ignore_errors: true,
        };
        in_turn(&client, &sources(&["b", "a"]), &options, ignoring, &mut out)
            .await
            .unwrap();
        assert_eq!(
            out.text(),
            "error: container \"b\" in pod \"p\" is waiting to start: PodInitializing\none\ntwo"
        );
    }

    #[tokio::test]
    async fn streams_read_together_keep_their_lines_whole() {
        let (client, _) = fake_server(logs).await;
        let options = LogOptions {
            follow: true,
            ..Default::default()
        };
        let mut out = Captured::default();
        together(&client, &sources(&["a", "a"]), &options, PREFIXED, &mut out)
            .await
            .unwrap();
        let text = out.text();
        // Two streams of "one\n" and "two": each line arrives whole, with its prefix.
        assert_eq!(text.matches("[pod/p/a] one\n").count(), 2);
        assert_eq!(text.matches("[pod/p/a] two").count(), 2);
        let ignoring = Output {
            prefix: true,
            ignore_errors: true,
        };
        let mut out = Captured::default();
        together(&client, &sources(&["b"]), &options, ignoring, &mut out)
            .await
            .unwrap();
        assert_eq!(
            out.text(),
            "error: container \"b\" in pod \"p\" is waiting to start: PodInitializing\n"
        );
        let mut out = Captured::default();
        assert!(
            together(&client, &sources(&["b", "a"]), &options, PREFIXED, &mut out)
                .await
                .is_err()
        );
    }

    #[test]
    fn lines_are_joined_across_chunks_and_the_last_may_lack_a_newline() {
        let mut lines = Lines::default();
        assert!(lines.push(b"par").is_empty());
        assert_eq!(
            lines.push(b"t one\ntwo\nthr"),
            [b"part one\n".to_vec(), b"two\n".to_vec()]
        );
        assert_eq!(lines.rest(), Some(b"thr".to_vec()));
        // A character split between chunks stays whole.
        let mut lines = Lines::default();
        assert!(lines.push(&[0xc3]).is_empty());
        assert_eq!(lines.push(&[0xa9, b'\n']), ["é\n".as_bytes().to_vec()]);
        assert_eq!(lines.rest(), None);
    }

    #[test]
    fn ignored_errors_are_reported_with_the_servers_message_alone() {
        let e = KubectlError::Server {
            details: None,
            reason: "BadRequest".into(),
            message: "container \"c\" in pod \"p\" is waiting to start: ContainerCreating".into(),
            code: 400,
            context: None,
        };
        assert_eq!(
            error_line(&e),
            "error: container \"c\" in pod \"p\" is waiting to start: ContainerCreating\n"
        );
    }
}
