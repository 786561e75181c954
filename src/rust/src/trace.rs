//! One iteration of a network with one hidden layer, every intermediate
//! matrix kept under the article's names (its twelve spreadsheet steps).

use crate::activation::Activation;
use crate::linalg::{matmul, Operand};
use crate::architecture::Architecture;
use crate::layers::{activate, backward, forward, Network, Rows, Workspace};
use crate::config::TrainConfig;
use crate::dataset::Dataset;
use crate::progress::Control;
use crate::train::train;

/// Column-major matrices, each with its rows and columns.
pub struct Trace {
    pub hidden_input: Vec<f64>,
    pub hidden: Vec<f64>,
    pub output_input: Vec<f64>,
    pub output: Vec<f64>,
    pub error: Vec<f64>,
    pub slope_output: Vec<f64>,
    pub slope_hidden: Vec<f64>,
    pub d_output: Vec<f64>,
    pub error_hidden: Vec<f64>,
    pub d_hidden: Vec<f64>,
    /// The parameters after the iteration's update.
    pub updated: Vec<f64>,
    n: usize,
}

impl Trace {
    /// The article's names, in the order of [`Trace::matrices`].
    pub const NAMES: [&'static str; 14] = [
        "hidden_layer_input", "hiddenlayer_activations", "output_layer_input", "output", "E",
        "slope_output_layer", "slope_hidden_layer", "d_output", "Error_at_hidden_layer",
        "d_hiddenlayer", "wout", "wh", "bout", "bh",
    ];

    /// The iteration from `params` on `data` (one hidden layer), with the
    /// update of one epoch of `cfg`'s training.
    pub fn of(arch: &Architecture, params: &[f64], data: Dataset, cfg: &TrainConfig) -> Trace {
        assert_eq!(arch.layers(), 2, "the trace shows one hidden layer");
        let (n, threads) = (data.rows, cfg.threads);
        let (h, o) = (arch.fan_out(0), arch.outputs());
        // Pre-activations: the same product and bias sweep as the forward
        // pass, with the identity in place of the activation.
        let pre = |l: usize, input: &[f64]| {
            let (fi, fo) = (arch.fan_in(l), arch.fan_out(l));
            let mut z = vec![0.0; n * fo];
            matmul(&mut z, Operand::new(input, n, fi), Operand::new(&params[arch.weights(l)], fi, fo), false, threads);
            activate(&mut z, n, fo, Some((&params[arch.biases(l)], arch.bias_layout())), Activation::Linear, threads);
            z
        };
        let net = Network::new(arch);
        let mut ws = Workspace::new(&net, n);
        let rows = Rows::all(data.x, n);
        forward(&net, params, rows, &mut ws, None, threads);
        let hidden_input = pre(0, data.x);
        let hidden = ws.activations(&net, 0)[..n * h].to_vec();
        let output_input = pre(1, &hidden);
        let output = ws.activations(&net, 1)[..n * o].to_vec();
        backward(&net, params, rows, data.y, None, cfg.loss, 1.0, &mut ws, threads);
        // The core's deltas are gradients; the article's d_output and d_hiddenlayer are their negatives.
        let d_output: Vec<f64> = ws.delta(&net, 1)[..n * o].iter().map(|v| -v).collect();
        let d_hidden: Vec<f64> = ws.delta(&net, 0)[..n * h].iter().map(|v| -v).collect();
        let mut error_hidden = vec![0.0; n * h];
        let wout = Operand::new(&params[arch.weights(1)], h, o);
        matmul(&mut error_hidden, Operand::new(&d_output, n, o), wout.t(), false, threads);
        let error: Vec<f64> = data.y[..n * o].iter().zip(&output).map(|(t, v)| t - v).collect();
        let slopes = |act: Activation, z: &[f64], a: &[f64]| z.iter().zip(a).map(|(&z, &a)| act.slope_at(z, a)).collect::<Vec<f64>>();
        let slope_output = slopes(arch.output_activation(), &output_input, &output);
        let slope_hidden = slopes(arch.activation(0), &hidden_input, &hidden);
        // The update: one epoch of the training loop from the same parameters.
        let mut updated = params.to_vec();
        let one = TrainConfig { epochs: 1, ..cfg.clone() };
        train(arch, &mut updated, Dataset::new(data.x, data.y, n), None, &one, &mut |_| Control::Continue);
        Trace {
            hidden_input, hidden, output_input, output, error, slope_output, slope_hidden,
            d_output, error_hidden, d_hidden, updated, n,
        }
    }

    /// Every matrix with its rows and columns, in the order of
    /// [`Trace::NAMES`]; `a` is the architecture the trace was made for.
    pub fn matrices(&self, a: &Architecture) -> [(&[f64], usize, usize); 14] {
        let (n, d, h, o, br) = (self.n, a.inputs(), a.fan_out(0), a.outputs(), a.bias_rows());
        let u = &self.updated;
        [
            (&self.hidden_input, n, h), (&self.hidden, n, h), (&self.output_input, n, o), (&self.output, n, o),
            (&self.error, n, o), (&self.slope_output, n, o), (&self.slope_hidden, n, h), (&self.d_output, n, o),
            (&self.error_hidden, n, h), (&self.d_hidden, n, h), (&u[a.weights(1)], h, o), (&u[a.weights(0)], d, h),
            (&u[a.biases(1)], br, o), (&u[a.biases(0)], br, h),
        ]
    }
}
