//! Just enough of SPDY/3.1 (the framing kubelets and container runtimes speak for exec,
//! attach and port-forward) for a client — the apiserver towards kubelets, kubectl's
//! port-forward inside its WebSocket tunnel: open streams with
//! SYN_STREAM, send DATA (with FIN to half-close), answer PINGs, and read the frames the
//! server sends back.
//!
//! Header blocks are one zlib stream per direction. Ours is compressed without the SPDY
//! dictionary: a zlib stream that never refers back into the dictionary is still valid for a
//! reader that was given one, so the peer (Go's framer) decodes it. The peer's header blocks
//! are skipped unread — nothing the translator needs travels in SYN_REPLY headers.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use flate2::{Compress, Compression, FlushCompress};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version in every control frame.
const VERSION: u16 = 3;
/// Control frame types (SPDY/3 §2.6).
const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
/// The FIN flag, on DATA and SYN_STREAM frames alike.
const FLAG_FIN: u8 = 0x01;
/// Frame header length: 8 bytes for both kinds.
const HEADER_LEN: usize = 8;
/// The 24-bit length field's limit.
const MAX_PAYLOAD: usize = 0x00FF_FFFF;
/// A frame longer than this from the peer is a protocol error, not a reason to buffer it.
const MAX_ACCEPTED_FRAME: usize = 1 << 20;

/// Why the SPDY connection failed.
#[derive(Debug, thiserror::Error)]
pub enum SpdyError {
    /// Reading or writing the connection failed.
    #[error("spdy connection: {0}")]
    Io(#[from] std::io::Error),
    /// Compressing a header block failed.
    #[error("spdy header compression: {0}")]
    Compress(#[from] flate2::CompressError),
    /// The peer sent something that is not SPDY/3.
    #[error("spdy protocol error: {0}")]
    Protocol(String),
}

/// A frame from the peer, as far as the translator cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Bytes on a stream; `fin` closes the peer's side of it.
    Data { stream: u32, data: Bytes, fin: bool },
    /// The peer accepted a stream we opened.
    SynReply { stream: u32, fin: bool },
    /// The peer reset a stream.
    RstStream { stream: u32, status: u32 },
    /// A ping to echo (or the echo of ours).
    Ping { id: u32 },
    /// The peer is closing the connection.
    GoAway { last_stream: u32, status: u32 },
    /// Any other control frame (SETTINGS, WINDOW_UPDATE, HEADERS …), skipped.
    Other { kind: u16 },
}

/// Writes frames; owns the header-compression context for our direction.
pub struct Writer<W> {
    io: W,
    compressor: Compress,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    /// A writer over the upgraded connection's write half.
    pub fn new(io: W) -> Self {
        Self {
            io,
            compressor: Compress::new(Compression::default(), true),
        }
    }

    /// Open stream `stream` with the given headers (names must be lower-case, as SPDY/3
    /// requires). `fin` opens it already half-closed.
    pub async fn syn_stream(
        &mut self,
        stream: u32,
        headers: &[(&str, &str)],
        fin: bool,
    ) -> Result<(), SpdyError> {
        let block = self.header_block(headers)?;
        let mut payload = BytesMut::with_capacity(10 + block.len());
        payload.put_u32(stream & 0x7FFF_FFFF);
        payload.put_u32(0); // associated-to stream
        payload.put_u8(0); // priority 0 (highest), unused bits
        payload.put_u8(0); // slot
        payload.extend_from_slice(&block);
        let flags = if fin { FLAG_FIN } else { 0 };
        self.control(SYN_STREAM, flags, &payload).await
    }

    /// Send `data` on `stream`, split into frames the length field can carry; `fin`
    /// half-closes the stream after it (an empty `data` with `fin` only closes).
    pub async fn data(&mut self, stream: u32, data: &[u8], fin: bool) -> Result<(), SpdyError> {
        let mut chunks: Vec<&[u8]> = data.chunks(MAX_PAYLOAD).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut head = [0u8; HEADER_LEN];
            head[..4].copy_from_slice(&(stream & 0x7FFF_FFFF).to_be_bytes());
            head[4] = if fin && i == last { FLAG_FIN } else { 0 };
            head[5..8].copy_from_slice(&(chunk.len() as u32).to_be_bytes()[1..]);
            self.io.write_all(&head).await?;
            self.io.write_all(chunk).await?;
        }
        self.io.flush().await?;
        Ok(())
    }

    /// Echo a ping.
    pub async fn ping(&mut self, id: u32) -> Result<(), SpdyError> {
        self.control(PING, 0, &id.to_be_bytes()).await
    }

    /// Say goodbye (status OK) before closing.
    pub async fn go_away(&mut self, last_stream: u32) -> Result<(), SpdyError> {
        let mut payload = [0u8; 8];
        payload[..4].copy_from_slice(&last_stream.to_be_bytes());
        self.control(GOAWAY, 0, &payload).await
    }

