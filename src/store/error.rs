//! What can go wrong with the data file, and how redb's errors map onto it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data file {0} is already in use by another nsbox process")]
    AlreadyOpen(PathBuf),
    #[error("the data file was written by a newer nsbox (schema {found}; this build knows {supported})")]
    TooNew { found: u32, supported: u32 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot open {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error(
        "{} is a write-ahead log from an older nsbox that {why}; this version does not replay it \
         into {}. Start the nsbox version that wrote it once and stop it cleanly (that merges \
         the log), or move the log aside to keep the data file as it is, or replace both with \
         `nsbox restore BACKUP --force`. Neither file was changed.",
        log.display(), data.display()
    )]
    LegacyLog { log: PathBuf, data: PathBuf, why: &'static str },
    /// A write or flush failed: nothing more is written by this process (redb refuses), and the
    /// next start finds the file as of its last acknowledged commit.
    #[error("the data file cannot be written: {0}; nsbox refuses writes until it is restarted")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Redb(redb::Error),
}

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        match e {
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => StoreError::Corrupt(io.to_string()),
            redb::Error::Io(io) => StoreError::Unavailable(io.to_string()),
            redb::Error::PreviousIo => StoreError::Unavailable("an earlier write or flush failed".into()),
            other => StoreError::Redb(other),
        }
    }
}

macro_rules! redb_errors {
    ($($error:ty),*) => {$(
        impl From<$error> for StoreError {
            fn from(e: $error) -> Self {
                redb::Error::from(e).into()
            }
        }
    )*};
}
redb_errors!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError,
    redb::CompactionError
);
