//! Inverted dropout, in training only: each step draws a mask keeping a unit
//! with probability `1 - rate` and scaling what it keeps by `1 / (1 - rate)`,
//! so that the layer above receives the same input in expectation and
//! prediction needs no change. The masks come from the training's generator,
//! seeded from R's RNG.

use crate::real::Real;
use rand::rngs::SmallRng;
use rand::Rng;

#[derive(Clone, Copy, Debug)]
pub struct DropoutLayer {
    pub rate: f64,
}

impl DropoutLayer {
    pub fn new(rate: f64) -> DropoutLayer {
        assert!(rate > 0.0 && rate < 1.0, "a dropout rate lies in (0, 1)");
        DropoutLayer { rate }
    }

    /// Draws a new `mask` for the block `input` and writes `out = input ⊙ mask`.
    pub fn forward<T: Real>(&self, rng: &mut SmallRng, input: &[T], mask: &mut [T], out: &mut [T]) {
        let kept = T::of(1.0 / (1.0 - self.rate));
        for m in mask[..input.len()].iter_mut() {
            *m = if rng.random::<f64>() < self.rate { T::ZERO } else { kept };
        }
        out.iter_mut().zip(input).zip(&*mask).for_each(|((o, &a), &m)| *o = a * m);
    }

    /// The delta at the input: a dropped unit passes nothing back.
    pub fn backward<T: Real>(&self, delta: &[T], mask: &[T], below: &mut [T]) {
        below.iter_mut().zip(delta).zip(mask).for_each(|((b, &d), &m)| *b = d * m);
    }
}
