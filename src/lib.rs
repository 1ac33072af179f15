//! nsbox: a self-hosted DNS appliance. See DESIGN.md for the map.

pub mod app;
pub mod config;
pub mod control;
pub mod dns;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod service;
pub mod store;
