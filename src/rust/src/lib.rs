//! backprop's Rust crate. The public modules are the training core and know
//! nothing of R; `convert` and `interrupt` face R, and the rest of this file
//! is the extendr glue: convert R's arguments, call the core, convert back.

pub mod activation;
pub mod architecture;
pub mod config;
pub mod dataset;
pub mod epochs;
pub mod init;
pub mod linalg;
pub mod layers;
pub mod loss;
pub mod optimizer;
pub mod parallel;
pub mod penalty;
pub mod progress;
pub mod real;
pub mod schedule;
pub mod second_order;
pub mod simd;
pub mod small;
pub mod trace;
pub mod train;

mod convert;
mod interrupt;

use activation::Activation;
use architecture::{Architecture, BiasLayout};
use convert::{architecture, flatten_params, matrix, new_matrix, put_params, r_error, read_spec, Fields, NewList};
use extendr_api::prelude::*;
use extendr_api::Result;
use extendr_ffi::{GetRNGstate, PutRNGstate, Rf_runif};
use interrupt::{interrupt_pending, Pacer, POLL_EVERY, REPORT_EVERY};
use layers::Network;
use std::time::Instant;
use progress::{Control, Progress, Status};

extern "C" {
    /// R's normal deviate with mean `mu` and standard deviation `sigma`, as
    /// `rnorm()` draws each element (Rmath's `rnorm`).
    fn Rf_rnorm(mu: f64, sigma: f64) -> f64;
}

/// Trains a network. `spec` is the R side's training spec (see [`problem`]),
/// `params` is `list(weights = list(W1, ...), biases = list(b1, ...))`;
/// returns the trained weights and biases (in the same form), the training
/// output, the loss history, how training ended and the seconds it took.
#[extendr]
fn train_(x: Robj, y: Robj, spec: List, params: List, x_val: Robj, y_val: Robj, progress: Robj, watcher: Robj) -> Result<List> {
    let started = Instant::now();
    let spec = read_spec(&x, &y, &spec, &params)?;
    let validation = spec.validation(&x_val, &y_val)?;
    let (n, o) = (spec.n, spec.arch.outputs());
    let reporter = if progress.is_null() { None } else { Some(Function::try_from(progress)?) };
    // The R side's callback: function(epoch, loss, val_loss, params) -> TRUE to stop.
    let watcher = if watcher.is_null() { None } else { Some(Function::try_from(watcher)?) };
    let watch_every = spec.callback_every;
    let mut cfg = spec.cfg.clone();
    cfg.watch = watcher.is_some();
    let mut flat = spec.params.clone();

    // Looking at the clock every epoch would cost more than a tiny epoch, so
    // the clock is read about every CLOCK_EVERY of training, however long an
    // epoch takes; the interrupt poll and progress report follow the clock.
    let mut clock = Pacer::new();
    let mut last_poll = Instant::now();
    let mut last_report = Instant::now();
    let mut callback_error: Option<Error> = None;
    let mut watcher_error: Option<Error> = None;
    let mut stopped_by_watcher = false;
    let mut on_epoch = |p: &Progress| -> Control {
        if let (Some(f), Some(params), true) = (&watcher, p.params, p.epoch % watch_every == 0) {
            let stop = f.call(pairlist!(p.epoch as f64, p.loss, p.val_loss, params));
            match stop.map(|s| s.as_bool()) {
                Ok(Some(true)) => {
                    stopped_by_watcher = true;
                    return Control::Stop;
                }
                Ok(_) => {}
                Err(e) => {
                    watcher_error = Some(e);
                    return Control::Stop;
                }
            }
        }
        let last = p.epoch == p.epochs && p.epoch_done;
        let Some(now) = clock.tick(last) else { return Control::Continue };
        if now.duration_since(last_poll) >= POLL_EVERY || last {
            last_poll = now;
            if interrupt_pending() {
                return Control::Stop;
            }
        }
        if let (Some(f), true) = (&reporter, p.epoch_done) {
            if now.duration_since(last_report) >= REPORT_EVERY || last {
                last_report = now;
                if let Err(e) = f.call(pairlist!(p.epoch as f64, p.loss)) {
                    callback_error = Some(e);
                    return Control::Stop;
                }
            }
        }
        Control::Continue
    };
    let train = if spec.single { train::train_in_single } else { train::train::<f64> };
    let history = train(&spec.arch, &mut flat, spec.data(), validation, &cfg, &mut on_epoch);
    if let Some(e) = callback_error {
        let msg: String = e.to_string().chars().take(200).collect();
        return Err(r_error(format!("the progress report failed: {}", msg)));
    }

    let (status, diverged_at) = match history.status {
        Status::Completed => ("completed", 0.0),
        Status::EarlyStopped => ("early_stopped", 0.0),
        Status::Interrupted if stopped_by_watcher => ("stopped", 0.0),
        Status::Interrupted => ("interrupted", 0.0),
        Status::Diverged { epoch } => ("diverged", epoch as f64),
    };
    if let Some(e) = watcher_error {
        let msg: String = e.to_string().chars().take(200).collect();
        return Err(r_error(format!("the callback failed: {}", msg)));
    }
    // The returned weights' outputs on the training rows, in double
    // precision as predict() computes them: what fitted() reports.
    let fitted = history.fitted.as_deref().unwrap_or(&history.output[..n * o]);
    let mut out = NewList::named(&["weights", "biases", "output", "loss", "val_loss", "best_epoch", "status", "diverged_at", "seconds", "fitted", "kept_loss"]);
    put_params(&mut out, 0, &spec.arch, &flat);
    out.put_reals(2, &history.output[..n * o], Some((n, o)));
    out.put_reals(9, fitted, Some((n, o)));
    out.put_reals(3, &history.loss, None);
    out.put_reals(4, &history.val_loss, None);
    out.put_reals(5, &[history.best_epoch as f64], None);
    out.put_text(6, status);
    out.put_reals(7, &[diverged_at], None);
    out.put_reals(8, &[started.elapsed().as_secs_f64()], None);
    out.put_reals(10, &[history.kept_loss], None);
    out.into_list()
}

