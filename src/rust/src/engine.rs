//! The ways an epoch is run, behind one interface ([`Epochs`]): the general
//! first-order passes over the network's layers (full batch or shuffled
//! minibatches), the small-network fast path ([`crate::small`]), and the
//! second-order methods. [`crate::train::train`]'s one loop drives them.

use crate::architecture::Architecture;
use crate::layers::{backward, forward, Network, Rows, Workspace};
use crate::optimizer::{Optimizer, Stepper};
use crate::penalty::Penalty;
use crate::real::Real;
use crate::second_order::{Iteration, Lbfgs, LevenbergMarquardt};
use crate::train::{copy_to_f64, Control, Dataset, Progress, TrainConfig};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::ops::Range;

/// What a call of [`Epochs::run`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ran {
    /// Epochs completed, each with its loss sum written.
    pub epochs: usize,
    /// The callback asked to stop within an epoch (not counted).
    pub interrupted: bool,
    /// The method reached a minimum in its last epoch.
    pub converged: bool,
}

impl Ran {
    pub fn epochs(epochs: usize) -> Ran {
        Ran { epochs, interrupted: false, converged: false }
    }
}

/// Runs epochs of training on parameters of type `T`.
pub trait Epochs<T> {
    /// Runs `sums.len()` epochs (at most [`Epochs::chunk`]), the first one
    /// numbered `first` (from 1), writing each one's loss sum (see
    /// [`crate::loss::Loss::report`]). `callback` may be asked within an epoch
    /// whether to stop.
    fn run(&mut self, params: &mut [T], first: usize, sums: &mut [f64], callback: &mut dyn FnMut(&Progress) -> Control) -> Ran;

    /// The most epochs one call may run (1 unless the engine runs many
    /// epochs faster in one call and nothing happens between them).
    fn chunk(&self) -> usize {
        1
    }

    /// Brings `params` up to date, for an engine that trains a copy of them.
    fn copy_params_to(&self, _params: &mut [T]) {}

    /// Writes the training rows' outputs of the last epoch's forward pass
    /// (column-major `rows x outputs`) when that pass saw every row, in
    /// order and without dropout; else returns false.
    fn last_output(&self, _out: &mut [f64]) -> bool {
        false
    }
}

/// Mixed into the seed of dropout's masks, so that they do not repeat the
/// minibatches' shuffle drawn from the same seed.
const DROPOUT_STREAM: u64 = 0x9E37_79B9_7F4A_7C15;

/// The first-order passes over the network's layers, on full batches or on
/// shuffled minibatches.
pub struct Passes<'a, T> {
    net: Network,
    data: Dataset<'a, T>,
    cfg: TrainConfig,
    ws: Workspace<T>,
    stepper: Stepper<T>,
    weights: Vec<Range<usize>>,
    /// Gradients are sums over rows for the article's rule, means otherwise.
    full_batch_scale: f64,
    /// Draws dropout's masks.
    drop_rng: SmallRng,
    /// For minibatches: the rows' order, its generator and the gathered batch.
    minibatch: Option<Minibatch<T>>,
}

struct Minibatch<T> {
    order: Vec<usize>,
    rng: SmallRng,
    /// The inputs copied once, row by row, when training runs more than one
    /// epoch: a batch's row is then one contiguous copy, where gathering it
    /// from R's column-major matrix reads one scattered element per column
    /// (the copy costs about as much as one epoch's gathering).
    x_rows: Option<Vec<T>>,
    /// The batch: inputs row-major with `x_rows`, else column-major; targets
    /// and weights column-major.
    x: Vec<T>,
    y: Vec<T>,
    w: Vec<T>,
}

