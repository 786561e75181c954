//! DGEMM rate of the crate's matrix product: `cargo run --release --example gemm_rate [threads]`.
use backprop::linalg::{matmul, Operand};
use std::time::Instant;

fn main() {
    let threads: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    for &n in &[512usize, 1024, 2048] {
        let a: Vec<f64> = (0..n * n).map(|i| (i % 7) as f64 * 0.1).collect();
        let b: Vec<f64> = (0..n * n).map(|i| (i % 5) as f64 * 0.1).collect();
        let mut c = vec![0.0; n * n];
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            matmul(&mut c, Operand::new(&a, n, n), Operand::new(&b, n, n), false, threads);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("n = {}: {:.1} GFLOP/s with {} thread(s)", n, 2.0 * (n * n * n) as f64 / best / 1e9, threads);
    }
}