/// Network outputs for new rows `x` (parameters as `list(weights =, biases =)`, column biases).
#[extendr]
fn predict_(x: Robj, spec: List, params: List, threads: f64) -> Result<Robj> {
    let (xs, n, d) = matrix(&x, "x")?;
    let arch = architecture(&Fields::of(&spec), 1)?;
    if arch.bias_layout() != BiasLayout::Column || d != arch.inputs() {
        return Err(r_error("internal: predict needs column biases and matching inputs"));
    }
    let flat = flatten_params(&arch, &params)?;
    let mut out = vec![0.0; n * arch.outputs()];
    let net = Network::new(&arch);
    let mut ws = layers::prediction_workspace(&net, n);
    layers::predict(&net, &flat, xs, n, &mut out, &mut ws, parallel::clamp_threads(threads as usize));
    Ok(new_matrix(&out, n, arch.outputs()))
}

/// Every intermediate matrix of one iteration of a one-hidden-layer network,
/// under the article's names, and the parameters after the iteration's update.
#[extendr]
fn trace_(x: Robj, y: Robj, spec: List, params: List) -> Result<List> {
    let pb = read_spec(&x, &y, &spec, &params)?;
    if pb.arch.layers() != 2 {
        return Err(r_error("internal: the trace shows one hidden layer"));
    }
    let t = trace::Trace::of(&pb.arch, &pb.params, pb.data(), &pb.cfg);
    let mut out = NewList::named(&trace::Trace::NAMES);
    for (i, (data, rows, cols)) in t.matrices(&pb.arch).into_iter().enumerate() {
        out.put_reals(i, data, Some((rows, cols)));
    }
    out.into_list()
}

/// The objective (mean over rows of the per-row loss, see `Loss::objective`)
/// and its gradient by backpropagation, for gradient checks; and the loss
/// as training reports it, per row, for the search's held-out scores.
#[extendr]
fn objective_(x: Robj, y: Robj, spec: List, params: List) -> Result<List> {
    let pb = read_spec(&x, &y, &spec, &params)?;
    let data = pb.data();
    let (value, gradient, row_loss) = second_order::objective_and_gradient(&pb.arch, &pb.params, data, pb.cfg.loss, &pb.cfg.penalty(), pb.cfg.threads);
    let mut out = NewList::named(&["value", "gradient", "row_loss"]);
    out.put_reals(0, &[value], None);
    out.put_reals(1, &gradient, None);
    out.put_reals(2, &[row_loss], None);
    out.into_list()
}

