//! Small networks, such as the article's (3 rows, 4 inputs, 3 hidden units):
//! a whole full-batch epoch in one pass over buffers whose columns are padded
//! to whole lanes of rows.
//!
//! At these sizes the general path's cost is its calls (one product, sweep
//! and dispatch per step), not arithmetic. Here every column of a layer is a
//! few lanes of rows kept in registers: its product, bias and activation are
//! one loop, and the backward pass reads each column once. The padding rows
//! of every delta stay zero, so they add nothing to the gradients.
//!
//! The arithmetic is the general path's, in the same order (a product entry
//! sums over k from zero, then adds its bias; a gradient entry sums over
//! rows), except the sigmoid: with AVX2 and FMA it is
//! [`crate::simd::sigmoid4`], whose results differ from the general path's
//! in the last bits (the tests hold the two paths to 1e-13).

use crate::activation::Activation;
use crate::loss::{elementwise_delta, Loss};
use crate::network::{Architecture, BiasLayout};
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
        assert_eq!(len % 4, 0);
        Aligned(vec![Quad([0.0; 4]); len / 4])
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

/// A column of a layer: `P` rows, the real ones first, then zeros.
type Column<const P: usize> = [f64; P];

pub struct SmallNet {
    rows: usize,
    /// `rows` rounded up to 4, 8, 12 or 16: the length of every column below.
    padded: usize,
    /// Everything an epoch reads and writes, in one allocation (`parts` says
    /// where): spread over separate allocations, some layouts put two of them
    /// 4 KiB apart, and loads then wait on unrelated stores (measured: up to
    /// 40 percent slower epochs, depending on where the allocator put them).
    buffer: Aligned,
    parts: Parts,
    layers: Vec<Layer>,
    bias: BiasLayout,
    /// The output activation and the number of outputs.
    output_act: Activation,
    outputs: usize,
    /// Whether the processor has AVX2 and FMA, for [`crate::simd::sigmoid4`]
    /// and the epoch compiled for them.
    fma: bool,
}

/// Where each part of [`SmallNet::buffer`] is: every layer's columns (the
/// inputs first, zero in the padding rows, then each layer's activations),
/// the deltas at the same offsets past `deltas` (so one offset serves both),
/// then the parameters, their gradient and the targets (`rows x o`).
struct Parts {
    acts: Range<usize>,
    deltas: Range<usize>,
    params: Range<usize>,
    grads: Range<usize>,
    y: Range<usize>,
}

impl Parts {
    fn new(columns: usize, params: usize, targets: usize) -> Parts {
        let whole = |len: usize| len.div_ceil(4) * 4;
        let acts = 0..columns;
        let deltas = acts.end..acts.end + columns;
        let params_at = deltas.end..deltas.end + params;
        let grads_start = deltas.end + whole(params);
        let grads = grads_start..grads_start + params;
        let y_start = grads_start + whole(params);
        Parts { acts, deltas, params: params_at, grads, y: y_start..y_start + targets }
    }
    fn len(&self) -> usize {
        self.y.end.div_ceil(4) * 4
    }
}

/// One layer as an epoch needs it, read once from the architecture.
struct Layer {
    fan_out: usize,
    weights: Range<usize>,
    biases: Range<usize>,
    act: Activation,
    /// The activation of the layer below (unused for the first layer).
    act_below: Activation,
    /// Where the layer's input columns start in `acts`; its own columns follow them.
    input_at: usize,
    output_at: usize,
}

impl SmallNet {
    /// Whether a full-batch network on `rows` rows is small enough for this
    /// path and uses only element-wise activations.
    pub fn fits(arch: &Architecture, rows: usize) -> bool {
        let padded = rows.div_ceil(4) * 4;
        rows > 0
            && rows <= MAX_ROWS
            && arch.output_activation() != Activation::Softmax
            && (0..arch.layers()).all(|l| padded * arch.fan_in(l) * arch.fan_out(l) <= MAX_PRODUCT)
    }

