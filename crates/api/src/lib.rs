//! aduan's API: the GraphQL schema, authentication, the HTTP server and the
//! `aduan` command line.

pub mod acknowledger;
pub mod app;
pub mod attachments;
pub mod attachments_check;
pub mod audit;
pub mod audit_cli;
pub mod auth;
pub mod body_limit;
pub mod calendar;
pub mod cli;
pub mod erased_files;
pub mod error_code;
pub mod export;
pub mod followers;
pub mod geojson;
pub mod graphiql;
pub mod graphql;
pub mod incidents;
pub mod keys;
pub mod metrics;
pub mod national;
pub mod open311;
pub mod opt_out;
pub mod process_role;
pub mod rate_limit;
pub mod router;
pub mod seed;
pub mod settings;
pub mod shutdown;
pub mod state;
pub mod system_command;
pub mod transfer;
pub mod whatif;
pub mod ws;
