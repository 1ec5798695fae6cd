//! The `kerros` binary: all work happens in the library.

// mimalloc keeps training's large temporary buffers instead of returning them
// to the OS after every step: about 5× faster epochs than the system allocator
// on the course model (measured with benches/course_model.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    kerros::model::configure_candle_threads();
    std::process::exit(kerros::cli::main());
}
