//! A cross-thread oneshot: the core's writer thread completes it, a request
//! future on a monoio event loop awaits it.
//!
//! A `Mutex`-protected state and the awaiting task's `Waker`. The value is
//! stored under the lock and the waker is called after the lock is released;
//! monoio (built with its `sync` feature) forwards a wake from a foreign thread
//! to the owning runtime and unparks it. Nothing here blocks for longer than a
//! state swap, so awaiting on an event loop is fine.
//!
//! # Invariants
//! - The receiver resolves exactly once: to the value sent, or to [`Canceled`]
//!   when the sender was dropped without sending.
//! - A wake is never lost: the sender either finds the waker stored by the
//!   last `Pending` poll, or the receiver's next poll finds the value.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

enum State<T> {
    /// Nothing sent, nobody waiting yet.
    Empty,
    /// The receiver is waiting; wake it on completion.
    Waiting(Waker),
    /// The value, not yet taken.
    Sent(T),
    /// The sender was dropped without sending, or the value was taken.
    Closed,
}

struct Shared<T> {
    state: Mutex<State<T>>,
}

impl<T> Shared<T> {
    /// The state; a poisoned lock (a panic elsewhere while holding it, which
    /// the code here cannot cause) still holds a consistent state.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sending half; `Send` when `T` is.
pub struct Sender<T> {
    shared: Option<Arc<Shared<T>>>,
}

/// The receiving half: a future of the value.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canceled;

impl std::fmt::Display for Canceled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the sender was dropped without sending")
    }
}

impl std::error::Error for Canceled {}

/// A new oneshot.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared { state: Mutex::new(State::Empty) });
    (Sender { shared: Some(shared.clone()) }, Receiver { shared })
}

impl<T> Sender<T> {
    /// Completes the oneshot with `value` and wakes the receiver. If the
    /// receiver is gone the value is dropped.
    pub fn send(mut self, value: T) {
        self.finish(State::Sent(value));
    }

    fn finish(&mut self, new: State<T>) {
        let Some(shared) = self.shared.take() else { return };
        let previous = std::mem::replace(&mut *shared.lock(), new);
        if let State::Waiting(waker) = previous {
            waker.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.finish(State::Closed);
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Canceled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.lock();
        match std::mem::replace(&mut *state, State::Closed) {
            State::Sent(value) => Poll::Ready(Ok(value)),
            State::Closed => Poll::Ready(Err(Canceled)),
            State::Empty => {
                *state = State::Waiting(cx.waker().clone());
                Poll::Pending
            }
            State::Waiting(old) => {
                let waker = if old.will_wake(cx.waker()) { old } else { cx.waker().clone() };
                *state = State::Waiting(waker);
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn runtime() -> monoio::Runtime<monoio::time::TimeDriver<monoio::LegacyDriver>> {
        monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build().unwrap()
    }

    #[test]
    fn value_sent_before_the_first_poll() {
        let (tx, rx) = oneshot();
        tx.send(7u32);
        assert_eq!(runtime().block_on(rx), Ok(7));
    }

    #[test]
    fn dropped_sender_cancels() {
        let (tx, rx) = oneshot::<u32>();
        drop(tx);
        assert_eq!(runtime().block_on(rx), Err(Canceled));
        // Dropping the receiver first is fine too.
        let (tx, rx) = oneshot::<String>();
        drop(rx);
        tx.send("gone".into());
    }

    #[test]
    fn wakes_a_monoio_task_from_another_thread() {
        let mut rt = runtime();
        let got = rt.block_on(async {
            let mut handles = Vec::new();
            let mut receivers = Vec::new();
            for i in 0..64u32 {
                let (tx, rx) = oneshot();
                handles.push(std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(u64::from(i % 8)));
                    if i % 5 == 0 { drop(tx) } else { tx.send(i) }
                }));
                receivers.push(monoio::spawn(rx));
            }
            let mut got = Vec::new();
            for r in receivers {
                got.push(r.await);
            }
            for h in handles {
                h.join().unwrap();
            }
            got
        });
        for (i, r) in got.into_iter().enumerate() {
            let i = i as u32;
            assert_eq!(r, if i.is_multiple_of(5) { Err(Canceled) } else { Ok(i) });
        }
    }
}
