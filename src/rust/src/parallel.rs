//! Worker threads that stay awake between the parts of a fit.
//!
//! A minibatch step hands work to the other threads several times (the
//! shards' passes, a product's bands, an activation's columns), each time
//! after the calling thread alone did some serial work (the optimizer's
//! step, the callback). Workers that go to sleep as soon as they are idle,
//! as rayon's do, take tens of microseconds to wake on a virtual machine:
//! as long as a shard's whole pass at small batches. A [`Team`]'s helpers
//! spin for a while after each job instead, and sleep only when no job has
//! come for [`SPIN`].
//!
//! Each thread count has its own team, made on first use and kept; its
//! helpers are `threads - 1` threads, the caller being the last. A team runs
//! one job at a time: a job started while it is busy (from within one of its
//! jobs, say) runs on the calling thread alone.

use std::any::Any;
use std::collections::HashMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant};

/// How long an idle helper waits awake for the next job.
const SPIN: Duration = Duration::from_millis(2);

/// How long a waiting thread spins before it yields its core between looks.
const SPIN_HARD: Duration = Duration::from_micros(20);

/// The most parts one job hands out (they are counted in 16 bits).
const MAX_PARTS: usize = 0xFFFF;

/// A job: `parts` calls of `f`, on the caller's stack while it runs.
struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
    done: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Job<'_> {
    /// Runs part `i`, keeping a panic to be raised by the caller once every
    /// part is done (the parts borrow from the caller's stack).
    fn run_part(&self, i: usize) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (self.f)(i))) {
            lock(&self.panic).get_or_insert(payload);
        }
        self.done.fetch_add(1, Ordering::Release);
    }
}

struct Team {
    /// The current job's generation (high 32 bits), its part count (16
    /// bits) and its next unclaimed part (low 16 bits), so that a part is
    /// claimed only from the job that is current.
    work: AtomicU64,
    /// The current job (valid while one of its parts is unclaimed or running).
    job: AtomicPtr<Job<'static>>,
    /// Helpers asleep, or about to sleep, on `wake`.
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
    /// Held by the caller while its job runs.
    busy: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn generation(work: u64) -> u64 {
    work >> 32
}

impl Team {
    fn new(threads: usize) -> Option<Arc<Team>> {
        let team = Arc::new(Team {
            work: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            busy: Mutex::new(()),
        });
        for k in 1..threads {
            let helper = team.clone();
            std::thread::Builder::new().name(format!("backprop-{}", k)).spawn(move || helper.serve()).ok()?;
        }
        Some(team)
    }

    /// Claims the next part of generation `gen`'s job, if any is left.
    fn claim(&self, gen: u64) -> Option<usize> {
        let mut work = self.work.load(Ordering::Acquire);
        loop {
            let (parts, next) = ((work >> 16) & 0xFFFF, work & 0xFFFF);
            if generation(work) != gen || next >= parts {
                return None;
            }
            match self.work.compare_exchange_weak(work, work + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(next as usize),
                Err(now) => work = now,
            }
        }
    }

    /// Runs the parts it can claim of generation `gen`'s job.
    fn take_parts(&self, gen: u64) {
        while let Some(i) = self.claim(gen) {
            // SAFETY: the job is published before its generation, and its
            // caller waits for this claimed part before it returns.
            let job = unsafe { &*self.job.load(Ordering::Acquire) };
            job.run_part(i);
        }
    }

    /// A helper's life: wait for a job newer than the last one seen, help with it.
    fn serve(&self) {
        let mut seen = 0;
        loop {
            let work = self.next_job(seen);
            seen = generation(work);
            self.take_parts(seen);
        }
    }

