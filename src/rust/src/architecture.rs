//! Network shapes and the flat parameter layout; [`crate::layers`] builds
//! the network's layers on it.
//!
//! All parameters live in one flat vector: for each layer its weights
//! (`fan_in x fan_out`, column-major) then its biases. Optimizers therefore see
//! a plain slice, and R receives each block as a matrix without reshaping.

use crate::activation::Activation;
use std::ops::Range;

/// Where the biases live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BiasLayout {
    /// One bias per unit (`1 x units`), as the NumPy program has it.
    Column,
    /// One bias per training row and unit (`n x units`), as the article's R
    /// program lays it out; each row's bias moves by that row's summed delta.
    Row,
}

#[derive(Clone, Debug)]
pub struct Architecture {
    /// Units per layer, inputs first: `[d, h1, ..., o]`.
    sizes: Vec<usize>,
    /// One per non-input layer; the last is the output activation.
    activations: Vec<Activation>,
    bias: BiasLayout,
    /// Rows of each bias block: 1, or n for [`BiasLayout::Row`].
    bias_rows: usize,
    /// (weights, biases) ranges in the flat parameter vector, per layer.
    blocks: Vec<(Range<usize>, Range<usize>)>,
    n_params: usize,
}

impl Architecture {
    /// `rows` is the number of training rows; it only matters for the row layout.
    pub fn new(
        sizes: Vec<usize>,
        activations: Vec<Activation>,
        bias: BiasLayout,
        rows: usize,
    ) -> Result<Architecture, String> {
        if sizes.len() < 2 {
            return Err("a network needs at least an input and an output layer".into());
        }
        if activations.len() != sizes.len() - 1 {
            return Err("one activation is needed per layer".into());
        }
        if sizes.iter().any(|&s| s == 0) {
            return Err("every layer needs at least one unit".into());
        }
        if !activations[..activations.len() - 1].iter().all(|a| a.serves_hidden()) {
            return Err("softmax and exp serve the output layer only".into());
        }
        let bias_rows = match bias {
            BiasLayout::Column => 1,
            BiasLayout::Row => rows,
        };
        let mut blocks = Vec::with_capacity(sizes.len() - 1);
        let mut at = 0usize;
        let too_big = || "the network has too many parameters to allocate".to_string();
        for l in 0..sizes.len() - 1 {
            let nw = sizes[l].checked_mul(sizes[l + 1]).ok_or_else(too_big)?;
            let nb = bias_rows.checked_mul(sizes[l + 1]).ok_or_else(too_big)?;
            let w = at..at.checked_add(nw).ok_or_else(too_big)?;
            let b = w.end..w.end.checked_add(nb).ok_or_else(too_big)?;
            at = b.end;
            blocks.push((w, b));
        }
        Ok(Architecture { sizes, activations, bias, bias_rows, blocks, n_params: at })
    }

    pub fn layers(&self) -> usize {
        self.blocks.len()
    }
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }
    pub fn outputs(&self) -> usize {
        *self.sizes.last().unwrap()
    }
    pub fn fan_in(&self, l: usize) -> usize {
        self.sizes[l]
    }
    pub fn fan_out(&self, l: usize) -> usize {
        self.sizes[l + 1]
    }
    pub fn activation(&self, l: usize) -> Activation {
        self.activations[l]
    }
    pub fn output_activation(&self) -> Activation {
        *self.activations.last().unwrap()
    }
    pub fn bias_layout(&self) -> BiasLayout {
        self.bias
    }
    pub fn bias_rows(&self) -> usize {
        self.bias_rows
    }
    pub fn weights(&self, l: usize) -> Range<usize> {
        self.blocks[l].0.clone()
    }
    pub fn biases(&self, l: usize) -> Range<usize> {
        self.blocks[l].1.clone()
    }
    pub fn n_params(&self) -> usize {
        self.n_params
    }
    /// Every layer's weights' range (the penalties' domain).
    pub fn weight_ranges(&self) -> Vec<Range<usize>> {
        (0..self.layers()).map(|l| self.weights(l)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article_arch(bias: BiasLayout) -> Architecture {
        Architecture::new(vec![4, 3, 1], vec![Activation::Sigmoid; 2], bias, 3).unwrap()
    }

    #[test]
    fn parameter_blocks_are_laid_out_in_order() {
        let a = article_arch(BiasLayout::Column);
        assert_eq!(a.weights(0), 0..12);
        assert_eq!(a.biases(0), 12..15);
        assert_eq!(a.weights(1), 15..18);
        assert_eq!(a.biases(1), 18..19);
        let r = article_arch(BiasLayout::Row);
        assert_eq!(r.biases(0), 12..21);
        assert_eq!(r.n_params(), 12 + 9 + 3 + 3);
    }

    #[test]
    fn impossible_sizes_are_errors_not_panics() {
        let e = Architecture::new(vec![usize::MAX, 2, 1], vec![Activation::Sigmoid; 2], BiasLayout::Column, 1);
        assert!(e.is_err());
        for hidden in [Activation::Softmax, Activation::Exp] {
            let e = Architecture::new(vec![3, 2, 1], vec![hidden, Activation::Sigmoid], BiasLayout::Column, 1);
            assert!(e.is_err());
        }
    }
}