    /// Close our side of the connection.
    pub async fn shutdown(&mut self) -> Result<(), SpdyError> {
        self.io.shutdown().await?;
        Ok(())
    }

    async fn control(&mut self, kind: u16, flags: u8, payload: &[u8]) -> Result<(), SpdyError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(SpdyError::Protocol("control frame too long".into()));
        }
        let mut head = [0u8; HEADER_LEN];
        head[..2].copy_from_slice(&(0x8000 | VERSION).to_be_bytes());
        head[2..4].copy_from_slice(&kind.to_be_bytes());
        head[4] = flags;
        head[5..8].copy_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
        self.io.write_all(&head).await?;
        self.io.write_all(payload).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// The name/value block (32-bit counts and lengths), compressed and sync-flushed so the
    /// peer can decode it without waiting for more.
    fn header_block(&mut self, headers: &[(&str, &str)]) -> Result<Vec<u8>, SpdyError> {
        let raw = encode_header_block(headers);
        let mut out = Vec::with_capacity(raw.len() + 64);
        let mut input = &raw[..];
        loop {
            let before_in = self.compressor.total_in();
            self.compressor
                .compress_vec(input, &mut out, FlushCompress::Sync)?;
            let used = (self.compressor.total_in() - before_in) as usize;
            input = &input[used..];
            // Output space left over means the flush completed.
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(out);
            }
            out.reserve(out.capacity().max(64));
        }
    }
}

/// The uncompressed name/value block of SPDY/3 (§2.6.10).
fn encode_header_block(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut raw = Vec::new();
    raw.put_u32(headers.len() as u32);
    for (name, value) in headers {
        raw.put_u32(name.len() as u32);
        raw.extend_from_slice(name.as_bytes());
        raw.put_u32(value.len() as u32);
        raw.extend_from_slice(value.as_bytes());
    }
    raw
}

/// Reads frames; cancel-safe (bytes read before a cancelled call stay buffered).
pub struct Reader<R> {
    io: R,
    buf: BytesMut,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// A reader over the upgraded connection's read half.
    pub fn new(io: R) -> Self {
        Self {
            io,
            buf: BytesMut::with_capacity(16 * 1024),
        }
    }

    /// The next frame, or `None` when the peer closed the connection between frames.
    pub async fn next(&mut self) -> Result<Option<Frame>, SpdyError> {
        loop {
            if let Some(frame) = parse_frame(&mut self.buf)? {
                return Ok(Some(frame));
            }
            if self.io.read_buf(&mut self.buf).await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(SpdyError::Protocol(
                        "connection closed inside a frame".into(),
                    ))
                };
            }
        }
    }
}