    /// Copies the (small) inputs and targets, column-major `rows x d` and
    /// `rows x o`, and the parameters into the net's buffer.
    pub fn new(arch: &Architecture, x: &[f64], y: &[f64], params: &[f64], rows: usize) -> SmallNet {
        assert!(SmallNet::fits(arch, rows) && params.len() == arch.n_params());
        let padded = rows.div_ceil(4) * 4;
        let columns: usize = arch.sizes().iter().sum::<usize>() * padded;
        let parts = Parts::new(columns, arch.n_params(), rows * arch.outputs());
        let mut buffer = Aligned::zeros(parts.len());
        let all = buffer.as_mut_slice();
        for (dst, src) in all[parts.acts.clone()].chunks_exact_mut(padded).zip(x.chunks_exact(rows)).take(arch.inputs()) {
            dst[..rows].copy_from_slice(src);
        }
        all[parts.params.clone()].copy_from_slice(params);
        all[parts.y.clone()].copy_from_slice(&y[..rows * arch.outputs()]);
        let mut at = 0;
        let layers = (0..arch.layers())
            .map(|l| {
                let input_at = at;
                at += arch.fan_in(l) * padded;
                Layer {
                    fan_out: arch.fan_out(l),
                    weights: arch.weights(l),
                    biases: arch.biases(l),
                    act: arch.activation(l),
                    act_below: if l > 0 { arch.activation(l - 1) } else { Activation::Linear },
                    input_at,
                    output_at: at,
                }
            })
            .collect();
        SmallNet {
            rows,
            padded,
            buffer,
            parts,
            layers,
            bias: arch.bias_layout(),
            output_act: arch.output_activation(),
            outputs: arch.outputs(),
            fma: has_avx2_fma(),
        }
    }

    /// Forward and backward pass over all rows with the net's parameters:
    /// fills the gradient (of the loss summed over rows, times `scale`) and
    /// returns the loss sum, as [`crate::network::forward`] then
    /// [`crate::network::backward`] would.
    pub fn epoch(&mut self, loss: Loss, scale: f64) -> f64 {
        let pass = Pass { loss, scale };
        match self.padded {
            4 => epoch_4(self, pass),
            8 => epoch_8(self, pass),
            12 => epoch_12(self, pass),
            _ => epoch_16(self, pass),
        }
    }

    /// The parameters, to read or step, and the gradient of the last epoch.
    pub fn params_and_grads(&mut self) -> (&mut [f64], &mut [f64]) {
        let (lower, upper) = self.buffer.as_mut_slice().split_at_mut(self.parts.grads.start);
        (&mut lower[self.parts.params.clone()], &mut upper[..self.parts.grads.len()])
    }

