//! `netpol convert -f FILE`: Calico policies (v1 `calicoctl` files, or v3) as
//! the `projectcalico.org/v3` objects netpol reads them as.

use crate::cmd::{load, InputArgs};
use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let cluster = load(&args.input)?;
    let yaml = netpol_manifest::calico_v3_yaml(&cluster.tiered).map_err(anyhow::Error::msg)?;
    if yaml.is_empty() {
        anyhow::bail!("the input has no Calico policy to convert");
    }
    print(&yaml)?;
    Ok(Outcome::Clean)
}
