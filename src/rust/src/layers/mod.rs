//! A network as a sequence of layers over preallocated buffers: for each of
//! the architecture's layers a [`Dense`] layer, an [`ActivationLayer`] and,
//! in training with a rate for it, a [`DropoutLayer`]. Each layer owns its
//! forward and backward pass; the dense layers own their blocks of the flat
//! parameter vector (see [`Architecture`]).
//!
//! Each layer writes its output to a slot of the [`Workspace`]: a
//! `rows x units` buffer, with a delta buffer beside it. An activation whose
//! slope is a function of its output works in place on the dense layer's
//! slot, and the forward pass then fuses the two into one sweep over it.

mod activation_layer;
mod dense;
mod dropout;

pub use activation_layer::ActivationLayer;
pub use dense::{activate, Dense};
pub use dropout::DropoutLayer;

use crate::activation::Activation;
use crate::architecture::{Architecture, BiasLayout};
use crate::linalg::Operand;
use crate::loss::{weighted_delta, Loss};
use crate::real::Real;
use rand::rngs::SmallRng;

pub enum Layer {
    Dense(Dense),
    Activation(ActivationLayer),
    Dropout(DropoutLayer),
}

/// Where a layer reads its input: the network's input rows or a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    Data,
    Slot(usize),
}

struct Node {
    layer: Layer,
    input: Input,
    output: usize,
}

impl Node {
    fn in_place(&self) -> bool {
        self.input == Input::Slot(self.output)
    }
}

pub struct Network {
    arch: Architecture,
    nodes: Vec<Node>,
    /// Units of each slot.
    slot_units: Vec<usize>,
    /// Per dense layer of the architecture, the slots of its pre-activation
    /// and of its activation (the same slot for an in-place activation).
    pre_slot: Vec<usize>,
    act_slot: Vec<usize>,
    dropout: bool,
}

impl Network {
    /// The network of `arch` for prediction, and for training without dropout.
    pub fn new(arch: &Architecture) -> Network {
        Network::with_dropout(arch, &[])
    }

    /// The network of `arch` for training with dropout `rates`, one per
    /// hidden layer (or none); a layer with rate 0 gets no dropout layer.
    pub fn with_dropout(arch: &Architecture, rates: &[f64]) -> Network {
        assert!(rates.is_empty() || rates.len() == arch.layers() - 1, "one dropout rate per hidden layer");
        assert!(rates.iter().all(|r| (0.0..1.0).contains(r)), "dropout rates lie in [0, 1)");
        let mut net = Network { arch: arch.clone(), nodes: Vec::new(), slot_units: Vec::new(), pre_slot: Vec::new(), act_slot: Vec::new(), dropout: false };
        let mut input = Input::Data;
        for l in 0..arch.layers() {
            let units = arch.fan_out(l);
            let z = net.new_slot(units);
            net.nodes.push(Node { layer: Layer::Dense(Dense::of(arch, l)), input, output: z });
            let act = ActivationLayer { activation: arch.activation(l) };
            let a = if act.in_place() { z } else { net.new_slot(units) };
            net.nodes.push(Node { layer: Layer::Activation(act), input: Input::Slot(z), output: a });
            net.pre_slot.push(z);
            net.act_slot.push(a);
            input = Input::Slot(a);
            let rate = rates.get(l).copied().unwrap_or(0.0);
            if rate > 0.0 {
                let dropped = net.new_slot(units);
                net.nodes.push(Node { layer: Layer::Dropout(DropoutLayer::new(rate)), input, output: dropped });
                input = Input::Slot(dropped);
                net.dropout = true;
            }
        }
        net
    }

    fn new_slot(&mut self, units: usize) -> usize {
        self.slot_units.push(units);
        self.slot_units.len() - 1
    }

    pub fn arch(&self) -> &Architecture {
        &self.arch
    }

    pub fn has_dropout(&self) -> bool {
        self.dropout
    }

    pub fn layers(&self) -> impl Iterator<Item = &Layer> {
        self.nodes.iter().map(|n| &n.layer)
    }

    fn output_slot(&self) -> usize {
        *self.act_slot.last().unwrap()
    }
}