impl<'a, T: Real> Passes<'a, T> {
    pub fn new(arch: &Architecture, cfg: &TrainConfig, data: Dataset<'a, T>, batch: usize) -> Passes<'a, T> {
        let n = data.rows;
        let net = Network::with_dropout(arch, &cfg.dropout);
        let minibatch = (batch < n).then(|| Minibatch {
            order: (0..n).collect(),
            rng: SmallRng::seed_from_u64(cfg.seed),
            x_rows: if cfg.epochs > 1 { row_major_copy(data.x, n, arch.inputs(), cfg.threads) } else { None },
            x: vec![T::ZERO; batch * arch.inputs()],
            y: vec![T::ZERO; batch * arch.outputs()],
            w: vec![T::ZERO; if data.w.is_some() { batch } else { 0 }],
        });
        Passes {
            ws: Workspace::new(&net, batch),
            net,
            data,
            cfg: cfg.clone(),
            stepper: Stepper::new(cfg.optimizer, cfg.lr, arch.n_params()),
            weights: arch.weight_ranges(),
            full_batch_scale: cfg.full_batch_scale(n),
            drop_rng: SmallRng::seed_from_u64(cfg.seed ^ DROPOUT_STREAM),
            minibatch,
        }
    }
}

impl<T: Real> Epochs<T> for Passes<'_, T> {
    fn run(&mut self, params: &mut [T], first: usize, sums: &mut [f64], callback: &mut dyn FnMut(&Progress) -> Control) -> Ran {
        let (n, cfg, data) = (self.data.rows, &self.cfg, self.data);
        let (d, o) = (self.net.arch().inputs(), self.net.arch().outputs());
        let mut rng = self.net.has_dropout().then_some(&mut self.drop_rng);
        let penalty = cfg.penalty();
        self.stepper.set_lr_factor(cfg.schedule.factor(first, cfg.epochs));
        let Some(mb) = self.minibatch.as_mut() else {
            let x = Rows::all(data.x, n);
            forward(&self.net, params, x, &mut self.ws, rng, cfg.threads);
            sums[0] = backward(&self.net, params, x, data.y, data.w, cfg.loss, self.full_batch_scale, &mut self.ws, cfg.threads);
            step(&mut self.stepper, params, &mut self.ws.grads, &self.weights, &penalty, cfg.clip_norm, cfg.threads);
            return Ran::epochs(1);
        };
        let batch = self.ws.capacity();
        let mut sum = 0.0;
        mb.order.shuffle(&mut mb.rng);
        for chunk in mb.order.chunks(batch) {
            let between = Progress { epoch: first, epochs: cfg.epochs, loss: f64::NAN, val_loss: f64::NAN, epoch_done: false, params: None };
            if callback(&between) == Control::Stop {
                return Ran { epochs: 0, interrupted: true, converged: false };
            }
            let rows = chunk.len();
            let x = match &mb.x_rows {
                Some(x_rows) => {
                    copy_rows(x_rows, d, chunk, &mut mb.x, cfg.threads);
                    Rows::by_row(&mb.x[..rows * d], rows, d)
                }
                None => {
                    gather_rows(data.x, n, d, chunk, &mut mb.x, cfg.threads);
                    Rows::all(&mb.x[..rows * d], rows)
                }
            };
            gather_rows(data.y, n, o, chunk, &mut mb.y, 1);
            let w = data.w.map(|w| {
                gather_rows(w, n, 1, chunk, &mut mb.w, 1);
                &mb.w[..rows]
            });
            forward(&self.net, params, x, &mut self.ws, rng.as_deref_mut(), cfg.threads);
            sum += backward(&self.net, params, x, &mb.y, w, cfg.loss, 1.0 / rows as f64, &mut self.ws, cfg.threads);
            step(&mut self.stepper, params, &mut self.ws.grads, &self.weights, &penalty, cfg.clip_norm, cfg.threads);
        }
        sums[0] = sum;
        Ran::epochs(1)
    }

    fn last_output(&self, out: &mut [f64]) -> bool {
        if self.minibatch.is_some() || self.net.has_dropout() {
            return false;
        }
        let ours = self.ws.output(self.data.rows, self.net.arch().outputs());
        copy_to_f64(out, ours);
        true
    }
}

