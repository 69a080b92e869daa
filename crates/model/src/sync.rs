//! Locks that outlive a panic. A thread that panics while holding one of Lamina's locks
//! has already been reported (the panic hook logs it, and a request's task answers 500);
//! the state it guarded is a cache or a queue whose every update is a single assignment
//! or insert, so the next holder carries on with it. Poisoning is therefore ignored here,
//! in one place, rather than at every `lock()`.

use std::sync::{LockResult, MutexGuard, RwLockReadGuard, RwLockWriteGuard};

/// Carries on past a poisoned lock (see the module's doc).
fn unpoisoned<G>(result: LockResult<G>) -> G {
    result.unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A mutual-exclusion lock whose `lock` never fails.
#[derive(Default, Debug)]
pub struct Mutex<T: ?Sized>(std::sync::Mutex<T>);

impl<T> Mutex<T> {
    /// A lock holding `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex(std::sync::Mutex::new(value))
    }

    /// The value, the lock consumed.
    pub fn into_inner(self) -> T {
        unpoisoned(self.0.into_inner())
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock and holds it until the guard drops.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        unpoisoned(self.0.lock())
    }

    /// The lock if nobody holds it now.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        match self.0.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The value, borrowed mutably without locking.
    pub fn get_mut(&mut self) -> &mut T {
        unpoisoned(self.0.get_mut())
    }
}

/// A condition variable for [`Mutex`]'s guards.
#[derive(Default, Debug)]
pub struct Condvar(std::sync::Condvar);

impl Condvar {
    /// A condition variable nobody waits on yet.
    pub const fn new() -> Condvar {
        Condvar(std::sync::Condvar::new())
    }

    /// Releases `guard` and waits for a notification or `timeout`, then locks again.
    pub fn wait_timeout<'a, T>(&self, guard: MutexGuard<'a, T>, timeout: std::time::Duration) -> MutexGuard<'a, T> {
        unpoisoned(self.0.wait_timeout(guard, timeout)).0
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.0.notify_one();
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.0.notify_all();
    }
}

/// A reader-writer lock whose `read` and `write` never fail.
#[derive(Default, Debug)]
pub struct RwLock<T: ?Sized>(std::sync::RwLock<T>);

impl<T> RwLock<T> {
    /// A lock holding `value`.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock(std::sync::RwLock::new(value))
    }

    /// The value, the lock consumed.
    pub fn into_inner(self) -> T {
        unpoisoned(self.0.into_inner())
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Shared access until the guard drops.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        unpoisoned(self.0.read())
    }

    /// Exclusive access until the guard drops.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        unpoisoned(self.0.write())
    }

    /// The value, borrowed mutably without locking.
    pub fn get_mut(&mut self) -> &mut T {
        unpoisoned(self.0.get_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_locked_leaves_the_value_usable() {
        let shared = std::sync::Arc::new(Mutex::new(vec![1]));
        let held = shared.clone();
        let panicked = std::thread::spawn(move || {
            let mut v = held.lock();
            v.push(2);
            panic!("while holding the lock");
        })
        .join();
        assert!(panicked.is_err());
        shared.lock().push(3);
        assert_eq!(*shared.lock(), vec![1, 2, 3]);

        let rw = std::sync::Arc::new(RwLock::new(0));
        let held = rw.clone();
        let _ = std::thread::spawn(move || {
            *held.write() += 1;
            panic!("while writing");
        })
        .join();
        *rw.write() += 1;
        assert_eq!(*rw.read(), 2);
    }
}
