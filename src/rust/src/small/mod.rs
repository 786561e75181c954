//! Small networks, such as the article's (3 rows, 4 inputs, 3 hidden units):
//! a whole full-batch epoch in one pass over one buffer whose columns are
//! padded to whole lanes of rows. [`SmallEngine`] puts it behind the
//! training loop's interface and decides when it may run.
//!
//! At these sizes an epoch's cost is its instruction count and the length
//! of its chain of dependent operations, not arithmetic: gradient descent
//! cannot start an epoch before the last one has updated the weights. So
//! every column of a layer is a few lanes of rows kept in registers; a
//! product, its bias and its activation are one loop; the backward pass
//! computes the delta of the layer below before the gradients that do not
//! lead to it; with [`SmallNet::descend`] each gradient entry updates its
//! parameter as soon as it is summed, with no gradient vector and no second
//! pass; [`SmallNet::descend_epochs`] runs many epochs per call.
//!
//! One epoch for any small net ([`epoch`]), compiled per column length.
//! Kernels specialised to narrower nets and to the article's net went:
//! bench/README.md has what they gained through R, too little for their
//! code. The article's epoch is bound by its chain of dependent operations:
//! two sigmoids, and the products, deltas and updates between them.
//!
//! The net keeps its own copy of the parameters, in its own layout: each
//! layer's weights with a stride padded to four, and row biases (the R
//! program's layout) as padded columns, so that adding and updating them are
//! whole-vector operations. [`SmallNet::copy_params_to`] writes them back in
//! the flat layout.
//!
//! The arithmetic is the general path's up to rounding: products start from
//! the bias and sum in two interleaved chains, a gradient entry sums its rows
//! pairwise, and with AVX2 and FMA the multiply-adds are fused and the
//! sigmoid is [`crate::simd::sigmoid4_with`]. The tests hold the two paths to
//! 1e-13.

use crate::activation::Activation;
use crate::loss::{binary_cross_entropy, fused_delta, Loss};
use crate::architecture::{Architecture, BiasLayout};
use crate::simd::SigmoidConstants;

mod fast_path;
pub use fast_path::SmallEngine;

/// The f64 entries of [`SigmoidConstants`].
pub(crate) const SIGMOID_LEN: usize = std::mem::size_of::<SigmoidConstants>() / 8;
use std::ops::Range;

/// The most rows the small path takes.
const MAX_ROWS: usize = 16;
/// The most multiply-adds in any one product of an epoch.
const MAX_PRODUCT: usize = 4096;

/// Four f64 on a 32-byte boundary, the unit of storage: every column is a
/// whole number of these, so its vector loads never straddle cache lines.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Quad([f64; 4]);

/// A zeroed buffer of f64 aligned to 32 bytes.
struct Aligned(Vec<Quad>);

impl Aligned {
    fn zeros(len: usize) -> Aligned {
        Aligned(vec![Quad([0.0; 4]); len.div_ceil(4)])
    }
    fn as_slice(&self) -> &[f64] {
        // SAFETY: Quad is repr(C) around four f64, without padding.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast(), self.0.len() * 4) }
    }
    fn as_mut_slice(&mut self) -> &mut [f64] {
        // SAFETY: as above, and the borrow is unique.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast(), self.0.len() * 4) }
    }
}

/// A column of a layer: `P` rows, the real ones first.
type Column<const P: usize> = [f64; P];

pub struct SmallNet {
    /// `rows` rounded up to 4, 8, 12 or 16: the length of every column.
    padded: usize,
    /// Everything an epoch reads and writes, in one allocation: spread over
    /// separate allocations, some layouts put two of them 4 KiB apart, and
    /// loads then wait on unrelated stores (measured: up to 40 percent
    /// slower epochs, depending on where the allocator put them).
    ///
    /// In order: every layer's columns (the inputs first, zero in the
    /// padding rows, then each layer's activations); the deltas, `deltas`
    /// further on (so one offset serves both); the parameters; their
    /// gradient, `grads` further on; the targets as padded columns, a whole
    /// number of fours of them; a mask column of the real rows; the
    /// sigmoid's constants. (Read from this buffer, which the epoch also
    /// writes, the constants are loaded where they are used, as memory
    /// operands of the multiply-adds: held in the net apart, they were
    /// copied to the stack at every epoch's start.)
    buffer: Aligned,
    /// Where the parameters start; `frame.grads` is also their length.
    params_at: usize,
    frame: Frame,
    layers: Vec<Layer>,
    /// The weights' ranges within `params`, for weight decay.
    weight_ranges: Vec<Range<usize>>,
    /// Whether the processor has AVX2 and FMA, for the epoch compiled for them.
    fma: bool,
}

