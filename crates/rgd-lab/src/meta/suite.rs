//! `rgd reproduce meta`.
