//! The training loop: one loop over epochs, whichever engine runs them
//! ([`crate::epochs`]), with the one place for divergence checks, history,
//! validation, early stopping, callbacks and interruption. Everything is
//! allocated before the first epoch.

use crate::architecture::{Architecture, BiasLayout};
use crate::config::TrainConfig;
use crate::dataset::{copy_to_f64, zeroed_buffer, Dataset};
use crate::epochs::{Epochs, Passes, SecondOrder};
use crate::layers::{predict, prediction_workspace, Network};
use crate::optimizer::Optimizer;
use crate::progress::{Control, History, Progress, Status};
use crate::real::Real;
use crate::small::SmallEngine;

/// Trains `params` in place.
///
/// `History::output` follows the article for full-batch "gd" without
/// validation: the forward pass of the last epoch, computed before that
/// epoch's update; `History::fitted` then holds the returned parameters'
/// outputs. In every other case (other optimizers included, on full
/// batches too) `output` is the forward pass of the returned parameters.
pub fn train<T: Real>(
    arch: &Architecture,
    params: &mut [T],
    data: Dataset<T>,
    validation: Option<Dataset<T>>,
    cfg: &TrainConfig,
    callback: &mut dyn FnMut(&Progress) -> Control,
) -> History {
    assert_eq!(params.len(), arch.n_params());
    let n = data.rows;
    let o = arch.outputs();
    // The losses are reported as means over the rows' weights (a weight of
    // k counts the row k times), or for "sse" summed over the rows counted.
    let weight = data.weight_total();
    let counted = cfg.counted_rows.unwrap_or(weight);
    let val_weight = validation.map_or(0.0, |v| v.weight_total());
    let mut engine = choose_engine(arch, params, data, validation.is_some(), cfg);
    // For validation and the final outputs: the network without dropout.
    let plain = Network::new(arch);

    let mut val_ws = validation.map(|v| prediction_workspace(&plain, v.rows));
    let mut val_out = validation.map(|v| vec![T::ZERO; v.rows * o]).unwrap_or_default();
    let mut val_delta = vec![T::ZERO; val_out.len()];
    let mut best = validation.map(|_| params.to_vec());
    let mut best_val = f64::INFINITY;
    let mut best_epoch = 0usize;
    let mut since_best = 0usize;
    // The parameters as f64 for a watching callback, when they are not.
    let mut watched = if cfg.watch && T::as_f64(params).is_none() { vec![0.0; params.len()] } else { Vec::new() };

    let mut history = History {
        // Capped: a huge `epochs` must not reserve memory before it is used.
        loss: Vec::with_capacity(cfg.epochs.min(1 << 16)),
        val_loss: Vec::with_capacity(if validation.is_some() { cfg.epochs.min(1 << 16) } else { 0 }),
        output: vec![0.0; n * o],
        fitted: None,
        best_epoch: 0,
        kept_loss: f64::NAN,
        status: Status::Completed,
    };
    let mut sums = vec![0.0; engine.chunk().clamp(1, cfg.epochs.max(1))];
    let mut done = 0;
    while done < cfg.epochs {
        let want = sums.len().min(cfg.epochs - done);
        let ran = engine.run(params, done + 1, &mut sums[..want], callback);
        // A non-finite weight shows in the next epoch's loss; the last
        // epoch's weights are checked below. (One pass to append, one to
        // check: per epoch they cost less than a push with its check.)
        let first = history.loss.len();
        history.loss.extend(sums[..ran.epochs].iter().map(|&sum| cfg.loss.report(sum, weight, o, counted)));
        if let Some(bad) = history.loss[first..].iter().position(|l| !l.is_finite()) {
            history.loss.truncate(first + bad);
            engine.copy_params_to(params);
            history.status = Status::Diverged { epoch: first + bad + 1 };
            return history;
        }
        done += ran.epochs;
        if ran.interrupted {
            history.status = Status::Interrupted;
            break;
        }
        // Validation, the watcher and the last epoch's check read the caller's copy.
        if validation.is_some() || cfg.watch || done == cfg.epochs {
            engine.copy_params_to(params);
        }
        if done == cfg.epochs && !params.iter().all(|p| p.is_finite()) {
            history.status = Status::Diverged { epoch: done };
            return history;
        }

        let mut vloss = f64::NAN;
        if let (Some(v), Some(vws)) = (validation, val_ws.as_mut()) {
            predict(&plain, params, v.x, v.rows, &mut val_out, vws, cfg.threads);
            vloss = reported_loss(cfg, arch, &val_out, v, &mut val_delta, (val_weight, val_weight));
            history.val_loss.push(vloss);
            if vloss < best_val {
                best_val = vloss;
                best_epoch = done;
                since_best = 0;
                best.as_mut().unwrap().copy_from_slice(params);
            } else {
                since_best += 1;
            }
            if cfg.patience.is_some_and(|p| since_best >= p) {
                history.status = Status::EarlyStopped;
            }
        } else {
            best_epoch = done;
        }

        let seen = if !cfg.watch {
            None
        } else if let Some(p) = T::as_f64(params) {
            Some(p)
        } else {
            copy_to_f64(&mut watched, params);
            Some(&watched[..])
        };
        let loss = history.loss[done - 1];
        let control = callback(&Progress { epoch: done, epochs: cfg.epochs, loss, val_loss: vloss, epoch_done: true, params: seen });
        if history.status == Status::EarlyStopped || ran.converged {
            break;
        }
        if control == Control::Stop {
            history.status = Status::Interrupted;
            break;
        }
    }

    // Stopped before the last epoch: an engine's own copy is the current one.
    engine.copy_params_to(params);
    let mut restored = false;
    if let Some(best) = best {
        if history.loss.is_empty() {
            best_epoch = 0;
        } else {
            params.copy_from_slice(&best);
            restored = true;
        }
    }
    history.best_epoch = best_epoch;
    // Only full-batch "gd" reports the article's output (the last forward
    // pass, before the update); the others report their returned weights'.
    let article_output = matches!(cfg.optimizer, Optimizer::Gd);
    let article = !restored && !history.loss.is_empty() && article_output && engine.last_output(&mut history.output);
    let mut out = vec![T::ZERO; n * o];
    let mut ws = prediction_workspace(&plain, n);
    predict(&plain, params, data.x, n, &mut out, &mut ws, cfg.threads);
    history.kept_loss = reported_loss(cfg, arch, &out, data, &mut vec![T::ZERO; n * o], (weight, counted));
    if article {
        let mut fitted = vec![0.0; n * o];
        copy_to_f64(&mut fitted, &out);
        history.fitted = Some(fitted);
    } else {
        copy_to_f64(&mut history.output, &out);
    }
    history
}

