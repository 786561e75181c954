//! An Adam epoch (batch 256, 100 inputs, 64 sigmoid hidden, linear output)
//! over 10^6 rows against the same over 10^5, the sizes alternating in one
//! process: `cargo run --release --example rows_scale [threads] [rounds]`.
//! bench/scaling.R measures the same through R, each size in its own process.
//! The small size is timed twice: by its fastest epoch, as scaling.R does,
//! and by its fastest run of ten epochs, the rows of one large epoch (the
//! fastest of many short epochs is the luckier draw).
use backprop::activation::Activation;
use backprop::architecture::{Architecture, BiasLayout};
use backprop::config::TrainConfig;
use backprop::dataset::Dataset;
use backprop::loss::Loss;
use backprop::optimizer::Optimizer;
use backprop::progress::Control;
use backprop::train::train;
use std::time::Instant;

/// The fastest time per epoch of a fit of `epochs` epochs over `n` rows,
/// timed over runs of `block` epochs between the callbacks that end them.
fn fastest_epoch(n: usize, epochs: usize, threads: usize, block: usize) -> f64 {
    let d = 100;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<f64> = (0..n * d).map(|_| uniform()).collect();
    let y: Vec<f64> = (0..n).map(|i| x[i] - x[n + i]).collect();
    let arch = Architecture::new(vec![d, 64, 1], vec![Activation::Sigmoid, Activation::Linear], BiasLayout::Column, n).unwrap();
    let mut p: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 37) % 11) as f64 / 110.0 - 0.05).collect();
    let cfg = TrainConfig { threads, seed: 7, ..TrainConfig::new(Loss::Mse, Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 1e-3, epochs, 256) };
    let mut stamps = Vec::new();
    train(&arch, &mut p, Dataset::new(&x, &y, n), None, &cfg, &mut |pr| {
        if pr.epoch_done {
            stamps.push(Instant::now());
        }
        Control::Continue
    });
    stamps.windows(block + 1).step_by(block).map(|w| w[block].duration_since(w[0]).as_secs_f64() / block as f64).fold(f64::INFINITY, f64::min)
}

fn main() {
    let threads: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let rounds: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let (mut small, mut large) = (f64::INFINITY, f64::INFINITY);
    for round in 1..=rounds {
        let s1 = fastest_epoch(100_000, 16, threads, 1);
        let s = fastest_epoch(100_000, 51, threads, 10);
        let l = fastest_epoch(1_000_000, 6, threads, 1);
        println!("round {}: 10^5 rows {:.4} s (fastest single epoch {:.4}), 10^6 rows {:.3} s per epoch; ratio {:.2} ({:.2})", round, s, s1, l, l / s, l / s1);
        small = small.min(s);
        large = large.min(l);
    }
    println!("fastest: ratio {:.2} (at most 10.5)", large / small);
}
