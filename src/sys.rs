//! The few system calls std and monoio do not wrap. The only `unsafe` in sluice
//! besides opening LMDB lives here.

use std::os::fd::AsRawFd;

/// What a non-blocking peek at an idle pooled connection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeekState {
    /// Nothing to read: the connection looks healthy.
    Idle,
    /// The peer closed it, or it failed.
    Closed,
    /// Unexpected bytes are waiting (a stray response): do not reuse.
    Dirty,
}

/// Peeks at a socket without blocking and without consuming anything.
#[allow(unsafe_code)]
pub fn peek_state(sock: &impl AsRawFd) -> PeekState {
    let mut byte = [0u8; 1];
    // SAFETY: `byte` is a valid 1-byte buffer for the duration of the call and
    // the fd is owned by `sock`, which outlives the call. MSG_PEEK|MSG_DONTWAIT
    // neither blocks nor consumes data.
    let n = unsafe {
        libc::recv(sock.as_raw_fd(), byte.as_mut_ptr().cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
    };
    match n {
        0 => PeekState::Closed,
        n if n > 0 => PeekState::Dirty,
        _ => match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => PeekState::Idle,
            _ => PeekState::Closed,
        },
    }
}