/// [`train`] in single precision on double-precision data and parameters:
/// they are copied once to f32 and the trained parameters back.
pub fn train_in_single(
    arch: &Architecture,
    params: &mut [f64],
    data: Dataset<f64>,
    validation: Option<Dataset<f64>>,
    cfg: &TrainConfig,
    callback: &mut dyn FnMut(&Progress) -> Control,
) -> History {
    let f32s = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    // The inputs, the large part, into a buffer of huge pages.
    let x32 = match zeroed_buffer::<f32>(data.x.len()) {
        Some(mut buffer) => {
            // Bound by memory and by the faults of fresh pages: in blocks
            // over the fit's threads, each faulting in its own pages.
            let threads = if buffer.len() >= 1 << 16 { cfg.threads } else { 1 };
            crate::parallel::for_each_row_block(&mut buffer, 1, 1 << 18, threads, &|first, block: &mut [f32]| {
                block.iter_mut().zip(&data.x[first..]).for_each(|(d, &v)| *d = v as f32)
            });
            buffer
        }
        None => f32s(data.x),
    };
    let (y32, w32) = (f32s(data.y), data.w.map(f32s));
    let val32 = validation.map(|v| (f32s(v.x), f32s(v.y), v.w.map(f32s), v.rows));
    let val32 = val32.as_ref().map(|(x, y, w, rows)| Dataset::new(x.as_slice(), y.as_slice(), *rows).weighted(w.as_deref()));
    let mut p32 = f32s(params);
    let mut history = train(arch, &mut p32, Dataset::new(&x32, &y32, data.rows).weighted(w32.as_deref()), val32, cfg, callback);
    params.iter_mut().zip(&p32).for_each(|(d, &s)| *d = s as f64);
    // The returned (f64) parameters' outputs in f64, as predict() computes
    // them: the f32 training output differs from them.
    let plain = Network::new(arch);
    let mut fitted = vec![0.0; data.rows * arch.outputs()];
    let mut ws = prediction_workspace(&plain, data.rows);
    predict(&plain, params, data.x, data.rows, &mut fitted, &mut ws, cfg.threads);
    if history.kept_loss.is_finite() {
        let weight = data.weight_total();
        let counted = cfg.counted_rows.unwrap_or(weight);
        history.kept_loss = reported_loss(cfg, arch, &fitted, data, &mut vec![0.0; fitted.len()], (weight, counted));
    }
    history.fitted = Some(fitted);
    history
}