/// Buffers for `capacity` rows: every slot's values and deltas, dropout's
/// masks, and the gradient. Allocated once; the passes only write into them.
pub struct Workspace<T = f64> {
    capacity: usize,
    /// Per slot, `capacity x units` column-major (the first `rows x units` in use).
    values: Vec<Vec<T>>,
    deltas: Vec<Vec<T>>,
    /// Per slot a dropout layer writes, its mask; empty for the others.
    masks: Vec<Vec<T>>,
    pub grads: Vec<T>,
    output_slot: usize,
}

impl<T: Real> Workspace<T> {
    pub fn new(net: &Network, capacity: usize) -> Workspace<T> {
        let block = |units: &usize| vec![T::ZERO; capacity * units];
        let mut masks: Vec<Vec<T>> = net.slot_units.iter().map(|_| Vec::new()).collect();
        for node in &net.nodes {
            if let Layer::Dropout(_) = node.layer {
                masks[node.output] = block(&net.slot_units[node.output]);
            }
        }
        Workspace {
            capacity,
            values: net.slot_units.iter().map(block).collect(),
            deltas: net.slot_units.iter().map(block).collect(),
            masks,
            grads: vec![T::ZERO; net.arch.n_params()],
            output_slot: net.output_slot(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The output layer's activations for the last `rows` passed forward.
    pub fn output(&self, rows: usize, outputs: usize) -> &[T] {
        &self.values[self.output_slot][..rows * outputs]
    }

    /// Layer `l`'s activations: the whole buffer, whose first `rows x units`
    /// entries hold the last pass's `rows` rows, column-major.
    pub fn activations(&self, net: &Network, l: usize) -> &[T] {
        &self.values[net.act_slot[l]]
    }

    /// Layer `l`'s pre-activations, when its activation keeps them apart
    /// (else they were overwritten by the activations).
    pub fn pre_activations(&self, net: &Network, l: usize) -> Option<&[T]> {
        (net.pre_slot[l] != net.act_slot[l]).then(|| &self.values[net.pre_slot[l]][..])
    }

    /// The delta at layer `l`'s pre-activation after [`backward`].
    pub fn delta(&self, net: &Network, l: usize) -> &[T] {
        &self.deltas[net.pre_slot[l]]
    }
}

/// Rows of inputs: a run of rows of a column-major matrix with `ld` rows,
/// or (`by_row`) a block of whole rows stored one after another.
#[derive(Clone, Copy)]
pub struct Rows<'a, T = f64> {
    pub data: &'a [T],
    pub ld: usize,
    pub first: usize,
    pub rows: usize,
    /// Row-major storage (`ld` is then the number of columns): minibatches
    /// gathered from a row-major copy of the data, one row a contiguous copy.
    pub by_row: bool,
}

impl<'a, T: Real> Rows<'a, T> {
    /// The whole of a contiguous column-major `rows x cols` matrix.
    pub fn all(data: &'a [T], rows: usize) -> Self {
        Rows { data, ld: rows, first: 0, rows, by_row: false }
    }
    /// A run of `rows` rows from `first` of a column-major matrix with `ld` rows.
    pub fn of(data: &'a [T], ld: usize, first: usize, rows: usize) -> Self {
        Rows { data, ld, first, rows, by_row: false }
    }
    /// A row-major `rows x cols` block.
    pub fn by_row(data: &'a [T], rows: usize, cols: usize) -> Self {
        Rows { data, ld: cols, first: 0, rows, by_row: true }
    }
    fn operand(&self, cols: usize) -> Operand<'a, T> {
        if self.by_row {
            // A row-major block is the transpose of a column-major one.
            assert_eq!(cols, self.ld, "a row-major block has its own width");
            Operand::new(&self.data[..self.rows * cols], cols, self.rows).t()
        } else {
            Operand::rows_of(self.data, self.ld, self.first, self.rows, cols)
        }
    }
    fn column(&self, j: usize) -> &'a [T] {
        debug_assert!(!self.by_row);
        let start = j * self.ld + self.first;
        &self.data[start..start + self.rows]
    }
}

/// Slot `input`'s buffer and slot `output`'s for writing (`input < output`).
fn read_write<T>(slots: &mut [Vec<T>], input: usize, output: usize) -> (&[T], &mut [T]) {
    assert!(input < output, "a layer reads a slot below the one it writes");
    let (below, rest) = slots.split_at_mut(output);
    (&below[input], &mut rest[0])
}

