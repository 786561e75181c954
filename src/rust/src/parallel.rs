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
//! The process has one team, made on first use. Its helpers are numbered
//! from 1, and a job for `threads` threads is helped by helpers 1 to
//! `threads - 1` alone, the caller being the last; the others sleep. A job
//! for more threads than the team has helpers first adds helpers to it, up
//! to one less than the machine's cores ([`max_threads`]): the process never
//! has more helpers than that, however many thread counts it is asked for,
//! and none is ever dropped, so there is nothing to tear down or join while
//! a job runs (a thread that cannot be started is not tried again). A team
//! runs one job at a time: a job started while it is busy (from within one
//! of its jobs, say) runs on the calling thread alone, as does a job for
//! one thread or one part; wherever its parts run, a panic in one reaches
//! the caller after the last.
//! Which thread runs a part never changes what the part computes: the
//! callers split their work by its shape, not by the thread count.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant};

/// How long an idle helper waits awake for the next job.
const SPIN: Duration = Duration::from_millis(2);

/// How long a waiting thread spins before it yields its core between looks.
const SPIN_HARD: Duration = Duration::from_micros(20);

/// The most parts one job hands out (they are counted in 16 bits).
const MAX_PARTS: usize = 0xFFFF;

/// The most helpers a team has (a job's helpers are counted in 8 bits).
const MAX_HELPERS: usize = 0xFF;

/// Generations are counted in 24 bits.
const GENERATIONS: u64 = 0xFF_FFFF;

/// The most threads any call uses: the machine's cores, as
/// [`std::thread::available_parallelism`] counts them (which heeds the
/// process's CPU affinity and quota), at least 1.
pub fn max_threads() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_HELPERS + 1))
}

/// `threads` clamped to `1..=max_threads()`.
pub fn clamp_threads(threads: usize) -> usize {
    threads.clamp(1, max_threads())
}

/// A job: `parts` calls of `f`, on the caller's stack while it runs.
struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
    done: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl<'a> Job<'a> {
    fn new(f: &'a (dyn Fn(usize) + Sync)) -> Job<'a> {
        Job { f, done: AtomicUsize::new(0), panic: Mutex::new(None) }
    }

    /// Runs part `i`, keeping the first panic to be raised by the caller
    /// once every part is done (the parts borrow from the caller's stack).
    fn run_part(&self, i: usize) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (self.f)(i))) {
            lock(&self.panic).get_or_insert(payload);
        }
        self.done.fetch_add(1, Ordering::Release);
    }

    /// Raises the first panic of a part, once every part has run.
    fn finish(self) {
        let payload = self.panic.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(payload) = payload {
            resume_unwind(payload);
        }
    }
}

/// Runs every part on the calling thread, as a job, so that a panic reaches
/// the caller after the last part, as it does from a team's job.
fn in_place(parts: usize, f: &(dyn Fn(usize) + Sync)) {
    let job = Job::new(f);
    (0..parts).for_each(|i| job.run_part(i));
    job.finish();
}

struct Team {
    /// The current job's generation (high 24 bits), the helpers that may
    /// take part in it (numbers 1 to this, 8 bits), its part count (16 bits)
    /// and its next unclaimed part (low 16 bits), so that a part is claimed
    /// only from the job that is current.
    work: AtomicU64,
    /// The current job (valid while one of its parts is unclaimed or running).
    job: AtomicPtr<Job<'static>>,
    /// Per helper number: asleep, or about to sleep, on `wake`.
    asleep: Box<[AtomicBool]>,
    sleep: Mutex<()>,
    wake: Condvar,
    /// Held by the caller while its job runs, and while it adds helpers.
    busy: Mutex<()>,
    /// Helpers started, numbered 1 to this; only grows, under `busy`.
    helpers: AtomicUsize,
    /// The most helpers: the cap, lowered to the helpers there are when a
    /// thread cannot be started, so that it is not tried again.
    limit: AtomicUsize,
    /// The helpers' threads are named `{name}-{number}`.
    name: &'static str,
    /// Helpers whose thread has not ended.
    #[cfg(test)]
    live: AtomicUsize,
    /// Set by [`Team::close`]: each helper ends when it next waits for a job.
    #[cfg(test)]
    closing: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn generation(work: u64) -> u64 {
    work >> 40
}

/// The helpers that may take part in the job of `work`: numbers 1 to this.
fn allowed(work: u64) -> usize {
    ((work >> 32) & 0xFF) as usize
}

impl Team {
    /// A team without helpers yet, that will have at most `cap` of them.
    fn new(cap: usize, name: &'static str) -> Arc<Team> {
        let cap = cap.min(MAX_HELPERS);
        Arc::new(Team {
            work: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            asleep: (0..=cap).map(|_| AtomicBool::new(false)).collect(),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            busy: Mutex::new(()),
            helpers: AtomicUsize::new(0),
            limit: AtomicUsize::new(cap),
            name,
            #[cfg(test)]
            live: AtomicUsize::new(0),
            #[cfg(test)]
            closing: AtomicBool::new(false),
        })
    }

