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