/// Slot `below`'s buffer for writing and slot `above`'s (`below < above`).
fn write_read<T>(slots: &mut [Vec<T>], below: usize, above: usize) -> (&mut [T], &[T]) {
    assert!(below < above, "a layer's delta goes to a slot below its own");
    let (lower, rest) = slots.split_at_mut(above);
    (&mut lower[below], &rest[0])
}

/// Forward pass: fills the workspace for `x.rows` rows. In training with
/// dropout, `rng` draws the masks.
pub fn forward<T: Real>(net: &Network, params: &[T], x: Rows<T>, ws: &mut Workspace<T>, rng: Option<&mut SmallRng>, threads: usize) {
    forward_pass(net, params, x, ws, rng, true, threads)
}

/// [`forward`], with a dense layer and the in-place activation after it
/// fused into one sweep when `fuse` (the tests compare the two).
fn forward_pass<T: Real>(net: &Network, params: &[T], x: Rows<T>, ws: &mut Workspace<T>, mut rng: Option<&mut SmallRng>, fuse: bool, threads: usize) {
    let rows = x.rows;
    assert!(rows <= ws.capacity, "more rows than the workspace holds");
    if net.arch.bias_layout() == BiasLayout::Row {
        assert!(x.first == 0 && rows == net.arch.bias_rows(), "row biases need every training row");
    }
    let mut i = 0;
    while i < net.nodes.len() {
        let node = &net.nodes[i];
        let units = net.slot_units[node.output];
        match &node.layer {
            Layer::Dense(dense) => {
                let fused = match net.nodes.get(i + 1) {
                    Some(next @ Node { layer: Layer::Activation(a), .. }) if fuse && next.in_place() => Some(a.activation),
                    _ => None,
                };
                let (input, out) = match node.input {
                    Input::Data => (x.operand(dense.fan_in), &mut ws.values[node.output][..]),
                    Input::Slot(s) => {
                        let (input, out) = read_write(&mut ws.values, s, node.output);
                        (Operand::new(&input[..rows * dense.fan_in], rows, dense.fan_in), out)
                    }
                };
                dense.forward(params, input, &mut out[..rows * units], rows, fused.unwrap_or(Activation::Linear), threads);
                i += if fused.is_some() { 2 } else { 1 };
                continue;
            }
            Layer::Activation(act) => match node.input {
                Input::Slot(s) if s == node.output => act.forward_in_place(&mut ws.values[s], rows, units, threads),
                Input::Slot(s) => {
                    let (z, out) = read_write(&mut ws.values, s, node.output);
                    act.forward(&z[..rows * units], &mut out[..rows * units]);
                }
                Input::Data => unreachable!("an activation follows a dense layer"),
            },
            Layer::Dropout(drop) => {
                let Input::Slot(s) = node.input else { unreachable!("dropout follows an activation") };
                let rng = rng.as_deref_mut().expect("dropout needs the training's generator");
                let (input, out) = read_write(&mut ws.values, s, node.output);
                drop.forward(rng, &input[..rows * units], &mut ws.masks[node.output][..rows * units], &mut out[..rows * units]);
            }
        }
        i += 1;
    }
}

