//! How a command's writes are sent: the field manager named in managedFields, how strictly
//! the server checks fields it does not know (`--validate`), and whether the write is only
//! tried (`--dry-run=server`). One query string for every POST, PUT and PATCH.

use clap::Args;

use super::create::DryRun;
use crate::client::q;
use crate::error::{KubectlError, Result};

/// `--validate` and `--field-manager`, as upstream's create, replace and apply take them.
#[derive(Debug, Args, Clone)]
pub struct WriteArgs {
    /// Must be one of: strict (or true), warn, ignore (or false).
    #[arg(long, default_value = "strict", num_args = 0..=1, require_equals = true, default_missing_value = "strict")]
    pub validate: String,
    /// Name of the manager used to track field ownership.
    #[arg(long)]
    pub field_manager: Option<String>,
}

impl WriteArgs {
    /// The write these flags ask for, with `default_manager` when none was named.
    pub fn write(&self, default_manager: &str, dry: DryRun) -> Result<Write> {
        Ok(Write {
            field_manager: self
                .field_manager
                .clone()
                .unwrap_or_else(|| default_manager.to_string()),
            validation: Some(FieldValidation::parse(&self.validate)?),
            dry,
        })
    }
}

/// What the server is asked to do with fields it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse the write.
    Strict,
    /// Write, and answer with a warning.
    Warn,
    /// Write and say nothing.
    Ignore,
}

impl FieldValidation {
    /// `--validate`'s value: a Go boolean, or one of the three names.
    pub fn parse(text: &str) -> Result<Self> {
        if let Ok(strict) = crate::flags::go_bool(text) {
            return Ok(if strict {
                FieldValidation::Strict
            } else {
                FieldValidation::Ignore
            });
        }
        match text {
            "strict" => Ok(FieldValidation::Strict),
            "warn" => Ok(FieldValidation::Warn),
            "ignore" => Ok(FieldValidation::Ignore),
            _ => Err(KubectlError::usage(format!(
                "invalid - validate option \"{text}\"; must be one of: strict (or true), warn, ignore (or false)"
            ))),
        }
    }

    fn as_query(self) -> &'static str {
        match self {
            FieldValidation::Strict => "Strict",
            FieldValidation::Warn => "Warn",
            FieldValidation::Ignore => "Ignore",
        }
    }
}

/// One command's writes.
#[derive(Debug, Clone)]
pub struct Write {
    /// `fieldManager`
    pub field_manager: String,
    /// `fieldValidation`, for commands that have `--validate`.
    pub validation: Option<FieldValidation>,
    /// `--dry-run`
    pub dry: DryRun,
}

impl Write {
    /// A write by `field_manager` that leaves field checks to the server's default, as the
    /// commands without `--validate` send theirs.
    pub fn by(field_manager: &str, dry: DryRun) -> Self {
        Write {
            field_manager: field_manager.to_string(),
            validation: None,
            dry,
        }
    }

    /// The query string (with its `?`) to append to the object's or collection's path.
    pub fn query(&self) -> String {
        let mut query = format!("?fieldManager={}", q(&self.field_manager));
        if let Some(v) = self.validation {
            query.push_str("&fieldValidation=");
            query.push_str(v.as_query());
        }
        query.push_str(self.dry.query());
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_takes_booleans_and_names() {
        for (text, want) in [
            ("strict", FieldValidation::Strict),
            ("true", FieldValidation::Strict),
            ("T", FieldValidation::Strict),
            ("warn", FieldValidation::Warn),
            ("ignore", FieldValidation::Ignore),
            ("false", FieldValidation::Ignore),
            ("0", FieldValidation::Ignore),
        ] {
            assert_eq!(FieldValidation::parse(text).unwrap(), want, "{text}");
        }
        assert_eq!(
            FieldValidation::parse("Strict").unwrap_err().to_string(),
            "error: invalid - validate option \"Strict\"; must be one of: strict (or true), warn, ignore (or false)"
        );
    }

    #[test]
    fn the_query_names_manager_validation_and_dry_run() {
        let w = Write {
            field_manager: "my tool".into(),
            validation: Some(FieldValidation::Warn),
            dry: DryRun::Server,
        };
        assert_eq!(
            w.query(),
            "?fieldManager=my+tool&fieldValidation=Warn&dryRun=All"
        );
        assert_eq!(
            Write::by("kubectl-run", DryRun::None).query(),
            "?fieldManager=kubectl-run"
        );
    }
}
