//! Time of each product of one W4 minibatch step (256 rows x 784 inputs,
//! 128 hidden, 10 outputs), repeated over an epoch's 235 steps:
//! `cargo run --release --example w4_shapes [threads] [batch]`.
use backprop::linalg::{matmul, Operand};
use std::time::Instant;

fn main() {
    let threads: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let b: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(256);
    let (n, d, h) = (60000usize, 784usize, 128usize);
    let steps = n.div_ceil(b);
    // The batch row-major (b x d stored as d x b), as the engine holds it.
    let xr: Vec<f64> = (0..b * d).map(|i| (i % 13) as f64 * 0.01).collect();
    let w1: Vec<f64> = (0..d * h).map(|i| (i % 7) as f64 * 0.01).collect();
    let mut z1 = vec![0.0; b * h];
    let d1 = vec![0.3; b * h];
    let mut g1 = vec![0.0; d * h];
    let time = |label: &str, f: &mut dyn FnMut()| {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            for _ in 0..steps {
                f();
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        let flops = 2.0 * (n * d * h) as f64;
        println!("{:<30} {:>8.1} ms per epoch {:>7.1} GFLOP/s", label, best * 1e3, flops / best / 1e9);
    };
    let x = Operand::new(&xr, d, b).t();
    time("X_b . W1", &mut || matmul(&mut z1, x, Operand::new(&w1, d, h), false, threads));
    time("X_b^t . delta1", &mut || matmul(&mut g1, x.t(), Operand::new(&d1, b, h), false, threads));
}

