//! Integration tests over real loopback sockets: the sample deployment, hostile servers,
//! the built binary, and the reports it writes.

mod bad_input;
mod ci_reports;
mod common;
mod conn_facts;
mod dns_failures;
mod dns_tls;
mod features;
mod golden;
mod hostile_text;
mod limits;
mod real;
mod reports;
mod robustness;
mod scenarios;
mod schemas;
mod workerd;