/// One step of a first-order method: the loss's gradient clipped to
/// `clip_norm`, the penalties on the `weights` ranges, then the update (on
/// up to `threads` threads).
pub fn step<T: Real>(stepper: &mut Stepper<T>, params: &mut [T], grads: &mut [T], weights: &[Range<usize>], penalty: &Penalty, clip_norm: Option<f64>, threads: usize) {
    if let Some(max) = clip_norm {
        let norm = grads.iter().map(|g| g.f64() * g.f64()).sum::<f64>().sqrt();
        if norm > max {
            let shrink = T::of(max / norm);
            grads.iter_mut().for_each(|g| *g *= shrink);
        }
    }
    if stepper.decouples_weight_decay() {
        for r in weights {
            stepper.decay_weights(&mut params[r.clone()], penalty.l2);
        }
        Penalty { l2: 0.0, ..*penalty }.add_gradient(weights, params, grads);
    } else {
        penalty.add_gradient(weights, params, grads);
    }
    stepper.step(params, grads, threads);
}

/// A row-major copy of a column-major `n x cols` matrix, in blocks of rows
/// that stay in cache while every column is read into them; None when the
/// memory for it cannot be had (training then gathers from `x` itself).
fn row_major_copy<T: Real>(x: &[T], n: usize, cols: usize, threads: usize) -> Option<Vec<T>> {
    use rayon::prelude::*;
    const BLOCK: usize = 32;
    let mut out = Vec::new();
    out.try_reserve_exact(n.checked_mul(cols)?).ok()?;
    out.resize(n * cols, T::ZERO);
    let fill = |(b, block): (usize, &mut [T])| {
        let first = b * BLOCK;
        let rows = block.len() / cols.max(1);
        for j in 0..cols {
            let col = &x[j * n + first..j * n + first + rows];
            for (r, &v) in col.iter().enumerate() {
                block[r * cols + j] = v;
            }
        }
    };
    if cols == 0 {
        return Some(out);
    }
    if threads > 1 && n * cols >= 1 << 16 {
        crate::parallel::install(threads, || out.par_chunks_mut(BLOCK * cols).enumerate().for_each(fill));
    } else {
        out.chunks_mut(BLOCK * cols).enumerate().for_each(fill);
    }
    Some(out)
}

/// Copies rows `idx` of a column-major `n x cols` matrix into a contiguous
/// `idx.len() x cols` block; large blocks are split by columns over threads
/// (the reads are scattered, so two threads wait on memory twice as well).
fn gather_rows<T: Real>(src: &[T], n: usize, cols: usize, idx: &[usize], dst: &mut [T], threads: usize) {
    let rows = idx.len();
    let gather = |j0: usize, out: &mut [T]| {
        for (dj, out) in out.chunks_exact_mut(rows).enumerate() {
            let col = &src[(j0 + dj) * n..(j0 + dj + 1) * n];
            out.iter_mut().zip(idx).for_each(|(o, &i)| *o = col[i]);
        }
    };
    let half = cols / 2;
    let (left, right) = dst[..rows * cols].split_at_mut(half * rows);
    crate::parallel::in_halves(threads > 1 && cols >= 2 && rows * cols >= 1 << 15, || gather(0, left), || gather(half, right));
}

/// Copies rows `idx` of the row-major `src` (`cols` per row) into `dst`,
/// row after row; large batches in two halves at once.
fn copy_rows<T: Real>(src: &[T], cols: usize, idx: &[usize], dst: &mut [T], threads: usize) {
    let copy = |idx: &[usize], out: &mut [T]| {
        for (out, &i) in out.chunks_exact_mut(cols).zip(idx) {
            out.copy_from_slice(&src[i * cols..(i + 1) * cols]);
        }
    };
    let half = idx.len() / 2;
    let (left, right) = dst[..idx.len() * cols].split_at_mut(half * cols);
    crate::parallel::in_halves(threads > 1 && idx.len() * cols >= 1 << 15, || copy(&idx[..half], left), || copy(&idx[half..], right));
}

/// A second-order method: one iteration per epoch, full batch, in f64.
pub struct SecondOrder<'a> {
    method: Method,
    net: Network,
    data: Dataset<'a, f64>,
    cfg: TrainConfig,
    ws: Workspace<f64>,
}

