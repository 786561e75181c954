//! First-order update rules over the flat parameter vector.

use crate::activation::Activation;
use crate::loss::Loss;
use crate::real::Real;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// The article's rule, `p -= lr * g`, with `g` summed over the rows.
    Gd,
    /// Minibatch SGD with (optionally Nesterov) momentum.
    Sgd { momentum: f64, nesterov: bool },
    /// Adam (Kingma and Ba, 2015).
    Adam { beta1: f64, beta2: f64, eps: f64 },
    /// Adam with decoupled weight decay (Loshchilov and Hutter, 2019): the
    /// weights shrink by `lr * weight_decay` of themselves at each step,
    /// apart from the gradient's moments.
    AdamW { beta1: f64, beta2: f64, eps: f64 },
    /// RMSProp (Hinton, 2012): steps scaled by a running root mean square
    /// of the gradient with decay `rho`.
    RmsProp { rho: f64, eps: f64 },
    /// Levenberg–Marquardt on the sum of squared errors (full batch).
    Lm,
    /// Limited-memory BFGS on the full-batch loss.
    Lbfgs,
}

/// SGD's momentum when none is given.
pub const MOMENTUM: f64 = 0.9;
/// Adam's decays of its two moments and the floor of its denominator, and
/// RMSProp's decay: the published defaults (Kingma and Ba; Hinton).
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;
const RHO: f64 = 0.9;

impl Optimizer {
    /// Every optimizer with its default constants.
    pub const ALL: [Optimizer; 7] = [
        Optimizer::Gd,
        Optimizer::Sgd { momentum: MOMENTUM, nesterov: false },
        Optimizer::Adam { beta1: BETA1, beta2: BETA2, eps: EPSILON },
        Optimizer::AdamW { beta1: BETA1, beta2: BETA2, eps: EPSILON },
        Optimizer::RmsProp { rho: RHO, eps: EPSILON },
        Optimizer::Lm,
        Optimizer::Lbfgs,
    ];

    /// The optimizer called `name` with its default constants, and sgd's
    /// momentum as given.
    pub fn named(name: &str, momentum: f64, nesterov: bool) -> Option<Optimizer> {
        match Optimizer::ALL.into_iter().find(|o| o.name() == name)? {
            Optimizer::Sgd { .. } => Some(Optimizer::Sgd { momentum, nesterov }),
            other => Some(other),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Gd => "gd",
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::Adam { .. } => "adam",
            Optimizer::AdamW { .. } => "adamw",
            Optimizer::RmsProp { .. } => "rmsprop",
            Optimizer::Lm => "lm",
            Optimizer::Lbfgs => "lbfgs",
        }
    }

    /// The learning rate when none is given: the article's 0.1 for its
    /// summed gradient, the usual rates of the minibatch rules, and a full
    /// step for the second-order methods, which scale their own.
    pub fn default_lr(self) -> f64 {
        match self {
            Optimizer::Gd => 0.1,
            Optimizer::Sgd { .. } => 0.01,
            Optimizer::Adam { .. } | Optimizer::AdamW { .. } | Optimizer::RmsProp { .. } => 0.001,
            Optimizer::Lm | Optimizer::Lbfgs => 1.0,
        }
    }

    /// First-order rules step once per minibatch; second-order ones own their loop.
    pub fn is_first_order(self) -> bool {
        !matches!(self, Optimizer::Lm | Optimizer::Lbfgs)
    }

    /// Whether it steps once per minibatch (the others take every row at
    /// each step).
    pub fn takes_minibatches(self) -> bool {
        self.is_first_order() && self != Optimizer::Gd
    }

    /// Whether it can minimise `loss` on top of `output`:
    /// Levenberg-Marquardt takes squared errors of elementwise outputs only.
    pub fn minimises(self, loss: Loss, output: Activation) -> bool {
        self != Optimizer::Lm || (loss.is_squared_error() && output != Activation::Softmax)
    }

    /// Whether weight decay is applied to the weights themselves (AdamW)
    /// rather than added to the gradient as an L2 penalty.
    pub fn decouples_weight_decay(self) -> bool {
        matches!(self, Optimizer::AdamW { .. })
    }
}

/// An optimizer and the state it carries between steps (allocated once).
pub struct Stepper<T = f64> {
    kind: Optimizer,
    /// The learning rate given, and the one in use (see [`Stepper::set_lr_factor`]).
    base_lr: f64,
    lr: f64,
    /// Momentum (sgd) or first moment (adam).
    m: Vec<T>,
    /// Second moment (adam).
    v: Vec<T>,
    t: i32,
}

impl<T: Real> Stepper<T> {
    pub fn new(kind: Optimizer, lr: f64, n_params: usize) -> Stepper<T> {
        let (m, v) = match kind {
            Optimizer::Sgd { .. } => (vec![T::ZERO; n_params], Vec::new()),
            Optimizer::Adam { .. } | Optimizer::AdamW { .. } => (vec![T::ZERO; n_params], vec![T::ZERO; n_params]),
            Optimizer::RmsProp { .. } => (Vec::new(), vec![T::ZERO; n_params]),
            _ => (Vec::new(), Vec::new()),
        };
        Stepper { kind, base_lr: lr, lr, m, v, t: 0 }
    }

