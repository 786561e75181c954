//! What a fit reports while it trains and when it ends: the status, the
//! callback's view of an epoch, the caller's answer and the history.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Completed,
    EarlyStopped,
    Interrupted,
    /// The loss or the parameters stopped being finite in this (1-based) epoch.
    Diverged { epoch: usize },
}

/// What the caller's callback sees; it may ask to stop. The callback is also
/// called between the minibatches of an epoch (`epoch_done` false, `loss`
/// not yet known), so that a stop request is heard within long epochs.
pub struct Progress<'a> {
    pub epoch: usize,
    pub epochs: usize,
    pub loss: f64,
    /// The validation loss of this epoch (NaN without validation).
    pub val_loss: f64,
    pub epoch_done: bool,
    /// With [`crate::config::TrainConfig::watch`], the parameters after a completed epoch.
    pub params: Option<&'a [f64]>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

pub struct History {
    /// Training loss per completed epoch (see [`crate::loss::Loss::report`]).
    pub loss: Vec<f64>,
    /// Validation loss per completed epoch, when validation data was given.
    pub val_loss: Vec<f64>,
    /// Network outputs for the training rows (see [`crate::train::train`]).
    pub output: Vec<f64>,
    /// The returned parameters' outputs for the training rows, in double
    /// precision as `predict` computes them, where they differ from
    /// `output` (None: they are `output`).
    pub fitted: Option<Vec<f64>>,
    /// 1-based epoch whose parameters were returned (0: the initial ones).
    pub best_epoch: usize,
    /// The returned parameters' loss on the training rows, without dropout
    /// and reported as the epochs' losses are (NaN when training diverged).
    /// The epochs' records need not be it: full-batch first-order methods
    /// record an epoch's loss before its update, minibatches while the
    /// weights move, dropout with its masks.
    pub kept_loss: f64,
    pub status: Status,
}