/// What an epoch needs to know of the net besides its layers: the shape of
/// the data and where the buffer holds what no layer owns.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Frame {
    rows: usize,
    /// How far past a column its delta is.
    deltas: usize,
    /// How far past a parameter its gradient is.
    grads: usize,
    y_at: usize,
    /// A column whose real rows have every bit set.
    keep_at: usize,
    sigmoid_at: usize,
    row_bias: bool,
}

/// One layer as an epoch needs it: where its parts are in the buffer.
struct Layer {
    fan_in: usize,
    fan_out: usize,
    act: Activation,
    /// The activation of the layer below (unused for the first layer).
    act_below: Activation,
    /// The layer's first input column; its own columns follow its inputs.
    input_at: usize,
    output_at: usize,
    /// Weights, column-major with `stride` rows (fan_in rounded up to four;
    /// the padding entries and columns are zero), and biases: one per column
    /// (column layout) or a padded column per column (row layout), for
    /// fan_out rounded up to four columns.
    w_at: usize,
    b_at: usize,
    /// Where the caller's flat vector has them.
    flat_weights: Range<usize>,
    flat_biases: Range<usize>,
}

impl Layer {
    /// The rows of the weights' storage, and the columns of the layer's
    /// input block: fan_in rounded up to four.
    fn stride(&self) -> usize {
        self.fan_in.div_ceil(4) * 4
    }
}

impl SmallNet {
    /// Whether the net can train `rows` rows of `arch` under `loss`: every
    /// property its epoch assumes (its sizes, an elementwise output, slopes
    /// written through the output, a squared-error or cross-entropy loss).
    pub fn fits(arch: &Architecture, rows: usize, loss: Loss) -> bool {
        let padded = rows.div_ceil(4) * 4;
        rows > 0
            && rows <= MAX_ROWS
            && matches!(loss, Loss::Sse | Loss::Mse | Loss::CrossEntropy)
            && arch.output_activation() != Activation::Softmax
            && (0..arch.layers()).all(|l| !arch.activation(l).slope_needs_input())
            && (0..arch.layers()).all(|l| padded * arch.fan_in(l) * arch.fan_out(l) <= MAX_PRODUCT)
    }

    /// Copies the (small) inputs and targets, column-major `rows x d` and
    /// `rows x o`, and the flat parameters into the net's buffer.
    pub fn new(arch: &Architecture, x: &[f64], y: &[f64], params: &[f64], rows: usize) -> SmallNet {
        assert!(params.len() == arch.n_params());
        assert!(x.len() >= rows * arch.inputs() && y.len() >= rows * arch.outputs());
        let padded = rows.div_ceil(4) * 4;
        let whole = |len: usize| len.div_ceil(4) * 4;
        // Every layer's block of columns is a whole number of fours, the
        // extra columns zero: four columns then make one step of a product
        // or of a gradient, with no remainder to handle.
        let columns = arch.sizes().iter().map(|&s| whole(s)).sum::<usize>() * padded;
        let params_at = 2 * columns;
        let (mut col_at, mut param_at) = (0, params_at);
        let mut layers = Vec::with_capacity(arch.layers());
        for l in 0..arch.layers() {
            let (fan_in, fan_out) = (arch.fan_in(l), arch.fan_out(l));
            let w_at = param_at;
            let b_at = w_at + whole(fan_in) * whole(fan_out);
            param_at = b_at
                + match arch.bias_layout() {
                    BiasLayout::Column => whole(fan_out),
                    BiasLayout::Row => whole(fan_out) * padded,
                };
            layers.push(Layer {
                fan_in,
                fan_out,
                act: arch.activation(l),
                act_below: if l > 0 { arch.activation(l - 1) } else { Activation::Linear },
                input_at: col_at,
                output_at: col_at + whole(fan_in) * padded,
                w_at,
                b_at,
                flat_weights: arch.weights(l),
                flat_biases: arch.biases(l),
            });
            col_at += whole(fan_in) * padded;
        }
        let n_params = param_at - params_at;
        let y_at = param_at + n_params;
        let keep_at = y_at + whole(arch.outputs()) * padded;
        let frame = Frame {
            rows,
            deltas: columns,
            grads: n_params,
            y_at,
            keep_at,
            sigmoid_at: keep_at + padded,
            row_bias: arch.bias_layout() == BiasLayout::Row,
        };
        let mut net = SmallNet {
            padded,
            buffer: Aligned::zeros(frame.sigmoid_at + SIGMOID_LEN),
            params_at,
            frame,
            weight_ranges: layers.iter().map(|l| l.w_at - params_at..l.b_at - params_at).collect(),
            layers,
            fma: has_avx2_fma(),
        };
        let buf = net.buffer.as_mut_slice();
        for k in 0..arch.inputs() {
            buf[k * padded..k * padded + rows].copy_from_slice(&x[k * rows..(k + 1) * rows]);
        }
        for j in 0..arch.outputs() {
            buf[y_at + j * padded..y_at + j * padded + rows].copy_from_slice(&y[j * rows..(j + 1) * rows]);
        }
        buf[keep_at..keep_at + rows].fill(f64::from_bits(u64::MAX));
        let table = SigmoidConstants::new();
        buf[frame.sigmoid_at..][..SIGMOID_LEN].copy_from_slice(table.as_slice());
        net.load_params(params);
        net
    }