enum Method {
    Lm(LevenbergMarquardt),
    Lbfgs(Lbfgs),
}

impl<'a> SecondOrder<'a> {
    pub fn new(arch: &Architecture, cfg: &TrainConfig, data: Dataset<'a, f64>) -> SecondOrder<'a> {
        let method = match cfg.optimizer {
            Optimizer::Lm => Method::Lm(LevenbergMarquardt::new(arch, data.rows)),
            Optimizer::Lbfgs => Method::Lbfgs(Lbfgs::new(arch.n_params())),
            other => unreachable!("{:?} is not a second-order method", other),
        };
        let net = Network::new(arch);
        SecondOrder { method, ws: Workspace::new(&net, data.rows), net, data, cfg: cfg.clone() }
    }
}

impl<T: Real> Epochs<T> for SecondOrder<'_> {
    fn run(&mut self, params: &mut [T], _first: usize, sums: &mut [f64], _callback: &mut dyn FnMut(&Progress) -> Control) -> Ran {
        let params = T::as_f64_mut(params).expect("second-order methods train in f64");
        let (net, data, cfg, ws) = (&self.net, self.data, &self.cfg, &mut self.ws);
        let iteration = match &mut self.method {
            Method::Lm(lm) => lm.iterate(net, params, data, cfg.weight_decay, ws, cfg.threads),
            Method::Lbfgs(opt) => opt.iterate(net, params, data, cfg.loss, &cfg.penalty(), ws, cfg.threads),
        };
        let (sum, converged) = match iteration {
            Iteration::Step(sum) => (sum, false),
            Iteration::Converged(sum) => (sum, true),
        };
        sums[0] = sum;
        Ran { epochs: 1, interrupted: false, converged }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::architecture::BiasLayout;
    use crate::loss::Loss;

    /// Minibatches assembled from the row-major copy (more than one epoch)
    /// train as those gathered from the column-major data (one epoch at a
    /// time) do, step for step.
    #[test]
    fn row_major_batches_equal_gathered_batches() {
        let (n, d) = (70, 5);
        let x: Vec<f64> = (0..n * d).map(|i| ((i * 37) % 23) as f64 / 23.0 - 0.5).collect();
        let y: Vec<f64> = (0..n * 2).map(|i| ((i * 11) % 7) as f64 / 7.0).collect();
        let arch = Architecture::new(vec![d, 6, 2], vec![Activation::Tanh, Activation::Sigmoid], BiasLayout::Column, n).unwrap();
        let start: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 13) % 17) as f64 / 17.0 - 0.5).collect();
        let adam = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let data = Dataset::new(&x, &y, n);
        let run = |epochs_in_cfg: usize| {
            let cfg = TrainConfig { threads: 1, ..TrainConfig::new(Loss::Mse, adam, 0.01, epochs_in_cfg, 16) };
            let mut engine = Passes::new(&arch, &cfg, data, 16);
            assert_eq!(engine.minibatch.as_ref().unwrap().x_rows.is_some(), epochs_in_cfg > 1);
            let (mut p, mut sums) = (start.clone(), [0.0; 3]);
            for e in 0..3 {
                engine.run(&mut p, e + 1, &mut sums[e..e + 1], &mut |_| Control::Continue);
            }
            (p, sums)
        };
        let (copied, copied_sums) = run(3);
        let (gathered, gathered_sums) = run(1);
        for (a, b) in copied.iter().zip(&gathered).chain(copied_sums.iter().zip(&gathered_sums)) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{} vs {}", a, b);
        }
        assert_ne!(copied, start);
    }

    #[test]
    fn the_row_major_copy_transposes() {
        // Large enough for two threads to share it; the last block is partial.
        let (n, cols) = (22_001, 3);
        let x: Vec<f64> = (0..n * cols).map(|i| i as f64).collect(); // column-major
        for threads in [1, 2] {
            let r = row_major_copy(&x, n, cols, threads).unwrap();
            for i in 0..n {
                for j in 0..cols {
                    assert_eq!(r[i * cols + j], x[j * n + i]);
                }
            }
        }
    }
}
