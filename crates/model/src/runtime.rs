//! Lambda runtime identifiers and what Lamina knows about each.

use std::fmt;

/// Every value of botocore's `Runtime` enum, in its order. AWS validates against this
/// list before anything else, so an unknown identifier is a `ValidationException`.
pub(crate) const RUNTIME_IDS: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "java8.al2",
    "java11",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
    "provided.al2",
    "nodejs18.x",
    "python3.10",
    "java17",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "python3.11",
    "nodejs20.x",
    "provided.al2023",
    "python3.12",
    "java21",
    "python3.13",
    "nodejs22.x",
    "nodejs24.x",
    "python3.14",
    "java25",
    "dotnet10",
    "ruby4.0",
];

/// The runtimes AWS's answer to an unknown `Runtime` lists, in the order it lists them
/// (its own, not the model's).
pub(crate) const LISTED_IN_ERRORS: &[&str] = &[
    "nodejs20.x",
    "python3.14",
    "provided.al2023",
    "python3.12",
    "python3.13",
    "nodejs24.x",
    "nodejs22.x",
    "java25",
    "python3.10",
    "python3.11",
    "java21",
    "ruby3.3",
    "ruby3.4",
    "ruby3.2",
    "python3.8",
    "python3.9",
    "java17",
    "nodejs16.x",
    "dotnet10",
    "dotnet8",
    "java11",
    "dotnet6",
    "nodejs18.x",
    "provided.al2",
    "java8.al2",
];

/// Runtimes past AWS's "block function create" deprecation date: creating or updating a
/// function with one of them is refused.
const CREATE_BLOCKED: &[(&str, &str)] = &[
    ("nodejs", "nodejs24.x"),
    ("nodejs4.3", "nodejs24.x"),
    ("nodejs4.3-edge", "nodejs24.x"),
    ("nodejs6.10", "nodejs24.x"),
    ("nodejs8.10", "nodejs24.x"),
    ("nodejs10.x", "nodejs24.x"),
    ("nodejs12.x", "nodejs24.x"),
    ("nodejs14.x", "nodejs24.x"),
    ("nodejs16.x", "nodejs24.x"),
    ("java8", "java21"),
    ("python2.7", "python3.14"),
    ("python3.6", "python3.14"),
    ("python3.7", "python3.14"),
    ("python3.8", "python3.14"),
    ("dotnetcore1.0", "dotnet8"),
    ("dotnetcore2.0", "dotnet8"),
    ("dotnetcore2.1", "dotnet8"),
    ("dotnetcore3.1", "dotnet8"),
    ("dotnet6", "dotnet8"),
    ("go1.x", "provided.al2023"),
    ("ruby2.5", "ruby3.4"),
    ("ruby2.7", "ruby3.4"),
    ("provided", "provided.al2023"),
];

/// The language family of a runtime: which bootstrap runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimeFamily {
    /// `pythonX.Y`
    Python,
    /// `nodejsNN.x`
    Node,
    /// `javaNN`
    Java,
    /// `dotnetN`
    DotNet,
    /// `rubyX.Y`
    Ruby,
    /// `go1.x`
    Go,
    /// `provided*`: the zip's own `bootstrap` is the runtime.
    Provided,
}

/// A runtime identifier from AWS's list, such as `python3.12`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Runtime(&'static str);

impl Runtime {
    /// Looks up an identifier; `None` when AWS does not know it.
    pub fn parse(id: &str) -> Option<Runtime> {
        RUNTIME_IDS.iter().find(|known| **known == id).map(|known| Runtime(known))
    }

    /// Every identifier AWS accepts, in botocore's order.
    pub fn all_ids() -> &'static [&'static str] {
        RUNTIME_IDS
    }

    /// The identifier, e.g. `nodejs20.x`.
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// Which bootstrap runs this runtime.
    pub fn family(&self) -> RuntimeFamily {
        let id = self.0;
        if id.starts_with("python") {
            RuntimeFamily::Python
        } else if id.starts_with("nodejs") {
            RuntimeFamily::Node
        } else if id.starts_with("java") {
            RuntimeFamily::Java
        } else if id.starts_with("dotnet") {
            RuntimeFamily::DotNet
        } else if id.starts_with("ruby") {
            RuntimeFamily::Ruby
        } else if id.starts_with("go") {
            RuntimeFamily::Go
        } else {
            RuntimeFamily::Provided
        }
    }

    /// When creating or updating a function with this runtime is refused, the runtime
    /// AWS recommends instead.
    pub fn create_blocked(&self) -> Option<&'static str> {
        CREATE_BLOCKED.iter().find(|(id, _)| *id == self.0).map(|(_, instead)| *instead)
    }

    /// The `AWS_EXECUTION_ENV` value Lambda sets, e.g. `AWS_Lambda_python3.12`.
    pub fn execution_env(&self) -> Option<String> {
        match self.family() {
            RuntimeFamily::Provided => None,
            _ => Some(format!("AWS_Lambda_{}", self.0)),
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Runtime({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_every_supported_family() {
        assert_eq!(Runtime::parse("python3.14").unwrap().family(), RuntimeFamily::Python);
        assert_eq!(Runtime::parse("nodejs18.x").unwrap().family(), RuntimeFamily::Node);
        assert_eq!(Runtime::parse("provided.al2023").unwrap().family(), RuntimeFamily::Provided);
        assert_eq!(Runtime::parse("java21").unwrap().family(), RuntimeFamily::Java);
        assert!(Runtime::parse("python4").is_none());
    }

    #[test]
    fn deprecated_runtimes_are_blocked_and_current_ones_are_not() {
        assert_eq!(Runtime::parse("python2.7").unwrap().create_blocked(), Some("python3.14"));
        assert_eq!(Runtime::parse("go1.x").unwrap().create_blocked(), Some("provided.al2023"));
        for id in ["python3.9", "python3.14", "nodejs18.x", "nodejs24.x", "provided.al2", "provided.al2023"] {
            assert_eq!(Runtime::parse(id).unwrap().create_blocked(), None, "{id}");
        }
    }

    #[test]
    fn blocked_list_only_names_known_runtimes() {
        for (id, instead) in CREATE_BLOCKED {
            assert!(Runtime::parse(id).is_some(), "{id}");
            assert!(Runtime::parse(instead).unwrap().create_blocked().is_none(), "{instead}");
        }
    }
}