    /// Where each run of the flat parameter vector sits in the net's layout:
    /// (range in the flat vector, offset in the buffer), a column of a
    /// weight or row-bias block at a time (a column-bias block is one run).
    fn pieces(&self) -> impl Iterator<Item = (Range<usize>, usize)> + '_ {
        // `cols` runs of `len` entries, consecutive in the flat vector and
        // `step` apart in the buffer.
        let block = |flat: usize, cols: usize, len: usize, at: usize, step: usize| {
            (0..cols).map(move |j| (flat + j * len..flat + (j + 1) * len, at + j * step))
        };
        self.layers.iter().flat_map(move |layer| {
            let (bias_cols, bias_len) = if self.frame.row_bias { (layer.fan_out, self.frame.rows) } else { (1, layer.fan_out) };
            block(layer.flat_weights.start, layer.fan_out, layer.fan_in, layer.w_at, layer.stride())
                .chain(block(layer.flat_biases.start, bias_cols, bias_len, layer.b_at, self.padded))
        })
    }

    /// Sets the net's parameters from the flat vector.
    fn load_params(&mut self, flat: &[f64]) {
        let pieces: Vec<_> = self.pieces().collect();
        let buf = self.buffer.as_mut_slice();
        for (range, at) in pieces {
            buf[at..at + range.len()].copy_from_slice(&flat[range]);
        }
    }

    /// Writes the net's parameters (`grads` false) or the gradient of the
    /// last [`SmallNet::epoch`] (`grads` true) in the flat layout.
    fn copy_out(&self, flat: &mut [f64], grads: bool) {
        let buf = &self.buffer.as_slice()[if grads { self.frame.grads } else { 0 }..];
        for (range, at) in self.pieces() {
            flat[range.clone()].copy_from_slice(&buf[at..at + range.len()]);
        }
    }

    /// The net's parameters, in the flat layout.
    pub fn copy_params_to(&self, flat: &mut [f64]) {
        self.copy_out(flat, false);
    }

    /// The gradient of the last [`SmallNet::epoch`], in the flat layout.
    pub fn copy_gradient_to(&self, flat: &mut [f64]) {
        self.copy_out(flat, true);
    }

    /// Forward and backward pass over all rows: fills the gradient (of the
    /// loss summed over rows, times `scale`) and returns the loss sum, as
    /// [`crate::layers::forward`] then [`crate::layers::backward`] would.
    pub fn epoch(&mut self, loss: Loss, scale: f64) -> f64 {
        self.run(Pass { loss, scale, update: Update::Gradient })
    }

    /// [`SmallNet::epoch`] followed by the article's step, `p += -g * lr`
    /// after adding `weight_decay · w` to each weight's gradient, with each
    /// parameter updated as soon as its gradient is known.
    pub fn descend(&mut self, loss: Loss, scale: f64, lr: f64, weight_decay: f64) -> f64 {
        self.run(Pass { loss, scale, update: Update::Descend { lr, weight_decay } })
    }

    /// [`SmallNet::descend`] once per entry of `sums`, each entry receiving
    /// that epoch's loss sum: one call (and one dispatch) for many epochs.
    pub fn descend_epochs(&mut self, loss: Loss, scale: f64, lr: f64, weight_decay: f64, sums: &mut [f64]) {
        self.run_many(Pass { loss, scale, update: Update::Descend { lr, weight_decay } }, sums);
    }

    fn run(&mut self, pass: Pass) -> f64 {
        let mut sum = [0.0];
        self.run_many(pass, &mut sum);
        sum[0]
    }

    fn run_many(&mut self, pass: Pass, sums: &mut [f64]) {
        match self.padded {
            4 => compiled::<4>(self, pass, sums),
            8 => compiled::<8>(self, pass, sums),
            12 => compiled::<12>(self, pass, sums),
            _ => compiled::<16>(self, pass, sums),
        }
    }

    /// The net's parameters and gradient in its own layout (padding entries
    /// are zero, with a zero gradient), for an update rule that treats each
    /// entry alike; and the weights' ranges in them.
    pub fn state(&mut self) -> (&mut [f64], &mut [f64], &[Range<usize>]) {
        let grads = self.frame.grads;
        let (lower, upper) = self.buffer.as_mut_slice()[self.params_at..].split_at_mut(grads);
        (lower, &mut upper[..grads], &self.weight_ranges)
    }

    /// The length of [`SmallNet::state`]'s vectors.
    pub fn state_len(&self) -> usize {
        self.frame.grads
    }

    /// The output layer's activations of the last epoch, column-major `rows x o`.
    pub fn output(&self, out: &mut [f64]) {
        let top = &self.buffer.as_slice()[self.layers.last().unwrap().output_at..];
        let rows = self.frame.rows;
        for (dst, src) in out.chunks_exact_mut(rows).zip(top.chunks_exact(self.padded)).take(self.layers.last().unwrap().fan_out) {
            dst.copy_from_slice(&src[..rows]);
        }
    }
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// What an epoch does.
#[derive(Clone, Copy)]
struct Pass {
    loss: Loss,
    scale: f64,
    update: Update,
}

