//! Per-core shutdown signal and small future combinators (`race`, `catch_panic`).
//!
//! The process-wide flag is an `AtomicBool` set by the signal thread; each
//! worker's accept loop polls it and then triggers its [`ShutdownSignal`],
//! which wakes every idle connection of that core so it can close.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::task::{Poll, Waker};

/// A one-shot, single-thread broadcast: once triggered, every `wait()` completes.
#[derive(Default)]
pub struct ShutdownSignal {
    triggered: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

impl ShutdownSignal {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_triggered(&self) -> bool {
        self.triggered.get()
    }

    /// Marks the signal and wakes every waiter.
    pub fn trigger(&self) {
        self.triggered.set(true);
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }

    /// Completes once [`trigger`](Self::trigger) was called.
    pub async fn wait(&self) {
        std::future::poll_fn(|cx| {
            if self.triggered.get() {
                return Poll::Ready(());
            }
            let mut waiters = self.waiters.borrow_mut();
            if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                waiters.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

/// Which of two raced futures finished first.
pub enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Polls both futures until one finishes; the other is dropped (cancelled).
pub async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(y));
        }
        Poll::Pending
    })
    .await
}

/// Runs `fut`, turning a panic inside it into `Err(message)` instead of
/// unwinding through the worker's event loop (which would take every other
/// connection of the core down with it).
pub async fn catch_panic<F: Future>(fut: F) -> Result<F::Output, String> {
    let mut fut: Pin<Box<F>> = Box::pin(fut);
    std::future::poll_fn(move |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
        Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Poll::Ready(Err(msg))
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_errors() {
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().build().unwrap();
        let r = rt.block_on(catch_panic(async { panic!("boom") }));
        assert_eq!(r, Err::<(), _>("boom".to_string()));
        assert_eq!(rt.block_on(catch_panic(async { 7 })), Ok(7));
    }
}
