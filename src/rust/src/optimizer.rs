//! First-order update rules over the flat parameter vector.

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

impl Optimizer {
    /// First-order rules step once per minibatch; second-order ones own their loop.
    pub fn is_first_order(self) -> bool {
        !matches!(self, Optimizer::Lm | Optimizer::Lbfgs)
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

    pub fn step(&mut self, params: &mut [T], grads: &[T]) {
        let lr = T::of(self.lr);
        match self.kind {
            Optimizer::Gd | Optimizer::Lm | Optimizer::Lbfgs => {
                // Written as the article's `w + (-g) * lr` so it matches it bit for bit.
                params.iter_mut().zip(grads).for_each(|(p, &g)| *p += -g * lr);
            }
            Optimizer::Sgd { momentum, nesterov } => {
                let momentum = T::of(momentum);
                for ((p, &g), v) in params.iter_mut().zip(grads).zip(self.m.iter_mut()) {
                    *v = momentum * *v - lr * g;
                    *p += if nesterov { momentum * *v - lr * g } else { *v };
                }
            }
            Optimizer::Adam { beta1, beta2, eps } | Optimizer::AdamW { beta1, beta2, eps } => {
                self.t = self.t.saturating_add(1);
                let c1 = 1.0 - beta1.powi(self.t);
                let c2 = 1.0 - beta2.powi(self.t);
                let step = T::of(self.lr * c2.sqrt() / c1);
                let (b1, b2) = (T::of(beta1), T::of(beta2));
                let (rest1, rest2) = (T::of(1.0 - beta1), T::of(1.0 - beta2));
                let floor = T::of(eps * c2.sqrt());
                for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(self.m.iter_mut()).zip(self.v.iter_mut()) {
                    *m = b1 * *m + rest1 * g;
                    *v = b2 * *v + rest2 * g * g;
                    *p = *p - step * *m / (v.sqrt() + floor);
                }
            }
            Optimizer::RmsProp { rho, eps } => {
                let (rho, rest, eps) = (T::of(rho), T::of(1.0 - rho), T::of(eps));
                for ((p, &g), v) in params.iter_mut().zip(grads).zip(self.v.iter_mut()) {
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
            s.step(&mut p, &g);
        }
        p.iter().zip(&target).map(|(p, t)| (p - t).abs()).fold(0.0, f64::max)
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
    fn adam_first_step_has_the_size_of_lr() {
        let mut p = [0.0];
        let mut s = Stepper::<f64>::new(Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 0.01, 1);
        s.step(&mut p, &[123.0]);
        assert!((p[0] + 0.01).abs() < 1e-9);
    }
}
