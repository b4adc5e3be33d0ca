"""Use cases: one function per use case, each the single place where its rules are applied,
each in one database transaction."""
