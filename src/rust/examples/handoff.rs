//! What handing work to a second thread costs after `gap_us` of work on the
//! calling thread alone: the crate's team (`parallel::for_each_part`, whose
//! helpers stay awake between jobs) against a worker that sleeps on a
//! condition variable whenever it is idle, as a thread pool's do.
//! `cargo run --release --example handoff [gap_us]`.
use backprop::parallel::for_each_part;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

fn busy(us: u64) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_micros(us) {
        std::hint::spin_loop();
    }
}

fn main() {
    let gap: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let (reps, part) = (2000, 20);
    let per_rep = |t: Instant| t.elapsed().as_secs_f64() * 1e6 / reps as f64 - (gap + part) as f64;
    let t = Instant::now();
    for _ in 0..reps {
        busy(gap);
        for_each_part(2, 2, &|_| busy(part));
    }
    let team_us = per_rep(t);
    // (job number posted, job number done)
    let state = Arc::new((Mutex::new((0usize, 0usize)), Condvar::new()));
    let worker = {
        let state = state.clone();
        std::thread::spawn(move || {
            let (lock, cv) = &*state;
            for k in 1..=reps {
                let mut s = cv.wait_while(lock.lock().unwrap(), |s| s.0 < k).unwrap();
                drop(s);
                busy(part);
                s = lock.lock().unwrap();
                s.1 = k;
                cv.notify_all();
            }
        })
    };
    let (lock, cv) = &*state;
    let t = Instant::now();
    for k in 1..=reps {
        busy(gap);
        lock.lock().unwrap().0 = k;
        cv.notify_all();
        busy(part);
        drop(cv.wait_while(lock.lock().unwrap(), |s| s.1 < k).unwrap());
    }
    let sleeping_us = per_rep(t);
    worker.join().unwrap();
    println!("after {} us alone, a hand-off costs {:.1} us to the team, {:.1} us to a sleeping worker", gap, team_us, sleeping_us);
}
