//! nsbox: a self-hosted DNS appliance. See DESIGN.md for the map.

pub mod domain;