    /// Makes sure the team has `wanted` helpers (at most its limit),
    /// starting those it lacks; returns how many of them a job may use
    /// (fewer when a thread could not be started: then the limit is lowered
    /// to the helpers there are, and no thread is tried again). Called with
    /// `busy` held, by the one thread that may add helpers. Allocates
    /// nothing when it has them.
    fn ensure(self: &Arc<Self>, wanted: usize) -> usize {
        let wanted = wanted.min(self.limit.load(Ordering::Relaxed));
        let mut have = self.helpers.load(Ordering::Relaxed);
        while have < wanted && !self.closed() {
            let number = have + 1;
            let helper = self.clone();
            #[cfg(test)]
            self.live.fetch_add(1, Ordering::SeqCst);
            let started = std::thread::Builder::new().name(format!("{}-{}", self.name, number)).spawn(move || helper.serve(number));
            if started.is_err() {
                #[cfg(test)]
                self.live.fetch_sub(1, Ordering::SeqCst);
                self.limit.store(have, Ordering::Relaxed);
                break;
            }
            // Detached: a helper never ends (but in tests, see close).
            have = number;
            self.helpers.store(have, Ordering::Relaxed);
        }
        have.min(wanted)
    }

    /// Asks every helper to end: each does once it has finished the parts
    /// it claimed and waits for a job. Waits for nothing itself, so that it
    /// may be called while a job runs; jobs run after it run on their caller.
    #[cfg(test)]
    fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        let _guard = lock(&self.sleep);
        self.wake.notify_all();
    }

