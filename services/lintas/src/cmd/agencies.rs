//! The agency subscribers of the `lintas` binary: one list, which `subscriber` (one agency as
//! a service), `up` (all of them in one process) and `rules` (their settings) iterate over.
//!
//! Adding an agency: implement `lintas_kit::agency::AgencySubscriber` in its crate (its
//! `PUBLISHES` are the topics its Kafka principal may write: `lintas describe` states them for
//! the AsyncAPI and deployment checks), and add its line here with the function that builds
//! its handler from [`RuleArgs`] (in `rules.rs`, beside the flags it reads).

use lintas_kit::agency::{Wire, WiredAgency};

use super::rules::RuleArgs;

/// An agency of the binary, whatever its handler.
pub type Wired = &'static dyn WiredAgency<RuleArgs>;

/// Every agency the binary runs, in the order `lintas up` starts them.
pub static AGENCIES: &[Wired] = &[
    &Wire::<lintas_imigrasi::Imigrasi, _>::new(RuleArgs::imigrasi),
    &Wire::<lintas_disnaker::Disnaker, _>::new(RuleArgs::disnaker),
    &Wire::<lintas_polri::Polri, _>::new(RuleArgs::polri),
    &Wire::<lintas_kejaksaan::Kejaksaan, _>::new(RuleArgs::kejaksaan),
    &Wire::<lintas_desa::Desa, _>::new(RuleArgs::desa),
];

#[cfg(test)]
mod toy;
