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

    /// The rows' total weight: their count when unweighted.
    pub fn weight_total(&self) -> f64 {
        self.w.map_or(self.rows as f64, |w| w.iter().map(|v| v.f64()).sum())
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

/// What the checks of an input need from one pass over it: its largest
/// finite magnitude, and whether it holds a NaN (R's NA is one) or an
/// infinite value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Extent {
    pub largest: f64,
    pub nan: bool,
    pub infinite: bool,
}

impl Extent {
    /// One pass over `xs`, in blocks over `threads` workers when it is large
    /// (the pass is bound by memory; two cores read it faster than one).
    pub fn of(xs: &[f64], threads: usize) -> Extent {
        const BLOCK: usize = 1 << 18;
        if threads <= 1 || xs.len() < 4 * BLOCK {
            return Extent::of_block(xs);
        }
        let mut blocks: Vec<Extent> = vec![Extent::default(); xs.len().div_ceil(BLOCK)];
        crate::parallel::for_each_mut(threads, &mut blocks, &|b, out| *out = Extent::of_block(&xs[b * BLOCK..((b + 1) * BLOCK).min(xs.len())]));
        // (No block's largest is NaN, so f64::max is the plain maximum.)
        blocks.into_iter().fold(Extent::default(), |a, b| Extent { largest: a.largest.max(b.largest), nan: a.nan || b.nan, infinite: a.infinite || b.infinite })
    }

    fn of_block(xs: &[f64]) -> Extent {
        // Eight independent lanes of compares and selects, which the compiler
        // turns into vector instructions (f64::max's NaN rules would keep it
        // scalar). An infinite value is a magnitude above f64::MAX; NaN
        // compares false with everything, so it is tracked beside.
        const LANES: usize = 8;
        let (mut largest, mut infinite, mut nan) = ([0.0f64; LANES], [false; LANES], [false; LANES]);
        let mut lane = |i: usize, v: f64| {
            let a = v.abs();
            let finite = a <= f64::MAX;
            largest[i] = if finite && a > largest[i] { a } else { largest[i] };
            infinite[i] |= a > f64::MAX;
            nan[i] |= a.is_nan();
        };
        let chunks = xs.chunks_exact(LANES);
        let rest = chunks.remainder();
        for chunk in chunks {
            for (i, &v) in chunk.iter().enumerate() {
                lane(i, v);
            }
        }
        for (i, &v) in rest.iter().enumerate() {
            lane(i, v);
        }
        Extent {
            largest: largest.iter().fold(0.0, |m, &a| if a > m { a } else { m }),
            nan: nan.iter().any(|&b| b),
            infinite: infinite.iter().any(|&b| b),
        }
    }
}

/// The columns of a column-major matrix of `role.len()` rows that take one
/// value on every row `role` marks 1 but another on some row marked 2 (rows
/// marked 0 count for neither; with no row marked 1, no column): inputs
/// that vary in the data but not on the rows marked for training, whose
/// weights those rows cannot train. (The inputs hold no NaN; one would
/// count as another value.)
/// A column is read only up to its first training row that differs, so
/// that the columns that vary, most of them, cost a few reads.
pub fn constant_columns(xs: &[f64], role: &[u8]) -> Vec<bool> {
    let rows = role.len();
    if rows == 0 {
        return Vec::new();
    }
    let first = role.iter().position(|&r| r == 1);
    xs.chunks_exact(rows)
        .map(|col| {
            let Some(first) = first else { return false };
            let value = col[first];
            let mut varies = false;
            for (&v, &r) in col.iter().zip(role) {
                if r != 0 && v != value {
                    if r == 1 {
                        return false;
                    }
                    varies = true;
                }
            }
            varies
        })
        .collect()
}

/// Copies `src` into `dst` as f64.
pub fn copy_to_f64<T: Real>(dst: &mut [f64], src: &[T]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d = s.f64());
}

/// A zeroed buffer of `len` values for a copy of the data; None when the
/// memory cannot be had. The copy is bound by the system's work of mapping
/// fresh pages on first touch, one fault per 4 KB page: on Linux the
/// buffer asks for transparent huge pages (2 MB), which cut the faults
/// 512-fold where the system offers them (a hint: without them the buffer
/// is the same). Each value is then written once, by the thread that
/// fills it.
pub fn zeroed_buffer<T: Real>(len: usize) -> Option<Vec<T>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(len).ok()?;
    // SAFETY: the layout has a non-zero size; T is f32 or f64, for which
    // all-zero bits are 0.0, so the zeroed buffer holds `len` valid values,
    // and Vec takes it with the layout it was allocated with.
    let mut out = unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut T;
        if ptr.is_null() {
            return None;
        }
        Vec::from_raw_parts(ptr, len, len)
    };
    advise_huge_pages(&mut out);
    Some(out)
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(buffer: &mut [T]) {
    extern "C" {
        fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: std::ffi::c_int) -> std::ffi::c_int;
    }
    const MADV_HUGEPAGE: std::ffi::c_int = 14;
    const HUGE: usize = 1 << 21;
    let start = buffer.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(buffer);
    // The whole huge pages inside the buffer.
    let (first, last) = ((start + HUGE - 1) & !(HUGE - 1), end & !(HUGE - 1));
    if last > first {
        // SAFETY: [first, last) lies inside the buffer, which this process
        // owns; the advice changes how its pages are mapped, not what they
        // hold. Its result is ignored: it is a hint.
        unsafe {
            madvise(first as *mut std::ffi::c_void, last - first, MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_buffer: &mut [T]) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column counts when it is constant on the rows marked 1 and differs
    /// on a row marked 1 or 2; rows marked 0 never count.
    #[test]
    fn constant_columns_look_at_the_marked_rows() {
        let role = [1, 2, 1, 0];
        let x = [
            0.0, 1.0, 0.0, 0.0, // constant on training rows, varies on row 2: counts
            0.0, 0.0, 0.0, 5.0, // varies only on an unmarked row
            1.0, 2.0, 3.0, 4.0, // varies on training rows
            2.0, 2.0, 2.0, 2.0, // constant everywhere
        ];
        assert_eq!(constant_columns(&x, &role), vec![true, false, false, false]);
        assert_eq!(constant_columns(&x, &[2, 2, 2, 2]), vec![false; 4]);
        assert!(constant_columns(&[], &[]).is_empty());
    }

    /// Blocks over threads find what one pass finds, wherever the NaN, the
    /// infinity or the largest value sits.
    #[test]
    fn the_extent_is_the_same_over_any_threads() {
        let len = (1 << 20) + 12345;
        let base: Vec<f64> = (0..len).map(|i| ((i as f64) * 0.618).sin()).collect();
        for at in [0, 7, 1 << 18, len - 1] {
            let mut xs = base.clone();
            xs[at] = -1e300;
            let mut with_nan = xs.clone();
            with_nan[(at + 5) % len] = f64::NAN;
            let mut with_inf = xs.clone();
            with_inf[(at + 9) % len] = f64::NEG_INFINITY;
            for threads in [1, 2, 3] {
                assert_eq!(Extent::of(&xs, threads), Extent { largest: 1e300, nan: false, infinite: false });
                assert_eq!(Extent::of(&with_nan, threads), Extent { largest: 1e300, nan: true, infinite: false });
                assert_eq!(Extent::of(&with_inf, threads), Extent { largest: 1e300, nan: false, infinite: true });
            }
        }
        assert_eq!(Extent::of(&[], 2), Extent::default());
    }
}
