//! The ways an epoch is run, behind one interface ([`Epochs`]): the general
//! first-order passes over the network's layers (full batch or shuffled
//! minibatches), the small-network fast path ([`crate::small`]), and the
//! second-order methods. [`crate::train::train`]'s one loop drives them.

use crate::architecture::{Architecture, BiasLayout};
use crate::layers::{backward, forward, Network, Rows, Workspace};
use crate::optimizer::{Optimizer, Stepper};
use crate::penalty::Penalty;
use crate::real::Real;
use crate::second_order::{Iteration, Lbfgs, LevenbergMarquardt};
use crate::config::TrainConfig;
use crate::dataset::{copy_to_f64, zeroed_buffer, Dataset};
use crate::progress::{Control, Progress};
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

/// A batch is split into shards of at least this many rows, each passed
/// forward and backward by one worker (see [`Shard`]).
const SHARD_ROWS: usize = 128;

/// The most shards of a batch: as many workers as are likely to share one.
const MAX_SHARDS: usize = 8;

/// The first-order passes over the network's layers, on full batches or on
/// shuffled minibatches.
pub struct Passes<'a, T> {
    net: Network,
    data: Dataset<'a, T>,
    cfg: TrainConfig,
    /// The batch's shards; their count depends on the batch size alone, so
    /// that the thread count does not change the result.
    shards: Vec<Shard<T>>,
    /// Rows of the largest batch.
    batch: usize,
    stepper: Stepper<T>,
    weights: Vec<Range<usize>>,
    /// Gradients are sums over rows for the article's rule, means otherwise.
    full_batch_scale: f64,
    /// For minibatches: the rows' order, its generator and the inputs' copy.
    minibatch: Option<Minibatch<T>>,
}

/// A share of every batch, with buffers of its own: one worker passes its
/// rows forward and backward into its workspace while the others pass
/// theirs, with no hand-off between the layers; the shards' gradients are
/// then summed in shard order. This keeps two workers busy through a whole
/// step, where a 256-row batch's products are too small to split well.
struct Shard<T> {
    ws: Workspace<T>,
    /// The shard's rows of the batch: inputs (row-major when copied from the
    /// inputs' row-major copy, else column-major), targets and weights
    /// (column-major). A full batch split into shards reads its inputs in
    /// place and keeps its targets and weights, copied once.
    x: Vec<T>,
    y: Vec<T>,
    w: Vec<T>,
    /// Draws this shard's dropout masks.
    drop_rng: SmallRng,
    /// Rows of the batch's passes (0: the batch is too short to reach it).
    rows: usize,
    /// The rows' unscaled loss sum.
    loss: f64,
}

struct Minibatch<T> {
    order: Vec<usize>,
    rng: SmallRng,
    /// The inputs copied once, row by row: a batch's row is then one
    /// contiguous copy, where gathering it from R's column-major matrix
    /// reads one scattered element per column. The copy, into huge pages
    /// on the fit's threads, costs less than one epoch's gathering saves,
    /// so a fit of one epoch makes it too. None when its memory cannot be
    /// had: batches are then gathered.
    x_rows: Option<Vec<T>>,
}

/// The shards of a batch of `batch` rows.
fn shard_count(arch: &Architecture, batch: usize) -> usize {
    // Row biases (the article's R program) need every row in one pass.
    if arch.bias_layout() == BiasLayout::Row {
        1
    } else {
        (batch / SHARD_ROWS).clamp(1, MAX_SHARDS)
    }
}

/// Shard `s` of `shards`' rows of a batch of `rows`: the first `rows %
/// shards` shards take one row more than the others, so that a batch
/// shorter than `shards` leaves only the last ones empty.
fn shard_range(rows: usize, shards: usize, s: usize) -> Range<usize> {
    let (share, extra) = (rows / shards, rows % shards);
    let start = |s: usize| s * share + s.min(extra);
    start(s)..start(s + 1)
}

