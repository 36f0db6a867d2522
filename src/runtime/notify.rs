//! A re-armable wake-up for one core's tasks (no cross-thread use).
//!
//! `notify()` sets a flag and wakes the waiters; `wait()` completes once the
//! flag is set and clears it. A notification with nobody waiting is kept.

use std::cell::{Cell, RefCell};
use std::task::{Poll, Waker};

#[derive(Default)]
pub struct LocalNotify {
    flag: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

impl LocalNotify {
    pub fn notify(&self) {
        self.flag.set(true);
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }

    pub async fn wait(&self) {
        std::future::poll_fn(|cx| {
            if self.flag.replace(false) {
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
