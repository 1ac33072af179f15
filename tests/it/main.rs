//! The one integration-test binary: every test drives a real server over real sockets.

mod acme;
mod api_auth;
mod api_input;
mod api_pocket;
mod api_vps;
mod backup;
mod browser;
mod catalog;
mod cli;
mod dig;
mod dns;
mod dnssec;
mod durability;
mod dyndns;
mod metrics;
mod openapi;
mod pdns;
mod process;
mod security;
mod support;
mod tcp;
mod transfer;
mod types;
mod update;
mod web;
mod zonefile;
