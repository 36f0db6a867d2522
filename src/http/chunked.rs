//! Incremental decoder of `Transfer-Encoding: chunked` bodies (RFC 9112 §7.1).
//!
//! [`ChunkedDecoder::decode`] takes whatever raw bytes have arrived and copies the
//! data bytes out; partial input is a normal state. Chunk extensions and
//! trailer fields are read and discarded.
//!
//! # Invariants
//! - Size lines are bounded by [`MAX_CHUNK_LINE`] and trailers by
//!   [`MAX_TRAILER_BYTES`]; chunk sizes must fit in 60 bits. Memory used by the
//!   decoder itself is constant.
//! - Line endings must be CRLF: a bare LF is refused (request smuggling defence).

use super::limits::{MAX_CHUNK_LINE, MAX_TRAILER_BYTES};

/// Largest chunk size accepted (avoids overflow in length arithmetic).
const MAX_CHUNK_SIZE: u64 = 1 << 60;

/// Why a chunked body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkedError {
    /// The chunk size is not hex or too large.
    BadSize,
    /// A size line or the trailer section is longer than allowed.
    TooLong,
    /// A CRLF was expected.
    BadLineEnding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits of the size; `digits` seen so far.
    Size {
        digits: u8,
    },
    /// Skipping `;ext` or whitespace up to CR.
    Extension,
    /// Expecting the LF that ends the size line.
    SizeLf,
    /// Copying data; bytes left in this chunk.
    Data(u64),
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    /// Inside a trailer field line.
    TrailerLine,
    /// Expecting the LF of a trailer line (`last` = it was the empty final line).
    TrailerLf {
        last: bool,
    },
    Done,
}

