//! Shared by the CLI's integration tests (each test file that needs it says `mod support;`).
#![allow(dead_code)] // each test file uses a part

pub mod agent;
pub mod run;
