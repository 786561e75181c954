//! Seconds per full-batch epoch of the W3 network (60000 x 784, 128 sigmoid
//! hidden, 10 sigmoid outputs, "gd"), best of 3: `cargo run --release --example w3_epoch [threads]`.
use backprop::activation::Activation;
use backprop::loss::Loss;
use backprop::architecture::{Architecture, BiasLayout};
use backprop::optimizer::Optimizer;
use backprop::config::TrainConfig;
use backprop::dataset::Dataset;
use backprop::progress::Control;
use backprop::train::train;
use std::time::Instant;

fn main() {
    let threads: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let (n, d, h, o) = (60000usize, 784usize, 128usize, 10usize);
    let x: Vec<f64> = (0..n * d).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
    let y: Vec<f64> = (0..n * o).map(|i| if (i / n) == (i % n) % o { 1.0 } else { 0.0 }).collect();
    let arch = Architecture::new(vec![d, h, o], vec![Activation::Sigmoid; 2], BiasLayout::Column, n).unwrap();
    let mut p: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 37) % 11) as f64 / 110.0 - 0.05).collect();
    let cfg = TrainConfig { threads, ..TrainConfig::new(Loss::Sse, Optimizer::Gd, 1e-5, 2, n) };
    let mut best = f64::INFINITY;
    let mut last = Instant::now();
    train(&arch, &mut p, Dataset::new(&x, &y, n), None, &cfg, &mut |_| {
        let now = Instant::now();
        best = best.min(now.duration_since(last).as_secs_f64());
        last = now;
        Control::Continue
    });
    let flops = 4.0 * (n * d * h) as f64 + 6.0 * (n * h * o) as f64;
    println!("W3 epoch: {:.3} s with {} thread(s) = {:.1} GFLOP/s", best, threads, flops / best / 1e9);
}