    /// True once the team is closed.
    #[cfg(test)]
    fn closed(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Only tests close a team.
    #[cfg(not(test))]
    #[inline(always)]
    fn closed(&self) -> bool {
        false
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

    /// Helper `number`'s life: wait for a job newer than the last one seen
    /// that it may take part in, help with it; end when the team closes.
    fn serve(&self, number: usize) {
        let mut seen = generation(self.work.load(Ordering::Acquire));
        while let Some(work) = self.next_job(number, seen) {
            seen = generation(work);
            self.take_parts(seen);
        }
        #[cfg(test)]
        self.live.fetch_sub(1, Ordering::SeqCst);
    }

    /// Waits for a job for helper `number` of a generation other than
    /// `seen`: awake for [`SPIN`], then asleep. None when the team closes
    /// (in tests; see [`Team::close`]).
    fn next_job(&self, number: usize, mut seen: u64) -> Option<u64> {
        let start = Instant::now();
        loop {
            let work = self.work.load(Ordering::Acquire);
            if generation(work) != seen {
                if number <= allowed(work) {
                    return Some(work);
                }
                // A job for fewer helpers: wait for the next one.
                seen = generation(work);
            }
            if self.closed() {
                return None;
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
        // The caller publishes a job, then looks for sleepers among the
        // helpers it allows; a helper marks itself asleep, then looks for a
        // job, under the lock the caller takes to wake it: one of the two
        // sees the other.
        self.asleep[number].store(true, Ordering::SeqCst);
        let mut guard = lock(&self.sleep);
        let found = loop {
            let work = self.work.load(Ordering::SeqCst);
            if generation(work) != seen {
                if number <= allowed(work) {
                    break Some(work);
                }
                seen = generation(work);
            }
            if self.closed() {
                break None;
            }
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        };
        self.asleep[number].store(false, Ordering::SeqCst);
        found
    }

    /// Runs `f(0..parts)` with helpers 1 to `helpers` (`parts` <=
    /// [`MAX_PARTS`], `helpers` <= the team's), `busy` held.
    fn run(&self, parts: usize, helpers: usize, f: &(dyn Fn(usize) + Sync)) {
        debug_assert!(parts <= MAX_PARTS && helpers <= self.helpers.load(Ordering::Relaxed));
        let job = Job::new(f);
        // The lifetime is erased for the pointer only: helpers use the job
        // while this call waits for them.
        self.job.store(&job as *const Job as *mut Job<'static>, Ordering::Release);
        let gen = (generation(self.work.load(Ordering::Relaxed)) + 1) & GENERATIONS;
        self.work.store(gen << 40 | (helpers as u64) << 32 | (parts as u64) << 16, Ordering::SeqCst);
        // Correctness never waits on a helper: the caller claims every part
        // no helper takes. So a wake-up may be skipped when the lock is
        // held (a helper about to sleep, or, in a process forked from this
        // one, a helper that no longer exists): it costs that job its help.
        if self.asleep[1..=helpers].iter().any(|a| a.load(Ordering::SeqCst)) {
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
        job.finish();
    }
}

/// The process's team: at most one helper fewer than [`max_threads`].
fn team() -> &'static Arc<Team> {
    static TEAM: OnceLock<Arc<Team>> = OnceLock::new();
    TEAM.get_or_init(|| Team::new(max_threads() - 1, "backprop"))
}

/// Calls `f(part)` for every part in `0..parts`, spread over `threads`
/// workers (the calling thread one of them, and at most [`max_threads`]);
/// parts go to whichever worker is free. A panic in a part reaches the
/// caller once every part has run, whichever thread runs them. Allocates
/// nothing once the team has its helpers: it runs inside the epoch loop.
pub fn for_each_part(threads: usize, parts: usize, f: &(impl Fn(usize) + Sync)) {
    if threads <= 1 || parts <= 1 {
        return in_place(parts, f);
    }
    run_on(team(), threads, parts, f);
}

fn run_on(team: &Arc<Team>, threads: usize, parts: usize, f: &(dyn Fn(usize) + Sync)) {
    // Busy first: a call that will run in place starts no helper.
    let _busy = match team.busy.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(e)) => e.into_inner(),
        Err(TryLockError::WouldBlock) => return in_place(parts, f),
    };
    let helpers = team.ensure(threads - 1);
    if helpers == 0 {
        return in_place(parts, f);
    }
    if parts <= MAX_PARTS {
        team.run(parts, helpers, f);
    } else {
        let per = parts.div_ceil(MAX_PARTS);
        team.run(parts.div_ceil(per), helpers, &|p| (p * per..((p + 1) * per).min(parts)).for_each(f));
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
        // Whether the team is free or busy with another test's job (then
        // the job runs in place), on one thread or on a team without
        // helpers, every part runs before the panic is raised.
        let no_helpers = Team::new(0, "test-none");
        for threads in [1, 7, 0] {
            let done = AtomicUsize::new(0);
            let part = |p: usize| {
                if p == 5 {
                    panic!("part five fails");
                }
                done.fetch_add(1, Ordering::Relaxed);
            };
            let result = catch_unwind(AssertUnwindSafe(|| {
                if threads == 0 {
                    run_on(&no_helpers, 4, 16, &part)
                } else {
                    for_each_part(threads, 16, &part)
                }
            }));
            assert!(result.is_err(), "threads {}", threads);
            assert_eq!(done.load(Ordering::Relaxed), 15, "threads {}", threads);
        }
        // The team still works.
        let hits = AtomicUsize::new(0);
        for_each_part(7, 16, &|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 16);
        assert_eq!(in_halves(true, || 1, || 2), (1, 2));
    }

    /// Waits up to five seconds for `done`.
    fn eventually(done: impl Fn() -> bool) -> bool {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > Duration::from_secs(5) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// Every part of a job on `team` for `threads` threads runs once; the
    /// names of the threads that ran parts.
    fn names_of_workers(team: &Arc<Team>, threads: usize, parts: usize) -> Vec<String> {
        let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
        let names = Mutex::new(Vec::new());
        run_on(team, threads, parts, &|p| {
            hits[p].fetch_add(1, Ordering::Relaxed);
            // Long enough parts for the helpers to join in.
            std::thread::sleep(Duration::from_micros(200));
            let name = std::thread::current().name().unwrap_or("").to_string();
            let mut names = lock(&names);
            if !names.contains(&name) {
                names.push(name);
            }
        });
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1), "threads {}", threads);
        names.into_inner().unwrap()
    }

    /// Asked for 2 to 30 threads in turn, a team of cap 5 grows to 5
    /// helpers and no further; a job uses helpers 1 to threads - 1 only.
    /// Closed while a job runs, the team finishes the job, its helpers end,
    /// and later jobs run on their caller.
    #[test]
    fn a_team_grows_to_its_cap_and_its_helpers_end_when_it_closes() {
        let team = Team::new(5, "test-grow");
        for threads in 2..=30 {
            let names = names_of_workers(&team, threads, 40);
            let helpers = (threads - 1).min(5);
            assert_eq!(team.helpers.load(Ordering::SeqCst), helpers);
            assert!(team.live.load(Ordering::SeqCst) <= 5);
            for name in names.iter().filter(|n| n.starts_with("test-grow-")) {
                let number: usize = name["test-grow-".len()..].parse().unwrap();
                assert!(number >= 1 && number <= helpers, "threads {}: helper {} took part", threads, number);
            }
        }
        // Back to 2 threads on the grown team: helper 1 alone helps.
        for _ in 0..5 {
            let names = names_of_workers(&team, 2, 40);
            assert!(names.iter().all(|n| !n.starts_with("test-grow-") || n == "test-grow-1"), "{:?}", names);
        }
        assert_eq!(team.live.load(Ordering::SeqCst), 5);
        // Close while another thread runs a job on the team.
        let started = AtomicBool::new(false);
        let count = AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                run_on(&team, 6, 24, &|_| {
                    started.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    count.fetch_add(1, Ordering::SeqCst);
                })
            });
            assert!(eventually(|| started.load(Ordering::SeqCst)));
            team.close();
        });
        assert_eq!(count.load(Ordering::SeqCst), 24);
        assert!(eventually(|| team.live.load(Ordering::SeqCst) == 0), "helpers still running");
        // No helper is left: the caller runs every part, and none is started.
        let names = names_of_workers(&team, 4, 10);
        assert_eq!(names.len(), 1);
        assert_eq!(team.live.load(Ordering::SeqCst), 0);
    }

    /// The process's team: asked for 2 to 30 threads, it never has more
    /// helpers than the machine has cores less one (the caller), counted by
    /// the team and, on Linux, among the process's threads.
    #[test]
    fn thread_counts_two_to_thirty_start_at_most_the_cores() {
        let cap = max_threads() - 1;
        #[cfg(target_os = "linux")]
        let helper_threads = || {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                // Helpers' names: "backprop-" and their number, at most 255
                // (the test binary's main thread is "backprop-" and 6 hex digits).
                .filter(|name| name.strip_prefix("backprop-").map(str::trim_end).is_some_and(|n| n.len() <= 3 && n.parse::<usize>().is_ok()))
                .count()
        };
        for threads in 2..=30 {
            let hits = AtomicUsize::new(0);
            for_each_part(threads, 64, &|_| {
                hits.fetch_add(1, Ordering::Relaxed);
            });
            assert_eq!(hits.load(Ordering::Relaxed), 64);
            assert!(team().live.load(Ordering::SeqCst) <= cap, "threads {}", threads);
            assert!(team().helpers.load(Ordering::SeqCst) <= cap);
            #[cfg(target_os = "linux")]
            assert!(helper_threads() <= cap, "threads {}: {} helper threads, cores {}", threads, helper_threads(), cap + 1);
        }
        assert_eq!(clamp_threads(0), 1);
        assert_eq!(clamp_threads(1_000_000), max_threads());
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