/// What becomes of a gradient entry once it is summed.
#[derive(Clone, Copy)]
enum Update {
    /// Stored in the gradient part of the buffer.
    Gradient,
    /// Applied to its parameter at once.
    Descend { lr: f64, weight_decay: f64 },
}

/// The epochs compiled for AVX2+FMA when the processor has them, else for
/// the baseline. (An AVX-512VL build, with twice the registers, measured
/// slower.)
fn compiled<const P: usize>(net: &mut SmallNet, pass: Pass, sums: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<const P: usize>(net: &mut SmallNet, pass: Pass, sums: &mut [f64]) {
            run_epochs::<P, true>(net, pass, sums);
        }
        if net.fma {
            // SAFETY: `fma` is true only when the processor has AVX2 and FMA.
            return unsafe { avx2::<P>(net, pass, sums) };
        }
    }
    run_epochs::<P, false>(net, pass, sums);
}

#[inline(always)]
fn run_epochs<const P: usize, const FMA: bool>(net: &mut SmallNet, pass: Pass, sums: &mut [f64]) {
    let frame = net.frame;
    let mut cells = Cells(net.buffer.as_mut_slice());
    sums.iter_mut().for_each(|s| *s = epoch::<P, FMA>(&mut cells, &net.layers, &frame, pass));
}

/// The buffer as an epoch reads it, by offset and without bounds checks: at
/// these sizes a check per access costs as much as the multiply-add it
/// guards. [`SmallNet::new`] lays out every offset an epoch uses inside the
/// buffer (and debug builds check each access).
struct Cells<'a>(&'a mut [f64]);

impl Cells<'_> {
    #[inline(always)]
    fn get(&self, at: usize) -> f64 {
        debug_assert!(at < self.0.len());
        // SAFETY: in bounds, as above.
        unsafe { *self.0.get_unchecked(at) }
    }
    /// The sigmoid's constants at `at` (a multiple of four), as a shared
    /// borrow that ends before the next write.
    #[inline(always)]
    fn sigmoid_constants(&self, at: usize) -> &SigmoidConstants {
        debug_assert!(at.is_multiple_of(4) && at + SIGMOID_LEN <= self.0.len());
        // SAFETY: in bounds; the buffer is 32-byte aligned and `at` a whole
        // number of 32-byte units; SigmoidConstants is repr(C) f64 rows.
        unsafe { &*self.0.as_ptr().add(at).cast::<SigmoidConstants>() }
    }
    #[inline(always)]
    fn col<const P: usize>(&self, at: usize) -> Column<P> {
        debug_assert!(at + P <= self.0.len());
        // SAFETY: in bounds, as above; [f64; P] needs only f64's alignment.
        unsafe { self.0.as_ptr().add(at).cast::<Column<P>>().read() }
    }
    #[inline(always)]
    fn set_col<const P: usize>(&mut self, at: usize, v: Column<P>) {
        debug_assert!(at + P <= self.0.len());
        // SAFETY: in bounds, as above.
        unsafe { self.0.as_mut_ptr().add(at).cast::<Column<P>>().write(v) }
    }
}

/// `a · b + c`, fused when the epoch is compiled for FMA.
#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[inline(always)]
fn madd_col<const P: usize, const FMA: bool>(a: Column<P>, b: f64, c: Column<P>) -> Column<P> {
    std::array::from_fn(|r| madd::<FMA>(a[r], b, c[r]))
}

#[inline(always)]
fn zip_col<const P: usize>(a: Column<P>, b: Column<P>, f: impl Fn(f64, f64) -> f64) -> Column<P> {
    std::array::from_fn(|r| f(a[r], b[r]))
}