/// Backward pass after [`forward`] on the same rows: fills the deltas and
/// `ws.grads` (the gradient of the loss summed over the rows, times `scale`)
/// and returns the block's unscaled loss sum. `y` is the contiguous
/// column-major `rows x outputs` block of targets for those rows, and `w`
/// their observation weights, if any.
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Real>(net: &Network, params: &[T], x: Rows<T>, y: &[T], w: Option<&[T]>, loss: Loss, scale: f64, ws: &mut Workspace<T>, threads: usize) -> f64 {
    let rows = x.rows;
    let outputs = net.arch.outputs();
    let (top, below_top) = net.nodes.split_last().unwrap();
    let (Layer::Activation(out_act), Input::Slot(z)) = (&top.layer, top.input) else { unreachable!("a network ends in its output activation") };
    // The loss's delta is taken at the output activation's input: the
    // activation's slope (softmax's Jacobian included) is folded into it.
    let loss_sum = weighted_delta(
        loss,
        out_act.activation,
        &ws.values[top.output][..rows * outputs],
        &y[..rows * outputs],
        w.map(|w| &w[..rows]),
        &mut ws.deltas[z][..rows * outputs],
        rows,
        outputs,
        scale,
    );
    for node in below_top.iter().rev() {
        let units = net.slot_units[node.output];
        match (&node.layer, node.input) {
            (Layer::Dense(dense), Input::Data) => dense.gradient(&mut ws.grads, x.operand(dense.fan_in), &ws.deltas[node.output], rows, threads),
            (Layer::Dense(dense), Input::Slot(s)) => {
                let input = Operand::new(&ws.values[s][..rows * dense.fan_in], rows, dense.fan_in);
                dense.gradient(&mut ws.grads, input, &ws.deltas[node.output], rows, threads);
                let (below, delta) = write_read(&mut ws.deltas, s, node.output);
                dense.delta_below(params, delta, below, rows, threads);
            }
            (Layer::Activation(act), Input::Slot(s)) if s == node.output => {
                act.backward(&mut ws.deltas[s], Rows::all(&ws.values[s], rows), None, units, threads);
            }
            (Layer::Activation(act), Input::Slot(s)) => {
                let (below, delta) = write_read(&mut ws.deltas, s, node.output);
                below[..rows * units].copy_from_slice(&delta[..rows * units]);
                act.backward(below, Rows::all(&ws.values[node.output], rows), Some(Rows::all(&ws.values[s], rows)), units, threads);
            }
            (Layer::Dropout(drop), Input::Slot(s)) => {
                let (below, delta) = write_read(&mut ws.deltas, s, node.output);
                drop.backward(&delta[..rows * units], &ws.masks[node.output][..rows * units], &mut below[..rows * units]);
            }
            (_, Input::Data) => unreachable!("only a dense layer reads the input"),
        }
    }
    loss_sum
}

/// Carries dense layer `l`'s delta to the pre-activation of the layer below,
/// for a run of `rows` rows from `first` of a workspace filled by a
/// full-batch [`forward`] of `ld` rows (the Jacobian's chunks of rows):
/// `below = (delta · W_lᵀ) ⊙ slope`.
#[allow(clippy::too_many_arguments)]
pub fn delta_to_layer_below<T: Real>(net: &Network, params: &[T], l: usize, delta: &[T], ws: &Workspace<T>, first: usize, rows: usize, ld: usize, below: &mut [T], threads: usize) {
    assert!(!net.dropout && l > 0);
    let dense = Dense::of(&net.arch, l);
    dense.delta_below(params, delta, below, rows, threads);
    let act = ActivationLayer { activation: net.arch.activation(l - 1) };
    let acts = Rows::of(ws.activations(net, l - 1), ld, first, rows);
    let pre = ws.pre_activations(net, l - 1).map(|data| Rows::of(data, ld, first, rows));
    act.backward(below, acts, pre, dense.fan_in, threads);
}

/// A workspace for [`predict`] over `rows` rows: blocks of at most 4096
/// rows, or every row at once for row biases, which belong to their rows.
pub fn prediction_workspace<T: Real>(net: &Network, rows: usize) -> Workspace<T> {
    let block = if net.arch.bias_layout() == BiasLayout::Row { rows } else { rows.min(4096) };
    Workspace::new(net, block.max(1))
}

/// Network outputs for `x` (column-major `rows x d`) written to `out`
/// (column-major `rows x o`), in chunks of the workspace's capacity.
pub fn predict<T: Real>(net: &Network, params: &[T], x: &[T], rows: usize, out: &mut [T], ws: &mut Workspace<T>, threads: usize) {
    assert!(!net.dropout, "prediction takes the network without dropout");
    let o = net.arch.outputs();
    let chunk = ws.capacity().max(1);
    let mut first = 0;
    while first < rows {
        let n = chunk.min(rows - first);
        forward(net, params, Rows::of(x, rows, first, n), ws, None, threads);
        let acts = ws.output(n, o);
        for j in 0..o {
            out[j * rows + first..j * rows + first + n].copy_from_slice(&acts[j * n..(j + 1) * n]);
        }
        first += n;
    }
}

/// Blocks smaller than this many elements are swept by one thread.
const PARALLEL_MIN: usize = 1 << 16;

