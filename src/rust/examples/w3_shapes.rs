//! Time of each product of one epoch of the W3 network (60000 x 784, 128
//! hidden, 10 outputs): `cargo run --release --example w3_shapes [threads]`.
use backprop::linalg::{matmul, Operand};
use std::time::Instant;

fn main() {
    let threads: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let (n, d, h, o) = (60000usize, 784usize, 128usize, 10usize);
    let x: Vec<f64> = (0..n * d).map(|i| (i % 13) as f64 * 0.01).collect();
    let w1: Vec<f64> = (0..d * h).map(|i| (i % 7) as f64 * 0.01).collect();
    let w2: Vec<f64> = (0..h * o).map(|i| (i % 3) as f64 * 0.01).collect();
    let mut a1 = vec![0.0; n * h];
    let mut d1 = vec![0.0; n * h];
    let mut a2 = vec![0.0; n * o];
    let d2 = vec![0.5; n * o];
    let mut g1 = vec![0.0; d * h];
    let mut g2 = vec![0.0; h * o];
    let time = |label: &str, flops: f64, f: &mut dyn FnMut()| {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            f();
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{:<28} {:>8.1} ms {:>7.1} GFLOP/s", label, best * 1e3, flops / best / 1e9);
    };
    let f = 2.0 * (n * d * h) as f64;
    time("X . W1", f, &mut || matmul(&mut a1, Operand::new(&x, n, d), Operand::new(&w1, d, h), false, threads));
    time("Xt . delta1", f, &mut || matmul(&mut g1, Operand::new(&x, n, d).t(), Operand::new(&d1, n, h), false, threads));
    let f2 = 2.0 * (n * h * o) as f64;
    time("H . W2", f2, &mut || matmul(&mut a2, Operand::new(&a1, n, h), Operand::new(&w2, h, o), false, threads));
    time("delta2 . W2t", f2, &mut || matmul(&mut d1, Operand::new(&d2, n, o), Operand::new(&w2, h, o).t(), false, threads));
    time("Ht . delta2", f2, &mut || matmul(&mut g2, Operand::new(&a1, n, h).t(), Operand::new(&d2, n, o), false, threads));
    let t = Instant::now();
    a1.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp()));
    println!("{:<28} {:>8.1} ms", "sigmoid over n x h", t.elapsed().as_secs_f64() * 1e3);
}