impl<'a, T: Real> Passes<'a, T> {
    pub fn new(arch: &Architecture, cfg: &TrainConfig, data: Dataset<'a, T>, batch: usize) -> Passes<'a, T> {
        Passes::with_shards(arch, cfg, data, batch, shard_count(arch, batch))
    }

    fn with_shards(arch: &Architecture, cfg: &TrainConfig, data: Dataset<'a, T>, batch: usize, count: usize) -> Passes<'a, T> {
        let n = data.rows;
        let net = Network::with_dropout(arch, &cfg.dropout);
        let (d, o) = (arch.inputs(), arch.outputs());
        let full_batch = batch >= n;
        let capacity = batch.div_ceil(count);
        let shards = (0..count)
            .map(|s| {
                let (x, y, w) = if !full_batch {
                    (vec![T::ZERO; capacity * d], vec![T::ZERO; capacity * o], vec![T::ZERO; if data.w.is_some() { capacity } else { 0 }])
                } else if count > 1 {
                    let rows: Vec<usize> = shard_range(n, count, s).collect();
                    let (mut y, mut w) = (vec![T::ZERO; rows.len() * o], vec![T::ZERO; if data.w.is_some() { rows.len() } else { 0 }]);
                    gather_rows(data.y, n, o, &rows, &mut y, 1);
                    if let Some(dw) = data.w {
                        gather_rows(dw, n, 1, &rows, &mut w, 1);
                    }
                    (Vec::new(), y, w)
                } else {
                    (Vec::new(), Vec::new(), Vec::new())
                };
                let drop_rng = SmallRng::seed_from_u64(cfg.seed ^ DROPOUT_STREAM ^ (s as u64).wrapping_mul(DROPOUT_STREAM.rotate_left(17)));
                Shard { ws: Workspace::new(&net, capacity), x, y, w, drop_rng, rows: 0, loss: 0.0 }
            })
            .collect();
        let minibatch = (!full_batch).then(|| Minibatch {
            order: (0..n).collect(),
            rng: SmallRng::seed_from_u64(cfg.seed),
            x_rows: row_major_copy(data.x, n, d, cfg.threads),
        });
        Passes {
            shards,
            batch,
            net,
            data,
            cfg: cfg.clone(),
            stepper: Stepper::new(cfg.optimizer, cfg.lr, arch.n_params()),
            weights: arch.weight_ranges(),
            full_batch_scale: cfg.full_batch_scale(n),
            minibatch,
        }
    }

    /// Passes the rows `order[batch]` of a minibatch, or every row in order
    /// (None), forward and backward, the shards on up to `threads` workers,
    /// and leaves the gradient in the first shard's workspace; returns the
    /// loss sum.
    fn passes(&mut self, params: &[T], batch: Option<Range<usize>>) -> f64 {
        let Passes { net, data, cfg, shards, minibatch, full_batch_scale, .. } = self;
        let (net, data, cfg) = (&*net, *data, &*cfg);
        let (n, d, o) = (data.rows, net.arch().inputs(), net.arch().outputs());
        let chunk = batch.map(|r| &minibatch.as_ref().expect("a minibatch has an order").order[r]);
        let (rows, scale) = match chunk {
            Some(chunk) => (chunk.len(), 1.0 / chunk.len() as f64),
            None => (n, *full_batch_scale),
        };
        let count = shards.len();
        let x_rows = minibatch.as_ref().and_then(|mb| mb.x_rows.as_deref());
        // One shard runs on this thread (a single part is not handed to
        // the team), so its products and activations use every thread. Two
        // or more are the team's job, and a parallel call made within a
        // running job runs on its thread alone: each shard's passes then
        // run on one thread.
        let inner = if count == 1 { cfg.threads } else { 1 };
        let pass = |s: usize, shard: &mut Shard<T>| {
            let range = shard_range(rows, count, s);
            shard.rows = range.len();
            if shard.rows == 0 {
                return;
            }
            let r = shard.rows;
            let (x, y, w) = match chunk {
                Some(chunk) => {
                    let idx = &chunk[range];
                    let x = match x_rows {
                        Some(x_rows) => {
                            copy_rows(x_rows, d, idx, &mut shard.x, inner);
                            Rows::by_row(&shard.x[..r * d], r, d)
                        }
                        None => {
                            gather_rows(data.x, n, d, idx, &mut shard.x, inner);
                            Rows::all(&shard.x[..r * d], r)
                        }
                    };
                    gather_rows(data.y, n, o, idx, &mut shard.y, 1);
                    if let Some(w) = data.w {
                        gather_rows(w, n, 1, idx, &mut shard.w, 1);
                    }
                    (x, &shard.y[..r * o], data.w.map(|_| &shard.w[..r]))
                }
                None if count == 1 => (Rows::all(data.x, n), data.y, data.w),
                None => (Rows::of(data.x, n, range.start, r), &shard.y[..], data.w.map(|_| &shard.w[..])),
            };
            let rng = net.has_dropout().then_some(&mut shard.drop_rng);
            forward(net, params, x, &mut shard.ws, rng, inner);
            shard.loss = backward(net, params, x, y, w, cfg.loss, scale, &mut shard.ws, inner);
        };
        crate::parallel::for_each_mut(cfg.threads, shards, &pass);
        sum_gradients(shards, cfg.threads);
        shards.iter().filter(|s| s.rows > 0).map(|s| s.loss).sum()
    }
}

/// Adds the other shards' gradients to the first shard's, in shard order
/// (the same sums for any thread count), the two halves of the parameter
/// vector at once when it is long.
fn sum_gradients<T: Real>(shards: &mut [Shard<T>], threads: usize) {
    let Some((first, rest)) = shards.split_first_mut() else { return };
    let rest: &[Shard<T>] = rest;
    let add = |lo: usize, g: &mut [T]| {
        // Shards with rows come first (see shard_range).
        for shard in rest.iter().take_while(|s| s.rows > 0) {
            crate::simd::widest(#[inline(always)] || g.iter_mut().zip(&shard.ws.grads[lo..]).for_each(|(a, &b)| *a += b));
        }
    };
    let grads = &mut first.ws.grads;
    let half = grads.len() / 2;
    let (left, right) = grads.split_at_mut(half);
    // As for the optimizer's step, only long vectors pay for a second thread.
    crate::parallel::in_halves(threads > 1 && !rest.is_empty() && half >= 1 << 14, || add(0, left), || add(half, right));
}

impl<T: Real> Epochs<T> for Passes<'_, T> {
    fn run(&mut self, params: &mut [T], first: usize, sums: &mut [f64], callback: &mut dyn FnMut(&Progress) -> Control) -> Ran {
        let (penalty, clip_norm, threads, epochs) = (self.cfg.penalty(), self.cfg.clip_norm, self.cfg.threads, self.cfg.epochs);
        self.stepper.set_lr_factor(self.cfg.schedule.factor(first, epochs));
        let Some(mb) = self.minibatch.as_mut() else {
            sums[0] = self.passes(params, None);
            step(&mut self.stepper, params, &mut self.shards[0].ws.grads, &self.weights, &penalty, clip_norm, threads);
            return Ran::epochs(1);
        };
        mb.order.shuffle(&mut mb.rng);
        let (n, batch) = (self.data.rows, self.batch);
        let mut sum = 0.0;
        for start in (0..n).step_by(batch) {
            let between = Progress { epoch: first, epochs, loss: f64::NAN, val_loss: f64::NAN, epoch_done: false, params: None };
            if callback(&between) == Control::Stop {
                return Ran { epochs: 0, interrupted: true, converged: false };
            }
            sum += self.passes(params, Some(start..(start + batch).min(n)));
            step(&mut self.stepper, params, &mut self.shards[0].ws.grads, &self.weights, &penalty, clip_norm, threads);
        }
        sums[0] = sum;
        Ran::epochs(1)
    }

    fn last_output(&self, out: &mut [f64]) -> bool {
        if self.minibatch.is_some() || self.net.has_dropout() {
            return false;
        }
        let (n, o) = (self.data.rows, self.net.arch().outputs());
        let count = self.shards.len();
        for (s, shard) in self.shards.iter().enumerate() {
            let range = shard_range(n, count, s);
            let ours = shard.ws.output(range.len(), o);
            for j in 0..o {
                copy_to_f64(&mut out[j * n + range.start..j * n + range.end], &ours[j * range.len()..(j + 1) * range.len()]);
            }
        }
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

/// A row-major copy of a column-major `n x cols` matrix; None when the
/// memory for it cannot be had (training then gathers from `x` itself).
///
/// The copy is bound by memory, so each element is written once, into a
/// zeroed buffer of huge pages where the system has them
/// ([`zeroed_buffer`]). Each thread takes blocks of rows long enough that a
/// column's run in the block spans a page, and moves them in tiles of a few
/// columns, whose rows it writes as contiguous runs.
fn row_major_copy<T: Real>(x: &[T], n: usize, cols: usize, threads: usize) -> Option<Vec<T>> {
    const BLOCK: usize = 512;
    const TILE: usize = 16;
    let len = n.checked_mul(cols)?;
    let mut out = zeroed_buffer(len)?;
    let fill = |first: usize, block: &mut [T]| {
        let rows = block.len() / cols.max(1);
        for tile in (0..cols).step_by(TILE) {
            let last = (tile + TILE).min(cols);
            for r in 0..rows {
                let row = &mut block[r * cols + tile..r * cols + last];
                for (j, v) in row.iter_mut().enumerate() {
                    *v = x[(tile + j) * n + first + r];
                }
            }
        }
    };
    let threads = if len >= 1 << 16 { threads } else { 1 };
    crate::parallel::for_each_row_block(&mut out, cols, BLOCK, threads, &fill);
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
        for (k, (out, &i)) in out.chunks_exact_mut(cols).zip(idx).enumerate() {
            if let Some(&ahead) = idx.get(k + PREFETCH_ROWS) {
                prefetch(&src[ahead * cols..(ahead + 1) * cols]);
            }
            out.copy_from_slice(&src[i * cols..(i + 1) * cols]);
        }
    };
    let half = idx.len() / 2;
    let (left, right) = dst[..idx.len() * cols].split_at_mut(half * cols);
    crate::parallel::in_halves(threads > 1 && idx.len() * cols >= 1 << 15, || copy(&idx[..half], left), || copy(&idx[half..], right));
}

/// Rows ahead of the one being copied whose memory is asked for.
const PREFETCH_ROWS: usize = 4;

/// Asks for `data`'s cache lines ahead of their reading: a batch's rows are
/// scattered over the copy of X, and each first line of a row otherwise
/// waits the whole memory latency.
#[inline(always)]
fn prefetch<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let bytes = std::mem::size_of_val(data);
        let start = data.as_ptr() as *const i8;
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch reads nothing and cannot fault; the
            // addresses lie within `data`.
            unsafe { std::arch::x86_64::_mm_prefetch(start.add(offset), std::arch::x86_64::_MM_HINT_T0) };
        }
    }
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
            Optimizer::Lm => Method::Lm(LevenbergMarquardt::new(arch, data.rows, cfg.weight_decay)),
            Optimizer::Lbfgs => Method::Lbfgs(Lbfgs::new(arch.n_params())),
            other => unreachable!("{:?} is not a second-order method", other),
        };
        let net = Network::new(arch);
        SecondOrder { method, ws: Workspace::new(&net, data.rows), net, data, cfg: cfg.clone() }
    }
}

