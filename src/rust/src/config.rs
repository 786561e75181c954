//! A fit's training configuration: the loss, optimizer and settings every
//! engine reads.

use crate::architecture::Architecture;
use crate::loss::Loss;
use crate::optimizer::Optimizer;
use crate::penalty::Penalty;
use crate::schedule::Schedule;

#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub loss: Loss,
    pub optimizer: Optimizer,
    pub lr: f64,
    pub epochs: usize,
    /// Rows per step; the number of training rows means full batch.
    pub batch_size: usize,
    /// L2 penalty on weights (not biases): adds `weight_decay * w` to the
    /// gradient (AdamW: shrinks the weights by `lr * weight_decay` of themselves).
    pub weight_decay: f64,
    /// L1 penalty on weights: adds `l1 * sign(w)` to the gradient.
    pub l1: f64,
    /// Rescale the loss's gradient to this global norm when it is longer.
    pub clip_norm: Option<f64>,
    /// The learning rate's multiplier per epoch.
    pub schedule: Schedule,
    /// Dropout rate per hidden layer (empty: none).
    pub dropout: Vec<f64>,
    /// The callback wants every epoch and the parameters with it (see [`crate::progress::Progress::params`]).
    pub watch: bool,
    /// Stop after this many epochs without a better validation loss.
    pub patience: Option<usize>,
    /// Seeds minibatch shuffling (drawn from R's RNG by the caller).
    pub seed: u64,
    pub threads: usize,
    /// The rows the reported training loss counts when the caller rescaled
    /// its weights (to mean 1, for the optimizers that average over rows):
    /// their total before rescaling. None: the training weights' own total.
    pub counted_rows: Option<f64>,
}

/// The field of a [`TrainConfig`] that failed [`TrainConfig::check`], and why.
#[derive(Debug, PartialEq)]
pub struct ConfigError {
    pub field: &'static str,
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.reason)
    }
}

/// A [`ConfigError`] unless `ok`.
fn require(ok: bool, field: &'static str, reason: impl FnOnce() -> String) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError { field, reason: reason() })
    }
}

/// Whether `v` is a rate in [0, 1).
fn is_rate(v: f64) -> bool {
    (0.0..1.0).contains(&v)
}

impl TrainConfig {
    /// The configuration if every field is in range and the loss, the
    /// output of `arch` and the optimizer combine into a fit that trains;
    /// else the first field that does not, as linfa's `ParamGuard` checks
    /// its parameters once, before any work. The engines assume it.
    pub fn check(self, arch: &Architecture) -> Result<TrainConfig, ConfigError> {
        let output = arch.output_activation();
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        require(non_negative(self.lr), "lr", || format!("must be finite and not negative, not {}", self.lr))?;
        require(self.batch_size >= 1, "batch_size", || "must be at least 1".into())?;
        require(non_negative(self.weight_decay), "weight_decay", || format!("must be finite and not negative, not {}", self.weight_decay))?;
        require(non_negative(self.l1), "l1", || format!("must be finite and not negative, not {}", self.l1))?;
        require(self.clip_norm.is_none_or(|c| c > 0.0 && c.is_finite()), "clip_norm", || "must be positive and finite".into())?;
        require(self.threads >= 1, "threads", || "must be at least 1".into())?;
        require(self.counted_rows.is_none_or(|c| c > 0.0 && c.is_finite()), "counted_rows", || "must be positive and finite".into())?;
        require(
            (self.dropout.is_empty() || self.dropout.len() == arch.layers() - 1) && self.dropout.iter().all(|&r| is_rate(r)),
            "dropout",
            || "needs one rate in [0, 1) per hidden layer".into(),
        )?;
        let constants_ok = match self.optimizer {
            Optimizer::Sgd { momentum, .. } => is_rate(momentum),
            Optimizer::Adam { beta1, beta2, eps } | Optimizer::AdamW { beta1, beta2, eps } => is_rate(beta1) && is_rate(beta2) && eps > 0.0,
            Optimizer::RmsProp { rho, eps } => is_rate(rho) && eps > 0.0,
            _ => true,
        };
        require(constants_ok, "optimizer", || format!("{} has a constant out of range", self.optimizer.name()))?;
        require(output.serves_output(), "output", || format!("cannot be {}", output.name()))?;
        require(self.loss.compatible_with(output), "loss", || format!("{} does not fit a {} output", self.loss.name(), output.name()))?;
        require(self.optimizer.minimises(self.loss, output), "optimizer", || {
            format!("{} cannot minimise {} on a {} output", self.optimizer.name(), self.loss.name(), output.name())
        })?;
        Ok(self)
    }