/// The objective the spec's optimizer minimises (see
/// [`second_order::minimised_objective`]), which restarts compare.
#[extendr]
fn minimised_objective_(x: Robj, y: Robj, spec: List, params: List) -> Result<f64> {
    let pb = read_spec(&x, &y, &spec, &params)?;
    Ok(second_order::minimised_objective(&pb.arch, &pb.params, pb.data(), &pb.cfg))
}

/// Starting weights and biases for layer sizes `sizes` = (d, h1, ..., o),
/// drawn from R's RNG by the table in [`init`]. One fetch and store of R's
/// RNG state serves every draw: drawn by `rnorm()` and `runif()` from R,
/// each of the article's four draws fetched and stored it, which cost more
/// than the article network's training. Returns
/// `list(weights = list(...), biases = list(...))`.
#[extendr]
fn draw_params_(init: &str, sizes: &[f64], bias_rows: f64) -> Result<List> {
    if sizes.iter().chain([&bias_rows]).any(|&s| !(s >= 1.0 && s.fract() == 0.0 && s < 1e15)) {
        return Err(r_error("internal: sizes and bias_rows must be positive whole numbers"));
    }
    let sizes: Vec<usize> = sizes.iter().map(|&s| s as usize).collect();
    let layers = sizes.len().saturating_sub(1);
    // The parameters' layout (the activations play no part in it).
    let arch = Architecture::new(sizes, vec![Activation::Linear; layers], BiasLayout::Row, bias_rows as usize).map_err(r_error)?;
    let start = init::Start::parse(init).ok_or_else(|| r_error(format!("internal: unknown init '{}'", init)))?;
    // SAFETY: called from R's thread; every draw happens between the fetch
    // and the store of R's RNG state, with nothing in between that can fail.
    let params = unsafe {
        GetRNGstate();
        let params = start.draw(&arch, |deviate| match deviate {
            init::Deviate::Normal(sd) => Rf_rnorm(0.0, sd),
            init::Deviate::Uniform(lo, hi) => Rf_runif(lo, hi),
        });
        PutRNGstate();
        params
    };
    let mut out = NewList::named(&["weights", "biases"]);
    put_params(&mut out, 0, &arch, &params);
    out.into_list()
}

/// One pass over a double vector, without a copy, on up to `threads`
/// threads: c(the largest finite magnitude, whether it holds an NA or NaN,
/// whether it holds an infinite value) (the flags as 0 or 1). R's checks of
/// inputs read it instead of anyNA(), min(), max() or is.infinite(), passes
/// (and, for is.infinite(), a logical copy) over what can be hundreds of
/// megabytes.
#[extendr]
fn extent_(x: Robj, threads: i32) -> Result<Vec<f64>> {
    let xs = x.as_real_slice().ok_or_else(|| r_error("internal: extent_() takes a double vector"))?;
    let e = dataset::Extent::of(xs, parallel::clamp_threads(threads.max(1) as usize));
    Ok(vec![e.largest, e.nan as u8 as f64, e.infinite as u8 as f64])
}

/// [`dataset::constant_columns`] of a double matrix `x`, with one `role`
/// (0, 1 or 2) per row.
#[extendr]
fn constant_columns_(x: Robj, role: &[i32]) -> Result<Vec<bool>> {
    let xs = x.as_real_slice().ok_or_else(|| r_error("internal: constant_columns_() takes a double matrix"))?;
    if role.is_empty() || xs.len() % role.len() != 0 || role.iter().any(|&r| !(0..=2).contains(&r)) {
        return Err(r_error("internal: constant_columns_() takes one role of 0, 1 or 2 per row"));
    }
    let role: Vec<u8> = role.iter().map(|&r| r as u8).collect();
    Ok(dataset::constant_columns(xs, &role))
}

