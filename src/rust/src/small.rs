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
//! The arithmetic is the general path's, in the same order: a product entry
//! sums over k from zero, then adds its bias; a gradient entry sums over rows.

use crate::activation::Activation;
use crate::loss::{elementwise_delta, Loss};
use crate::network::{Architecture, BiasLayout};

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
    /// The inputs, `padded x d`, zero in the padding rows.
    x: Aligned,
    acts: Vec<Aligned>,
    deltas: Vec<Aligned>,
    /// Whether the processor has AVX2 and FMA, for [`crate::simd::sigmoid4`].
    fma: bool,
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

    /// Copies the (small) inputs, column-major `rows x d`, into padded columns.
    pub fn new(arch: &Architecture, x: &[f64], rows: usize) -> SmallNet {
        assert!(SmallNet::fits(arch, rows));
        let padded = rows.div_ceil(4) * 4;
        let columns = |count: usize| Aligned::zeros(padded * count);
        let mut xp = columns(arch.inputs());
        for (dst, src) in xp.as_mut_slice().chunks_exact_mut(padded).zip(x.chunks_exact(rows)) {
            dst[..rows].copy_from_slice(src);
        }
        SmallNet {
            rows,
            padded,
            x: xp,
            acts: (0..arch.layers()).map(|l| columns(arch.fan_out(l))).collect(),
            deltas: (0..arch.layers()).map(|l| columns(arch.fan_out(l))).collect(),
            fma: has_avx2_fma(),
        }
    }

    /// Forward and backward pass over all rows: fills `grads` (the loss's
    /// gradient summed over rows, times `scale`) and returns the loss sum, as
    /// [`crate::network::forward`] then [`crate::network::backward`] would.
    pub fn epoch(&mut self, arch: &Architecture, params: &[f64], y: &[f64], loss: Loss, scale: f64, grads: &mut [f64]) -> f64 {
        let pass = Pass { arch, params, y, loss, scale };
        match self.padded {
            4 => epoch_4(self, pass, grads),
            8 => epoch_8(self, pass, grads),
            12 => epoch_12(self, pass, grads),
            _ => epoch_16(self, pass, grads),
        }
    }

    /// The output layer's activations of the last epoch, column-major `rows x o`.
    pub fn output(&self, out: &mut [f64]) {
        let top = self.acts.last().unwrap().as_slice();
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
struct Pass<'a> {
    arch: &'a Architecture,
    params: &'a [f64],
    y: &'a [f64],
    loss: Loss,
    scale: f64,
}

// One compiled epoch per column length: with the length known, every column
// operation is a few vector instructions and no loop. Each is compiled for
// AVX2+FMA when the processor has them (measured faster here than AVX-512,
// whose wider registers a column of 4 to 16 rows cannot fill) and for the
// baseline otherwise.
macro_rules! epoch_for {
    ($name:ident, $p:literal) => {
        fn $name(net: &mut SmallNet, pass: Pass, grads: &mut [f64]) -> f64 {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2(net: &mut SmallNet, pass: Pass, grads: &mut [f64]) -> f64 {
                    epoch::<$p>(net, pass, grads)
                }
                if net.fma {
                    // SAFETY: `fma` is true only when the processor has AVX2 and FMA.
                    return unsafe { avx2(net, pass, grads) };
                }
            }
            epoch::<$p>(net, pass, grads)
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
fn epoch<const P: usize>(net: &mut SmallNet, pass: Pass, grads: &mut [f64]) -> f64 {
    let Pass { arch, params, y, loss, scale } = pass;
    let n = net.rows;
    for l in 0..arch.layers() {
        let (below, rest) = net.acts.split_at_mut(l);
        let input = columns::<P>(if l == 0 { &net.x } else { &below[l - 1] }.as_slice());
        let w = &params[arch.weights(l)];
        let b = &params[arch.biases(l)];
        layer_forward(input, w, b, arch.bias_layout(), arch.activation(l), n, net.fma, columns_mut::<P>(rest[0].as_mut_slice()));
    }

    let top = arch.layers() - 1;
    let o = arch.outputs();
    let mut sum = 0.0;
    let out = columns::<P>(net.acts[top].as_slice());
    let delta = columns_mut::<P>(net.deltas[top].as_mut_slice());
    for ((out, delta), yj) in out.iter().zip(delta).zip(y.chunks_exact(n)) {
        sum += elementwise_delta(loss, arch.output_activation(), &out[..n], yj, &mut delta[..n], o, scale);
    }

    for l in (0..=top).rev() {
        let fan_in = arch.fan_in(l);
        let input = columns::<P>(if l == 0 { &net.x } else { &net.acts[l - 1] }.as_slice());
        let (below, this) = net.deltas.split_at_mut(l);
        let delta = columns::<P>(this[0].as_slice());
        let (gw, gb) = grads[arch.weights(l).start..arch.biases(l).end].split_at_mut(fan_in * delta.len());
        // dW = inputᵀ · delta: one dot product of two columns per entry.
        for (gw_j, dj) in gw.chunks_exact_mut(fan_in).zip(delta) {
            for (g, xk) in gw_j.iter_mut().zip(input) {
                *g = dot(xk, dj);
            }
        }
        bias_gradient(gb, delta, n, arch.bias_layout());
        if l > 0 {
            let w = &params[arch.weights(l)];
            let acts = columns::<P>(net.acts[l - 1].as_slice());
            delta_below(delta, w, acts, arch.activation(l - 1), columns_mut::<P>(below[l - 1].as_mut_slice()));
        }
    }
    sum
}

/// `out = act(input · W + b)` for one layer, a column at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn layer_forward<const P: usize>(input: &[Column<P>], w: &[f64], b: &[f64], layout: BiasLayout, act: Activation, n: usize, fma: bool, out: &mut [Column<P>]) {
    for (j, (out_j, w_j)) in out.iter_mut().zip(w.chunks_exact(input.len())).enumerate() {
        let mut z = [0.0; P];
        for (x, &wkj) in input.iter().zip(w_j) {
            for r in 0..P {
                z[r] += x[r] * wkj;
            }
        }
        match layout {
            BiasLayout::Column => z.iter_mut().for_each(|z| *z += b[j]),
            // Column j of the n x fan_out bias block; none in the padding.
            // Written as a select over all P rows: adding only n of them made
            // a masked store and reload, which stalls store forwarding.
            BiasLayout::Row => {
                let col = &b[j * n..(j + 1) * n];
                for (r, z) in z.iter_mut().enumerate() {
                    *z += if r < n { col[r.min(n - 1)] } else { 0.0 };
                }
            }
        }
        *out_j = activate(act, z, fma);
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
    let fan_in = acts.len();
    for (j, (out, a)) in below.iter_mut().zip(acts).enumerate() {
        let mut e = [0.0; P];
        for (d, &wjm) in delta.iter().zip(w[j..].iter().step_by(fan_in)) {
            for r in 0..P {
                e[r] += d[r] * wjm;
            }
        }
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

                        let mut net = SmallNet::new(&arch, &x, rows);
                        let mut grads = vec![f64::NAN; arch.n_params()];
                        let sum = net.epoch(&arch, &params, &y, loss, 0.5, &mut grads);
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
