//! Worker threads. Each thread count gets its own rayon pool, made on first
//! use and kept: rayon's global pool would start one thread per core on first
//! use, more than a caller who asked for 2 (CRAN's limit in tests) wants.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(|| Mutex::new(HashMap::new())).lock().ok()?;
    if let Some(p) = pools.get(&threads) {
        return Some(p.clone());
    }
    let p = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(threads).build().ok()?);
    pools.insert(threads, p.clone());
    Some(p)
}

/// Runs `op` inside a pool of `threads` workers, so that the rayon calls in it
/// (scope, join) use at most that many threads. With one thread, or if no
/// pool can be made, `op` runs on the calling thread.
pub fn install<R: Send>(threads: usize, op: impl FnOnce() -> R + Send) -> R {
    if threads <= 1 {
        return op();
    }
    match pool(threads) {
        Some(p) => p.install(op),
        None => op(),
    }
}

/// Runs `left` and `right` on two workers when `parallel`, else one after
/// the other: for work split in two halves that do not depend on each other.
pub fn in_halves<A: Send, B: Send>(parallel: bool, left: impl FnOnce() -> A + Send, right: impl FnOnce() -> B + Send) -> (A, B) {
    if parallel {
        install(2, || rayon::join(left, right))
    } else {
        (left(), right())
    }
}

/// Calls `f(part)` for every part in `0..parts`, spread over `threads`
/// workers. `rayon::join` keeps its jobs on the stack, so, unlike spawning
/// into a scope, this allocates nothing: it runs inside the epoch loop.
pub fn for_each_part(threads: usize, parts: usize, f: &(impl Fn(usize) + Sync)) {
    fn split(lo: usize, hi: usize, f: &(impl Fn(usize) + Sync)) {
        if hi - lo <= 1 {
            if hi > lo {
                f(lo);
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        rayon::join(|| split(lo, mid, f), || split(mid, hi, f));
    }
    if threads <= 1 || parts <= 1 {
        (0..parts).for_each(f);
    } else {
        install(threads, || split(0, parts, f));
    }
}

/// Calls `f(first_column, columns)` on `groups` runs of whole columns of a
/// column-major block with `rows` rows, spread over as many workers, without
/// allocating (the block is halved with `split_at_mut` under `rayon::join`).
pub fn for_each_column_group<T: Send>(z: &mut [T], rows: usize, groups: usize, threads: usize, f: &(impl Fn(usize, &mut [T]) + Sync)) {
    fn split<T: Send>(z: &mut [T], rows: usize, first: usize, groups: usize, f: &(impl Fn(usize, &mut [T]) + Sync)) {
        let cols = z.len() / rows;
        if groups <= 1 || cols <= 1 {
            f(first, z);
            return;
        }
        let left_groups = groups / 2;
        let left_cols = cols * left_groups / groups;
        let (left, right) = z.split_at_mut(left_cols * rows);
        rayon::join(|| split(left, rows, first, left_groups, f), || split(right, rows, first + left_cols, groups - left_groups, f));
    }
    if rows == 0 || z.is_empty() {
        return;
    }
    install(threads, || split(z, rows, 0, groups, f));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_part_runs_once() {
        for parts in [0, 1, 2, 3, 7] {
            let hits: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
            for_each_part(2, parts, &|p| {
                hits[p].fetch_add(1, Ordering::Relaxed);
            });
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn column_groups_cover_every_column_once_with_the_right_index() {
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
        }
    }
}
