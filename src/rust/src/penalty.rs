//! Penalties on the weights (never the biases): L2 (`weight_decay`) and L1,
//! together an elastic net.

use crate::real::Real;
use std::ops::Range;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Penalty {
    /// Adds ½·l2·‖w‖² to the objective.
    pub l2: f64,
    /// Adds l1·‖w‖₁ to the objective.
    pub l1: f64,
}

impl Penalty {
    pub fn is_zero(&self) -> bool {
        self.l2 == 0.0 && self.l1 == 0.0
    }

    /// The penalty at `params`, over the weight blocks `weights`.
    pub fn value(&self, weights: &[Range<usize>], params: &[f64]) -> f64 {
        let mut v = 0.0;
        for r in weights {
            for &w in &params[r.clone()] {
                v += 0.5 * self.l2 * w * w + self.l1 * w.abs();
            }
        }
        v
    }

    /// Adds the penalty's gradient to `grads` (L1's subgradient is 0 at 0).
    pub fn add_gradient<T: Real>(&self, weights: &[Range<usize>], params: &[T], grads: &mut [T]) {
        if self.is_zero() {
            return;
        }
        let (l2, l1) = (T::of(self.l2), T::of(self.l1));
        for r in weights {
            for (g, &w) in grads[r.clone()].iter_mut().zip(&params[r.clone()]) {
                if self.l2 != 0.0 {
                    *g += l2 * w;
                }
                if self.l1 != 0.0 {
                    if w > T::ZERO {
                        *g += l1;
                    } else if w < T::ZERO {
                        *g += -l1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_is_the_penalty_s_slope() {
        let p = Penalty { l2: 0.3, l1: 0.2 };
        let params = [1.5, -0.5, 0.0, 9.0];
        let weights = [0..3]; // the last entry is a bias
        let mut g = [0.0; 4];
        p.add_gradient(&weights, &params, &mut g);
        assert_eq!(g, [0.3 * 1.5 + 0.2, 0.3 * -0.5 - 0.2, 0.0, 0.0]);
        let v = p.value(&weights, &params);
        assert!((v - (0.15 * (2.25 + 0.25) + 0.2 * 2.0)).abs() < 1e-15);
    }
}
