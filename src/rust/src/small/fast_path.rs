//! The small net behind the training loop's interface ([`Epochs`]), and the
//! dispatch that decides when it may run.

use super::SmallNet;
use crate::architecture::Architecture;
use crate::epochs::{step, Epochs, Ran};
use crate::optimizer::{Optimizer, Stepper};
use crate::real::Real;
use crate::config::TrainConfig;
use crate::dataset::Dataset;
use crate::progress::{Control, Progress};

/// Epochs per call of the fused "gd" when nothing happens between epochs
/// (run one by one, the loop's bookkeeping costs a tenth of the article's epoch).
const CHUNK: usize = 256;

pub struct SmallEngine {
    net: SmallNet,
    cfg: TrainConfig,
    /// None for "gd" without L1 or clipping, whose step the net takes inside
    /// its backward pass; else the stepper over the net's own layout.
    stepper: Option<Stepper<f64>>,
    scale: f64,
    chunk: usize,
}

impl SmallEngine {
    /// Whether the small net computes this run exactly as the general
    /// passes would: full batches (the caller checks), no observation
    /// weights, no dropout, and a net, row count and loss its epoch handles
    /// ([`SmallNet::fits`]).
    pub fn fits(arch: &Architecture, data: Dataset<f64>, cfg: &TrainConfig) -> bool {
        data.w.is_none() && cfg.dropout.iter().all(|&r| r == 0.0) && SmallNet::fits(arch, data.rows, cfg.loss)
    }

    /// `validated`: a validation set is scored after every epoch.
    pub fn new(arch: &Architecture, data: Dataset<f64>, params: &[f64], cfg: &TrainConfig, validated: bool) -> SmallEngine {
        assert!(SmallEngine::fits(arch, data, cfg));
        let net = SmallNet::new(arch, data.x, data.y, params, data.rows);
        let fused = cfg.optimizer == Optimizer::Gd && cfg.l1 == 0.0 && cfg.clip_norm.is_none();
        let stepper = (!fused).then(|| Stepper::new(cfg.optimizer, cfg.lr, net.state_len()));
        let between_epochs = validated || cfg.watch || !cfg.schedule.is_constant();
        SmallEngine {
            net,
            cfg: cfg.clone(),
            stepper,
            scale: cfg.full_batch_scale(data.rows),
            chunk: if fused && !between_epochs { CHUNK } else { 1 },
        }
    }
}

impl<T: Real> Epochs<T> for SmallEngine {
    fn run(&mut self, _params: &mut [T], first: usize, sums: &mut [f64], _callback: &mut dyn FnMut(&Progress) -> Control) -> Ran {
        let cfg = &self.cfg;
        let factor = cfg.schedule.factor(first, cfg.epochs);
        match &mut self.stepper {
            // The article's rule, fused into the backward pass.
            None => self.net.descend_epochs(cfg.loss, self.scale, cfg.lr * factor, cfg.weight_decay, sums),
            Some(stepper) => {
                stepper.set_lr_factor(factor);
                sums[0] = self.net.epoch(cfg.loss, self.scale);
                let (params, grads, weights) = self.net.state();
                step(stepper, params, grads, weights, &cfg.penalty(), cfg.clip_norm, 1);
            }
        }
        Ran::epochs(if self.stepper.is_some() { 1 } else { sums.len() })
    }

    fn chunk(&self) -> usize {
        self.chunk
    }

    fn copy_params_to(&self, params: &mut [T]) {
        self.net.copy_params_to(T::as_f64_mut(params).expect("the small net trains in f64"));
    }

    fn last_output(&self, out: &mut [f64]) -> bool {
        self.net.output(out);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::architecture::BiasLayout;
    use crate::epochs::Passes;
    use crate::loss::Loss;

    /// Runs `epochs` epochs of `engine` one call at a time and returns the parameters.
    fn trained(engine: &mut dyn Epochs<f64>, start: &[f64], epochs: usize) -> (Vec<f64>, Vec<f64>) {
        let mut params = start.to_vec();
        let mut sums = vec![0.0; epochs];
        for e in 0..epochs {
            engine.run(&mut params, e + 1, &mut sums[e..e + 1], &mut |_| Control::Continue);
        }
        engine.copy_params_to(&mut params);
        (params, sums)
    }

    /// The dispatch lets the small net run only what it computes as the
    /// general passes do: every loss, output and hidden activation it
    /// accepts, both bias layouts, the fused "gd" and a stepper, train to the
    /// same parameters and losses as the general passes.
    #[test]
    fn every_run_it_accepts_matches_the_general_passes() {
        let losses = [Loss::Sse, Loss::Mse, Loss::CrossEntropy, Loss::Mae, Loss::Huber { delta: 0.5 }, Loss::Quantile { tau: 0.3 }, Loss::Poisson];
        let adam = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let (rows, mut accepted, mut refused, mut moved) = (5, std::collections::BTreeSet::new(), 0, 0);
        let x: Vec<f64> = (0..rows * 3).map(|i| ((i * 7) % 11) as f64 / 11.0 - 0.5).collect();
        let y: Vec<f64> = (0..rows * 2).map(|i| ((i * 5) % 7) as f64 / 7.0).collect();
        for loss in losses {
            for out in Activation::ALL.into_iter().filter(|&a| loss.compatible_with(a)) {
                for hidden in Activation::ALL.into_iter().filter(|&a| a.serves_hidden()) {
                    for (bias, optimizer) in [(BiasLayout::Row, Optimizer::Gd), (BiasLayout::Column, Optimizer::Gd), (BiasLayout::Column, adam)] {
                        let arch = Architecture::new(vec![3, 4, 2], vec![hidden, out], bias, rows).unwrap();
                        let data = Dataset::new(&x, &y, rows);
                        let cfg = TrainConfig::new(loss, optimizer, 0.05, 12, rows);
                        if !SmallEngine::fits(&arch, data, &cfg) {
                            refused += 1;
                            continue;
                        }
                        accepted.insert((loss.name(), out.name(), hidden.name()));
                        let start: Vec<f64> = (0..arch.n_params()).map(|i| ((i * 13) % 17) as f64 / 17.0 - 0.5).collect();
                        let (small, small_sums) = trained(&mut SmallEngine::new(&arch, data, &start, &cfg, false), &start, 12);
                        let (general, general_sums) = trained(&mut Passes::new(&arch, &cfg, data, rows), &start, 12);
                        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
                        for (a, b) in small.iter().zip(&general).chain(small_sums.iter().zip(&general_sums)) {
                            assert!(close(*a, *b), "{:?} {:?} {:?} {:?} {:?}: {} vs {}", loss, out, hidden, bias, optimizer, a, b);
                        }
                        // (A ReLU output can start dead and stay so.)
                        moved += (small != start) as usize;
                    }
                }
            }
        }
        // The losses and activations the fused epoch implements, and no others.
        let losses_taken: std::collections::BTreeSet<_> = accepted.iter().map(|a| a.0).collect();
        assert_eq!(losses_taken.into_iter().collect::<Vec<_>>(), ["cross_entropy", "mse", "sse"]);
        assert!(accepted.iter().all(|a| a.2 != "gelu" && a.2 != "silu" && a.1 != "softmax"));
        assert!(accepted.len() >= 20 && refused > 0 && moved > 2 * accepted.len());
    }
}
