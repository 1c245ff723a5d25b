//! One module per subcommand: `Args` (clap) and `run(Args) -> Result<Outcome>`.

pub mod agent;
pub mod check;
pub mod describe;
pub mod lab;
pub mod matrix;
pub mod render;
pub mod synth;
pub mod validate;