/// One epoch: forward, output delta, backward with updates.
#[inline(always)]
fn epoch<const P: usize, const FMA: bool>(cells: &mut Cells, layers: &[Layer], frame: &Frame, pass: Pass) -> f64 {
    layers.iter().for_each(|layer| forward_layer::<P, FMA>(cells, layer, frame));
    let sum = output_delta::<P, FMA>(cells, layers.last().unwrap(), frame, pass);
    let apply = Apply::<FMA> { update: pass.update, grads: frame.grads };
    for (l, layer) in layers.iter().enumerate().rev() {
        backward_layer::<P, FMA>(cells, layer, l > 0, frame, apply);
    }
    sum
}

/// A layer's columns: activation(input · W + b).
#[inline(always)]
fn forward_layer<const P: usize, const FMA: bool>(cells: &mut Cells, layer: &Layer, frame: &Frame) {
    let stride = layer.stride();
    for j in 0..layer.fan_out {
        let bias = if frame.row_bias { cells.col::<P>(layer.b_at + j * P) } else { [cells.get(layer.b_at + j); P] };
        // Column j of W starts at w_at + j·stride.
        let z = combine::<P, FMA>(cells, layer.input_at, layer.fan_in, layer.w_at + j * stride, 1, bias);
        cells.set_col(layer.output_at + j * P, activate::<P, FMA>(layer.act, z, cells.sigmoid_constants(frame.sigmoid_at)));
    }
}

/// A layer's part of the backward pass, its delta known: the delta of the
/// layer below (when `below`), then the gradient of its weights and biases,
/// each handed to `apply` as soon as it is summed.
#[inline(always)]
fn backward_layer<const P: usize, const FMA: bool>(cells: &mut Cells, layer: &Layer, below: bool, frame: &Frame, apply: Apply<FMA>) {
    let ds = frame.deltas;
    let stride = layer.stride();
    // The delta below first: it is on the way to the next epoch, and it
    // reads the weights before their update.
    if below {
        for i in 0..layer.fan_in {
            let slope_below = slope(layer.act_below, cells.col::<P>(layer.input_at + i * P));
            let delta_below = if layer.fan_out == 1 {
                // One unit above (the article's output): its weight meets
                // the slope while the delta is still on its way, which
                // leaves one multiply between the delta and this one.
                let w = cells.get(layer.w_at + i);
                zip_col(cells.col::<P>(layer.output_at + ds), slope_below.map(|s| w * s), |d, g| d * g)
            } else {
                // Row i of W: w_at + i, stride `stride`.
                let e = combine::<P, FMA>(cells, layer.output_at + ds, layer.fan_out, layer.w_at + i, stride, [0.0; P]);
                zip_col(e, slope_below, |e, s| e * s)
            };
            cells.set_col(layer.input_at + ds + i * P, delta_below);
        }
    }
    // gW = inputᵀ · delta, four entries of a column of W at a time (the
    // input block's zero columns give the padding entries zero).
    for j in 0..layer.fan_out {
        let delta = cells.col::<P>(layer.output_at + ds + j * P);
        // As in `combine`, tested at the end (stride is at least 4).
        let mut k = 0;
        loop {
            let first = layer.input_at + 4 * k * P;
            let input = |q: usize| cells.col::<P>(first + q * P);
            let sums = lane_sums(std::array::from_fn(|q| quarter(zip_col(input(q), delta, |a, d| a * d))));
            apply.weights(cells, layer.w_at + j * stride + 4 * k, sums);
            k += 1;
            if 4 * k >= stride {
                break;
            }
        }
    }
    if frame.row_bias {
        // The R program's `rowSums` over the layer's columns, the same
        // for every column of its bias block.
        let mut sums = cells.col::<P>(layer.output_at + ds);
        for j in 1..layer.fan_out {
            sums = zip_col(sums, cells.col::<P>(layer.output_at + ds + j * P), |s, d| s + d);
        }
        for j in 0..layer.fan_out {
            apply.biases(cells, layer.b_at + j * P, sums);
        }
    } else {
        // Four column sums of delta at a time (the padding columns are zero).
        for j in (0..layer.fan_out).step_by(4) {
            let sums = lane_sums(std::array::from_fn(|q| quarter(cells.col::<P>(layer.output_at + ds + (j + q) * P))));
            apply.biases(cells, layer.b_at + j, sums);
        }
    }
}

/// What the backward pass does with a run of gradient entries.
#[derive(Clone, Copy)]
struct Apply<const FMA: bool> {
    update: Update,
    /// How far past the parameters their gradient is.
    grads: usize,
}

impl<const FMA: bool> Apply<FMA> {
    /// Weights: the article's step after `weight_decay · w` is added to the
    /// gradient, or the gradient stored.
    #[inline(always)]
    fn weights<const N: usize>(self, cells: &mut Cells, at: usize, g: [f64; N]) {
        self.run(cells, at, g, true);
    }

