//! Per-core shutdown signal and small future combinators (`race`, `catch_panic`).
//!
//! The process-wide flag is an `AtomicBool` set by the signal thread; each
//! worker's accept loop polls it and then triggers its [`ShutdownSignal`],
//! which wakes every idle connection of that core so it can close.
//!
//! # Invariants
//! - A waiter holds one slot of the signal's table while its future lives:
//!   polling updates that slot in place (O(1)), dropping the future frees it
//!   for the next waiter. The table never holds more slots than the most
//!   futures alive at one time, so short connections leave nothing behind.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// A one-shot, single-thread broadcast: once triggered, every `wait()` completes.
#[derive(Default)]
pub struct ShutdownSignal {
    triggered: Cell<bool>,
    waiters: RefCell<Slots>,
}

/// Waker slots with a free list: a slot index is stable while its future lives.
#[derive(Default)]
struct Slots {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Slots {
    fn insert(&mut self, waker: Waker) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.wakers[i] = Some(waker);
                i
            }
            None => {
                self.wakers.push(Some(waker));
                self.wakers.len() - 1
            }
        }
    }

    fn remove(&mut self, i: usize) {
        if let Some(slot) = self.wakers.get_mut(i)
            && slot.take().is_some()
        {
            self.free.push(i);
        }
    }

    /// Slots in use (for tests).
    #[cfg(test)]
    fn live(&self) -> usize {
        self.wakers.iter().filter(|w| w.is_some()).count()
    }
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
        let mut slots = self.waiters.borrow_mut();
        let slots = &mut *slots;
        for (i, w) in slots.wakers.iter_mut().enumerate() {
            if let Some(w) = w.take() {
                w.wake();
                slots.free.push(i);
            }
        }
    }

    /// Completes once [`trigger`](Self::trigger) was called.
    pub fn wait(&self) -> Wait<'_> {
        Wait { signal: self, slot: None }
    }
}

/// The future of [`ShutdownSignal::wait`]; frees its waker slot when dropped.
pub struct Wait<'a> {
    signal: &'a ShutdownSignal,
    slot: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.signal.triggered.get() {
            this.slot = None;
            return Poll::Ready(());
        }
        let mut slots = this.signal.waiters.borrow_mut();
        match this.slot {
            Some(i) => match &mut slots.wakers[i] {
                Some(w) => w.clone_from(cx.waker()),
                slot @ None => *slot = Some(cx.waker().clone()),
            },
            None => this.slot = Some(slots.insert(cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.slot.take()
            && let Ok(mut slots) = self.signal.waiters.try_borrow_mut()
        {
            slots.remove(i);
        }
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

    /// Short-lived waiters (one per connection) leave no slot behind: the
    /// table stays as large as the most waiters alive at once.
    #[test]
    fn dropped_waiters_free_their_slot() {
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build().unwrap();
        let signal = std::rc::Rc::new(ShutdownSignal::new());
        rt.block_on(async {
            // One task per "connection": each has its own waker, registered
            // once and dropped when the task ends.
            for _ in 0..10_000 {
                let s = signal.clone();
                let r =
                    monoio::spawn(async move { matches!(race(s.wait(), async {}).await, Either::Right(())) });
                assert!(r.await);
            }
        });
        let slots = signal.waiters.borrow();
        assert_eq!(slots.live(), 0);
        assert!(slots.wakers.len() <= 1, "slots grew to {}", slots.wakers.len());
    }

    #[test]
    fn trigger_wakes_live_waiters() {
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build().unwrap();
        let signal = std::rc::Rc::new(ShutdownSignal::new());
        rt.block_on(async {
            let s = signal.clone();
            let a = monoio::spawn(async move { s.wait().await });
            let s = signal.clone();
            let b = monoio::spawn(async move { s.wait().await });
            monoio::time::sleep(std::time::Duration::from_millis(5)).await;
            assert_eq!(signal.waiters.borrow().live(), 2);
            signal.trigger();
            a.await;
            b.await;
        });
        assert_eq!(signal.waiters.borrow().live(), 0);
        assert!(signal.is_triggered());
    }
}
