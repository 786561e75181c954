//! A fit's training configuration: the loss, optimizer and settings every
//! engine reads.

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
}

impl TrainConfig {
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

