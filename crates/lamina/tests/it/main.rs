//! Lamina's in-process integration tests: whole servers started on port 0 by
//! [`harness::TestEnv`], driven over HTTP in AWS's wire protocols. They need no root, no
//! Python and no venv, and take seconds. (One binary, so the server is linked once.)

mod async_invokes;
mod harness;
mod lambda;
mod sqs;