impl<T: Real> Epochs<T> for SecondOrder<'_> {
    fn run(&mut self, params: &mut [T], first: usize, sums: &mut [f64], callback: &mut dyn FnMut(&Progress) -> Control) -> Ran {
        let params = T::as_f64_mut(params).expect("second-order methods train in f64");
        let (net, data, cfg, ws) = (&self.net, self.data, &self.cfg, &mut self.ws);
        // Within a long iteration the callback is asked, as between
        // minibatches, whether to stop (on this thread: it may poll R).
        let mut ask = || {
            let within = Progress { epoch: first, epochs: cfg.epochs, loss: f64::NAN, val_loss: f64::NAN, epoch_done: false, params: None };
            callback(&within) == Control::Stop
        };
        let iteration = match &mut self.method {
            Method::Lm(lm) => lm.iterate(net, params, data, ws, cfg.threads, &mut ask),
            Method::Lbfgs(opt) => opt.iterate(net, params, data, cfg.loss, &cfg.penalty(), ws, cfg.threads),
        };
        let (sum, converged) = match iteration {
            Iteration::Step(sum) => (sum, false),
            Iteration::Converged(sum) => (sum, true),
            Iteration::Interrupted => return Ran { epochs: 0, interrupted: true, converged: false },
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

    /// Minibatches assembled from the row-major copy train as those
    /// gathered from the column-major data (when the copy's memory cannot
    /// be had) do, step for step.
    #[test]
    fn row_major_batches_equal_gathered_batches() {
        let (n, d) = (70, 5);
        let x: Vec<f64> = (0..n * d).map(|i| ((i * 37) % 23) as f64 / 23.0 - 0.5).collect();
        let y: Vec<f64> = (0..n * 2).map(|i| ((i * 11) % 7) as f64 / 7.0).collect();
        let arch = Architecture::new(vec![d, 6, 2], vec![Activation::Tanh, Activation::Sigmoid], BiasLayout::Column, n).unwrap();
        let start: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 13) % 17) as f64 / 17.0 - 0.5).collect();
        let adam = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let data = Dataset::new(&x, &y, n);
        let run = |copied: bool| {
            let cfg = TrainConfig { threads: 1, ..TrainConfig::new(Loss::Mse, adam, 0.01, 3, 16) };
            let mut engine = Passes::new(&arch, &cfg, data, 16);
            let minibatch = engine.minibatch.as_mut().unwrap();
            assert!(minibatch.x_rows.is_some());
            if !copied {
                // As when the copy's memory cannot be had.
                minibatch.x_rows = None;
            }
            let (mut p, mut sums) = (start.clone(), [0.0; 3]);
            for e in 0..3 {
                engine.run(&mut p, e + 1, &mut sums[e..e + 1], &mut |_| Control::Continue);
            }
            (p, sums)
        };
        let (copied, copied_sums) = run(true);
        let (gathered, gathered_sums) = run(false);
        for (a, b) in copied.iter().zip(&gathered).chain(copied_sums.iter().zip(&gathered_sums)) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{} vs {}", a, b);
        }
        assert_ne!(copied, start);
    }

    /// A batch split into shards trains as the unsplit batch does (to
    /// rounding), full batches and minibatches, with weights and a short
    /// last batch; and any thread count gives the same bits.
    #[test]
    fn shards_train_as_one_batch_and_threads_do_not_change_them() {
        let n = 600;
        let d = 5;
        let x: Vec<f64> = (0..n * d).map(|i| ((i * 37) % 23) as f64 / 23.0 - 0.5).collect();
        let y: Vec<f64> = (0..n * 2).map(|i| ((i * 11) % 7) as f64 / 7.0).collect();
        let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 3) as f64).collect();
        let arch = Architecture::new(vec![d, 7, 2], vec![Activation::Tanh, Activation::Sigmoid], BiasLayout::Column, n).unwrap();
        let start: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 13) % 17) as f64 / 17.0 - 0.5).collect();
        let adam = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let data = Dataset::new(&x, &y, n).weighted(Some(&w));
        let run = |batch: usize, count: usize, threads: usize, dropout: Vec<f64>| {
            let cfg = TrainConfig { threads, dropout, ..TrainConfig::new(Loss::Mse, adam, 0.01, 3, batch) };
            let mut engine = Passes::with_shards(&arch, &cfg, data, batch, count);
            let (mut p, mut sums) = (start.clone(), [0.0; 3]);
            for e in 0..3 {
                engine.run(&mut p, e + 1, &mut sums[e..e + 1], &mut |_| Control::Continue);
            }
            let mut out = vec![0.0; n * 2];
            (p, sums, engine.last_output(&mut out).then_some(out))
        };
        // 600 rows in batches of 256 leave a last batch of 88.
        for (batch, count) in [(n, 4), (256, 2), (256, 3)] {
            let (one, one_sums, one_out) = run(batch, 1, 1, Vec::new());
            let (sharded, sharded_sums, sharded_out) = run(batch, count, 1, Vec::new());
            let pairs = one.iter().zip(&sharded).chain(one_sums.iter().zip(&sharded_sums));
            let outs = one_out.iter().flatten().zip(sharded_out.iter().flatten());
            for (a, b) in pairs.chain(outs) {
                assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "batch {} shards {}: {} vs {}", batch, count, a, b);
            }
            assert_eq!(one_out.is_some(), batch == n);
            assert_ne!(one, start);
            for dropout in [Vec::new(), vec![0.3]] {
                let by_one = run(batch, count, 1, dropout.clone());
                for threads in [2, 3] {
                    let by_more = run(batch, count, threads, dropout.clone());
                    assert!(by_one.0.iter().zip(&by_more.0).all(|(a, b)| a.to_bits() == b.to_bits()), "batch {} threads {}", batch, threads);
                    assert_eq!(by_one.1, by_more.1);
                }
            }
        }
    }

    /// A stop asked for within a Levenberg-Marquardt iteration ends it
    /// uncounted, with the parameters as they were; the next run goes on.
    #[test]
    fn a_stop_within_a_second_order_iteration_leaves_the_parameters() {
        let (n, d) = (300, 20);
        let x: Vec<f64> = (0..n * d).map(|i| ((i * 37) % 23) as f64 / 23.0 - 0.5).collect();
        let y: Vec<f64> = (0..n).map(|i| ((i * 11) % 7) as f64 / 7.0).collect();
        let arch = Architecture::new(vec![d, 20, 1], vec![Activation::Tanh, Activation::Linear], BiasLayout::Column, n).unwrap();
        let start: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 13) % 17) as f64 / 17.0 - 0.5).collect();
        let cfg = TrainConfig::new(Loss::Mse, Optimizer::Lm, 0.0, 5, n);
        let mut engine = SecondOrder::new(&arch, &cfg, Dataset::new(&x, &y, n));
        if let Method::Lm(lm) = &mut engine.method {
            lm.ask_every(std::time::Duration::ZERO);
        }
        let (mut p, mut sums) = (start.clone(), [0.0]);
        let mut asked = 0;
        let ran = engine.run(&mut p, 1, &mut sums, &mut |pr| {
            assert!(!pr.epoch_done && pr.epoch == 1 && pr.params.is_none());
            asked += 1;
            Control::Stop
        });
        assert_eq!(ran, Ran { epochs: 0, interrupted: true, converged: false });
        assert_eq!(asked, 1);
        assert!(p == start);
        let ran = engine.run(&mut p, 1, &mut sums, &mut |_| Control::Continue);
        assert_eq!(ran, Ran::epochs(1));
        assert!(p != start && sums[0].is_finite());
    }

    #[test]
    fn shards_share_a_batch_evenly_and_in_order() {
        for shards in 1..=MAX_SHARDS {
            for rows in 0..40 {
                let ranges: Vec<_> = (0..shards).map(|s| shard_range(rows, shards, s)).collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[shards - 1].end, rows);
                assert!(ranges.windows(2).all(|r| r[0].end == r[1].start && r[0].len() >= r[1].len() && r[0].len() <= r[1].len() + 1));
            }
        }
        let arch = |bias| Architecture::new(vec![3, 4, 1], vec![Activation::Tanh, Activation::Linear], bias, 5000).unwrap();
        assert_eq!([32, 255, 256, 512, 5000].map(|b| shard_count(&arch(BiasLayout::Column), b)), [1, 1, 2, 4, MAX_SHARDS]);
        assert_eq!(shard_count(&arch(BiasLayout::Row), 5000), 1);
    }

    #[test]
    fn the_row_major_copy_transposes() {
        // Large enough for two threads to share it; the last block of rows
        // and the last tile of columns are partial; a single row; nothing.
        for (n, cols) in [(22_001, 3), (1_300, 37), (1, 5), (0, 4)] {
            let x: Vec<f64> = (0..n * cols).map(|i| i as f64).collect(); // column-major
            for threads in [1, 2] {
                let r = row_major_copy(&x, n, cols, threads).unwrap();
                assert_eq!(r.len(), n * cols);
                for i in 0..n {
                    for j in 0..cols {
                        assert_eq!(r[i * cols + j], x[j * n + i]);
                    }
                }
            }
        }
    }
}
