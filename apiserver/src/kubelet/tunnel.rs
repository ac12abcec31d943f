//! port-forward over a WebSocket tunnel (`SPDY/3.1+portforward.k8s.io`): the client speaks
//! SPDY inside binary WebSocket messages, so the apiserver only unwraps and rewraps bytes
//! between the WebSocket and the kubelet's SPDY connection.

use bytes::BytesMut;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::translate::{normal_closure, TranslateError};

/// Relay until either side ends.
pub async fn run<C, K>(mut ws: WebSocketStream<C>, kubelet: K) -> Result<(), TranslateError>
where
    C: AsyncRead + AsyncWrite + Unpin,
    K: AsyncRead + AsyncWrite,
{
    let (mut from_kubelet, mut to_kubelet) = tokio::io::split(kubelet);
    let mut buf = BytesMut::with_capacity(32 * 1024);
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Binary(data))) => {
                    if to_kubelet.write_all(&data).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Ping(_))) => ws.flush().await?,
                Some(Ok(_)) => {}
            },
            read = from_kubelet.read_buf(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    ws.send(Message::Binary(buf.split().freeze())).await?;
                    buf.reserve(32 * 1024);
                }
            },
        }
    }
    let _ = to_kubelet.shutdown().await;
    ws.close(Some(normal_closure())).await?;
    Ok(())
}
