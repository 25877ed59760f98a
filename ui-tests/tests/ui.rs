//! The attribute's compile errors and accepted forms; see `src/lib.rs`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    // Pass cases also run: each returns at once, in the foreground (or, forced, detaches
    // and ends), with no PID file or user switch that would need root.
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