/// The core's vocabulary, for R to derive its option lists, checks,
/// messages and defaults from: `activations` (name, whether a hidden or the
/// output layer may use it, the start suited to it), `losses` (name, the
/// option that sets its parameter or "", the outputs it fits), `optimizers`
/// (name, first order, minibatch, default learning rate, the losses and
/// outputs it can minimise), the `schedules`' and `starts`' names, and the
/// `defaults` of the options that hold the core's constants (sgd's momentum,
/// the losses' parameters).
#[extendr]
fn vocabulary_() -> List {
    use init::Start;
    use loss::Loss;
    use optimizer::Optimizer;
    let names = |acts: Vec<Activation>| acts.into_iter().map(Activation::name).collect::<Vec<_>>();
    let outputs_of = |keep: &dyn Fn(Activation) -> bool| names(Activation::ALL.into_iter().filter(|&a| a.serves_output() && keep(a)).collect());
    let acts = Activation::ALL;
    let activations = list!(
        name = names(acts.to_vec()),
        hidden = acts.map(Activation::serves_hidden).to_vec(),
        output = acts.map(Activation::serves_output).to_vec(),
        start = acts.map(|a| Start::suited_to(a).name()).to_vec()
    );
    let losses = list!(
        name = Loss::ALL.map(Loss::name).to_vec(),
        parameter = Loss::ALL.map(|l| l.parameter().map_or("", |p| p.0)).to_vec(),
        outputs = List::from_values(Loss::ALL.map(|l| outputs_of(&|a| l.compatible_with(a))))
    );
    // Which losses and outputs each optimizer takes, among the pairs that
    // fit (a test holds that these two lists decide it).
    let fits = |o: Optimizer, l: Loss, a: Activation| a.serves_output() && l.compatible_with(a) && o.minimises(l, a);
    let optimizers = list!(
        name = Optimizer::ALL.map(Optimizer::name).to_vec(),
        first_order = Optimizer::ALL.map(Optimizer::is_first_order).to_vec(),
        minibatch = Optimizer::ALL.map(Optimizer::takes_minibatches).to_vec(),
        lr = Optimizer::ALL.map(Optimizer::default_lr).to_vec(),
        losses = List::from_values(
            Optimizer::ALL.map(|o| Loss::ALL.into_iter().filter(|&l| Activation::ALL.into_iter().any(|a| fits(o, l, a))).map(Loss::name).collect::<Vec<_>>())
        ),
        outputs = List::from_values(Optimizer::ALL.map(|o| outputs_of(&|a| Loss::ALL.into_iter().any(|l| fits(o, l, a)))))
    );
    // The options whose defaults are the core's constants: sgd's momentum
    // and the losses' parameters.
    let (mut names, mut values) = (vec!["momentum"], vec![optimizer::MOMENTUM]);
    for (name, value) in Loss::ALL.into_iter().filter_map(Loss::parameter) {
        names.push(name);
        values.push(value);
    }
    let defaults = List::from_names_and_values(names, values).expect("as many names as values");
    list!(
        activations = activations,
        losses = losses,
        optimizers = optimizers,
        schedules = schedule::Schedule::NAMES.to_vec(),
        starts = Start::ALL.map(Start::name).to_vec(),
        defaults = defaults
    )
}

/// GFLOP/s of the crate's matrix product on an `n x n` by `n x n` product
/// (best of `reps`), for the benchmarks' hardware limit.
#[extendr]
fn gemm_rate_(n: f64, threads: f64, reps: f64) -> f64 {
    let n = n.max(1.0) as usize;
    let a: Vec<f64> = (0..n * n).map(|i| (i % 7) as f64 * 0.1).collect();
    let b: Vec<f64> = (0..n * n).map(|i| (i % 5) as f64 * 0.1).collect();
    let mut c = vec![0.0; n * n];
    let mut best = f64::INFINITY;
    for _ in 0..(reps.max(1.0) as usize) {
        let t = Instant::now();
        linalg::matmul(&mut c, linalg::Operand::new(&a, n, n), linalg::Operand::new(&b, n, n), false, parallel::clamp_threads(threads as usize));
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

extendr_module! {
    mod backprop;
    fn train_;
    fn predict_;
    fn gemm_rate_;
    fn draw_params_;
    fn trace_;
    fn objective_;
    fn minimised_objective_;
    fn extent_;
    fn constant_columns_;
    fn vocabulary_;
}
