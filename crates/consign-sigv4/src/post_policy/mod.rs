//! Browser POST policies: build and sign one, read and evaluate one.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>

mod builder;
mod condition;
mod document;
mod evaluate;

pub(crate) use builder::write_signed_conditions;
pub use builder::{PostForm, PostPolicy};
pub use condition::Condition;
pub use document::PolicyDocument;
pub use evaluate::{PolicyOutcome, is_exempt_field};
