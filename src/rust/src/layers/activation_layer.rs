//! The activation layer: an element-wise function (or the output's row-wise
//! softmax) and its slope. It works in place on the dense layer's output
//! when its slope is a function of its output; otherwise (GELU, SiLU) it
//! writes a buffer of its own, keeping its input for the slope.

use super::{for_column_groups, Rows};
use crate::activation::Activation;
use crate::real::Real;

#[derive(Clone, Copy, Debug)]
pub struct ActivationLayer {
    pub activation: Activation,
}

impl ActivationLayer {
    /// Whether the layer overwrites its input with its output.
    pub fn in_place(&self) -> bool {
        !self.activation.slope_needs_input()
    }

    /// `z = f(z)` over a `rows x cols` block.
    pub fn forward_in_place<T: Real>(&self, z: &mut [T], rows: usize, cols: usize, threads: usize) {
        super::dense::activate(z, rows, cols, None, self.activation, threads);
    }

    /// `out = f(z)`, for a layer that keeps its input.
    pub fn forward<T: Real>(&self, z: &[T], out: &mut [T]) {
        let act = self.activation;
        out.iter_mut().zip(z).for_each(|(a, &z)| *a = act.apply(z));
    }

    /// Multiplies `delta` (the delta at the layer's output, `rows x cols`)
    /// by the slope, making it the delta at its input. `acts` are the
    /// layer's outputs for those rows and `pre` its inputs, which a layer
    /// that keeps them must give.
    pub fn backward<T: Real>(&self, delta: &mut [T], acts: Rows<T>, pre: Option<Rows<T>>, cols: usize, threads: usize) {
        let (act, rows) = (self.activation, acts.rows);
        assert!(pre.is_some() || self.in_place(), "this activation's slope needs its input");
        for_column_groups(&mut delta[..rows * cols], rows, threads, |j, d| {
            let a = acts.column(j);
            match pre {
                Some(z) => {
                    let z = z.column(j);
                    d.iter_mut().zip(a).zip(z).for_each(|((d, &a), &z)| *d *= act.slope_at(z, a));
                }
                None => d.iter_mut().zip(a).for_each(|(d, &a)| *d *= act.slope(a)),
            }
        });
    }
}
