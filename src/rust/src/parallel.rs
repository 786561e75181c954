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