    /// Biases: the same, without weight decay.
    #[inline(always)]
    fn biases<const N: usize>(self, cells: &mut Cells, at: usize, g: [f64; N]) {
        self.run(cells, at, g, false);
    }

    #[inline(always)]
    fn run<const N: usize>(self, cells: &mut Cells, at: usize, g: [f64; N], decays: bool) {
        match self.update {
            Update::Descend { lr, weight_decay } => {
                let p = cells.col::<N>(at);
                let g = if !decays || weight_decay == 0.0 { g } else { std::array::from_fn(|q| madd::<FMA>(weight_decay, p[q], g[q])) };
                cells.set_col::<N>(at, std::array::from_fn(|q| madd::<FMA>(-g[q], lr, p[q])));
            }
            Update::Gradient => cells.set_col(at + self.grads, g),
        }
    }
}

/// `init + Σ_i column(first + i·P) · w[w_first + i·w_stride]` over `count`
/// terms, in two interleaved chains (half the latency of one): a column of
/// `input · W + b` (stride 1) or of `delta · Wᵀ` (stride `stride`). Past
/// `count`, up to the next multiple of four, columns and weights are zero.
#[inline(always)]
fn combine<const P: usize, const FMA: bool>(cells: &Cells, first: usize, count: usize, w_first: usize, w_stride: usize, init: Column<P>) -> Column<P> {
    let term = |i: usize, acc: Column<P>| madd_col::<P, FMA>(cells.col::<P>(first + i * P), cells.get(w_first + i * w_stride), acc);
    if count == 1 {
        return term(0, init);
    }
    let (mut even, mut odd) = (init, [0.0; P]);
    // Tested at the end: most small layers take one pass, and a loop that
    // counts its passes first costs more than the pass.
    let mut i = 0;
    loop {
        even = term(i, even);
        odd = term(i + 1, odd);
        even = term(i + 2, even);
        odd = term(i + 3, odd);
        i += 4;
        if i >= count {
            break;
        }
    }
    zip_col(even, odd, |a, b| a + b)
}

/// A column's lanes summed down to four (lane r holds rows r, r + 4, ...).
#[inline(always)]
fn quarter<const P: usize>(v: Column<P>) -> [f64; 4] {
    let mut out = [v[0], v[1], v[2], v[3]];
    for chunk in v.as_chunks::<4>().0.iter().skip(1) {
        out = std::array::from_fn(|r| out[r] + chunk[r]);
    }
    out
}

/// The sums of four vectors of four, as one vector: a transpose folded into
/// two rounds of pairwise additions.
#[inline(always)]
fn lane_sums(v: [[f64; 4]; 4]) -> [f64; 4] {
    let pairs01 = [v[0][0] + v[0][1], v[1][0] + v[1][1], v[0][2] + v[0][3], v[1][2] + v[1][3]];
    let pairs23 = [v[2][0] + v[2][1], v[3][0] + v[3][1], v[2][2] + v[2][3], v[3][2] + v[3][3]];
    [pairs01[0] + pairs01[2], pairs01[1] + pairs01[3], pairs23[0] + pairs23[2], pairs23[1] + pairs23[3]]
}

/// The output layer's delta (d loss / d its input, times `scale`; zero in
/// the padding rows) for every output column; returns the loss sum.
#[inline(always)]
fn output_delta<const P: usize, const FMA: bool>(cells: &mut Cells, top: &Layer, frame: &Frame, pass: Pass) -> f64 {
    let out_at = top.output_at;
    let (y_at, outputs, n, act, ds) = (frame.y_at, top.fan_out, frame.rows, top.act, frame.deltas);
    // Clearing the padding rows' bits (not multiplying them by zero) also
    // clears whatever they hold. The mask is read from the buffer: built
    // here from `n`, it made the compiler take the columns apart lane by lane.
    let keep = cells.col::<P>(frame.keep_at);
    let real = |v: Column<P>| -> Column<P> { std::array::from_fn(|r| f64::from_bits(v[r].to_bits() & keep[r].to_bits())) };
    let gain = pass.loss.error_gain(outputs, pass.scale);
    let mut squares = [0.0; P];
    let mut sum = 0.0;
    for j in 0..outputs {
        let out = cells.col::<P>(out_at + j * P);
        let y = cells.col::<P>(y_at + j * P);
        let slopes = slope(act, out);
        match pass.loss {
            Loss::CrossEntropy => sum += cross_entropy(&cells.0[out_at + j * P..][..n], &cells.0[y_at + j * P..][..n]),
            Loss::Sse | Loss::Mse => {
                let e = real(zip_col(y, out, |t, p| t - p));
                squares = std::array::from_fn(|r| madd::<FMA>(e[r], e[r], squares[r]));
            }
            _ => unreachable!("SmallNet::fits admits squared errors and cross-entropy only"),
        }
        let delta = std::array::from_fn(|r| fused_delta(pass.loss, out[r], y[r], slopes[r], gain));
        cells.set_col(out_at + ds + j * P, real(delta));
    }
    sum + squares.iter().sum::<f64>()
}