    /// Waits for a generation other than `seen`: awake for [`SPIN`], then asleep.
    fn next_job(&self, seen: u64) -> u64 {
        let start = Instant::now();
        loop {
            let work = self.work.load(Ordering::Acquire);
            if generation(work) != seen {
                return work;
            }
            let waited = start.elapsed();
            if waited < SPIN_HARD {
                std::hint::spin_loop();
            } else if waited < SPIN {
                std::thread::yield_now();
            } else {
                break;
            }
        }
        // The caller publishes a job, then looks for sleepers; a helper
        // counts itself a sleeper, then looks for a job, under the lock the
        // caller takes to wake it: one of the two sees the other.
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let mut guard = lock(&self.sleep);
        loop {
            let work = self.work.load(Ordering::SeqCst);
            if generation(work) != seen {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return work;
            }
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Runs `f(0..parts)` with the helpers (`parts` <= [`MAX_PARTS`]).
    fn run(&self, parts: usize, f: &(dyn Fn(usize) + Sync)) {
        debug_assert!(parts <= MAX_PARTS);
        let job = Job { f, done: AtomicUsize::new(0), panic: Mutex::new(None) };
        // The lifetime is erased for the pointer only: helpers use the job
        // while this call waits for them.
        self.job.store(&job as *const Job as *mut Job<'static>, Ordering::Release);
        let gen = (generation(self.work.load(Ordering::Relaxed)) + 1) & 0xFFFF_FFFF;
        self.work.store(gen << 32 | (parts as u64) << 16, Ordering::SeqCst);
        // Correctness never waits on a helper: the caller claims every part
        // no helper takes. So a wake-up may be skipped when the lock is
        // held (a helper about to sleep, or, in a process forked from this
        // one, a helper that no longer exists): it costs that job its help.
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            if let Ok(_guard) = self.sleep.try_lock() {
                self.wake.notify_all();
            }
        }
        self.take_parts(gen);
        let start = Instant::now();
        while job.done.load(Ordering::Acquire) < parts {
            if start.elapsed() < SPIN_HARD {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let payload = lock(&job.panic).take();
        if let Some(payload) = payload {
            resume_unwind(payload);
        }
    }
}

fn team(threads: usize) -> Option<Arc<Team>> {
    static TEAMS: OnceLock<Mutex<HashMap<usize, Arc<Team>>>> = OnceLock::new();
    let mut teams = lock(TEAMS.get_or_init(|| Mutex::new(HashMap::new())));
    if let Some(t) = teams.get(&threads) {
        return Some(t.clone());
    }
    let t = Team::new(threads)?;
    teams.insert(threads, t.clone());
    Some(t)
}

/// Calls `f(part)` for every part in `0..parts`, spread over `threads`
/// workers (the calling thread one of them); parts go to whichever worker
/// is free. Allocates nothing once the team exists: it runs inside the
/// epoch loop.
pub fn for_each_part(threads: usize, parts: usize, f: &(impl Fn(usize) + Sync)) {
    let serial = || (0..parts).for_each(f);
    if threads <= 1 || parts <= 1 {
        return serial();
    }
    let Some(team) = team(threads) else { return serial() };
    let _busy = match team.busy.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(e)) => e.into_inner(),
        Err(TryLockError::WouldBlock) => return serial(),
    };
    if parts <= MAX_PARTS {
        team.run(parts, f);
    } else {
        let per = parts.div_ceil(MAX_PARTS);
        team.run(parts.div_ceil(per), &|p| (p * per..((p + 1) * per).min(parts)).for_each(f));
    }
}

/// A pointer that workers share, each using a disjoint part of what it points to.
struct Shared<T>(*mut T);

impl<T> Shared<T> {
    fn at(&self, offset: usize) -> *mut T {
        // SAFETY (of the callers): offsets stay within the shared slice.
        self.0.wrapping_add(offset)
    }
}
// SAFETY: every user hands each worker a disjoint part (see below).
unsafe impl<T: Send> Sync for Shared<T> {}
unsafe impl<T: Send> Send for Shared<T> {}

/// Runs `left` and `right` on two workers when `parallel`, else one after
/// the other: for work split in two halves that do not depend on each other.
pub fn in_halves<A: Send, B: Send>(parallel: bool, left: impl FnOnce() -> A + Send, right: impl FnOnce() -> B + Send) -> (A, B) {
    if !parallel {
        return (left(), right());
    }
    let (left, right) = (Mutex::new(Some(left)), Mutex::new(Some(right)));
    let (a, b) = (Mutex::new(None), Mutex::new(None));
    for_each_part(2, 2, &|half| {
        if half == 0 {
            let f = lock(&left).take().expect("each half runs once");
            *lock(&a) = Some(f());
        } else {
            let f = lock(&right).take().expect("each half runs once");
            *lock(&b) = Some(f());
        }
    });
    let a = a.into_inner().unwrap_or_else(|e| e.into_inner()).expect("the left half ran");
    let b = b.into_inner().unwrap_or_else(|e| e.into_inner()).expect("the right half ran");
    (a, b)
}

/// Calls `f(i, &mut items[i])` for every item, spread over `threads` workers.
pub fn for_each_mut<S: Send>(threads: usize, items: &mut [S], f: &(impl Fn(usize, &mut S) + Sync)) {
    let base = Shared(items.as_mut_ptr());
    // SAFETY: part i alone uses items[i], and i < items.len().
    for_each_part(threads, items.len(), &|i| f(i, unsafe { &mut *base.at(i) }));
}

/// Calls `f(first_row, rows)` on consecutive blocks of at most `block` rows
/// of a row-major matrix with `cols` columns, spread over `threads` workers.
pub fn for_each_row_block<T: Send>(z: &mut [T], cols: usize, block: usize, threads: usize, f: &(impl Fn(usize, &mut [T]) + Sync)) {
    let rows = if cols == 0 { 0 } else { z.len() / cols };
    let blocks = rows.div_ceil(block.max(1));
    let base = Shared(z.as_mut_ptr());
    for_each_part(threads, blocks, &|b| {
        let (first, last) = (b * block, ((b + 1) * block).min(rows));
        // SAFETY: blocks are disjoint runs of whole rows within z.
        f(first, unsafe { std::slice::from_raw_parts_mut(base.at(first * cols), (last - first) * cols) })
    });
}

/// Calls `f(first_column, columns)` on `groups` runs of whole columns of a
/// column-major block with `rows` rows, spread over `threads` workers.
pub fn for_each_column_group<T: Send>(z: &mut [T], rows: usize, groups: usize, threads: usize, f: &(impl Fn(usize, &mut [T]) + Sync)) {
    if rows == 0 || z.is_empty() {
        return;
    }
    let cols = z.len() / rows;
    let groups = groups.clamp(1, cols.max(1));
    let base = Shared(z.as_mut_ptr());
    for_each_part(threads, groups, &|g| {
        let (first, last) = (cols * g / groups, cols * (g + 1) / groups);
        // SAFETY: groups are disjoint runs of whole columns within z.
        f(first, unsafe { std::slice::from_raw_parts_mut(base.at(first * rows), (last - first) * rows) })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_part_runs_once() {
        for threads in [1, 2, 3] {
            for parts in [0, 1, 2, 3, 7, 1000] {
                let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
                for _ in 0..50 {
                    for_each_part(threads, parts, &|p| {
                        hits[p].fetch_add(1, Ordering::Relaxed);
                    });
                }
                assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 50), "threads {} parts {}", threads, parts);
            }
        }
        // More parts than one job counts, and a nested job (run in place).
        let parts = MAX_PARTS * 2 + 5;
        let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
        for_each_part(2, parts, &|p| {
            hits[p].fetch_add(1, Ordering::Relaxed);
        });
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
        let nested = AtomicUsize::new(0);
        for_each_part(2, 4, &|_| for_each_part(2, 3, &|_| {
            nested.fetch_add(1, Ordering::Relaxed);
        }));
        assert_eq!(nested.load(Ordering::Relaxed), 12);
    }

    #[test]
    fn helpers_wake_after_sleeping() {
        let count = AtomicUsize::new(0);
        for _ in 0..3 {
            std::thread::sleep(SPIN * 3);
            for_each_part(2, 64, &|_| {
                count.fetch_add(1, Ordering::Relaxed);
            });
        }
        assert_eq!(count.load(Ordering::Relaxed), 192);
    }

    #[test]
    fn a_panic_in_a_part_reaches_the_caller_after_every_part() {
        // A thread count no other test uses, so that its team is free (a
        // busy team's job runs in place, where a panic ends it at once).
        let done = AtomicUsize::new(0);
        let result = catch_unwind(AssertUnwindSafe(|| {
            for_each_part(7, 16, &|p| {
                if p == 5 {
                    panic!("part five fails");
                }
                done.fetch_add(1, Ordering::Relaxed);
            })
        }));
        assert!(result.is_err());
        assert_eq!(done.load(Ordering::Relaxed), 15);
        // The team still works.
        let hits = AtomicUsize::new(0);
        for_each_part(7, 16, &|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 16);
        assert_eq!(in_halves(true, || 1, || 2), (1, 2));
    }

    #[test]
    fn column_groups_and_row_blocks_cover_everything_once_with_the_right_index() {
        let rows = 3;
        for (cols, groups) in [(1, 2), (5, 2), (8, 3), (9, 4)] {
            let mut z: Vec<f64> = vec![0.0; rows * cols];
            for_each_column_group(&mut z, rows, groups, 2, &|first, group: &mut [f64]| {
                for (j, col) in group.chunks_exact_mut(rows).enumerate() {
                    col.iter_mut().for_each(|v| *v += (first + j) as f64 + 1.0);
                }
            });
            for j in 0..cols {
                assert!(z[j * rows..(j + 1) * rows].iter().all(|&v| v == j as f64 + 1.0), "cols {} groups {}", cols, groups);
            }
            let mut r: Vec<f64> = vec![0.0; rows * cols];
            for_each_row_block(&mut r, rows, 2, 2, &|first, block: &mut [f64]| {
                for (i, row) in block.chunks_exact_mut(rows).enumerate() {
                    row.iter_mut().for_each(|v| *v += (first + i) as f64 + 1.0);
                }
            });
            for i in 0..cols {
                assert!(r[i * rows..(i + 1) * rows].iter().all(|&v| v == i as f64 + 1.0));
            }
        }
        let mut items = vec![0usize; 9];
        for_each_mut(2, &mut items, &|i, item| *item += i + 1);
        assert_eq!(items, (1..=9).collect::<Vec<_>>());
    }
}
