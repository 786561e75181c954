//! Starting weights: which distribution each block is drawn from, in the
//! order R code would draw them, layer by layer, weights before biases (for
//! one hidden layer the article's order wh, bias_in, wout, bias_out):
//!
//! | start | weights | biases |
//! |---|---|---|
//! | article | `rnorm(fan_in * fan_out)` | `runif(fan_out)` |
//! | uniform | `runif(fan_in * fan_out)` | `runif(fan_out)` |
//! | xavier | `runif(., -a, a)`, a = sqrt(6 / (fan_in + fan_out)) | zero |
//! | he | `rnorm(., sd = sqrt(2 / fan_in))` | zero |
//! | nnet | `runif(., -0.7, 0.7)` | `runif(fan_out, -0.7, 0.7)` |
//!
//! Each bias vector is laid out as `bias_rows x fan_out` by column-wise
//! recycling (`matrix(rep(b, n), nrow = n)`, the R program's layout, quirk
//! included, when the layout has n bias rows). The draws themselves come
//! from the caller (R's RNG), so that `set.seed()` governs them.

use crate::activation::Activation;
use crate::architecture::Architecture;

/// One draw: `rnorm(1, 0, sd)` or `runif(1, lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Deviate {
    Normal(f64),
    Uniform(f64, f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    Article,
    Uniform,
    Xavier,
    He,
    Nnet,
}

impl Start {
    pub const ALL: [Start; 5] = [Start::Article, Start::Uniform, Start::Xavier, Start::He, Start::Nnet];

    pub fn name(self) -> &'static str {
        match self {
            Start::Article => "article",
            Start::Uniform => "uniform",
            Start::Xavier => "xavier",
            Start::He => "he",
            Start::Nnet => "nnet",
        }
    }

    /// The start suited to hidden units of this kind: He's for the
    /// relu-like units, Xavier's for the others.
    pub fn suited_to(act: Activation) -> Start {
        use Activation::*;
        match act {
            Relu | LeakyRelu | Elu | Selu | Gelu | Silu | Mish => Start::He,
            _ => Start::Xavier,
        }
    }

    pub fn parse(name: &str) -> Option<Start> {
        Start::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The deviates of a layer's weights and of its biases (`None`: zero).
    pub fn deviates(self, fan_in: usize, fan_out: usize) -> (Deviate, Option<Deviate>) {
        let (fan_in, fan_out) = (fan_in as f64, fan_out as f64);
        match self {
            Start::Article => (Deviate::Normal(1.0), Some(Deviate::Uniform(0.0, 1.0))),
            Start::Uniform => (Deviate::Uniform(0.0, 1.0), Some(Deviate::Uniform(0.0, 1.0))),
            Start::Xavier => {
                let a = (6.0 / (fan_in + fan_out)).sqrt();
                (Deviate::Uniform(-a, a), None)
            }
            Start::He => (Deviate::Normal((2.0 / fan_in).sqrt()), None),
            Start::Nnet => (Deviate::Uniform(-0.7, 0.7), Some(Deviate::Uniform(-0.7, 0.7))),
        }
    }

    /// The flat parameters of `arch`, every entry drawn by `draw` in R's order.
    pub fn draw(self, arch: &Architecture, mut draw: impl FnMut(Deviate) -> f64) -> Vec<f64> {
        let mut params = vec![0.0; arch.n_params()];
        for l in 0..arch.layers() {
            let (weight, bias) = self.deviates(arch.fan_in(l), arch.fan_out(l));
            params[arch.weights(l)].iter_mut().for_each(|w| *w = draw(weight));
            let units: Vec<f64> = (0..arch.fan_out(l)).map(|_| bias.map_or(0.0, &mut draw)).collect();
            params[arch.biases(l)].iter_mut().enumerate().for_each(|(k, b)| *b = units[k % units.len()]);
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::architecture::BiasLayout;

    #[test]
    fn names_round_trip_and_relu_like_units_start_as_he_says() {
        for start in Start::ALL {
            assert_eq!(Start::parse(start.name()), Some(start));
        }
        assert_eq!(Start::parse("glorot"), None);
        assert_eq!(Start::suited_to(Activation::Relu), Start::He);
        assert_eq!(Start::suited_to(Activation::Tanh), Start::Xavier);
    }

    #[test]
    fn draws_follow_the_article_s_order_and_recycle_row_biases() {
        let arch = Architecture::new(vec![2, 3, 1], vec![Activation::Linear; 2], BiasLayout::Row, 2).unwrap();
        let mut calls = Vec::new();
        let mut k = 0.0;
        let p = Start::Article.draw(&arch, |d| {
            calls.push(d);
            k += 1.0;
            k
        });
        // wh (6 normal), bias_in (3 uniform), wout (3 normal), bias_out (1 uniform).
        assert_eq!(calls.len(), 13);
        assert!(calls[..6].iter().all(|d| *d == Deviate::Normal(1.0)));
        assert!(calls[6..9].iter().all(|d| *d == Deviate::Uniform(0.0, 1.0)));
        // The 2 x 3 row-bias block recycles the three draws down its columns.
        assert_eq!(&p[arch.biases(0)], &[7.0, 8.0, 9.0, 7.0, 8.0, 9.0]);
        assert_eq!(&p[arch.biases(1)], &[13.0, 13.0]);
        // He and Xavier start biases at zero without drawing them.
        let mut draws = 0;
        let p = Start::He.draw(&arch, |_| {
            draws += 1;
            0.5
        });
        assert_eq!(draws, 9);
        assert!(p[arch.biases(0)].iter().all(|&b| b == 0.0));
        assert_eq!(Start::parse("glorot"), None);
    }
}