    /// Steps from now on use the given learning rate times `factor` (a
    /// learning-rate schedule's multiplier).
    pub fn set_lr_factor(&mut self, factor: f64) {
        self.lr = self.base_lr * factor;
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    pub fn decouples_weight_decay(&self) -> bool {
        self.kind.decouples_weight_decay()
    }

    /// Decoupled weight decay before a step: `w -= lr * decay * w` on `weights`
    /// (AdamW only; the others take decay as a gradient term).
    pub fn decay_weights(&self, weights: &mut [T], decay: f64) {
        if self.kind.decouples_weight_decay() && decay != 0.0 {
            let keep = T::of(1.0 - self.lr * decay);
            weights.iter_mut().for_each(|w| *w *= keep);
        }
    }

    /// One update of `params` from `grads`; with `threads` > 1 a long
    /// parameter vector's two halves are updated at once (each element's
    /// update is the same either way).
    pub fn step(&mut self, params: &mut [T], grads: &[T], threads: usize) {
        let rule = self.rule();
        let (len, half) = (params.len(), params.len() / 2);
        let (p1, p2) = params.split_at_mut(half);
        let (g1, g2) = grads.split_at(half);
        // The state vectors are empty for rules without them.
        let (m_at, v_at) = (half.min(self.m.len()), half.min(self.v.len()));
        let (m1, m2) = self.m.split_at_mut(m_at);
        let (v1, v2) = self.v.split_at_mut(v_at);
        let apply = |p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]| crate::simd::widest(#[inline(always)] || rule.apply(p, g, m, v));
        crate::parallel::in_halves(threads > 1 && len >= PARALLEL_STEP, || apply(p1, g1, m1, v1), || apply(p2, g2, m2, v2));
    }

    /// This step's rule and constants (for Adam, its bias corrections at the
    /// step count this step advances to).
    fn rule(&mut self) -> Rule<T> {
        let lr = T::of(self.lr);
        match self.kind {
            Optimizer::Gd | Optimizer::Lm | Optimizer::Lbfgs => Rule::Plain { lr },
            Optimizer::Sgd { momentum, nesterov } => Rule::Momentum { lr, momentum: T::of(momentum), nesterov },
            Optimizer::Adam { beta1, beta2, eps } | Optimizer::AdamW { beta1, beta2, eps } => {
                self.t = self.t.saturating_add(1);
                let c1 = 1.0 - beta1.powi(self.t);
                let c2 = 1.0 - beta2.powi(self.t);
                Rule::Adam {
                    step: T::of(self.lr * c2.sqrt() / c1),
                    b1: T::of(beta1),
                    b2: T::of(beta2),
                    rest1: T::of(1.0 - beta1),
                    rest2: T::of(1.0 - beta2),
                    floor: T::of(eps * c2.sqrt()),
                }
            }
            Optimizer::RmsProp { rho, eps } => Rule::RmsProp { lr, rho: T::of(rho), rest: T::of(1.0 - rho), eps: T::of(eps) },
        }
    }
}

/// Parameter vectors at least this long are updated by two threads: for
/// shorter ones, handing half to the second thread costs more than it saves.
const PARALLEL_STEP: usize = 1 << 15;

/// One step's update of each element, with its constants.
#[derive(Clone, Copy)]
enum Rule<T> {
    Plain { lr: T },
    Momentum { lr: T, momentum: T, nesterov: bool },
    Adam { step: T, b1: T, b2: T, rest1: T, rest2: T, floor: T },
    RmsProp { lr: T, rho: T, rest: T, eps: T },
}

impl<T: Real> Rule<T> {
    /// Updates `params` from `grads`, with the rule's state `m` (momentum or
    /// first moment) and `v` (second moment), each empty if unused.
    #[inline(always)]
    fn apply(self, params: &mut [T], grads: &[T], m: &mut [T], v: &mut [T]) {
        match self {
            // Written as the article's `w + (-g) * lr` so it matches it bit for bit.
            Rule::Plain { lr } => params.iter_mut().zip(grads).for_each(|(p, &g)| *p += -g * lr),
            Rule::Momentum { lr, momentum, nesterov } => {
                for ((p, &g), v) in params.iter_mut().zip(grads).zip(m.iter_mut()) {
                    *v = momentum * *v - lr * g;
                    *p += if nesterov { momentum * *v - lr * g } else { *v };
                }
            }
            Rule::Adam { step, b1, b2, rest1, rest2, floor } => {
                for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m.iter_mut()).zip(v.iter_mut()) {
                    *m = b1 * *m + rest1 * g;
                    *v = b2 * *v + rest2 * g * g;
                    *p = *p - step * *m / (v.sqrt() + floor);
                }
            }
            Rule::RmsProp { lr, rho, rest, eps } => {
                for ((p, &g), v) in params.iter_mut().zip(grads).zip(v.iter_mut()) {
                    *v = rho * *v + rest * g * g;
                    *p = *p - lr * g / (v.sqrt() + eps);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimise ½‖p − target‖²; every rule must get there.
    fn converges(kind: Optimizer, lr: f64, steps: usize) -> f64 {
        let target = [1.0, -2.0, 0.5];
        let mut p = [0.0; 3];
        let mut s = Stepper::<f64>::new(kind, lr, 3);
        for _ in 0..steps {
            let g: Vec<f64> = p.iter().zip(&target).map(|(p, t)| p - t).collect();
            s.step(&mut p, &g, 1);
        }
        p.iter().zip(&target).map(|(p, t)| (p - t).abs()).fold(0.0, f64::max)
    }

    #[test]
    fn names_round_trip_and_which_losses_and_outputs_each_takes_decide_a_fit() {
        for o in Optimizer::ALL {
            assert_eq!(Optimizer::named(o.name(), MOMENTUM, false), Some(o));
            assert!(o.default_lr() > 0.0);
            assert_eq!(o.takes_minibatches(), matches!(o.name(), "sgd" | "adam" | "adamw" | "rmsprop"));
            // vocabulary_() gives R the losses and the outputs each optimizer
            // takes, apart: they must decide together what it minimises.
            let pairs: Vec<(Loss, Activation)> =
                Loss::ALL.into_iter().flat_map(|l| Activation::ALL.into_iter().filter(move |&a| a.serves_output() && l.compatible_with(a)).map(move |a| (l, a))).collect();
            let losses: Vec<Loss> = pairs.iter().filter(|(l, a)| o.minimises(*l, *a)).map(|p| p.0).collect();
            let outputs: Vec<Activation> = pairs.iter().filter(|(l, a)| o.minimises(*l, *a)).map(|p| p.1).collect();
            for (l, a) in pairs {
                assert_eq!(o.minimises(l, a), losses.contains(&l) && outputs.contains(&a), "{} {} {}", o.name(), l.name(), a.name());
            }
        }
        assert_eq!(Optimizer::named("sgd", 0.5, true), Some(Optimizer::Sgd { momentum: 0.5, nesterov: true }));
        assert_eq!(Optimizer::named("newton", 0.9, false), None);
        assert!(!Optimizer::Lm.minimises(Loss::CrossEntropy, Activation::Sigmoid));
        assert!(!Optimizer::Lm.minimises(Loss::Sse, Activation::Softmax));
    }

    #[test]
    fn each_rule_minimises_a_quadratic() {
        assert!(converges(Optimizer::Gd, 0.1, 500) < 1e-8);
        assert!(converges(Optimizer::Sgd { momentum: 0.9, nesterov: false }, 0.05, 500) < 1e-6);
        assert!(converges(Optimizer::Sgd { momentum: 0.9, nesterov: true }, 0.05, 500) < 1e-6);
        assert!(converges(Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 0.05, 3000) < 1e-3);
        assert!(converges(Optimizer::AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 0.05, 3000) < 1e-3);
        // RMSProp's steps keep a size of about lr near the optimum.
        assert!(converges(Optimizer::RmsProp { rho: 0.9, eps: 1e-8 }, 0.001, 5000) < 1e-2);
    }

    #[test]
    fn adamw_shrinks_weights_apart_from_the_gradient() {
        let adamw = Optimizer::AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let mut s = Stepper::<f64>::new(adamw, 0.1, 1);
        let mut w = [2.0];
        s.decay_weights(&mut w, 0.5);
        assert!((w[0] - 2.0 * (1.0 - 0.05)).abs() < 1e-15);
        s.set_lr_factor(0.5);
        assert_eq!(s.lr(), 0.05);
        // Adam takes decay through the gradient, not here.
        let mut w = [2.0];
        Stepper::<f64>::new(Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 0.1, 1).decay_weights(&mut w, 0.5);
        assert_eq!(w[0], 2.0);
    }

    #[test]
    fn two_threads_update_every_element_as_one_does() {
        let n = PARALLEL_STEP + 7;
        let rules = [
            Optimizer::Gd,
            Optimizer::Sgd { momentum: 0.9, nesterov: true },
            Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
            Optimizer::RmsProp { rho: 0.9, eps: 1e-8 },
        ];
        for kind in rules {
            let start: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64 / 17.0 - 0.5).collect();
            let (mut one, mut two) = (start.clone(), start.clone());
            let (mut s1, mut s2) = (Stepper::<f64>::new(kind, 0.01, n), Stepper::<f64>::new(kind, 0.01, n));
            for k in 0..3 {
                let g: Vec<f64> = (0..n).map(|i| ((i * 7 + k) % 13) as f64 / 13.0 - 0.4).collect();
                s1.step(&mut one, &g, 1);
                s2.step(&mut two, &g, 2);
            }
            assert!(one.iter().zip(&two).all(|(a, b)| a.to_bits() == b.to_bits()), "{:?}", kind);
            assert!(one != start);
        }
    }

    #[test]
    fn adam_first_step_has_the_size_of_lr() {
        let mut p = [0.0];
        let mut s = Stepper::<f64>::new(Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 0.01, 1);
        s.step(&mut p, &[123.0], 1);
        assert!((p[0] + 0.01).abs() < 1e-9);
    }
}
