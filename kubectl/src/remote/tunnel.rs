//! port-forward's connection to the apiserver, as kubectl 1.31+ makes it: a WebSocket with
//! the `SPDY/3.1+portforward.k8s.io` subprotocol carrying SPDY frames in binary messages.
//! Each forwarded connection is a pair of SPDY streams (`error` and `data`) tagged with the
//! remote port and a request id, as upstream's portforward protocol defines.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use common::spdy::{self, Frame};
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, watch, Mutex};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::client::ApiClient;
use crate::error::{KubectlError, Result};

/// The one subprotocol offered.
const PORT_FORWARD_TUNNEL: &str = "SPDY/3.1+portforward.k8s.io";

/// What arrives on one of our streams.
#[derive(Debug)]
pub enum StreamEvent {
    /// Bytes from the remote side.
    Data(Bytes),
    /// The remote side finished writing (FIN) or reset the stream.
    Closed,
}

type Routes = Arc<Mutex<HashMap<u32, mpsc::UnboundedSender<StreamEvent>>>>;

/// An SPDY connection to the pod's kubelet through the apiserver.
#[derive(Clone)]
pub struct Tunnel {
    writer: Arc<Mutex<spdy::Writer<WriteHalf<DuplexStream>>>>,
    routes: Routes,
    next_stream: Arc<AtomicU32>,
    next_request: Arc<AtomicU32>,
    done: Arc<watch::Sender<bool>>,
}

/// The two streams of one forwarded connection.
pub struct Forward {
    /// The tunnel they live on.
    pub tunnel: Tunnel,
    /// The data stream's id (write to it with [`Tunnel::send`]).
    pub data_stream: u32,
    /// Remote bytes and closes on the data stream.
    pub data: mpsc::UnboundedReceiver<StreamEvent>,
    /// Messages on the error stream (the kubelet's reason when forwarding fails).
    pub errors: mpsc::UnboundedReceiver<StreamEvent>,
}

impl Tunnel {
    /// Opens the tunnel to `path` (`…/pods/<name>/portforward`).
    pub async fn open(client: &ApiClient, path: &str) -> Result<Tunnel> {
        let (upgraded, protocol) = client.upgrade(path, PORT_FORWARD_TUNNEL).await?;
        if protocol.as_deref() != Some(PORT_FORWARD_TUNNEL) {
            return Err(KubectlError::usage(format!(
                "unable to upgrade connection: the server chose subprotocol {:?}, not {PORT_FORWARD_TUNNEL}",
                protocol.unwrap_or_default()
            )));
        }
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, None).await;
        // SPDY reads and writes a byte stream; the pump moves those bytes in and out of
        // WebSocket messages.
        let (ours, pumped) = tokio::io::duplex(256 * 1024);
        tokio::spawn(pump(ws, pumped));
        let (read_half, write_half) = tokio::io::split(ours);
        let done = Arc::new(watch::channel(false).0);
        let tunnel = Tunnel {
            writer: Arc::new(Mutex::new(spdy::Writer::new(write_half))),
            routes: Arc::default(),
            next_stream: Arc::new(AtomicU32::new(1)),
            next_request: Arc::new(AtomicU32::new(0)),
            done,
        };
        tokio::spawn(tunnel.clone().dispatch(spdy::Reader::new(read_half)));
        Ok(tunnel)
    }

    /// Opens the error and data streams for a new connection to `port`.
    pub async fn forward(&self, port: u16) -> Result<Forward> {
        let request = self.next_request.fetch_add(1, Ordering::SeqCst).to_string();
        let port = port.to_string();
        let error_stream = self.next_stream.fetch_add(2, Ordering::SeqCst);
        let data_stream = self.next_stream.fetch_add(2, Ordering::SeqCst);
        let (errors_tx, errors) = mpsc::unbounded_channel();
        let (data_tx, data) = mpsc::unbounded_channel();
        {
            let mut routes = self.routes.lock().await;
            routes.insert(error_stream, errors_tx);
            routes.insert(data_stream, data_tx);
        }
        let mut writer = self.writer.lock().await;
        let headers = |kind| {
            [
                ("streamtype", kind),
                ("port", port.as_str()),
                ("requestid", request.as_str()),
            ]
        };
        // The error stream is only read: it is opened half-closed, as upstream does.
        writer
            .syn_stream(error_stream, &headers("error"), true)
            .await
            .map_err(connection_lost)?;
        writer
            .syn_stream(data_stream, &headers("data"), false)
            .await
            .map_err(connection_lost)?;
        Ok(Forward {
            tunnel: self.clone(),
            data_stream,
            data,
            errors,
        })
    }

    /// Sends bytes on a stream; `fin` ends our side of it.
    pub async fn send(&self, stream: u32, data: &[u8], fin: bool) -> Result<()> {
        self.writer
            .lock()
            .await
            .data(stream, data, fin)
            .await
            .map_err(connection_lost)
    }

    /// Resolves when the connection to the apiserver is gone (every stream has then seen
    /// `Closed`) or [`Tunnel::close`] was called.
    pub async fn closed(&self) {
        let mut done = self.done.subscribe();
        let _ = done.wait_for(|d| *d).await;
    }

    /// Ends the port-forward: upstream's kubectl stops at the first forwarding error.
    pub fn close(&self) {
        self.done.send_replace(true);
    }

    /// Routes the peer's frames to their streams until the connection ends.
    async fn dispatch(self, mut reader: spdy::Reader<ReadHalf<DuplexStream>>) {
        while let Ok(Some(frame)) = reader.next().await {
            match frame {
                Frame::Data { stream, data, fin } => {
                    let mut routes = self.routes.lock().await;
                    if let Some(tx) = routes.get(&stream) {
                        if !data.is_empty() {
                            let _ = tx.send(StreamEvent::Data(data));
                        }
                        if fin {
                            let _ = tx.send(StreamEvent::Closed);
                            routes.remove(&stream);
                        }
                    }
                }
                Frame::RstStream { stream, .. } => {
                    if let Some(tx) = self.routes.lock().await.remove(&stream) {
                        let _ = tx.send(StreamEvent::Closed);
                    }
                }
                // Even ids are the server's pings; odd ones would be echoes of ours.
                Frame::Ping { id } if id % 2 == 0 => {
                    let _ = self.writer.lock().await.ping(id).await;
                }
                Frame::GoAway { .. } => break,
                _ => {}
            }
        }
        // The connection is gone: every open stream ends.
        for (_, tx) in self.routes.lock().await.drain() {
            let _ = tx.send(StreamEvent::Closed);
        }
        self.close();
    }
}

fn connection_lost(e: spdy::SpdyError) -> KubectlError {
    KubectlError::Connection(format!("lost connection to pod: {e}"))
}

/// Moves bytes between the SPDY side of the duplex pipe and WebSocket messages.
async fn pump<S>(ws: WebSocketStream<S>, mut pipe: DuplexStream)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut incoming) = ws.split();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        tokio::select! {
            message = incoming.next() => match message {
                Some(Ok(Message::Binary(data))) => {
                    if pipe.write_all(&data).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Text(_) | Message::Frame(_))) => {}
                None | Some(Ok(Message::Close(_))) | Some(Err(_)) => break,
            },
            read = pipe.read_buf(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if sink.send(Message::Binary(buf.split().freeze())).await.is_err() {
                        break;
                    }
                    buf.reserve(64 * 1024);
                }
            },
        }
    }
    let _ = sink.close().await;
    let _ = pipe.shutdown().await;
}
