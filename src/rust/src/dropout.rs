//! Inverted dropout on hidden layers, in training only: each step draws a
//! mask per hidden layer with a rate, keeping a unit with probability
//! `1 - rate` and scaling what it keeps by `1 / (1 - rate)`, so that the
//! network's expected input to the layer above is the same as without
//! dropout and prediction needs no change.

use crate::network::Architecture;
use crate::real::Real;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub struct Dropout<T = f64> {
    /// One rate per layer (0 for the output layer and undropped layers).
    rates: Vec<f64>,
    /// Units per layer.
    units: Vec<usize>,
    /// Per layer with a rate, `capacity x units` column-major: 0 or
    /// `1 / (1 - rate)`; empty for the others.
    masks: Vec<Vec<T>>,
    /// Per layer with a rate, its activations times its mask: the input of
    /// the layer above.
    dropped: Vec<Vec<T>>,
    rng: SmallRng,
}

impl<T: Real> Dropout<T> {
    /// `rates` has one rate in [0, 1) per hidden layer; `seed` comes from
    /// R's RNG. `None` when every rate is 0: training then takes no dropout
    /// path at all.
    pub fn new(arch: &Architecture, rates: &[f64], capacity: usize, seed: u64) -> Option<Dropout<T>> {
        assert_eq!(rates.len(), arch.layers() - 1, "one dropout rate per hidden layer");
        assert!(rates.iter().all(|r| (0.0..1.0).contains(r)), "dropout rates lie in [0, 1)");
        if rates.iter().all(|&r| r == 0.0) {
            return None;
        }
        let mut all = rates.to_vec();
        all.push(0.0);
        let units: Vec<usize> = (0..arch.layers()).map(|l| arch.fan_out(l)).collect();
        let buffer = |l: usize| if all[l] > 0.0 { vec![T::ZERO; capacity * units[l]] } else { Vec::new() };
        Some(Dropout {
            masks: (0..arch.layers()).map(buffer).collect(),
            dropped: (0..arch.layers()).map(buffer).collect(),
            rates: all,
            units,
            rng: SmallRng::seed_from_u64(seed),
        })
    }

    /// Draws new masks for a batch of `rows` rows.
    pub fn draw(&mut self, rows: usize) {
        for l in 0..self.rates.len() {
            let rate = self.rates[l];
            if rate == 0.0 {
                continue;
            }
            let kept = T::of(1.0 / (1.0 - rate));
            for m in self.masks[l][..rows * self.units[l]].iter_mut() {
                *m = if self.rng.random::<f64>() < rate { T::ZERO } else { kept };
            }
        }
    }

    /// Whether layer `l` is dropped out.
    pub fn drops(&self, l: usize) -> bool {
        self.rates[l] > 0.0
    }

    /// The input layer `l + 1` receives from layer `l`, for `rows` rows.
    pub fn dropped(&self, l: usize, rows: usize) -> &[T] {
        &self.dropped[l][..rows * self.units[l]]
    }

    /// Records layer `l`'s activations `acts` (`rows x units`) times its mask.
    pub fn apply(&mut self, l: usize, acts: &[T], rows: usize) {
        if !self.drops(l) {
            return;
        }
        let len = rows * self.units[l];
        let (mask, out) = (&self.masks[l][..len], &mut self.dropped[l][..len]);
        out.iter_mut().zip(&acts[..len]).zip(mask).for_each(|((o, &a), &m)| *o = a * m);
    }

    /// Multiplies the delta of layer `l` (`rows x units`) by its mask: a
    /// dropped unit passes nothing back.
    pub fn mask_delta(&self, l: usize, delta: &mut [T], rows: usize) {
        if !self.drops(l) {
            return;
        }
        let len = rows * self.units[l];
        delta[..len].iter_mut().zip(&self.masks[l][..len]).for_each(|(d, &m)| *d *= m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::network::BiasLayout;

    #[test]
    fn masks_keep_the_expected_share_scaled_up() {
        let arch = Architecture::new(vec![3, 50, 1], vec![Activation::Relu, Activation::Linear], BiasLayout::Column, 1).unwrap();
        let mut d = Dropout::<f64>::new(&arch, &[0.3], 200, 42).unwrap();
        d.draw(200);
        let acts = vec![1.0; 200 * 50];
        d.apply(0, &acts, 200);
        let out = d.dropped(0, 200);
        assert!(out.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-12));
        let kept = out.iter().filter(|&&v| v > 0.0).count() as f64 / out.len() as f64;
        assert!((kept - 0.7).abs() < 0.02, "kept {}", kept);
        // The mean is preserved in expectation.
        let mean = out.iter().sum::<f64>() / out.len() as f64;
        assert!((mean - 1.0).abs() < 0.03);
        assert!(Dropout::<f64>::new(&arch, &[0.0], 200, 42).is_none());
    }
}
