//! The `kerros` binary: all work happens in the library.

fn main() {
    std::process::exit(kerros::cli::main());
}
