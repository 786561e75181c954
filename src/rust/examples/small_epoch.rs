//! Time per fused epoch of the article network on the small path:
//! `cargo run --release --example small_epoch` (ACT=relu etc. for another activation).
use backprop::activation::Activation;
use backprop::loss::Loss;
use backprop::architecture::{Architecture, BiasLayout};
use backprop::small::SmallNet;
use std::time::Instant;
fn main() {
    let x = [1., 1., 0., 0., 0., 1., 1., 1., 0., 0., 1., 1.];
    let y = [1., 1., 0.];
    let arch = Architecture::new(vec![4, 3, 1], vec![std::env::var("ACT").map(|a| Activation::parse(&a).unwrap()).unwrap_or(Activation::Sigmoid); 2], BiasLayout::Row, 3).unwrap();
    let p: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 37) % 11) as f64 / 11.0 - 0.5).collect();
    let mut net = SmallNet::new(&arch, &x, &y, &p, 3);
    let reps: usize = std::env::var("REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(net.descend(Loss::Sse, 1.0, 0.1, 0.0));
        }
        best = best.min(t.elapsed().as_nanos() as f64 / reps as f64);
    }
    println!("small epoch with its fused step: {:.1} ns", best);
}