/// The binary cross-entropy of probabilities `p` for targets `t`, summed.
/// Apart from the epoch: its logarithms are calls, and the lanes it would
/// take out of the epoch's vectors cost more than reading them again.
#[inline(never)]
fn cross_entropy(p: &[f64], t: &[f64]) -> f64 {
    p.iter().zip(t).map(|(&p, &t)| binary_cross_entropy(p, t)).sum()
}

/// The slope of an activation at a column of its outputs, with the choice
/// of function made once.
#[inline(always)]
fn slope<const P: usize>(act: Activation, a: Column<P>) -> Column<P> {
    match act {
        Activation::Sigmoid => a.map(|a| Activation::Sigmoid.slope(a)),
        Activation::Tanh => a.map(|a| Activation::Tanh.slope(a)),
        Activation::Relu => a.map(|a| Activation::Relu.slope(a)),
        Activation::LeakyRelu => a.map(|a| Activation::LeakyRelu.slope(a)),
        Activation::Linear | Activation::Softmax => [1.0; P],
        other => a.map(|a| other.slope(a)),
    }
}

/// The activation of a column, with the choice of function made once.
#[inline(always)]
fn activate<const P: usize, const FMA: bool>(act: Activation, z: Column<P>, consts: &SigmoidConstants) -> Column<P> {
    match act {
        #[cfg(target_arch = "x86_64")]
        Activation::Sigmoid if FMA => {
            let mut out = z;
            for lane in out.as_chunks_mut::<4>().0 {
                // SAFETY: FMA epochs run only when the processor has AVX2 and FMA.
                *lane = unsafe { crate::simd::sigmoid4_with(*lane, consts) };
            }
            out
        }
        Activation::Sigmoid => z.map(crate::simd::sigmoid),
        Activation::Tanh => z.map(f64::tanh),
        Activation::Relu => z.map(|v| Activation::Relu.apply(v)),
        Activation::LeakyRelu => z.map(|v| Activation::LeakyRelu.apply(v)),
        Activation::Linear | Activation::Softmax => z,
        other => z.map(|v| other.apply(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{backward, forward, Network, Rows, Workspace};

    fn pseudo_random(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
            })
            .collect()
    }

    /// The small path must give what the general path gives, for every
    /// element-wise activation, both bias layouts, several depths and row
    /// counts that do and do not fill whole lanes.
    #[test]
    fn agrees_with_the_general_passes() {
        // Every activation the small path takes as a hidden layer's.
        let acts: Vec<Activation> =
            Activation::ALL.into_iter().filter(|&a| a != Activation::Softmax && a != Activation::Exp && !a.slope_needs_input()).collect();
        let shapes: [&[usize]; 4] = [&[4, 3, 1], &[2, 5, 3], &[6, 4, 3, 2], &[1, 1]];
        let mut case = 0u64;
        for rows in [1, 3, 4, 7, 13] {
            for sizes in shapes {
                for bias in [BiasLayout::Column, BiasLayout::Row] {
                    for (loss, out_act) in [(Loss::Sse, Activation::Sigmoid), (Loss::Mse, Activation::Linear), (Loss::CrossEntropy, Activation::Sigmoid)] {
                        case += 1;
                        let hidden = acts[case as usize % acts.len()];
                        let mut layer_acts = vec![hidden; sizes.len() - 2];
                        layer_acts.push(out_act);
                        let arch = Architecture::new(sizes.to_vec(), layer_acts, bias, rows).unwrap();
                        assert!(SmallNet::fits(&arch, rows, loss));
                        let x = pseudo_random(rows * arch.inputs(), case);
                        let y: Vec<f64> = pseudo_random(rows * arch.outputs(), case + 99).iter().map(|v| v + 0.5).collect();
                        let params = pseudo_random(arch.n_params(), case + 7);

                        let net = Network::new(&arch);
                        let mut ws = Workspace::new(&net, rows);
                        let xr = Rows::all(&x, rows);
                        forward(&net, &params, xr, &mut ws, None, 1);
                        let want_sum = backward(&net, &params, xr, &y, None, loss, 0.5, &mut ws, 1);

                        let mut net = SmallNet::new(&arch, &x, &y, &params, rows);
                        let sum = net.epoch(loss, 0.5);
                        let mut grads = vec![0.0; arch.n_params()];
                        net.copy_gradient_to(&mut grads);
                        let mut out = vec![0.0; rows * arch.outputs()];
                        net.output(&mut out);

                        let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * (1.0 + b.abs());
                        assert!(close(sum, want_sum), "loss sum, case {}", case);
                        for (g, w) in grads.iter().zip(&ws.grads) {
                            assert!(close(*g, *w), "gradient {} vs {}, case {}", g, w, case);
                        }
                        for (g, w) in out.iter().zip(ws.output(rows, arch.outputs())) {
                            assert!(close(*g, *w), "output, case {}", case);
                        }
                    }
                }
            }
        }
    }

    /// `descend` updates each parameter inside the backward pass; it must
    /// land where `epoch` then the article's step (with weight decay on the
    /// weights only) lands, for both bias layouts, two column lengths, one
    /// to six units, a deeper net and every loss.
    #[test]
    fn descending_in_the_pass_equals_a_step_after_it() {
        let cases = [
            (vec![4, 3, 1], BiasLayout::Row, 3, 0.01),
            (vec![4, 3, 1], BiasLayout::Row, 3, 0.0),
            (vec![2, 4, 3], BiasLayout::Column, 7, 0.0),
            (vec![1, 1, 4], BiasLayout::Row, 5, 0.0),
            (vec![3, 2, 2], BiasLayout::Column, 4, 0.0),
            (vec![5, 6, 2, 3], BiasLayout::Column, 9, 0.01),
            (vec![5, 6, 2, 3], BiasLayout::Column, 9, 0.0),
        ];
        for ((sizes, bias, rows, decay), loss) in cases.into_iter().flat_map(|c| [Loss::Sse, Loss::Mse, Loss::CrossEntropy].map(move |l| (c.clone(), l))) {
            let acts = vec![Activation::Sigmoid; sizes.len() - 1];
            let arch = Architecture::new(sizes, acts, bias, rows).unwrap();
            let x = pseudo_random(rows * arch.inputs(), 3);
            let y: Vec<f64> = pseudo_random(rows * arch.outputs(), 4).iter().map(|v| v + 0.5).collect();
            let start = pseudo_random(arch.n_params(), 5);
            let lr = 0.3;

            let mut fused = SmallNet::new(&arch, &x, &y, &start, rows);
            let mut stepped = SmallNet::new(&arch, &x, &y, &start, rows);
            let mut want = start.clone();
            let mut grads = vec![0.0; arch.n_params()];
            for _ in 0..5 {
                let a = fused.descend(loss, 0.5, lr, decay);
                let b = stepped.epoch(loss, 0.5);
                assert!((a - b).abs() <= 1e-13 * (1.0 + b.abs()), "loss sum {} vs {}, {:?}", a, b, loss);
                stepped.copy_gradient_to(&mut grads);
                for l in 0..arch.layers() {
                    arch.weights(l).for_each(|i| grads[i] += decay * want[i]);
                }
                want.iter_mut().zip(&grads).for_each(|(p, g)| *p += -g * lr);
                stepped = SmallNet::new(&arch, &x, &y, &want, rows);
            }
            let mut got = vec![0.0; arch.n_params()];
            fused.copy_params_to(&mut got);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{} vs {}, {:?}", g, w, loss);
            }
            assert_ne!(got, start);
        }
    }

    #[test]
    fn large_or_softmax_networks_take_the_general_path() {
        let sig = |k| vec![Activation::Sigmoid; k];
        assert!(SmallNet::fits(&Architecture::new(vec![4, 3, 1], sig(2), BiasLayout::Row, 3).unwrap(), 3, Loss::Sse));
        assert!(!SmallNet::fits(&Architecture::new(vec![4, 3, 1], sig(2), BiasLayout::Column, 1).unwrap(), 17, Loss::Sse));
        assert!(!SmallNet::fits(&Architecture::new(vec![64, 64, 1], sig(2), BiasLayout::Column, 1).unwrap(), 8, Loss::Sse));
        let softmax = Architecture::new(vec![4, 3, 2], vec![Activation::Sigmoid, Activation::Softmax], BiasLayout::Column, 1).unwrap();
        assert!(!SmallNet::fits(&softmax, 3, Loss::CrossEntropy));
        // Losses and activations the fused epoch does not implement take the general path.
        let article = Architecture::new(vec![4, 3, 1], sig(2), BiasLayout::Column, 3).unwrap();
        assert!(!SmallNet::fits(&article, 3, Loss::Mae));
        assert!(!SmallNet::fits(&article, 3, Loss::Huber { delta: 1.0 }));
        let gelu = Architecture::new(vec![4, 3, 1], vec![Activation::Gelu, Activation::Linear], BiasLayout::Column, 3).unwrap();
        assert!(!SmallNet::fits(&gelu, 3, Loss::Sse));
    }
}
