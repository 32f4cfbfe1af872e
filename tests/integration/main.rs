//! Integration tests over real loopback sockets: the sample deployment, hostile servers,
//! the built binary, and the reports it writes.

mod assertions;
mod bad_input;
mod bake;
mod body_checks;
mod ci_locations;
mod ci_reports;
mod cli_usage;
mod common;
mod conn_facts;
mod dns_failures;
mod dns_tls;
mod empty_checks;
mod encoding;
mod features;
mod golden;
mod hostile_text;
mod large_reports;
mod limits;
mod openmetrics;
mod packaging;
mod real;
mod reports;
mod requests;
mod robustness;
mod samples;
mod samples_flow;
mod scenarios;
mod schemas;
mod secret_cuts;
mod serve;
mod sessions_schema;
mod varfiles;
mod workerd;
