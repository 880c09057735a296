//! Arguments refused before signing, and the checks every endpoint shares.

/// A request argument that was refused before signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid argument `{field}`: {reason}")]
pub struct ArgumentError {
    field: &'static str,
    reason: String,
}

impl ArgumentError {
    /// An error for `field` saying what is wrong.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    /// The argument's name as the API spells it (e.g. `user_id`).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Longest identifier accepted before signing; real ids are 10-40 characters. This crate's
/// own limit: Kraken documents none.
const MAX_ID_LEN: usize = 128;

/// An identifier (user, key, batch id, asset): non-empty printable ASCII without spaces.
pub(crate) fn check_id(field: &'static str, value: &str) -> Result<(), ArgumentError> {
    if value.is_empty() {
        return Err(ArgumentError::new(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(ArgumentError::new(
            field,
            format!(
                "is {} bytes long; at most {MAX_ID_LEN} are accepted",
                value.len()
            ),
        ));
    }
    if let Some(position) = value.bytes().position(|b| !b.is_ascii_graphic()) {
        return Err(ArgumentError::new(
            field,
            format!("has a space, control or non-ASCII character at byte {position}"),
        ));
    }
    Ok(())
}

/// A value of a closed set must at least be a non-empty word, even when it is `Other`.
pub(crate) fn check_word(field: &'static str, value: &str) -> Result<(), ArgumentError> {
    check_id(field, value)
}
