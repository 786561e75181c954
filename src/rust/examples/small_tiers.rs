//! Time per epoch of each small-net kernel against the general passes over
//! the layers, on the shapes each kernel is for:
//! `cargo run --release --example small_tiers`.
//! A weight decay of 1e-300 (no effect on the numbers) turns the `Pair`
//! kernels off, so the same net then runs the `Narrow` one.
use backprop::activation::Activation;
use backprop::architecture::{Architecture, BiasLayout};
use backprop::epochs::{Epochs, Passes};
use backprop::loss::Loss;
use backprop::optimizer::Optimizer;
use backprop::small::SmallEngine;
use backprop::config::TrainConfig;
use backprop::dataset::Dataset;
use backprop::progress::Control;
use std::time::Instant;

fn ns_per_epoch(engine: &mut dyn Epochs<f64>, params: &mut [f64], epochs: usize) -> f64 {
    let mut sums = vec![0.0; engine.chunk()];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let mut done = 0;
        while done < epochs {
            let k = sums.len().min(epochs - done);
            done += engine.run(params, done + 1, &mut sums[..k], &mut |_| Control::Continue).epochs;
        }
        best = best.min(t.elapsed().as_nanos() as f64 / epochs as f64);
    }
    best
}

fn main() {
    let epochs: usize = std::env::var("EPOCHS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    println!("{:<34} {:>10} {:>10}", "net (rows, kernel)", "small ns", "layers ns");
    let cases: [(&str, &[usize], usize, Activation, f64); 5] = [
        ("4-3-1 sigmoid, 3 rows (pair4)", &[4, 3, 1], 3, Activation::Sigmoid, 0.0),
        ("4-3-1 sigmoid, 3 rows (narrow)", &[4, 3, 1], 3, Activation::Sigmoid, 1e-300),
        ("4-3-1 sigmoid, 8 rows (pair)", &[4, 3, 1], 8, Activation::Sigmoid, 0.0),
        ("4-3-1 sigmoid, 8 rows (narrow)", &[4, 3, 1], 8, Activation::Sigmoid, 1e-300),
        ("4-8-1 sigmoid, 8 rows (general)", &[4, 8, 1], 8, Activation::Sigmoid, 0.0),
    ];
    for (name, sizes, rows, act, decay) in cases {
        let arch = Architecture::new(sizes.to_vec(), vec![act; 2], BiasLayout::Column, rows).unwrap();
        let x: Vec<f64> = (0..rows * sizes[0]).map(|i| ((i * 7) % 5) as f64 / 5.0).collect();
        let y: Vec<f64> = (0..rows).map(|i| (i % 2) as f64).collect();
        let data = Dataset::new(&x, &y, rows);
        let mut cfg = TrainConfig::new(Loss::Sse, Optimizer::Gd, 0.1, epochs, rows);
        cfg.weight_decay = decay;
        let start: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 37) % 11) as f64 / 11.0 - 0.5).collect();
        let mut p = start.clone();
        let small = ns_per_epoch(&mut SmallEngine::new(&arch, data, &start, &cfg, false), &mut p, epochs);
        let mut p = start.clone();
        let layers = ns_per_epoch(&mut Passes::new(&arch, &cfg, data, rows), &mut p, epochs / 10);
        println!("{:<34} {:>10.0} {:>10.0}", name, small, layers);
    }
}
