//! The rate limiter's pure-Rust core: GCRA buckets keyed by (string, [`Limit`]), exact integer
//! arithmetic, time passed in as nanoseconds. No pyo3 types; the skin is `py.rs`.
//!
//! # Arithmetic
//! A limit admits `rate` units per `period_ns` with a capacity of `burst` units. All time is kept in
//! *ticks* of `1/rate` ns, so that one unit is exactly `period_ns` ticks (no rounding anywhere):
//! `n = now_ns * rate`, `P = period_ns`, capacity `B·P`. A bucket is one number, its *TAT* (theoretical
//! arrival time, in ticks): the moment it is full again. `tat <= n` means full, and a full bucket is the
//! same as no bucket, so dropping it loses nothing.
//! - A check of cost `c`: `base = max(tat, n)`, `new = base + c·P`; it passes iff `new - n <= B·P`.
//! - `remaining = floor((B·P - (tat' - n)) / P)`, at least 0; `reset_ns = ceil((tat' - n) / rate)` (time
//!   until full), with `tat'` the TAT after the check (or now, for a denial, where nothing is consumed).
//! - A denied check passes again after `retry_after_ns = ceil((new - n - B·P) / rate)`: exactly, i.e.
//!   the same call one nanosecond earlier is still denied (absent other traffic); a cost over `burst`
//!   can never pass (`None`).
//!
//! GCRA rather than a token bucket: the same admissions as a bucket of `burst` tokens refilled
//! continuously, but one integer per bucket and no "last update" time, and "is it full" is one compare,
//! which is what makes eviction exact and cheap.
//!
//! # Memory
//! The table holds at most `max_buckets` buckets (more only if one call brings more new ones). Before a
//! call that may add buckets (`admit`, `settle`), if `len + incoming > sweep_at`, full buckets are swept
//! (invisible, see above); if `len + incoming` still exceeds `low = max_buckets - max_buckets/8`, the
//! buckets nearest to full (smallest `reset_ns`, ties at the threshold included) are dropped until it
//! does not: those keys get a full bucket early, so the limiter errs towards admitting. Then
//! `sweep_at = clamp(2·len, MIN_SWEEP, max_buckets)`: sweeps cost O(len) and come after the table has
//! doubled or gained `max_buckets/8`, so O(1) amortised per insert. Measured on this 2-CPU VM: a sweep
//! of 100k buckets ~0.6 ms; at the cap with every bucket live, one call in 12.5k new keys pays ~2–4 ms
//! (sweep and rank in one pass, select, evict 12.5k).
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Largest `rate` and `burst`: keeps every tick product well inside `i128`.
pub const MAX_RATE: u64 = 1 << 40;
/// Largest period: 10^16 ns (about 116 days).
pub const MAX_PERIOD_NS: u64 = 10_000_000_000_000_000;
/// Largest cost, and largest `|delta|` for `settle` (2^53: every such integer is exact in a float).
pub const MAX_COST: u64 = 1 << 53;
/// Debt is capped so the bucket is full again at most 2^62 ns (~146 years) from now: an overflow guard,
/// unreachable with real traffic.
pub const MAX_AHEAD_NS: i128 = 1 << 62;
/// The first sweep, and the smallest table that triggers one.
pub const MIN_SWEEP: usize = 1024;

/// A rate limit: `rate` units per `period_ns`, at most `burst` at once. Compared by value: the same
/// key under two equal `Limit`s is one bucket, under a changed one a fresh bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Limit {
    name: Box<str>,
    rate: u64,
    period_ns: u64,
    burst: u64,
}

impl Limit {
    /// Checks the ranges (`1..=MAX_RATE` for rate and burst, `1..=MAX_PERIOD_NS` for the period).
    pub fn new(name: &str, rate: u64, period_ns: u64, burst: u64) -> Result<Self, String> {
        if !(1..=MAX_RATE).contains(&rate) {
            return Err(format!("rate must be in 1..={MAX_RATE}, got {rate}"));
        }
        if !(1..=MAX_RATE).contains(&burst) {
            return Err(format!("burst must be in 1..={MAX_RATE}, got {burst}"));
        }
        if !(1..=MAX_PERIOD_NS).contains(&period_ns) {
            return Err(format!(
                "period must be 1 ns to {MAX_PERIOD_NS} ns, got {period_ns} ns"
            ));
        }
        Ok(Limit {
            name: name.into(),
            rate,
            period_ns,
            burst,
        })
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn rate(&self) -> u64 {
        self.rate
    }
    pub fn period_ns(&self) -> u64 {
        self.period_ns
    }
    pub fn burst(&self) -> u64 {
        self.burst
    }
    /// `now` in ticks.
    fn ticks(&self, now_ns: i64) -> i128 {
        now_ns as i128 * self.rate as i128
    }
    fn unit(&self) -> i128 {
        self.period_ns as i128
    }
    fn capacity(&self) -> i128 {
        self.burst as i128 * self.period_ns as i128
    }
    /// The bucket's state seen from `n` when its TAT is `tat`.
    fn state(&self, tat: i128, n: i128) -> State {
        let ahead = (tat - n).max(0);
        let room = self.capacity() - ahead;
        State {
            remaining: match u64::try_from(room) {
                Ok(r) => r / self.period_ns,
                Err(_) if room > 0 => (room / self.unit()) as u64,
                Err(_) => 0,
            },
            reset_ns: self.reset_ns(ahead),
        }
    }
    /// `ceil(ahead / rate)`, `ahead >= 0` ticks: ns until full. A u64 division when it fits (nearly
    /// always), several times cheaper than i128's, which matters when eviction ranks 100k buckets.
    fn reset_ns(&self, ahead: i128) -> u64 {
        match u64::try_from(ahead) {
            Ok(a) => a.div_ceil(self.rate),
            Err(_) => ceil_div(ahead, self.rate as i128) as u64,
        }
    }
}

/// One limit's state after a call: units left and ns until the bucket is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub remaining: u64,
    pub reset_ns: u64,
}

