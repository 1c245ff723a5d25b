//! One module per subcommand: `Args` (clap) and `run(Args) -> Result<Outcome>`.

pub mod check;
pub mod describe;
pub mod matrix;
pub mod validate;