    /// The output layer's activations of the last epoch, column-major `rows x o`.
    pub fn output(&self, out: &mut [f64]) {
        let top = &self.buffer.as_slice()[self.layers.last().unwrap().output_at..];
        for (dst, src) in out.chunks_exact_mut(self.rows).zip(top.chunks_exact(self.padded)) {
            dst.copy_from_slice(&src[..self.rows]);
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

/// What an epoch reads.
#[derive(Clone, Copy)]
struct Pass {
    loss: Loss,
    scale: f64,
}

// One compiled epoch per column length: with the length known, every column
// operation is a few vector instructions and no loop. Each is compiled for
// AVX2+FMA when the processor has them, else for the baseline. (An AVX-512VL
// build, with twice the registers, measured no faster: a column of 4 to 16
// rows fills no wider vector.)
macro_rules! epoch_for {
    ($name:ident, $p:literal) => {
        fn $name(net: &mut SmallNet, pass: Pass) -> f64 {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2(net: &mut SmallNet, pass: Pass) -> f64 {
                    epoch::<$p>(net, pass)
                }
                if net.fma {
                    // SAFETY: `fma` is true only when the processor has AVX2 and FMA.
                    return unsafe { avx2(net, pass) };
                }
            }
            epoch::<$p>(net, pass)
        }
    };
}
epoch_for!(epoch_4, 4);
epoch_for!(epoch_8, 8);
epoch_for!(epoch_12, 12);
epoch_for!(epoch_16, 16);

fn columns<const P: usize>(v: &[f64]) -> &[Column<P>] {
    v.as_chunks::<P>().0
}

fn columns_mut<const P: usize>(v: &mut [f64]) -> &mut [Column<P>] {
    v.as_chunks_mut::<P>().0
}

#[inline(always)]
fn epoch<const P: usize>(net: &mut SmallNet, pass: Pass) -> f64 {
    let Pass { loss, scale } = pass;
    let n = net.rows;
    let parts = &net.parts;
    let (columns_part, rest) = net.buffer.as_mut_slice().split_at_mut(parts.params.start);
    let (acts, deltas) = columns_part.split_at_mut(parts.deltas.start);
    let (params_part, rest) = rest.split_at_mut(parts.grads.start - parts.params.start);
    let params = &params_part[..parts.params.len()];
    let (grads, rest) = rest.split_at_mut(parts.y.start - parts.grads.start);
    let grads = &mut grads[..parts.grads.len()];
    let y = &rest[..parts.y.len()];
    for layer in &net.layers {
        let (lower, upper) = acts.split_at_mut(layer.output_at);
        let input = columns::<P>(&lower[layer.input_at..]);
        let out = columns_mut::<P>(&mut upper[..layer.fan_out * P]);
        let (w, b) = (&params[layer.weights.clone()], &params[layer.biases.clone()]);
        layer_forward(input, w, b, net.bias, layer.act, n, net.fma, out);
    }

    let top = net.layers.last().unwrap();
    let at = top.output_at..top.output_at + top.fan_out * P;
    let mut sum = 0.0;
    let out = columns::<P>(&acts[at.clone()]);
    let delta = columns_mut::<P>(&mut deltas[at]);
    for ((out, delta), yj) in out.iter().zip(delta).zip(y.chunks_exact(n)) {
        sum += elementwise_delta(loss, net.output_act, &out[..n], yj, &mut delta[..n], net.outputs, scale);
    }

    for (l, layer) in net.layers.iter().enumerate().rev() {
        let input = columns::<P>(&acts[layer.input_at..layer.output_at]);
        let (lower, upper) = deltas.split_at_mut(layer.output_at);
        let delta = columns::<P>(&upper[..layer.fan_out * P]);
        let (gw, gb) = grads[layer.weights.start..layer.biases.end].split_at_mut(layer.weights.len());
        weight_gradient(gw, input, delta);
        bias_gradient(gb, delta, n, net.bias);
        if l > 0 {
            let below = columns_mut::<P>(&mut lower[layer.input_at..]);
            delta_below(delta, &params[layer.weights.clone()], input, layer.act_below, below);
        }
    }
    sum
}

// The loops below index without bounds checks: at these sizes a check per
// access costs as much as the multiply-add it guards. Each function asserts
// the lengths that make its indices valid before its loops.

/// `out = act(input · W + b)` for one layer, a column at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn layer_forward<const P: usize>(input: &[Column<P>], w: &[f64], b: &[f64], layout: BiasLayout, act: Activation, n: usize, fma: bool, out: &mut [Column<P>]) {
    let (fan_in, fan_out) = (input.len(), out.len());
    let bias_rows = if layout == BiasLayout::Row { n } else { 1 };
    assert!(w.len() == fan_in * fan_out && b.len() == bias_rows * fan_out && n >= 1 && n <= P);
    for j in 0..fan_out {
        // Column j of W: w[j·fan_in ..].
        let mut z = combine(input, w, j * fan_in, 1);
        match layout {
            BiasLayout::Column => {
                // SAFETY: j < fan_out = b.len().
                let bj = unsafe { *b.get_unchecked(j) };
                z.iter_mut().for_each(|z| *z += bj);
            }
            // Column j of the n x fan_out bias block; none in the padding.
            // Written as a select over all P rows: adding only n of them made
            // a masked store and reload, which stalls store forwarding.
            BiasLayout::Row => {
                for (r, z) in z.iter_mut().enumerate() {
                    // SAFETY: j·n + min(r, n − 1) < n·fan_out = b.len().
                    let brj = unsafe { *b.get_unchecked(j * n + r.min(n - 1)) };
                    *z += if r < n { brj } else { 0.0 };
                }
            }
        }
        // SAFETY: j < fan_out = out.len().
        unsafe { *out.get_unchecked_mut(j) = activate(act, z, fma) };
    }
}

/// Σ_i cols[i] · w[first + i·stride], summed in the order of i from zero:
/// a column of `input · W` (stride 1) or of `delta · Wᵀ` (stride fan_in).
#[inline(always)]
fn combine<const P: usize>(cols: &[Column<P>], w: &[f64], first: usize, stride: usize) -> Column<P> {
    assert!(cols.is_empty() || first + (cols.len() - 1) * stride < w.len());
    let mut z = [0.0; P];
    for (i, col) in cols.iter().enumerate() {
        // SAFETY: first + i·stride <= first + (len − 1)·stride < w.len().
        let wi = unsafe { *w.get_unchecked(first + i * stride) };
        for r in 0..P {
            z[r] += col[r] * wi;
        }
    }
    z
}

/// `gw = inputᵀ · delta`: one dot product of two columns per entry.
#[inline(always)]
fn weight_gradient<const P: usize>(gw: &mut [f64], input: &[Column<P>], delta: &[Column<P>]) {
    let (fan_in, fan_out) = (input.len(), delta.len());
    assert_eq!(gw.len(), fan_in * fan_out);
    for j in 0..fan_out {
        for k in 0..fan_in {
            // SAFETY: j < fan_out, k < fan_in, so k + j·fan_in < gw.len().
            unsafe { *gw.get_unchecked_mut(k + j * fan_in) = dot(input.get_unchecked(k), delta.get_unchecked(j)) };
        }
    }
}

/// The activation of a column, with the choice of function made once.
#[inline(always)]
fn activate<const P: usize>(act: Activation, z: Column<P>, fma: bool) -> Column<P> {
    match act {
        #[cfg(target_arch = "x86_64")]
        Activation::Sigmoid if fma => {
            let mut out = z;
            for lane in out.as_chunks_mut::<4>().0 {
                // SAFETY: `fma` is true only when the processor has AVX2 and FMA.
                *lane = unsafe { crate::simd::sigmoid4(*lane) };
            }
            out
        }
        Activation::Sigmoid => z.map(crate::simd::sigmoid),
        Activation::Tanh => z.map(f64::tanh),
        Activation::Relu => z.map(|v| Activation::Relu.apply(v)),
        Activation::LeakyRelu => z.map(|v| Activation::LeakyRelu.apply(v)),
        Activation::Linear | Activation::Softmax => z,
    }
}

/// Σ a·b over two columns, in the order of the rows (the padding adds zeros
/// at the end), as the general path sums.
#[inline(always)]
fn dot<const P: usize>(a: &Column<P>, b: &Column<P>) -> f64 {
    let products: Column<P> = std::array::from_fn(|r| a[r] * b[r]);
    products.iter().fold(0.0, |s, &v| s + v)
}

/// Column layout: column sums of delta. Row layout: each row's sum over the
/// columns, copied into every column (the R program's `rowSums` recycling).
#[inline(always)]
fn bias_gradient<const P: usize>(gb: &mut [f64], delta: &[Column<P>], n: usize, layout: BiasLayout) {
    match layout {
        BiasLayout::Column => {
            for (g, dj) in gb.iter_mut().zip(delta) {
                *g = dj[..n].iter().sum();
            }
        }
        BiasLayout::Row => {
            let mut sums = delta[0];
            for dj in &delta[1..] {
                for r in 0..P {
                    sums[r] += dj[r];
                }
            }
            // Row by row: a copy per column would be a memcpy call per column,
            // which costs more than these few stores.
            let cols = delta.len();
            for (r, &s) in sums.iter().enumerate().take(n) {
                for j in 0..cols {
                    gb[j * n + r] = s;
                }
            }
        }
    }
}

/// `below = (delta · Wᵀ) ⊙ slope(acts below)`, a column at a time.
#[inline(always)]
fn delta_below<const P: usize>(delta: &[Column<P>], w: &[f64], acts: &[Column<P>], act: Activation, below: &mut [Column<P>]) {
    let (fan_in, fan_out) = (acts.len(), delta.len());
    assert!(w.len() == fan_in * fan_out && below.len() == fan_in);
    for j in 0..fan_in {
        // Row j of W: w[j], w[j + fan_in], ...
        let e = combine(delta, w, j, fan_in);
        // SAFETY: j < fan_in = acts.len() = below.len().
        let (a, out) = unsafe { (acts.get_unchecked(j), below.get_unchecked_mut(j)) };
        *out = std::array::from_fn(|r| e[r] * act.slope(a[r]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{backward, forward, Rows, Workspace};

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
        let acts = [Activation::Sigmoid, Activation::Tanh, Activation::Relu, Activation::LeakyRelu, Activation::Linear];
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
                        assert!(SmallNet::fits(&arch, rows));
                        let x = pseudo_random(rows * arch.inputs(), case);
                        let y: Vec<f64> = pseudo_random(rows * arch.outputs(), case + 99).iter().map(|v| v + 0.5).collect();
                        let params = pseudo_random(arch.n_params(), case + 7);

                        let mut ws = Workspace::new(&arch, rows);
                        let xr = Rows::all(&x, rows);
                        forward(&arch, &params, xr, &mut ws, 1);
                        let want_sum = backward(&arch, &params, xr, &y, loss, 0.5, &mut ws, 1);

                        let mut net = SmallNet::new(&arch, &x, &y, &params, rows);
                        let sum = net.epoch(loss, 0.5);
                        let grads = net.params_and_grads().1.to_vec();
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

    #[test]
    fn large_or_softmax_networks_take_the_general_path() {
        let sig = |k| vec![Activation::Sigmoid; k];
        assert!(SmallNet::fits(&Architecture::new(vec![4, 3, 1], sig(2), BiasLayout::Row, 3).unwrap(), 3));
        assert!(!SmallNet::fits(&Architecture::new(vec![4, 3, 1], sig(2), BiasLayout::Column, 1).unwrap(), 17));
        assert!(!SmallNet::fits(&Architecture::new(vec![64, 64, 1], sig(2), BiasLayout::Column, 1).unwrap(), 8));
        let softmax = Architecture::new(vec![4, 3, 2], vec![Activation::Sigmoid, Activation::Softmax], BiasLayout::Column, 1).unwrap();
        assert!(!SmallNet::fits(&softmax, 3));
    }
}
