//! Time per epoch of the article's network (3 x 4 inputs, 3 hidden, 1 output,
//! row biases) in the training core alone: `cargo run --release --example article_epochs`.
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
    let x = [1., 1., 0., 0., 0., 1., 1., 1., 0., 0., 1., 1.];
    let y = [1., 1., 0.];
    let arch = Architecture::new(vec![4, 3, 1], vec![Activation::Sigmoid; 2], BiasLayout::Row, 3).unwrap();
    let cfg = TrainConfig::new(Loss::Sse, Optimizer::Gd, 0.1, 200_000, 3);
    let mut best = f64::INFINITY;
    let runs: usize = std::env::var("RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(7);
    for _ in 0..runs {
        let mut p: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 37) % 11) as f64 / 11.0 - 0.5).collect();
        let t = Instant::now();
        let h = train(&arch, &mut p, Dataset::new(&x, &y, 3), None, &cfg, &mut |_| Control::Continue);
        let ns = t.elapsed().as_nanos() as f64 / cfg.epochs as f64;
        assert!(h.loss.last().unwrap().is_finite());
        best = best.min(ns);
    }
    println!("article network: {:.0} ns per epoch (best of {} runs of {} epochs)", best, runs, cfg.epochs);
}
