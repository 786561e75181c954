//! The training data as the engines see it: borrowed column-major slices.

use crate::real::Real;

/// Column-major `rows x d` inputs and `rows x o` targets, with optional
/// observation weights (one per row) that multiply each row's loss.
#[derive(Clone, Copy)]
pub struct Dataset<'a, T = f64> {
    pub x: &'a [T],
    pub y: &'a [T],
    pub w: Option<&'a [T]>,
    pub rows: usize,
}

impl<'a, T: Real> Dataset<'a, T> {
    pub fn new(x: &'a [T], y: &'a [T], rows: usize) -> Dataset<'a, T> {
        Dataset { x, y, w: None, rows }
    }

    /// The same data with observation weights `w` (one per row).
    pub fn weighted(self, w: Option<&'a [T]>) -> Dataset<'a, T> {
        assert!(w.is_none_or(|w| w.len() == self.rows), "one weight per row");
        Dataset { w, ..self }
    }

    /// The same data as f64, when it is f64.
    pub fn as_f64(&self) -> Option<Dataset<'a, f64>> {
        let w = match self.w {
            Some(w) => Some(T::as_f64(w)?),
            None => None,
        };
        Some(Dataset::new(T::as_f64(self.x)?, T::as_f64(self.y)?, self.rows).weighted(w))
    }
}

/// Copies `src` into `dst` as f64.
pub fn copy_to_f64<T: Real>(dst: &mut [f64], src: &[T]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d = s.f64());
}

