//! The README's Rust API tour is the body of `examples/tour.rs` (which the test command
//! compiles and runs): this test fails when the two differ.

use std::path::Path;

#[test]
fn readme_tour_is_examples_tour() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let tour = std::fs::read_to_string(root.join("examples/tour.rs")).unwrap();

    let section = readme
        .split_once("## API tour (Rust)\n")
        .expect("README has the Rust tour")
        .1;
    let block = section
        .split_once("```rust,ignore\n")
        .expect("the tour's code block")
        .1
        .split_once("\n```\n")
        .expect("the block ends")
        .0;

    let body = tour
        .split_once("    // README:begin\n")
        .expect("README:begin marker")
        .1
        .split_once("    // README:end\n")
        .expect("README:end marker")
        .0
        .trim_end();
    let dedented: Vec<&str> = body
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    let block: Vec<&str> = block.lines().collect();
    assert_eq!(
        block, dedented,
        "README.md's Rust tour differs from examples/tour.rs (between the README markers): \
         copy the example's body into the README"
    );
}
