//! Concurrency limits' pure-Rust core: in-flight counts per key, taken as RAII [`Permit`]s.
//!
//! A permit gives its slot back exactly once: on [`Permit::release`] or when it is dropped, whichever
//! comes first. A key's entry exists only while it has permits out, so the map is bounded by the number
//! of requests in flight and needs no sweeping.
use std::sync::{Arc, Mutex, MutexGuard};

use hashbrown::HashMap;

/// In-flight counts per key, shared with the permits it hands out.
#[derive(Debug, Default)]
pub struct Slots {
    counts: Mutex<HashMap<Arc<str>, u64>>,
}

/// One in-flight slot of one key; gives it back when dropped.
#[derive(Debug)]
pub struct Permit {
    slots: Arc<Slots>,
    key: Arc<str>,
}

impl Slots {
    pub fn new() -> Arc<Self> {
        Arc::new(Slots::default())
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<Arc<str>, u64>> {
        // A panic while holding the lock leaves the counts consistent (each update is one store).
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take a slot of `key` if fewer than `max_in_flight` are out.
    pub fn try_acquire(self: &Arc<Self>, key: &str, max_in_flight: u64) -> Option<Permit> {
        let mut counts = self.counts();
        let key = match counts.get_key_value_mut(key) {
            Some((k, n)) => {
                if *n >= max_in_flight {
                    return None;
                }
                *n += 1;
                Arc::clone(k)
            }
            None => {
                if max_in_flight == 0 {
                    return None;
                }
                let k: Arc<str> = key.into();
                counts.insert(Arc::clone(&k), 1);
                k
            }
        };
        Some(Permit {
            slots: Arc::clone(self),
            key,
        })
    }

    /// Slots of `key` now out.
    pub fn in_flight(&self, key: &str) -> u64 {
        self.counts().get(key).copied().unwrap_or(0)
    }

    /// Keys with at least one slot out.
    pub fn len(&self) -> usize {
        self.counts().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn give_back(&self, key: &str) {
        let mut counts = self.counts();
        if let Some(n) = counts.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(key);
            }
        }
    }
}

impl Permit {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Give the slot back now (the same as dropping the permit).
    pub fn release(self) {}
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.slots.give_back(&self.key);
    }
}