    /// A configuration with no penalty, clipping, schedule, dropout,
    /// validation or watcher, seed 1 and one thread.
    pub fn new(loss: Loss, optimizer: Optimizer, lr: f64, epochs: usize, batch_size: usize) -> TrainConfig {
        TrainConfig {
            loss,
            optimizer,
            lr,
            epochs,
            batch_size,
            weight_decay: 0.0,
            l1: 0.0,
            clip_norm: None,
            schedule: Schedule::Constant,
            dropout: Vec::new(),
            watch: false,
            patience: None,
            seed: 1,
            threads: 1,
            counted_rows: None,
        }
    }

    pub fn penalty(&self) -> Penalty {
        Penalty { l2: self.weight_decay, l1: self.l1 }
    }

    /// The factor of a full batch's summed gradient over `rows` rows: the
    /// sum itself for the article's rule, the mean for the other methods.
    pub fn full_batch_scale(&self, rows: usize) -> f64 {
        if self.optimizer == Optimizer::Gd { 1.0 } else { 1.0 / rows as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::architecture::BiasLayout;

    fn arch(hidden: Activation, output: Activation) -> Architecture {
        Architecture::new(vec![2, 3, 2], vec![hidden, output], BiasLayout::Column, 1).unwrap()
    }

    /// The field `check` names for `cfg` on a sigmoid network with `output`.
    fn failing(cfg: TrainConfig, output: Activation) -> Option<&'static str> {
        cfg.check(&arch(Activation::Sigmoid, output)).err().map(|e| e.field)
    }

    #[test]
    fn check_passes_a_sound_configuration_and_names_the_first_bad_field() {
        let sound = || TrainConfig::new(Loss::Sse, Optimizer::Gd, 0.1, 10, 4);
        assert!(sound().check(&arch(Activation::Tanh, Activation::Linear)).is_ok());
        assert_eq!(failing(TrainConfig { lr: f64::NAN, ..sound() }, Activation::Sigmoid), Some("lr"));
        assert_eq!(failing(TrainConfig { lr: -1.0, ..sound() }, Activation::Sigmoid), Some("lr"));
        assert_eq!(failing(TrainConfig { batch_size: 0, ..sound() }, Activation::Sigmoid), Some("batch_size"));
        assert_eq!(failing(TrainConfig { weight_decay: -0.1, ..sound() }, Activation::Sigmoid), Some("weight_decay"));
        assert_eq!(failing(TrainConfig { l1: f64::INFINITY, ..sound() }, Activation::Sigmoid), Some("l1"));
        assert_eq!(failing(TrainConfig { clip_norm: Some(0.0), ..sound() }, Activation::Sigmoid), Some("clip_norm"));
        assert_eq!(failing(TrainConfig { threads: 0, ..sound() }, Activation::Sigmoid), Some("threads"));
        assert_eq!(failing(TrainConfig { dropout: vec![0.1, 0.2], ..sound() }, Activation::Sigmoid), Some("dropout"));
        assert_eq!(failing(TrainConfig { dropout: vec![1.0], ..sound() }, Activation::Sigmoid), Some("dropout"));
        assert_eq!(failing(TrainConfig { dropout: vec![0.5], ..sound() }, Activation::Sigmoid), None);
        let sgd = Optimizer::Sgd { momentum: 1.0, nesterov: false };
        assert_eq!(failing(TrainConfig { optimizer: sgd, ..sound() }, Activation::Sigmoid), Some("optimizer"));
        let adam = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 0.0 };
        assert_eq!(failing(TrainConfig { optimizer: adam, ..sound() }, Activation::Sigmoid), Some("optimizer"));
        assert_eq!(failing(TrainConfig { loss: Loss::CrossEntropy, ..sound() }, Activation::Linear), Some("loss"));
        assert_eq!(failing(TrainConfig { loss: Loss::Poisson, ..sound() }, Activation::Sigmoid), Some("loss"));
        assert_eq!(failing(TrainConfig { loss: Loss::Mae, optimizer: Optimizer::Lm, ..sound() }, Activation::Linear), Some("optimizer"));
        assert_eq!(failing(TrainConfig { optimizer: Optimizer::Lm, ..sound() }, Activation::Softmax), Some("optimizer"));
        assert_eq!(failing(sound(), Activation::Tanh), Some("output"));
        // The message names the field first and holds no percent sign (R
        // would read it as a format).
        let e = TrainConfig { lr: -1.0, ..sound() }.check(&arch(Activation::Sigmoid, Activation::Sigmoid)).unwrap_err();
        assert!(e.to_string().starts_with("lr ") && !e.to_string().contains('%'));
    }
}
