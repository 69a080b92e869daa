//! Closed sets of AWS names: [`aws_enum!`] declares an enum whose members each have
//! one AWS spelling, with `NAMES`, `parse` and `as_str` beside it, so no service
//! compares string literals where a closed set belongs.

/// Declares an enum over a closed set of AWS names.
///
/// ```
/// lamina_model::aws_enum! {
///     /// How a thing is run.
///     pub enum Mode { Fast = "FAST", Slow = "SLOW" }
/// }
/// assert_eq!(Mode::parse("SLOW"), Some(Mode::Slow));
/// assert_eq!(Mode::Fast.as_str(), "FAST");
/// assert_eq!(Mode::NAMES.join(", "), "FAST, SLOW");
/// assert_eq!(String::from(Mode::Slow), "SLOW");
/// assert!(Mode::try_from("fast".to_owned()).is_err());
/// ```
///
/// The enum derives `Debug`, `Clone`, `Copy`, `PartialEq`, `Eq` and `Hash`, and converts
/// to and from `String` by its AWS names, so a crate with serde stores it by name with
/// `#[serde(try_from = "String", into = "String")]` among the attributes given.
#[macro_export]
macro_rules! aws_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every member's AWS name, in AWS's order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// Its AWS name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The member AWS spells `s`; none for any other text.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::convert::TryFrom<String> for $name {
            type Error = String;

            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s).ok_or_else(|| format!("{s:?} is not one of {}", Self::NAMES.join(", ")))
            }
        }

        impl ::core::convert::From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_owned()
            }
        }
    };
}
