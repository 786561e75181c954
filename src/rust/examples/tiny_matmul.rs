use backprop::linalg::{matmul, Operand};
use std::time::Instant;
fn main() {
    let x = [1., 1., 0., 0., 0., 1., 1., 1., 0., 0., 1., 1.];
    let w = [0.1; 12];
    let h = [0.5; 9];
    let wo = [0.3; 3];
    let d = [0.2; 3];
    let dh = [0.1; 9];
    let mut c9 = [0.0; 9];
    let mut c3 = [0.0; 3];
    let mut c12 = [0.0; 12];
    let reps = 1_000_000;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            matmul(&mut c9, Operand::new(&x, 3, 4), Operand::new(std::hint::black_box(&w), 4, 3), false, 1);
            matmul(&mut c3, Operand::new(&h, 3, 3), Operand::new(std::hint::black_box(&wo), 3, 1), false, 1);
            matmul(&mut c3, Operand::new(&h, 3, 3).t(), Operand::new(std::hint::black_box(&d), 3, 1), false, 1);
            matmul(&mut c12, Operand::new(&x, 3, 4).t(), Operand::new(std::hint::black_box(&dh), 3, 3), false, 1);
            matmul(&mut c9, Operand::new(&d, 3, 1), Operand::new(std::hint::black_box(&wo), 3, 1).t(), false, 1);
            std::hint::black_box((&c9, &c3, &c12));
        }
        best = best.min(t.elapsed().as_nanos() as f64 / reps as f64);
    }
    println!("5 article products: {:.1} ns", best);
}
