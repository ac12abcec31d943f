//! The protobuf wire format, read without a schema: a message is a sequence of
//! (field number, value) records, each value a varint, a fixed 32/64-bit word or a
//! length-delimited byte string. Every read is bounds-checked; malformed input is an error.

use super::ProtobufError;

/// One record's value as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

impl WireValue<'_> {
    /// The wire type number, for error messages.
    pub(super) fn wire_type(&self) -> u8 {
        match self {
            WireValue::Varint(_) => 0,
            WireValue::Fixed64(_) => 1,
            WireValue::Bytes(_) => 2,
            WireValue::Fixed32(_) => 5,
        }
    }
}

/// A cursor over one message's bytes.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(super) fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value = 0u64;
        for (i, &b) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        if self.buf.len() >= 10 {
            Err(ProtobufError::BadVarint)
        } else {
            Err(ProtobufError::Truncated)
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtobufError> {
        if self.buf.len() < n {
            return Err(ProtobufError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], ProtobufError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// The next record: its field number and value.
    pub(super) fn record(&mut self) -> Result<(u32, WireValue<'a>), ProtobufError> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| ProtobufError::BadFieldNumber)?;
        if number == 0 {
            return Err(ProtobufError::BadFieldNumber);
        }
        let value = match key & 7 {
            0 => WireValue::Varint(self.varint()?),
            1 => WireValue::Fixed64(u64::from_le_bytes(self.fixed()?)),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| ProtobufError::Truncated)?;
                WireValue::Bytes(self.take(len)?)
            }
            5 => WireValue::Fixed32(u32::from_le_bytes(self.fixed()?)),
            // Groups (3, 4) are deprecated and never used by Kubernetes types.
            other => return Err(ProtobufError::UnsupportedWireType(other as u8)),
        };
        Ok((number, value))
    }
}

/// All records of a message, in wire order.
pub(super) fn records(buf: &[u8]) -> Result<Vec<(u32, WireValue<'_>)>, ProtobufError> {
    let mut reader = Reader::new(buf);
    let mut out = Vec::new();
    while !reader.is_empty() {
        out.push(reader.record()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_wire_type() {
        // field 1 varint 300, field 2 bytes "hi", field 3 fixed64, field 4 fixed32
        let mut buf = vec![0x08, 0xac, 0x02, 0x12, 2, b'h', b'i', 0x19];
        buf.extend_from_slice(&7u64.to_le_bytes());
        buf.push(0x25);
        buf.extend_from_slice(&9u32.to_le_bytes());
        assert_eq!(
            records(&buf).unwrap(),
            vec![
                (1, WireValue::Varint(300)),
                (2, WireValue::Bytes(b"hi")),
                (3, WireValue::Fixed64(7)),
                (4, WireValue::Fixed32(9)),
            ]
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert_eq!(records(&[0x12, 5, b'a']), Err(ProtobufError::Truncated));
        assert_eq!(records(&[0x08]), Err(ProtobufError::Truncated));
        assert_eq!(records(&[0x08, 0xff, 0xff]), Err(ProtobufError::Truncated));
        let mut overlong = vec![0x08];
        overlong.extend([0xff; 11]);
        assert_eq!(records(&overlong), Err(ProtobufError::BadVarint));
        assert_eq!(records(&[0x0b]), Err(ProtobufError::UnsupportedWireType(3)));
        assert_eq!(records(&[0x00, 0x00]), Err(ProtobufError::BadFieldNumber));
    }
}