/// The loss of outputs `out` on `data`'s rows, reported as the epochs'
/// losses are: `weights` is (the rows' total weight, the rows counted for
/// "sse"), read once by the caller rather than per epoch; `delta` is scratch.
fn reported_loss<T: Real>(cfg: &TrainConfig, arch: &Architecture, out: &[T], data: Dataset<T>, delta: &mut [T], weights: (f64, f64)) -> f64 {
    let o = arch.outputs();
    let sum = crate::loss::weighted_delta(cfg.loss, arch.output_activation(), out, data.y, data.w, delta, data.rows, o, 1.0);
    cfg.loss.report(sum, weights.0, o, weights.1)
}

/// The engine for this run: a second-order method; the small-network fast
/// path when [`SmallEngine::fits`] accepts the run; else the general passes.
fn choose_engine<'a, T: Real>(arch: &Architecture, params: &[T], data: Dataset<'a, T>, validated: bool, cfg: &TrainConfig) -> Box<dyn Epochs<T> + 'a> {
    let n = data.rows;
    let batch = cfg.batch_size.clamp(1, n.max(1));
    let full_batch = batch == n;
    assert!(full_batch || arch.bias_layout() == BiasLayout::Column, "row biases need full batches");
    if !cfg.optimizer.is_first_order() {
        assert!(full_batch && arch.bias_layout() == BiasLayout::Column, "second-order methods train full batches with column biases");
        assert!(cfg.dropout.iter().all(|&r| r == 0.0) && cfg.schedule.is_constant(), "dropout and schedules need a first-order method");
        let data = data.as_f64().expect("second-order methods train in f64");
        return Box::new(SecondOrder::new(arch, cfg, data));
    }
    if let (Some(d), Some(p)) = (data.as_f64(), T::as_f64(params)) {
        if full_batch && SmallEngine::fits(arch, d, cfg) {
            return Box::new(SmallEngine::new(arch, d, p, cfg, validated));
        }
    }
    Box::new(Passes::new(arch, cfg, data, batch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Workspace;
    use crate::loss::Loss;
    use crate::activation::Activation;

    const X: [f64; 12] = [1., 1., 0., 0., 0., 1., 1., 1., 0., 0., 1., 1.]; // article's 3x4, column-major
    const Y: [f64; 3] = [1., 1., 0.];

    fn article_config(epochs: usize) -> TrainConfig {
        TrainConfig::new(Loss::Sse, Optimizer::Gd, 0.1, epochs, 3)
    }

    /// The NumPy program, transcribed with plain loops (row-major here).
    fn numpy_program(wh: &mut [[f64; 3]; 4], bh: &mut [f64; 3], wout: &mut [f64; 3], bout: &mut f64, epochs: usize) -> [f64; 3] {
        let x = [[1., 0., 1., 0.], [1., 0., 1., 1.], [0., 1., 0., 1.]];
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut output = [0.0; 3];
        for _ in 0..epochs {
            let mut h = [[0.0; 3]; 3];
            for i in 0..3 {
                for j in 0..3 {
                    h[i][j] = sig((0..4).map(|k| x[i][k] * wh[k][j]).sum::<f64>() + bh[j]);
                }
                output[i] = sig((0..3).map(|j| h[i][j] * wout[j]).sum::<f64>() + *bout);
            }
            let d_out: Vec<f64> = (0..3).map(|i| (Y[i] - output[i]) * (output[i] * (1.0 - output[i]))).collect();
            let mut d_h = [[0.0; 3]; 3];
            for i in 0..3 {
                for j in 0..3 {
                    d_h[i][j] = d_out[i] * wout[j] * (h[i][j] * (1.0 - h[i][j]));
                }
            }
            for j in 0..3 {
                wout[j] += (0..3).map(|i| h[i][j] * d_out[i]).sum::<f64>() * 0.1;
            }
            *bout += d_out.iter().sum::<f64>() * 0.1;
            for k in 0..4 {
                for j in 0..3 {
                    wh[k][j] += (0..3).map(|i| x[i][k] * d_h[i][j]).sum::<f64>() * 0.1;
                }
            }
            for j in 0..3 {
                bh[j] += (0..3).map(|i| d_h[i][j]).sum::<f64>() * 0.1;
            }
        }
        output
    }

    #[test]
    fn reproduces_the_numpy_program() {
        let mut wh = [[0.1, 0.5, 0.9], [0.2, 0.6, 0.3], [0.3, 0.7, 0.2], [0.4, 0.8, 0.1]];
        let mut bh = [0.25, 0.5, 0.75];
        let mut wout = [0.3, 0.6, 0.9];
        let mut bout = 0.45;
        let arch = Architecture::new(vec![4, 3, 1], vec![Activation::Sigmoid; 2], BiasLayout::Column, 3).unwrap();
        let mut p = vec![0.0; arch.n_params()];
        for k in 0..4 {
            for j in 0..3 {
                p[k + 4 * j] = wh[k][j];
            }
        }
        p[12..15].copy_from_slice(&bh);
        p[15..18].copy_from_slice(&wout);
        p[18] = bout;
        let h = train(&arch, &mut p, Dataset::new(&X, &Y, 3), None, &article_config(5000), &mut |_| Control::Continue);
        let want = numpy_program(&mut wh, &mut bh, &mut wout, &mut bout, 5000);
        for i in 0..3 {
            assert!((h.output[i] - want[i]).abs() < 1e-12);
        }
        for j in 0..3 {
            assert!((p[15 + j] - wout[j]).abs() < 1e-12);
        }
        assert!((p[18] - bout).abs() < 1e-12);
        assert_eq!(h.loss.len(), 5000);
        assert!(h.loss[4999] < h.loss[0]);
        assert_eq!(h.status, Status::Completed);
    }

    /// With the article's output (the last pass, before the update),
    /// `fitted` holds the returned parameters' outputs as predict computes
    /// them; otherwise the output is those and `fitted` is None. Single
    /// precision's `fitted` is the f64 prediction from the returned weights.
    #[test]
    fn fitted_holds_the_returned_parameters_outputs() {
        let arch = Architecture::new(vec![4, 3, 1], vec![Activation::Sigmoid; 2], BiasLayout::Column, 3).unwrap();
        let start: Vec<f64> = (0..arch.n_params()).map(|i| (i as f64 * 0.37).sin()).collect();
        let predicted = |p: &[f64]| {
            let net = Network::new(&arch);
            let mut ws = Workspace::new(&net, 3);
            let mut out = vec![0.0; 3];
            predict(&net, p, &X, 3, &mut out, &mut ws, 1);
            out
        };
        // The "sse" of the returned parameters, which the last epoch's
        // record of "gd" (taken before its update) is not.
        let sse = |p: &[f64]| predicted(p).iter().zip(&Y).map(|(f, y)| (y - f) * (y - f)).sum::<f64>();
        let data = Dataset::new(&X, &Y, 3);
        let mut p = start.clone();
        let h = train(&arch, &mut p, data, None, &article_config(20), &mut |_| Control::Continue);
        assert_eq!(h.fitted.as_deref(), Some(&predicted(&p)[..]));
        assert_ne!(h.output, predicted(&p));
        assert!((h.kept_loss - sse(&p)).abs() < 1e-14 && (h.loss[19] - sse(&p)).abs() > 1e-6);
        let mut cfg = article_config(20);
        cfg.optimizer = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let mut p = start.clone();
        let h = train(&arch, &mut p, data, None, &cfg, &mut |_| Control::Continue);
        assert!(h.fitted.is_none());
        assert_eq!(h.output, predicted(&p));
        for cfg in [article_config(20), cfg] {
            let mut p = start.clone();
            let h = train_in_single(&arch, &mut p, data, None, &cfg, &mut |_| Control::Continue);
            assert_eq!(h.fitted.as_deref(), Some(&predicted(&p)[..]));
            assert!((h.kept_loss - sse(&p)).abs() < 1e-14);
        }
    }

    #[test]
    fn divergence_is_reported_with_its_epoch() {
        let arch = Architecture::new(vec![4, 3, 1], vec![Activation::Relu, Activation::Linear], BiasLayout::Column, 3).unwrap();
        let mut p = vec![1.0; arch.n_params()];
        let mut cfg = article_config(100);
        cfg.lr = 1e6;
        let h = train(&arch, &mut p, Dataset::new(&X, &Y, 3), None, &cfg, &mut |_| Control::Continue);
        assert!(matches!(h.status, Status::Diverged { epoch } if epoch > 1 && epoch < 100));
    }

    /// A row of weight 2 counts as that row twice, for every engine: summed
    /// "gd", mean-gradient adam, L-BFGS (weights of mean 1 against the
    /// duplicated rows' mean) and Levenberg-Marquardt; and the reported
    /// loss, a sum or a mean, is the duplicated rows' loss.
    #[test]
    fn observation_weights_count_rows() {
        let arch = Architecture::new(vec![4, 3, 1], vec![Activation::Tanh, Activation::Sigmoid], BiasLayout::Column, 1).unwrap();
        let start: Vec<f64> = (0..arch.n_params()).map(|i| (i as f64 * 0.61).cos() * 0.5).collect();
        // X and Y with row 0 twice (4 rows), against weights (2, 1, 1) on 3 rows.
        let twice = |m: &[f64], cols: usize| -> Vec<f64> {
            (0..cols).flat_map(|j| [m[j * 3], m[j * 3], m[j * 3 + 1], m[j * 3 + 2]]).collect()
        };
        let (x4, y4) = (twice(&X, 4), twice(&Y, 1));
        let optimizers = [(Optimizer::Gd, false), (Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, true), (Optimizer::Lbfgs, true), (Optimizer::Lm, false)];
        for ((optimizer, mean_one), loss) in optimizers.into_iter().flat_map(|o| [(o, Loss::Sse), (o, Loss::Mse)]) {
            let mut cfg = article_config(30);
            cfg.optimizer = optimizer;
            cfg.loss = loss;
            cfg.lr = if optimizer == Optimizer::Gd { 0.1 } else { 0.01 };
            let w: [f64; 3] = if mean_one { [1.5, 0.75, 0.75] } else { [2.0, 1.0, 1.0] };
            let (mut weighted, mut duplicated) = (start.clone(), start.clone());
            cfg.batch_size = 3;
            // Weights (2, 1, 1) rescaled to mean 1 count 4 rows.
            cfg.counted_rows = mean_one.then_some(4.0);
            let hw = train(&arch, &mut weighted, Dataset::new(&X, &Y, 3).weighted(Some(&w)), None, &cfg, &mut |_| Control::Continue);
            (cfg.batch_size, cfg.counted_rows) = (4, None);
            let hd = train(&arch, &mut duplicated, Dataset::new(&x4, &y4, 4), None, &cfg, &mut |_| Control::Continue);
            for (a, b) in weighted.iter().zip(&duplicated) {
                assert!((a - b).abs() < 1e-10, "{:?}: {} against {}", optimizer, a, b);
            }
            let (lw, ld) = (hw.loss[hw.loss.len() - 1], hd.loss[hd.loss.len() - 1]);
            assert!((lw - ld).abs() < 1e-10 * ld.max(1.0), "{:?} {:?}: loss {} against {}", optimizer, loss, lw, ld);
        }
    }

    /// The small path keeps its own copy of the parameters; a run stopped
    /// after k epochs must return what a k-epoch run returns.
    #[test]
    fn a_stopped_small_run_returns_its_current_parameters() {
        let arch = Architecture::new(vec![4, 3, 1], vec![Activation::Sigmoid; 2], BiasLayout::Row, 3).unwrap();
        let start: Vec<f64> = (0..arch.n_params()).map(|i| (i as f64 * 0.37).sin()).collect();
        let data = Dataset::new(&X, &Y, 3);
        // The callback may see only some epochs (the small engine reports
        // chunks of them): stop at the first report after epoch 10.
        let mut stopped = start.clone();
        let mut stopped_at = 0;
        let h = train(&arch, &mut stopped, data, None, &article_config(1000), &mut |p| {
            if p.epoch >= 10 && p.epoch_done {
                stopped_at = p.epoch;
                Control::Stop
            } else {
                Control::Continue
            }
        });
        assert_eq!(h.status, Status::Interrupted);
        assert!(stopped_at >= 10 && stopped_at < 1000);
        assert_eq!(h.loss.len(), stopped_at);
        let mut same = start.clone();
        train(&arch, &mut same, data, None, &article_config(stopped_at), &mut |_| Control::Continue);
        assert_eq!(same, stopped);
        assert_ne!(same, start);
    }

    /// Single precision follows double precision to about its own accuracy,
    /// for full batches (the general path, 40 rows) and for minibatches.
    #[test]
    fn single_precision_tracks_double_precision() {
        let rows = 40;
        let x: Vec<f64> = (0..rows * 3).map(|i| ((i * 37) % 17) as f64 / 17.0 - 0.5).collect();
        let y: Vec<f64> = (0..rows).map(|i| (x[i] + 2.0 * x[rows + i] - x[2 * rows + i]).tanh() * 0.4 + 0.5).collect();
        let arch = Architecture::new(vec![3, 6, 1], vec![Activation::Tanh, Activation::Sigmoid], BiasLayout::Column, rows).unwrap();
        let start: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 29) % 13) as f64 / 13.0 - 0.5).collect();
        for (optimizer, batch) in [(Optimizer::Gd, rows), (Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 8)] {
            let mut cfg = article_config(200);
            cfg.optimizer = optimizer;
            cfg.batch_size = batch;
            cfg.lr = 0.01;
            let mut p64 = start.clone();
            let h64 = train(&arch, &mut p64, Dataset::new(&x, &y, rows), None, &cfg, &mut |_| Control::Continue);
            let (x32, y32): (Vec<f32>, Vec<f32>) = (x.iter().map(|&v| v as f32).collect(), y.iter().map(|&v| v as f32).collect());
            let mut p32: Vec<f32> = start.iter().map(|&v| v as f32).collect();
            let h32 = train(&arch, &mut p32, Dataset::new(&x32, &y32, rows), None, &cfg, &mut |_| Control::Continue);
            assert!(h64.loss[199] < h64.loss[0], "{:?} learns", optimizer);
            for (a, b) in p64.iter().zip(&p32) {
                assert!((a - *b as f64).abs() < 1e-3, "{:?}: {} vs {}", optimizer, a, b);
            }
            for (a, b) in h64.output.iter().zip(&h32.output) {
                assert!((a - b).abs() < 1e-4);
            }
            assert!((h64.loss[199] - h32.loss[199]).abs() < 1e-4 * h64.loss[199].max(1.0));
        }
    }

    #[test]
    fn minibatches_are_reproducible_from_the_seed_and_a_stop_is_honoured() {
        let arch = Architecture::new(vec![4, 3, 1], vec![Activation::Tanh, Activation::Sigmoid], BiasLayout::Column, 3).unwrap();
        let run = |seed: u64, stop_at: usize| {
            let mut p: Vec<f64> = (0..arch.n_params()).map(|i| (i as f64 * 0.37).sin()).collect();
            let mut cfg = article_config(50);
            cfg.optimizer = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
            cfg.batch_size = 2;
            cfg.seed = seed;
            let h = train(&arch, &mut p, Dataset::new(&X, &Y, 3), None, &cfg, &mut |pr| {
                if pr.epoch == stop_at && pr.epoch_done { Control::Stop } else { Control::Continue }
            });
            (p, h)
        };
        assert_eq!(run(7, 0).0, run(7, 0).0);
        assert_ne!(run(7, 0).0, run(8, 0).0);
        let (_, h) = run(7, 10);
        assert_eq!(h.status, Status::Interrupted);
        assert_eq!(h.loss.len(), 10);
        // A stop between minibatches ends training in the middle of an epoch.
        let mut p: Vec<f64> = vec![0.1; arch.n_params()];
        let mut cfg = article_config(50);
        cfg.optimizer = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        cfg.batch_size = 1;
        let mut calls = 0;
        let h = train(&arch, &mut p, Dataset::new(&X, &Y, 3), None, &cfg, &mut |_| {
            calls += 1;
            if calls == 5 { Control::Stop } else { Control::Continue }
        });
        assert_eq!(h.status, Status::Interrupted);
        assert_eq!(h.loss.len(), 1);
    }
}