/// One check of an `admit` call: consume `cost` units of `limit` in `key`'s bucket.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    pub key: &'a str,
    pub limit: &'a Arc<Limit>,
    pub cost: u64,
}

/// The answer to `admit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// `by` is the index of the check that denied: the first one that can never pass, else the first
    /// with the longest wait. `retry_after_ns` is when the whole call would pass (the longest wait of
    /// the denied checks), `None` if it never can.
    Denied {
        by: usize,
        retry_after_ns: Option<u64>,
    },
}

struct Bucket {
    key: Box<str>,
    limit: Arc<Limit>,
    hash: u64,
    tat: i128,
}

impl Bucket {
    fn is(&self, hash: u64, key: &str, limit: &Arc<Limit>) -> bool {
        self.hash == hash
            && *self.key == *key
            && (Arc::ptr_eq(&self.limit, limit) || *self.limit == **limit)
    }
}

/// Per-check working state of one `admit` (kept in the limiter to reuse its allocation).
struct Pending {
    hash: u64,
    /// The bucket's index in the table, if it exists; `usize::MAX` if not.
    slot: usize,
    /// The check of this call that first touched the same bucket (itself if none did).
    first: usize,
    /// TAT before the call (`n` for no bucket).
    orig: i128,
    /// TAT after this check (chained through earlier checks of the same bucket).
    new: i128,
    /// The bucket's TAT after the latest of its checks so far (on `first`'s entry).
    tail: i128,
    /// Cost of this bucket's checks in this call so far (on `first`'s entry).
    chain: u128,
}

/// GCRA buckets for any number of keys and limits, bounded in memory (see the module docs).
pub struct Limiter {
    table: HashTable<Bucket>,
    hasher: DefaultHashBuilder,
    max_buckets: usize,
    sweep_at: usize,
    pending: Vec<Pending>,
    resets: Vec<u64>,
}

impl Limiter {
    /// `max_buckets` is clamped to at least 1.
    pub fn new(max_buckets: usize) -> Self {
        let max_buckets = max_buckets.max(1);
        Limiter {
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            max_buckets,
            sweep_at: MIN_SWEEP.min(max_buckets),
            pending: Vec::new(),
            resets: Vec::new(),
        }
    }

