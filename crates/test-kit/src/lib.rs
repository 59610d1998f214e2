//! Deterministic simulation kit.
