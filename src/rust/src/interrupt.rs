//! Interrupts and pacing for long calls: R's user interrupt polled without
//! leaving Rust, and a clock read at a bounded rate.

use std::time::{Duration, Instant};

extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut std::ffi::c_void)>, data: *mut std::ffi::c_void) -> std::os::raw::c_int;
    fn R_CheckUserInterrupt();
}

unsafe extern "C" fn check_interrupt(_: *mut std::ffi::c_void) {
    R_CheckUserInterrupt();
}

/// True when the user has asked R to stop (Ctrl-C, RStudio's stop button).
/// R_CheckUserInterrupt would jump out of Rust; inside R_ToplevelExec the jump
/// ends at that boundary instead, which then returns false.
pub fn interrupt_pending() -> bool {
    unsafe { R_ToplevelExec(Some(check_interrupt), std::ptr::null_mut()) == 0 }
}

pub const CLOCK_EVERY: Duration = Duration::from_millis(10);
pub const POLL_EVERY: Duration = Duration::from_millis(100);
pub const REPORT_EVERY: Duration = Duration::from_millis(200);

/// Reads the clock on about one call in `stride`, the stride adapting so that
/// reads are CLOCK_EVERY apart.
pub struct Pacer {
    stride: u64,
    countdown: u64,
    last: Instant,
}

impl Pacer {
    pub fn new() -> Pacer {
        Pacer { stride: 1, countdown: 1, last: Instant::now() }
    }

    /// The time now, on the calls where the clock is read.
    pub fn tick(&mut self, force: bool) -> Option<Instant> {
        self.countdown -= 1;
        if self.countdown > 0 && !force {
            return None;
        }
        let now = Instant::now();
        let per_call = now.duration_since(self.last).as_nanos() as u64 / self.stride.max(1);
        self.stride = (CLOCK_EVERY.as_nanos() as u64 / per_call.max(1)).clamp(1, 1 << 16);
        self.countdown = self.stride;
        self.last = now;
        Some(now)
    }
}