    /// Buckets held (some may be full and not yet swept).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn max_buckets(&self) -> usize {
        self.max_buckets
    }

    fn hash(&self, key: &str, limit: &Limit) -> u64 {
        let mut h = self.hasher.build_hasher();
        key.hash(&mut h);
        limit.hash(&mut h);
        h.finish()
    }

    /// Check every limit; if all have room, consume all of them, else none. `states` receives one
    /// [`State`] per check, in order: after consumption if allowed, the untouched current state if not.
    pub fn admit(&mut self, checks: &[Check<'_>], now_ns: i64, states: &mut Vec<State>) -> Verdict {
        self.maintain(now_ns, checks.len());
        states.clear();
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        let mut denied: Option<(usize, Option<u64>)> = None;
        for (i, c) in checks.iter().enumerate() {
            let lim = &**c.limit;
            let n = lim.ticks(now_ns);
            let hash = self.hash(c.key, lim);
            let dup = (0..i).find(|&j| {
                let p = &pending[j];
                p.first == j
                    && p.hash == hash
                    && checks[j].key == c.key
                    && (Arc::ptr_eq(checks[j].limit, c.limit) || *checks[j].limit == *c.limit)
            });
            let (slot, first, orig, before, chain) = match dup {
                Some(j) => {
                    let p = &pending[j];
                    (p.slot, j, p.orig, p.tail, p.chain + c.cost as u128)
                }
                None => {
                    let found = self
                        .table
                        .find_bucket_index(hash, |b| b.is(hash, c.key, c.limit));
                    let orig = match found {
                        Some(ix) => self.table.get_bucket(ix).map_or(n, |b| b.tat),
                        None => n,
                    };
                    (found.unwrap_or(usize::MAX), i, orig, orig, c.cost as u128)
                }
            };
            let new = before.max(n) + c.cost as i128 * lim.unit();
            if dup.is_some() {
                pending[first].tail = new;
                pending[first].chain = chain;
            }
            pending.push(Pending {
                hash,
                slot,
                first,
                orig,
                new,
                tail: new,
                chain,
            });
            let excess = new - n - lim.capacity();
            if excess > 0 {
                let wait = if chain > lim.burst as u128 {
                    None
                } else {
                    Some(ceil_div(excess, lim.rate as i128) as u64)
                };
                denied = match denied {
                    None => Some((i, wait)),
                    Some((_, Some(w))) if wait.is_none_or(|v| v > w) => Some((i, wait)),
                    keep => keep,
                };
            }
        }
        let verdict = match denied {
            Some((by, retry_after_ns)) => {
                for (c, p) in checks.iter().zip(&pending) {
                    states.push(c.limit.state(p.orig, c.limit.ticks(now_ns)));
                }
                Verdict::Denied { by, retry_after_ns }
            }
            None => {
                for (i, (c, p)) in checks.iter().zip(&pending).enumerate() {
                    states.push(c.limit.state(p.new, c.limit.ticks(now_ns)));
                    if p.first == i && p.slot != usize::MAX {
                        if let Some(b) = self.table.get_bucket_mut(p.slot) {
                            b.tat = p.tail;
                        }
                    }
                }
                // Inserting may move buckets, so new ones go in after every update by index.
                for (i, (c, p)) in checks.iter().zip(&pending).enumerate() {
                    if p.first == i && p.slot == usize::MAX && p.tail > c.limit.ticks(now_ns) {
                        self.insert(p.hash, c.key, c.limit, p.tail);
                    }
                }
                Verdict::Allowed
            }
        };
        self.pending = pending;
        verdict
    }

    /// Adjust `key`'s bucket by `delta` units (actual − estimated cost): a positive delta consumes
    /// more, even past empty (debt: later checks wait until it is paid back); a negative one refunds,
    /// but never past full. No bucket is created for a delta that leaves it full.
    pub fn settle(&mut self, key: &str, limit: &Arc<Limit>, delta: i64, now_ns: i64) {
        self.maintain(now_ns, 1);
        let lim = &**limit;
        let n = lim.ticks(now_ns);
        let hash = self.hash(key, lim);
        let apply = |tat: i128| {
            let moved = tat.max(n) + delta as i128 * lim.unit();
            moved.clamp(n, n + MAX_AHEAD_NS * lim.rate as i128)
        };
        match self.table.find_mut(hash, |b| b.is(hash, key, limit)) {
            Some(b) => b.tat = apply(b.tat),
            None => {
                let tat = apply(n);
                if tat > n {
                    self.insert(hash, key, limit, tat);
                }
            }
        }
    }

    /// The state of `key`'s bucket now, consuming nothing.
    pub fn peek(&self, key: &str, limit: &Arc<Limit>, now_ns: i64) -> State {
        let n = limit.ticks(now_ns);
        let hash = self.hash(key, limit);
        let tat = self
            .table
            .find(hash, |b| b.is(hash, key, limit))
            .map_or(n, |b| b.tat);
        limit.state(tat, n)
    }

    fn insert(&mut self, hash: u64, key: &str, limit: &Arc<Limit>, tat: i128) {
        let bucket = Bucket {
            key: key.into(),
            limit: Arc::clone(limit),
            hash,
            tat,
        };
        self.table.insert_unique(hash, bucket, |b| b.hash);
    }

    /// Keep the table bounded before a call that may add up to `incoming` buckets (module docs).
    fn maintain(&mut self, now_ns: i64, incoming: usize) {
        if self.table.len() + incoming <= self.sweep_at {
            return;
        }
        let low = self.max_buckets - self.max_buckets / 8;
        let ahead = |b: &Bucket| b.tat - b.limit.ticks(now_ns);
        self.resets.clear();
        if self.table.len() + incoming > low {
            // Eviction may follow: rank the survivors in the same pass (one pass over 100k buckets
            // costs ~0.6 ms here, memory-bound).
            let resets = &mut self.resets;
            self.table.retain(|b| {
                let a = ahead(b);
                if a > 0 {
                    resets.push(b.limit.reset_ns(a));
                }
                a > 0
            });
        } else {
            self.table.retain(|b| ahead(b) > 0);
        }
        let len = self.table.len();
        if len > 0 && len + incoming > low {
            let count = (len + incoming - low).min(len);
            let (_, &mut threshold, _) = self.resets.select_nth_unstable(count - 1);
            // ceil(ahead / rate) > threshold  <=>  ahead > threshold * rate: no division here.
            self.table
                .retain(|b| ahead(b) > threshold as i128 * b.limit.rate as i128);
        }
        self.resets.clear();
        self.sweep_at =
            (2 * self.table.len()).clamp(MIN_SWEEP.min(self.max_buckets), self.max_buckets);
    }
}

fn ceil_div(a: i128, b: i128) -> i128 {
    // a >= 0, b > 0 everywhere it is used.
    (a + b - 1) / b
}
