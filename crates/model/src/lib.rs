//! Lamina's domain model: what a function *is*, independent of how it is stored,
//! served or run.
//!
//! This crate owns the validated domain types ([`FunctionConfig`], [`Runtime`],
//! [`FunctionRef`], [`Alias`], [`ProvisionedConfig`]), AWS Lambda's limits ([`limits`]) and the validation rules that
//! turn raw user input into those types, reporting problems as [`Invalid`] values that
//! carry AWS's own wording; and [`wildcard`], the one bounded matcher for IAM's `*`/`?`
//! patterns and CloudWatch Logs' `...` fields; and the types services exchange: [`Caller`],
//! [`Cors`], [`QueueRef`], [`Clock`], and [`sync`]'s locks, which handle poisoning in one
//! place; and [`aws_enum!`], which declares a closed set of AWS names. It is used by every
//! other crate.
//!
//! It must never do I/O, know about HTTP, JSON or SQL, or depend on tokio: every rule in
//! here is testable with plain unit tests.
#![deny(missing_docs)]

mod alias;
pub mod arn;
mod caller;
pub mod clock;
pub mod cors;
mod function;
mod layer;
pub mod limits;
mod names;
mod queue;
mod runtime;
pub mod sync;
mod validate;
pub mod wildcard;

pub use alias::{check_alias_name, is_version_number, Alias, AliasDraft, ProvisionedConfig};
pub use arn::{FunctionRef, Qualifier};
pub use caller::{Caller, FunctionKey};
pub use clock::Clock;
pub use cors::Cors;
pub use function::{
    Architecture, CodeInfo, EventInvokeConfig, Function, FunctionConfig, FunctionDraft, FunctionPatch, FunctionState,
    LastUpdateStatus, LoggingConfig, LoggingDraft, TracingMode, Variables,
};
pub use layer::{
    check_function_layers, check_layer_name, layer_arn, FunctionLayer, LayerDraft, LayerPolicy, LayerStatement,
    LayerVersion, LayerVersionRef, FUNCTION_LAYERS_MAX, LAYER_VERSION_ARN_PATTERN,
};
pub use queue::QueueRef;
pub use runtime::{Runtime, RuntimeFamily};
pub use validate::{Invalid, Violation};
