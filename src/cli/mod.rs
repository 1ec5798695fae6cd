//! Command-line interface: clap definitions and command dispatch.
