// Forward R's routine registration to the Rust static library (this also
// keeps the linker from dropping it), and install extendr's panic hook so a
// Rust panic prints no backtrace unless EXTENDR_BACKTRACE is set.
void R_init_backprop_extendr(void *dll);
void register_extendr_panic_hook(void);

void R_init_backprop(void *dll) {
    register_extendr_panic_hook();
    R_init_backprop_extendr(dll);
}
