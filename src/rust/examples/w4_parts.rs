//! Where a W4 epoch goes (60000 x 784, 128 sigmoid hidden, 10 sigmoid
//! outputs, Adam, batch 256): a minibatch loop on a row-major copy of X,
//! written out with a clock around each part, in one workspace (the engine
//! splits batches of 256 rows or more into shards); the last line times the
//! engine itself.
//! `cargo run --release --example w4_parts [threads] [batch]`.
use backprop::activation::Activation;
use backprop::architecture::{Architecture, BiasLayout};
use backprop::layers::{backward, forward, Network, Rows, Workspace};
use backprop::loss::Loss;
use backprop::optimizer::{Optimizer, Stepper};
use backprop::config::TrainConfig;
use backprop::dataset::Dataset;
use backprop::progress::Control;
use backprop::train::train;
use std::time::Instant;

fn main() {
    let threads: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let batch: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(256);
    let (n, d, h, o) = (60000usize, 784usize, 128usize, 10usize);
    let x: Vec<f64> = (0..n * d).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
    let y: Vec<f64> = (0..n * o).map(|i| if (i / n) == (i % n) % o { 1.0 } else { 0.0 }).collect();
    let arch = Architecture::new(vec![d, h, o], vec![Activation::Sigmoid; 2], BiasLayout::Column, n).unwrap();
    let net = Network::new(&arch);
    let mut ws = Workspace::new(&net, batch);
    let mut p: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 37) % 11) as f64 / 110.0 - 0.05).collect();
    let mut stepper = Stepper::new(Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 1e-3, arch.n_params());
    let order: Vec<usize> = (0..n).map(|i| (i * 7907) % n).collect();
    let (mut xb, mut yb) = (vec![0.0; batch * d], vec![0.0; batch * o]);
    let mut x_rows = vec![0.0; n * d];
    for i in 0..n {
        for j in 0..d {
            x_rows[i * d + j] = x[j * n + i];
        }
    }
    let mut t = [0.0f64; 4];
    for _ in 0..2 {
        t = [0.0; 4];
        for chunk in order.chunks(batch) {
            let rows = chunk.len();
            let c = Instant::now();
            // The engine's path for fits of more than one epoch: rows copied
            // from the one-time row-major copy of X.
            for (dst, &i) in xb.chunks_exact_mut(d).zip(chunk) {
                dst.copy_from_slice(&x_rows[i * d..(i + 1) * d]);
            }
            for j in 0..o {
                let col = &y[j * n..(j + 1) * n];
                yb[j * rows..(j + 1) * rows].iter_mut().zip(chunk).for_each(|(v, &i)| *v = col[i]);
            }
            let c1 = Instant::now();
            let xr = Rows::by_row(&xb[..rows * d], rows, d);
            forward(&net, &p, xr, &mut ws, None, threads);
            let c2 = Instant::now();
            backward(&net, &p, xr, &yb, None, Loss::Sse, 1.0 / rows as f64, &mut ws, threads);
            let c3 = Instant::now();
            stepper.step(&mut p, &ws.grads, threads);
            let c4 = Instant::now();
            for (k, (a, b)) in [(c, c1), (c1, c2), (c2, c3), (c3, c4)].into_iter().enumerate() {
                t[k] += b.duration_since(a).as_secs_f64();
            }
        }
    }
    let total: f64 = t.iter().sum();
    let flops = 4.0 * (n * d * h) as f64 + 6.0 * (n * h * o) as f64;
    println!("W4 epoch, batch {}, {} thread(s): {:.3} s = gather {:.3} + forward {:.3} + backward {:.3} + adam {:.3}; {:.1} GFLOP/s in the passes",
        batch, threads, total, t[0], t[1], t[2], t[3], flops / (t[1] + t[2]) / 1e9);
    // The engine itself: a fit of one epoch (gathering from the column-major
    // data) and the epochs of a longer fit (from its row-major copy).
    let fit = |epochs: usize| {
        let cfg = TrainConfig { threads, ..TrainConfig::new(Loss::Sse, Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 1e-3, epochs, batch) };
        let mut best = f64::INFINITY;
        for _ in 0..2 {
            let mut q = p.clone();
            let c = Instant::now();
            train(&arch, &mut q, Dataset::new(&x, &y, n), None, &cfg, &mut |_| Control::Continue);
            best = best.min(c.elapsed().as_secs_f64());
        }
        best
    };
    let (one, three) = (fit(1), fit(3));
    println!("train(): a 1-epoch fit {:.3} s; a 3-epoch fit {:.3} s, {:.3} s per epoch after its copy", one, three, (three - fit(2)));
}