/// Take one whole frame off the front of `buf`, or `None` if it has not all arrived.
fn parse_frame(buf: &mut BytesMut) -> Result<Option<Frame>, SpdyError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let length = u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize;
    if length > MAX_ACCEPTED_FRAME {
        return Err(SpdyError::Protocol(format!("frame of {length} bytes")));
    }
    if buf.len() < HEADER_LEN + length {
        buf.reserve(HEADER_LEN + length - buf.len());
        return Ok(None);
    }
    let mut frame = buf.split_to(HEADER_LEN + length);
    let control = frame[0] & 0x80 != 0;
    let flags = frame[4];
    if !control {
        let stream = frame.get_u32() & 0x7FFF_FFFF;
        frame.advance(4);
        return Ok(Some(Frame::Data {
            stream,
            data: frame.freeze(),
            fin: flags & FLAG_FIN != 0,
        }));
    }
    let version = frame.get_u16() & 0x7FFF;
    if version != VERSION {
        return Err(SpdyError::Protocol(format!("version {version}")));
    }
    let kind = frame.get_u16();
    frame.advance(4);
    let need = |n: usize, frame: &BytesMut| {
        if frame.len() < n {
            Err(SpdyError::Protocol(format!(
                "control frame {kind} too short"
            )))
        } else {
            Ok(())
        }
    };
    Ok(Some(match kind {
        SYN_REPLY => {
            need(4, &frame)?;
            Frame::SynReply {
                stream: frame.get_u32() & 0x7FFF_FFFF,
                fin: flags & FLAG_FIN != 0,
            }
        }
        RST_STREAM => {
            need(8, &frame)?;
            Frame::RstStream {
                stream: frame.get_u32() & 0x7FFF_FFFF,
                status: frame.get_u32(),
            }
        }
        PING => {
            need(4, &frame)?;
            Frame::Ping {
                id: frame.get_u32(),
            }
        }
        GOAWAY => {
            need(4, &frame)?;
            let last_stream = frame.get_u32() & 0x7FFF_FFFF;
            let status = if frame.len() >= 4 { frame.get_u32() } else { 0 };
            Frame::GoAway {
                last_stream,
                status,
            }
        }
        other => Frame::Other { kind: other },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    /// Decode one of our header blocks with an independent inflater (continuing `d`).
    fn inflate(d: &mut Decompress, block: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(4096);
        d.decompress_vec(block, &mut out, FlushDecompress::Sync)
            .expect("inflate");
        let mut b = &out[..];
        let n = b.get_u32();
        (0..n)
            .map(|_| {
                let l = b.get_u32() as usize;
                let name = String::from_utf8(b[..l].to_vec()).expect("utf8");
                b.advance(l);
                let l = b.get_u32() as usize;
                let value = String::from_utf8(b[..l].to_vec()).expect("utf8");
                b.advance(l);
                (name, value)
            })
            .collect()
    }

    #[tokio::test]
    async fn syn_stream_carries_a_compressed_header_block_that_continues_across_frames() {
        let mut w = Writer::new(Vec::new());
        w.syn_stream(1, &[("streamtype", "error")], false)
            .await
            .expect("syn");
        w.syn_stream(3, &[("streamtype", "stdin")], true)
            .await
            .expect("syn");
        let wire = w.io;
        let mut d = Decompress::new(true);
        // First frame: control bit + version 3, type 1, no flags.
        assert_eq!(&wire[..4], &[0x80, 0x03, 0x00, 0x01]);
        assert_eq!(wire[4], 0);
        let len1 = u32::from_be_bytes([0, wire[5], wire[6], wire[7]]) as usize;
        let body1 = &wire[8..8 + len1];
        assert_eq!(&body1[..4], &1u32.to_be_bytes());
        assert_eq!(
            inflate(&mut d, &body1[10..]),
            vec![("streamtype".into(), "error".into())]
        );
        let second = &wire[8 + len1..];
        assert_eq!(second[4], FLAG_FIN);
        let len2 = u32::from_be_bytes([0, second[5], second[6], second[7]]) as usize;
        assert_eq!(second.len(), 8 + len2);
        assert_eq!(&second[8..12], &3u32.to_be_bytes());
        // The second block only decodes as a continuation of the first (one zlib stream).
        assert_eq!(
            inflate(&mut d, &second[18..]),
            vec![("streamtype".into(), "stdin".into())]
        );
    }

    #[tokio::test]
    async fn data_frames_round_trip_through_the_reader() {
        let mut w = Writer::new(Vec::new());
        w.data(5, b"hello", false).await.expect("data");
        w.data(5, b"", true).await.expect("fin");
        w.ping(2).await.expect("ping");
        let mut r = Reader::new(&w.io[..]);
        assert_eq!(
            r.next().await.expect("frame"),
            Some(Frame::Data {
                stream: 5,
                data: Bytes::from_static(b"hello"),
                fin: false
            })
        );
        assert_eq!(
            r.next().await.expect("frame"),
            Some(Frame::Data {
                stream: 5,
                data: Bytes::new(),
                fin: true
            })
        );
        assert_eq!(r.next().await.expect("frame"), Some(Frame::Ping { id: 2 }));
        assert_eq!(r.next().await.expect("eof"), None);
    }

    #[test]
    fn control_frames_from_the_peer_are_parsed_and_partial_frames_wait() {
        let mut buf = BytesMut::new();
        // SYN_REPLY for stream 7 with FIN and a (skipped) header block.
        buf.extend_from_slice(&[0x80, 0x03, 0x00, 0x02, 0x01, 0x00, 0x00, 0x06]);
        buf.extend_from_slice(&[0, 0, 0, 7, 0xAA, 0xBB]);
        // RST_STREAM for stream 3, status 5 (cancel) — only part of it so far.
        buf.extend_from_slice(&[0x80, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0, 0]);
        assert_eq!(
            parse_frame(&mut buf).expect("parse"),
            Some(Frame::SynReply {
                stream: 7,
                fin: true
            })
        );
        assert_eq!(parse_frame(&mut buf).expect("parse"), None);
        buf.extend_from_slice(&[0, 3, 0, 0, 0, 5]);
        assert_eq!(
            parse_frame(&mut buf).expect("parse"),
            Some(Frame::RstStream {
                stream: 3,
                status: 5
            })
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn wrong_versions_and_oversized_frames_are_protocol_errors() {
        let mut buf = BytesMut::from(&[0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1][..]);
        assert!(matches!(parse_frame(&mut buf), Err(SpdyError::Protocol(_))));
        let mut buf = BytesMut::from(&[0x00, 0x00, 0x00, 0x01, 0, 0xFF, 0xFF, 0xFF][..]);
        assert!(matches!(parse_frame(&mut buf), Err(SpdyError::Protocol(_))));
    }
}