/// Decoder state for one chunked body.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    line_len: usize,
    trailer_len: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    pub fn new() -> Self {
        ChunkedDecoder { state: State::Size { digits: 0 }, size: 0, line_len: 0, trailer_len: 0 }
    }

    /// Whether the terminating chunk and trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input`, appending data bytes to `out` without growing it past
    /// its capacity. Returns how many input bytes were consumed. Stops early when
    /// `out` is full or the body is done.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ChunkedError> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                State::Size { digits } => {
                    if let Some(v) = hex_value(b) {
                        self.size = (self.size << 4) | u64::from(v);
                        if self.size > MAX_CHUNK_SIZE || digits >= 15 {
                            return Err(ChunkedError::BadSize);
                        }
                        self.state = State::Size { digits: digits + 1 };
                        self.bump_line()?;
                    } else if digits == 0 {
                        return Err(ChunkedError::BadSize);
                    } else if b == b';' || b == b' ' || b == b'\t' {
                        self.state = State::Extension;
                        self.bump_line()?;
                    } else if b == b'\r' {
                        self.state = State::SizeLf;
                    } else {
                        return Err(ChunkedError::BadSize);
                    }
                    i += 1;
                }
                State::Extension => {
                    if b == b'\r' {
                        self.state = State::SizeLf;
                    } else if b == b'\n' {
                        return Err(ChunkedError::BadLineEnding);
                    } else {
                        self.bump_line()?;
                    }
                    i += 1;
                }
                State::SizeLf => {
                    if b != b'\n' {
                        return Err(ChunkedError::BadLineEnding);
                    }
                    self.line_len = 0;
                    self.state = if self.size == 0 { State::TrailerStart } else { State::Data(self.size) };
                    self.size = 0;
                    i += 1;
                }
                State::Data(left) => {
                    let room = out.capacity() - out.len();
                    if room == 0 {
                        return Ok(i);
                    }
                    let n = (left.min((input.len() - i) as u64) as usize).min(room);
                    out.extend_from_slice(&input[i..i + n]);
                    i += n;
                    let left = left - n as u64;
                    self.state = if left == 0 { State::DataCr } else { State::Data(left) };
                }
                State::DataCr => {
                    if b != b'\r' {
                        return Err(ChunkedError::BadLineEnding);
                    }
                    self.state = State::DataLf;
                    i += 1;
                }
                State::DataLf => {
                    if b != b'\n' {
                        return Err(ChunkedError::BadLineEnding);
                    }
                    self.state = State::Size { digits: 0 };
                    i += 1;
                }
                State::TrailerStart => {
                    self.state =
                        if b == b'\r' { State::TrailerLf { last: true } } else { State::TrailerLine };
                    self.bump_trailer()?;
                    i += 1;
                }
                State::TrailerLine => {
                    if b == b'\r' {
                        self.state = State::TrailerLf { last: false };
                    } else if b == b'\n' {
                        return Err(ChunkedError::BadLineEnding);
                    }
                    self.bump_trailer()?;
                    i += 1;
                }
                State::TrailerLf { last } => {
                    if b != b'\n' {
                        return Err(ChunkedError::BadLineEnding);
                    }
                    i += 1;
                    if last {
                        self.state = State::Done;
                        return Ok(i);
                    }
                    self.state = State::TrailerStart;
                }
                State::Done => return Ok(i),
            }
        }
        Ok(i)
    }

    fn bump_line(&mut self) -> Result<(), ChunkedError> {
        self.line_len += 1;
        if self.line_len > MAX_CHUNK_LINE { Err(ChunkedError::TooLong) } else { Ok(()) }
    }

    fn bump_trailer(&mut self) -> Result<(), ChunkedError> {
        self.trailer_len += 1;
        if self.trailer_len > MAX_TRAILER_BYTES { Err(ChunkedError::TooLong) } else { Ok(()) }
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";

    /// Decodes `input` fed in pieces of `step` bytes into an output of `cap` bytes.
    fn run(input: &[u8], step: usize, cap: usize) -> Result<(Vec<u8>, usize), ChunkedError> {
        let mut dec = ChunkedDecoder::new();
        let mut data = Vec::new();
        let mut pos = 0;
        while !dec.is_done() && pos < input.len() {
            let end = (pos + step).min(input.len());
            let mut out = Vec::with_capacity(cap);
            let used = dec.decode(&input[pos..end], &mut out)?;
            data.extend_from_slice(&out);
            pos += used;
            if used == 0 && out.is_empty() && end == input.len() {
                break;
            }
        }
        assert!(dec.is_done(), "decoder must finish");
        Ok((data, pos))
    }

    #[test]
    fn every_split_and_output_size_decodes_the_same() {
        for step in 1..BODY.len() {
            for cap in [1, 3, 64] {
                let (data, used) = run(BODY, step, cap).unwrap();
                assert_eq!(data, b"hello world", "step {step} cap {cap}");
                assert_eq!(&BODY[used..], b"NEXT", "bytes after the body are left alone");
            }
        }
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let mut d = ChunkedDecoder::new();
        assert_eq!(d.decode(b"zz\r\n", &mut Vec::with_capacity(8)), Err(ChunkedError::BadSize));
        let mut d = ChunkedDecoder::new();
        assert_eq!(d.decode(b"1\nx", &mut Vec::with_capacity(8)), Err(ChunkedError::BadSize));
        let mut d = ChunkedDecoder::new();
        assert_eq!(d.decode(b"1\r\nxY", &mut Vec::with_capacity(8)), Err(ChunkedError::BadLineEnding));
        let mut d = ChunkedDecoder::new();
        assert_eq!(
            d.decode(b"fffffffffffffffff\r\n", &mut Vec::with_capacity(8)),
            Err(ChunkedError::BadSize)
        );
        let mut d = ChunkedDecoder::new();
        let long = [b"1;".as_slice(), &[b'a'; MAX_CHUNK_LINE]].concat();
        assert_eq!(d.decode(&long, &mut Vec::with_capacity(8)), Err(ChunkedError::TooLong));
        let mut d = ChunkedDecoder::new();
        let trailer = [b"0\r\nX: ".as_slice(), &[b'a'; MAX_TRAILER_BYTES]].concat();
        assert_eq!(d.decode(&trailer, &mut Vec::with_capacity(8)), Err(ChunkedError::TooLong));
    }
}