/// Calls `f(j, column j)` for every column of a column-major block, the
/// columns shared out among `threads` workers when the block is large. Each
/// column is handled whole by one worker, so results do not depend on `threads`.
fn for_column_groups<T: Real>(z: &mut [T], rows: usize, threads: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let cols = if rows == 0 { 0 } else { z.len() / rows };
    if threads <= 1 || cols < 2 || z.len() < PARALLEL_MIN {
        z.chunks_exact_mut(rows.max(1)).enumerate().for_each(|(j, col)| f(j, col));
        return;
    }
    crate::parallel::for_each_column_group(z, rows, threads, threads, &|first, group: &mut [T]| {
        group.chunks_exact_mut(rows).enumerate().for_each(|(j, col)| f(first + j, col));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn pseudo_random(len: usize, seed: u64) -> Vec<f64> {
        (0..len).map(|i| ((i as f64 + 1.0) * 0.7548 + seed as f64 * 0.5698).sin()).collect()
    }

    /// The network's layers in order, by kind, and where dropout sits.
    #[test]
    fn layers_follow_the_architecture() {
        let arch = Architecture::new(vec![3, 5, 4, 2], vec![Activation::Relu, Activation::Gelu, Activation::Softmax], BiasLayout::Column, 1).unwrap();
        let kinds = |net: &Network| net.layers().map(|l| match l { Layer::Dense(_) => 'd', Layer::Activation(_) => 'a', Layer::Dropout(_) => 'x' }).collect::<String>();
        assert_eq!(kinds(&Network::new(&arch)), "dadada");
        let net = Network::with_dropout(&arch, &[0.0, 0.5]);
        assert_eq!(kinds(&net), "dadaxda");
        assert!(net.has_dropout());
        // ReLU works in place, GELU keeps its input apart.
        assert_eq!(net.pre_slot[0], net.act_slot[0]);
        assert_ne!(net.pre_slot[1], net.act_slot[1]);
    }

    /// The fused sweep of a dense layer and its activation gives what the
    /// two layers give one after the other, for every activation and both
    /// bias layouts.
    #[test]
    fn fused_forward_equals_layer_by_layer() {
        for act in Activation::ALL.into_iter().filter(|&a| a.serves_hidden()) {
            for (bias, threads) in [(BiasLayout::Column, 1), (BiasLayout::Row, 1), (BiasLayout::Column, 2)] {
                let rows = 300;
                let arch = Architecture::new(vec![3, 250, 2], vec![act, Activation::Softmax], bias, rows).unwrap();
                let net = Network::new(&arch);
                let x = pseudo_random(rows * 3, 1);
                let params: Vec<f64> = pseudo_random(arch.n_params(), 2).iter().map(|v| v * 0.3).collect();
                let (mut a, mut b) = (Workspace::new(&net, rows), Workspace::new(&net, rows));
                forward_pass(&net, &params, Rows::all(&x, rows), &mut a, None, true, threads);
                forward_pass(&net, &params, Rows::all(&x, rows), &mut b, None, false, threads);
                assert_eq!(a.values, b.values, "{:?} {:?}", act, bias);
            }
        }
    }

    /// Backpropagation through every layer kind agrees with central
    /// differences of the loss, dropout's masks held fixed.
    #[test]
    fn gradient_matches_finite_differences_with_dropout() {
        let rows = 6;
        let arch = Architecture::new(vec![3, 5, 4, 2], vec![Activation::Tanh, Activation::Silu, Activation::Softmax], BiasLayout::Column, rows).unwrap();
        let net = Network::with_dropout(&arch, &[0.3, 0.4]);
        let x = pseudo_random(rows * 3, 3);
        let y: Vec<f64> = (0..rows * 2).map(|i| if (i % rows) % 2 == (i / rows) { 1.0 } else { 0.0 }).collect();
        let params = pseudo_random(arch.n_params(), 4);
        let loss_at = |p: &[f64], ws: &mut Workspace| {
            // The same seed draws the same masks.
            let mut rng = SmallRng::seed_from_u64(9);
            forward(&net, p, Rows::all(&x, rows), ws, Some(&mut rng), 1);
            backward(&net, p, Rows::all(&x, rows), &y, None, Loss::CrossEntropy, 1.0, ws, 1)
        };
        let mut ws = Workspace::new(&net, rows);
        loss_at(&params, &mut ws);
        let grads = ws.grads.clone();
        assert!(ws.masks.iter().flatten().any(|&m| m == 0.0), "some unit is dropped");
        let h = 1e-6;
        for i in 0..params.len() {
            let (mut up, mut down) = (params.clone(), params.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (loss_at(&up, &mut ws) - loss_at(&down, &mut ws)) / (2.0 * h);
            assert!((fd - grads[i]).abs() < 1e-6 * (1.0 + fd.abs()), "parameter {}: {} vs {}", i, fd, grads[i]);
        }
    }
}
